//! The directory of directly connectable HR systems, from the provider, cached server-side.
//!
//! No lock is held across the provider call: the fresh copy lives in a `moka` cache whose
//! `try_get_with` makes one call for all callers waiting on an empty cache, and once a copy exists,
//! a refresh under way never holds anyone up: other callers get the last copy at once.

use std::{
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc, Mutex,
    },
    time::Duration,
};

use moka::future::Cache;

use crate::{
    error::AppError,
    i18n::Texts,
    model::DirectoryEntry,
    provider::{HrisProvider, ProviderError},
};

/// How long the provider's list is reused before it is asked again.
pub const DIRECTORY_TTL: Duration = Duration::from_secs(3600);

pub struct DirectoryCache {
    /// The copy younger than the TTL (one key: the whole directory).
    fresh: Cache<(), Arc<Vec<DirectoryEntry>>>,
    /// The last copy fetched, however old: served while a refresh is under way or after it failed.
    /// A plain mutex, only ever held to clone or replace the `Arc`, never across an `.await`.
    last: Mutex<Option<Arc<Vec<DirectoryEntry>>>>,
    /// Set while a caller refreshes an expired copy.
    refreshing: AtomicBool,
}

impl Default for DirectoryCache {
    fn default() -> Self {
        Self::with_ttl(DIRECTORY_TTL)
    }
}

/// Clears the refresh flag however the refresh ends (also when its caller goes away).
struct RefreshGuard<'a>(&'a AtomicBool);

impl Drop for RefreshGuard<'_> {
    fn drop(&mut self) {
        self.0.store(false, Ordering::Release);
    }
}

impl DirectoryCache {
    /// A cache that asks the provider again once its copy is older than `ttl`.
    pub fn with_ttl(ttl: Duration) -> Self {
        DirectoryCache {
            fresh: Cache::builder().max_capacity(1).time_to_live(ttl).build(),
            last: Mutex::new(None),
            refreshing: AtomicBool::new(false),
        }
    }

    fn last_copy(&self) -> Option<Arc<Vec<DirectoryEntry>>> {
        self.last.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// The cached directory, fetched again when older than the TTL. While one caller refreshes an
    /// expired copy, the others get the older copy at once; a failed refresh also serves the older
    /// copy rather than failing the page. Errors in `t`'s words.
    pub async fn get(
        &self,
        provider: &dyn HrisProvider,
        t: &Texts,
    ) -> Result<Vec<DirectoryEntry>, AppError> {
        if let Some(entries) = self.fresh.get(&()).await {
            return Ok(entries.to_vec());
        }
        let last = self.last_copy();
        let _guard = match &last {
            Some(stale) => {
                if self.refreshing.swap(true, Ordering::AcqRel) {
                    // Someone else is asking the provider: do not wait for them.
                    return Ok(stale.to_vec());
                }
                Some(RefreshGuard(&self.refreshing))
            }
            None => None,
        };
        let fetched = self
            .fresh
            .try_get_with((), async {
                let list = provider.integrations().await?;
                let mut entries: Vec<DirectoryEntry> = list
                    .into_iter()
                    .filter_map(|i| {
                        Some(DirectoryEntry {
                            slug: i.slug?,
                            logo_url: i.square_image.or(i.image),
                            color: i.color,
                            name: i.name,
                        })
                    })
                    .collect();
                entries.sort_by_key(|e| e.name.to_lowercase());
                let entries = Arc::new(entries);
                *self.last.lock().unwrap_or_else(|p| p.into_inner()) = Some(entries.clone());
                Ok::<_, ProviderError>(entries)
            })
            .await;
        match (fetched, last) {
            (Ok(entries), _) => Ok(entries.to_vec()),
            (Err(e), Some(stale)) => {
                tracing::warn!(error = ?e, "directory refresh failed; serving the cached copy");
                Ok(stale.to_vec())
            }
            (Err(e), None) => Err(AppError::provider((*e).clone(), t)),
        }
    }

    /// The display name and logo of one HR system, if the directory knows it.
    pub async fn entry(
        &self,
        provider: &dyn HrisProvider,
        t: &Texts,
        slug: &str,
    ) -> Result<Option<DirectoryEntry>, AppError> {
        Ok(self
            .get(provider, t)
            .await?
            .into_iter()
            .find(|e| e.slug == slug))
    }
}

//! The directory of directly connectable HR systems, from the provider, cached server-side.

use std::time::{Duration, Instant};

use tokio::sync::Mutex;

use crate::{error::AppError, i18n::Texts, model::DirectoryEntry, provider::HrisProvider};

/// How long the provider's list is reused before it is asked again.
pub const DIRECTORY_TTL: Duration = Duration::from_secs(3600);

#[derive(Default)]
pub struct DirectoryCache {
    entries: Mutex<Option<(Instant, Vec<DirectoryEntry>)>>,
}

impl DirectoryCache {
    /// The cached directory, fetched again when older than [`DIRECTORY_TTL`]. A failed fetch with an
    /// older copy at hand serves the older copy rather than failing the page. Errors in `t`'s words.
    pub async fn get(
        &self,
        provider: &dyn HrisProvider,
        t: &Texts,
    ) -> Result<Vec<DirectoryEntry>, AppError> {
        let mut guard = self.entries.lock().await;
        if let Some((at, entries)) = guard.as_ref() {
            if at.elapsed() < DIRECTORY_TTL {
                return Ok(entries.clone());
            }
        }
        match provider.integrations().await {
            Ok(list) => {
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
                *guard = Some((Instant::now(), entries.clone()));
                Ok(entries)
            }
            Err(e) => match guard.as_ref() {
                Some((_, stale)) => {
                    tracing::warn!(error = ?e, "directory refresh failed; serving the cached copy");
                    Ok(stale.clone())
                }
                None => Err(AppError::provider(e, t)),
            },
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

//! The health watch: every active connection is tested in the background, the way Test Connection
//! tests it, once per interval (`HRIS_HEALTH_INTERVAL_MINUTES`) across all instances.
//!
//! - [`tick`] (the job engine's cron tick, in every instance): claims the interval's check of each
//!   active connection in the database (one caller wins per connection and interval) and hands the
//!   check to the engine through [`HealthQueue`].
//! - [`check`] (an engine worker): probes the connection and records its health; a change between
//!   working and broken is audited (`connection.health_changed`, the timeline's entry).
//! - [`alerts`]: the banners of the organization's active connections that stopped working.
//!
//! The engine itself (apalis) is the server's (`server/src/jobs.rs`).

use std::time::Duration;

use crate::{
    auth::Identity,
    error::AppError,
    i18n::{Texts, EN},
    model::{ConnectionId, HealthAlert, HealthAlerts, HealthStatus, Lifecycle, OrganizationId},
    state::AppState,
    storage::{Actor, AuditAction, AuditEvent, AuditSubject, StoreError, Tx},
};

use super::{connections::probe, format_time, health::HealthDetail, sync::QueueError};

/// Where the claimed checks are handed to workers: the job engine.
#[async_trait::async_trait]
pub trait HealthQueue: Send + Sync {
    async fn push(
        &self,
        org_id: &OrganizationId,
        connection: &ConnectionId,
        period: i64,
    ) -> Result<(), QueueError>;
}

/// The watch's interval number at `now_ms`: checks are claimed once per number.
pub fn period(now_ms: i64, every: Duration) -> i64 {
    now_ms / (every.as_millis().max(1) as i64)
}

/// One tick at `now_ms`: claims and queues this interval's check of every linked active
/// connection that no instance claimed yet. Returns how many this call queued.
pub async fn tick(state: &AppState, queue: &dyn HealthQueue, now_ms: i64) -> usize {
    let period = period(now_ms, state.settings.health_interval);
    let connections = match state.db.health_watch_due(period).await {
        Ok(c) => c,
        Err(e) => {
            tracing::warn!(error = %e, "health watch: connections not readable");
            return 0;
        }
    };
    let mut queued = 0;
    for c in connections {
        if c.lifecycle != Lifecycle::Linked || c.account_token.is_none() {
            continue;
        }
        match state.db.claim_health_watch(&c.id, period).await {
            Ok(true) => match queue.push(&c.org_id, &c.id, period).await {
                Ok(()) => queued += 1,
                Err(e) => {
                    tracing::warn!(connection = %c.id, error = %e, "health watch: check not queued")
                }
            },
            Ok(false) => {}
            Err(e) => {
                tracing::warn!(connection = %c.id, error = %e, "health watch: check not claimed")
            }
        }
    }
    queued
}

/// What a check did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Checked {
    /// The connection is gone, inactive or not linked: nothing to check.
    Skipped,
    /// Checked; it works, or is broken, as before.
    Unchanged(HealthStatus),
    /// Checked; it stopped working, or works again (audited).
    Changed {
        from: HealthStatus,
        to: HealthStatus,
    },
}

fn works(h: HealthStatus) -> Option<bool> {
    match h {
        HealthStatus::Ok => Some(true),
        HealthStatus::Failing | HealthStatus::RelinkNeeded => Some(false),
        HealthStatus::Unknown => None,
    }
}

/// Checks one active connection now and records what it found ([`record_in`]).
pub async fn check(
    state: &AppState,
    org_id: &OrganizationId,
    id: &ConnectionId,
) -> Result<Checked, StoreError> {
    let Some(c) = state.db.connection(org_id, id).await? else {
        return Ok(Checked::Skipped);
    };
    let Some(sealed) = c.account_token.as_ref().filter(|_| c.enabled) else {
        return Ok(Checked::Skipped);
    };
    let token = match state.keyring.open(sealed) {
        Ok(t) => crate::provider::AccountToken::new(t),
        Err(e) => {
            tracing::error!(connection = %c.id, error = %e, "health watch: account token cannot be opened");
            return Ok(Checked::Skipped);
        }
    };
    let (health, detail, provider_status) = probe(state.sync_provider.as_ref(), &token, &c).await;
    let mut tx = state.db.begin().await?;
    let checked = record_in(
        &mut tx,
        org_id,
        id,
        health,
        &detail,
        provider_status.as_deref(),
    )
    .await?;
    tx.commit().await?;
    crate::telemetry::health_checked(if health == HealthStatus::Ok {
        "works"
    } else {
        "broken"
    });
    Ok(checked)
}

/// Records in `tx` the health that HRIS Connect itself found (the watch, a sync run refused by
/// Merge). A change between working and broken, or a first finding that it is broken, is audited
/// by HRIS Connect as `connection.health_changed` (the timeline's entry) in the same transaction.
pub async fn record_in(
    tx: &mut Tx,
    org_id: &OrganizationId,
    id: &ConnectionId,
    health: HealthStatus,
    detail: &HealthDetail,
    provider_status: Option<&str>,
) -> Result<Checked, StoreError> {
    let c = tx
        .connection(org_id, id)
        .await?
        .ok_or(StoreError::Missing)?;
    tx.set_connection_health(
        org_id,
        id,
        health,
        Some(&detail.code()),
        provider_status.or(c.provider_status.as_deref()),
        crate::storage::now_ms(),
    )
    .await?;
    let changed = match (works(c.health_status), works(health)) {
        (Some(before), Some(now)) => before != now,
        (None, Some(now)) => !now,
        (_, None) => false,
    };
    if !changed {
        return Ok(Checked::Unchanged(health));
    }
    let event = AuditEvent::new(
        org_id,
        Actor::sync(),
        AuditAction::ConnectionHealthChanged,
        AuditSubject::Connection(id.clone()),
        format!("Health: {}", detail.message(&EN)),
    )
    .with_subject_name(&c.display_name)
    .with_outcome(health.as_str());
    tx.record_audit(&event).await?;
    tracing::info!(connection = %id, from = c.health_status.as_str(), to = health.as_str(), "connection health changed");
    Ok(Checked::Changed {
        from: c.health_status,
        to: health,
    })
}

/// The banners of `who`'s organization: each active connection whose last check found it broken,
/// with when it stopped working and why, in the words of `t`.
pub async fn alerts(state: &AppState, who: &Identity, t: &Texts) -> Result<HealthAlerts, AppError> {
    let alerts = state
        .db
        .connections(&who.org_id)
        .await?
        .into_iter()
        .filter(|c| c.enabled && works(c.health_status) == Some(false))
        .map(|c| {
            let since = c
                .health_since
                .or(c.health_checked_at)
                .unwrap_or(c.updated_at);
            HealthAlert {
                headline: (t.health_banner)(&c.display_name, &format_time(since, t)),
                reason: c
                    .health_detail
                    .as_deref()
                    .map(|d| HealthDetail::describe(d, t))
                    .unwrap_or_default(),
                connection_id: c.id,
                name: c.display_name,
                health: c.health_status,
            }
        })
        .collect();
    Ok(HealthAlerts {
        alerts,
        poll_seconds: state.settings.health_interval.as_secs().clamp(5, 60) as u32,
    })
}

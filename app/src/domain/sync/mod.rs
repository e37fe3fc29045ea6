//! The employee sync: the active connection feeds the organization's employee directory.
//!
//! - `triggers`: activation, relink, schedule, Merge's webhook and "Sync now" only *enqueue* a run
//!   (a `sync_runs` row, at most one queued or running per connection, plus a job on the engine).
//! - `engine`: a worker executes one run: streams page by page with checkpoints, references, then
//!   the reconciliation of leavers with the safety brake. Every write checks the run's fence.
//! - `schedule`: the scheduled tick (poll, daily full sync) and the watchdog of stalled runs.
//! - `records`: what Merge's records become in the directory.
//! - `removals`: an admin's decision on held removals.
//! - `preview`: switching the organization's source to another connection.
//! - `directory_api`: the host platform reads the directory (`/v1/...`, paged, with host tokens).
//!
//! The job engine itself (apalis over PostgreSQL or SQLite) is the server's (`server/src/jobs.rs`);
//! it reaches this module through [`SyncQueue`] and [`engine::execute`].

pub mod directory_api;
pub mod engine;
pub mod notify;
pub mod preview;
pub mod records;
pub mod removals;
pub mod schedule;
pub mod status;
pub mod triggers;

use std::time::Duration;

use crate::model::SyncRunId;

/// The streams a run reads, in order: units first, so people's references find them.
pub const STREAMS: [&str; 5] = ["locations", "teams", "groups", "employees", "employments"];

/// Where runs are handed to workers: the job engine. `push` hands over the run's job, to start no
/// sooner than `delay`. `nudge` numbers the pushes of one run (the job's idempotency key is the run
/// id with it), so a run can be pushed again when its earlier job was lost.
#[async_trait::async_trait]
pub trait SyncQueue: Send + Sync {
    async fn push(&self, run: &SyncRunId, nudge: i64, delay: Duration) -> Result<(), QueueError>;
}

#[derive(Debug, thiserror::Error)]
#[error("the job engine refused the job: {0}")]
pub struct QueueError(pub String);

/// The sync's settings (the server's configuration fills them in).
#[derive(Debug, Clone)]
pub struct SyncSettings {
    /// A run that would deactivate more than this share of the directory's active people holds
    /// the deactivations for an admin (`HRIS_SYNC_MAX_DEACTIVATE_PERCENT`).
    pub max_deactivate_percent: f64,
    /// How far before the previous upper bound an incremental window starts (clock skew,
    /// records written while the previous run read).
    pub overlap: Duration,
    /// How often the schedule polls Merge's sync status per connection.
    pub poll_interval: Duration,
    /// How often the schedule runs a full sync per connection (the daily full scan).
    pub full_interval: Duration,
    /// A running run whose worker has not written for this long is taken over (its fence is
    /// invalidated and the run is queued again).
    pub lease: Duration,
    /// A queued run that no worker started for this long is pushed to the engine again.
    pub queued_grace: Duration,
    /// Records per page asked of the provider (Merge's maximum is 100).
    pub page_size: u32,
    /// Attempts of a run (resumed from its checkpoints each time) before it is given up.
    pub max_attempts: i64,
    /// The wait before a run that failed for now resumes; it doubles each attempt. A 429's
    /// `Retry-After` is honoured instead.
    pub retry_base: Duration,
    /// Where to tell the host platform that its directory changed (`HRIS_HOST_WEBHOOK_URL`) and the
    /// key that signs it (`HRIS_HOST_WEBHOOK_SECRET`).
    pub host_webhook: Option<HostWebhook>,
    /// The date the sync takes as today (`YYYY-MM-DD`) for termination dates; `None` (production):
    /// the real date in UTC. Tests set it to let a day pass without waiting for one.
    pub today: Option<String>,
}

impl SyncSettings {
    /// Today for the sync's decisions, `YYYY-MM-DD`.
    pub fn today(&self) -> String {
        self.today.clone().unwrap_or_else(crate::storage::today)
    }
}

/// The host platform's webhook for `directory.changed`.
#[derive(Clone)]
pub struct HostWebhook {
    pub url: String,
    pub secret: String,
}

impl std::fmt::Debug for HostWebhook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HostWebhook")
            .field("url", &self.url)
            .field("secret", &"<redacted>")
            .finish()
    }
}

impl Default for SyncSettings {
    fn default() -> Self {
        SyncSettings {
            max_deactivate_percent: 10.0,
            overlap: Duration::from_secs(300),
            poll_interval: Duration::from_secs(3600),
            full_interval: Duration::from_secs(24 * 3600),
            lease: Duration::from_secs(120),
            queued_grace: Duration::from_secs(120),
            page_size: 100,
            max_attempts: 5,
            retry_base: Duration::from_secs(30),
            host_webhook: None,
            today: None,
        }
    }
}

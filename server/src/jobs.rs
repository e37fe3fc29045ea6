//! The job engine: apalis, on PostgreSQL when `DATABASE_URL` is postgres (several instances share
//! it) and on SQLite embedded, with the same worker code.
//!
//! - `SyncJob` runs one sync run (`app::domain::sync::engine::execute`); `HRIS_SYNC_WORKERS` of them
//!   at once per instance (0: a web-only instance that still enqueues).
//! - `HealthJob` tests one active connection (`app::domain::health_watch::check`), on the same
//!   workers' instances.
//! - The tick (apalis-cron, every `HRIS_SYNC_TICK_SECONDS`) calls the schedule: polls and full syncs
//!   are keyed by period in `sync_runs`, so N instances ticking together make one run; the watchdog
//!   in the same tick pushes runs nothing started and takes over runs whose worker died. The same
//!   tick claims the health watch's checks (one per connection and interval, in the database) and
//!   pushes them as `HealthJob`s.
//!
//! apalis's gaps, closed here and in `app::domain::sync`: idempotency keys are unique forever (ours
//! carry the run id and its push number); a duplicate push fails on PostgreSQL and is ignored on
//! SQLite (both are treated as "already there"); there is no limit across instances (the database
//! allows one queued or running run per connection); long jobs have no lease (each run's fence,
//! checked on every write, plus the heartbeat and the watchdog); a worker's name must not be one a
//! process that died recently still holds (ours are unique per process start).

use std::{str::FromStr, sync::Arc, time::Duration};

use apalis::prelude::*;
use apalis_cron::{CronScheduler, Tick};
use app::{
    domain::{
        health_watch::{self, HealthQueue},
        sync::{engine, schedule, QueueError, SyncQueue},
    },
    model::{ConnectionId, OrganizationId, SyncRunId},
    state::AppState,
    storage::Backend as DbBackend,
};
use serde::{Deserialize, Serialize};

/// The job: run this sync run.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SyncJob {
    pub run_id: SyncRunId,
}

/// The job: test this connection (the health watch's check of one interval).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct HealthJob {
    pub org_id: OrganizationId,
    pub connection_id: ConnectionId,
    pub period: i64,
}

/// The engine's storage: one queue per job type, in the same tables.
#[derive(Clone)]
pub enum JobStore {
    Sqlite {
        sync: apalis_sqlite::SqliteStorage<SyncJob>,
        health: apalis_sqlite::SqliteStorage<HealthJob>,
    },
    Postgres {
        sync: apalis_postgres::PostgresStorage<SyncJob>,
        health: apalis_postgres::PostgresStorage<HealthJob>,
    },
}

impl JobStore {
    /// Connects to the same database as the app (its own pool: apalis speaks sqlx's typed drivers)
    /// and creates apalis's tables.
    pub async fn connect(url: &str, backend: DbBackend) -> Result<JobStore, String> {
        match backend {
            DbBackend::Sqlite => {
                // A file of its own beside the app's (`hris.db` -> `hris-jobs.db`): apalis's
                // migrations keep their own `_sqlx_migrations` history.
                let (base, query) = url.split_once('?').unwrap_or((url, ""));
                let base = match base.strip_suffix(".db") {
                    Some(stem) => format!("{stem}-jobs.db"),
                    None => format!("{base}-jobs"),
                };
                let query = if query.contains("mode=") {
                    query.to_string()
                } else if query.is_empty() {
                    "mode=rwc".to_string()
                } else {
                    format!("{query}&mode=rwc")
                };
                let url = format!("{base}?{query}");
                let options = sqlx::sqlite::SqliteConnectOptions::from_str(&url)
                    .map_err(|e| e.to_string())?
                    .busy_timeout(Duration::from_secs(5));
                let pool = sqlx::sqlite::SqlitePoolOptions::new()
                    .max_connections(4)
                    .connect_with(options)
                    .await
                    .map_err(|e| e.to_string())?;
                apalis_sqlite::SqliteStorage::setup(&pool)
                    .await
                    .map_err(|e| e.to_string())?;
                Ok(JobStore::Sqlite {
                    sync: apalis_sqlite::SqliteStorage::new(&pool),
                    health: apalis_sqlite::SqliteStorage::new(&pool),
                })
            }
            DbBackend::Postgres => {
                let pool = sqlx::postgres::PgPoolOptions::new()
                    .max_connections(4)
                    .connect(url)
                    .await
                    .map_err(|e| e.to_string())?;
                apalis_postgres::PostgresStorage::setup(&pool)
                    .await
                    .map_err(|e| e.to_string())?;
                Ok(JobStore::Postgres {
                    sync: apalis_postgres::PostgresStorage::new(&pool),
                    health: apalis_postgres::PostgresStorage::new(&pool),
                })
            }
        }
    }
}

/// Looks like a broken uniqueness rule: apalis's idempotency key was pushed before.
fn is_duplicate(error: &str) -> bool {
    let e = error.to_ascii_lowercase();
    e.contains("unique") || e.contains("duplicate")
}

#[async_trait::async_trait]
impl SyncQueue for JobStore {
    async fn push(&self, run: &SyncRunId, nudge: i64, delay: Duration) -> Result<(), QueueError> {
        let task = TaskBuilder::new(SyncJob {
            run_id: run.clone(),
        })
        .idempotency_key(format!("{run}:{nudge}"))
        .run_after(delay)
        .max_attempts(1)
        .build();
        let pushed = match self.clone() {
            JobStore::Sqlite { mut sync, .. } => {
                sync.push_task(task).await.map_err(|e| e.to_string())
            }
            JobStore::Postgres { mut sync, .. } => {
                sync.push_task(task).await.map_err(|e| e.to_string())
            }
        };
        already_there_is_fine(pushed)
    }
}

/// PostgreSQL refuses a repeated idempotency key; SQLite ignores it: both mean "already there".
fn already_there_is_fine(pushed: Result<(), String>) -> Result<(), QueueError> {
    match pushed {
        Ok(()) => Ok(()),
        Err(e) if is_duplicate(&e) => Ok(()),
        Err(e) => Err(QueueError(e)),
    }
}

#[async_trait::async_trait]
impl HealthQueue for JobStore {
    async fn push(
        &self,
        org_id: &OrganizationId,
        connection: &ConnectionId,
        period: i64,
    ) -> Result<(), QueueError> {
        let task = TaskBuilder::new(HealthJob {
            org_id: org_id.clone(),
            connection_id: connection.clone(),
            period,
        })
        .idempotency_key(format!("health:{connection}:{period}"))
        .max_attempts(1)
        .build();
        let pushed = match self.clone() {
            JobStore::Sqlite { mut health, .. } => {
                health.push_task(task).await.map_err(|e| e.to_string())
            }
            JobStore::Postgres { mut health, .. } => {
                health.push_task(task).await.map_err(|e| e.to_string())
            }
        };
        already_there_is_fine(pushed)
    }
}

/// Runs one sync job: the run's own rules decide; a run to resume later is pushed again.
async fn run_sync(job: SyncJob, state: Data<AppState>) -> Result<(), BoxDynError> {
    let state: &AppState = &state;
    match engine::execute(state, &job.run_id).await {
        engine::Executed::RetryAfter(after) => {
            if let Ok(Some(run)) = state.db.sync_run(&job.run_id).await {
                app::domain::sync::triggers::push_after(state, &run, after).await;
            }
        }
        engine::Executed::Finished(_) | engine::Executed::NotQueued | engine::Executed::Fenced => {}
    }
    Ok(())
}

/// Runs one health check: the watch's own rules decide (a failed check is a finding, not an error).
async fn run_health(job: HealthJob, state: Data<AppState>) -> Result<(), BoxDynError> {
    if let Err(e) = health_watch::check(&state, &job.org_id, &job.connection_id).await {
        tracing::warn!(connection = %job.connection_id, error = %e, "health watch: check not recorded");
    }
    Ok(())
}

/// What the tick needs besides the app: where to push the health checks it claims.
#[derive(Clone)]
struct TickData {
    state: AppState,
    store: JobStore,
}

/// One tick of the schedule, the watchdog and the health watch.
async fn on_tick(_tick: Tick, data: Data<TickData>) -> Result<(), BoxDynError> {
    let now = app::storage::now_ms();
    let report = schedule::tick(&data.state, now).await;
    if report != schedule::TickReport::default() {
        tracing::info!(?report, "sync schedule tick");
    }
    let checks = health_watch::tick(&data.state, &data.store, now).await;
    if checks > 0 {
        tracing::info!(checks, "health watch tick");
    }
    Ok(())
}

/// How the engine runs in this instance.
#[derive(Debug, Clone, Copy)]
pub struct EngineSettings {
    pub workers: usize,
    pub tick_seconds: u32,
}

/// How often an idle worker looks for jobs. apalis's storages otherwise wake an idle worker only
/// at its heartbeat (30 s) or for a job pushed through the same handle: a job another process
/// pushed (an instance's trigger, the test's activation), or the watchdog's push again, waited up
/// to 30 s.
const POLL_INTERVAL: Duration = Duration::from_secs(1);

/// The sync worker's name in apalis's workers table: unique per process start. apalis refuses to
/// register a name whose earlier holder still looks alive (it beat within its keep-alive), so a
/// fixed name made the worker of a server restarted after `kill -9`, or of a second server on the
/// same PostgreSQL, die at start with `WORKER_ALREADY_EXISTS`, and its runs were never picked up.
fn worker_name() -> String {
    format!("hris-sync-{}", uuid::Uuid::new_v4().simple())
}

/// Starts the workers and the tick; they stop when `shutdown` resolves.
pub fn spawn(
    store: JobStore,
    state: AppState,
    settings: EngineSettings,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let schedule = cron::Schedule::from_str(&format!("*/{} * * * * *", settings.tick_seconds))
            .expect("a seconds schedule");
        let mut monitor = Monitor::new();
        {
            let data = TickData {
                state: state.clone(),
                store: store.clone(),
            };
            monitor = monitor.register(move |_| {
                WorkerBuilder::new("hris-sync-tick")
                    .backend(CronScheduler::new(schedule.clone()))
                    .data(data.clone())
                    .build(on_tick)
            });
        }
        if settings.workers > 0 {
            let workers = settings.workers;
            let name = worker_name();
            // One function per job type and backend: apalis's builder is typed by both.
            macro_rules! workers {
                ($sync:expr, $health:expr) => {{
                    let (sync, health) = ($sync, $health);
                    let (sync_state, health_state) = (state.clone(), state.clone());
                    let sync_name = format!("{name}-sync");
                    let health_name = format!("{name}-health");
                    monitor
                        .register(move |restarts| {
                            WorkerBuilder::new(format!("{sync_name}-{restarts}"))
                                .backend(sync.clone().poll_with_interval(POLL_INTERVAL))
                                .data(sync_state.clone())
                                .concurrency(workers)
                                .build(run_sync)
                        })
                        .register(move |restarts| {
                            WorkerBuilder::new(format!("{health_name}-{restarts}"))
                                .backend(health.clone().poll_with_interval(POLL_INTERVAL))
                                .data(health_state.clone())
                                .concurrency(workers)
                                .build(run_health)
                        })
                }};
            }
            monitor = match store {
                JobStore::Sqlite { sync, health } => workers!(sync, health),
                JobStore::Postgres { sync, health } => workers!(sync, health),
            };
        }
        if let Err(e) = monitor
            .shutdown_timeout(Duration::from_secs(10))
            .run_with_signal(async move {
                shutdown.await;
                Ok(())
            })
            .await
        {
            tracing::error!(error = %e, "job engine stopped");
        }
    })
}

/// The engine's handle in the app's state.
pub fn queue(store: &JobStore) -> Arc<dyn SyncQueue> {
    Arc::new(store.clone())
}

//! Storage: one API over two backends (SQLite embedded, PostgreSQL for several instances).
//!
//! Queries go through sqlx's `Any` driver with `$n` placeholders, which both backends accept, so every
//! query is written once. Only the migrations differ per dialect (`app/migrations/{sqlite,postgres}`).

/// A query put together from this module's constant table and column names (never from input),
/// which sqlx 0.9 wants declared as audited.
macro_rules! sql {
    ($($fmt:tt)*) => {
        sqlx::AssertSqlSafe(format!($($fmt)*))
    };
}

mod audit;
mod connections;
mod employees;
mod magic_links;
mod organizations;
mod secrets;
mod sessions;
mod sync_runs;
mod sync_views;
#[cfg(test)]
mod tests;
mod webhooks;

pub use audit::{Actor, AuditAction, AuditEvent, AuditSubject, SYSTEM_ACTOR};
pub use connections::{ConnectionRecord, NewConnection};
pub use employees::{
    content_hash, today, DirectoryQuery, EmployeeData, EmployeeRecord, EmploymentData, PageCounts,
    UnitData, UnitKind, UnitRecord,
};
pub use magic_links::{MagicLinkRecord, MagicLinkState, NewMagicLink};
pub use organizations::Organization;
pub use secrets::{RotateError, RotationReport, SealedColumn, SEALED_COLUMNS};
pub use sessions::SessionRecord;
pub use sync_runs::{
    Fence, HoldState, NewSyncRun, RemovalReason, RunCounts, RunOutcome, RunState, StreamProgress,
    SyncMode, SyncRunRecord, SyncTrigger,
};
pub use sync_views::{removal_reason, HeldRow, PeopleQuery, PersonRow, NAME_KEY};
pub use webhooks::{DeliveryClaim, WebhookLogRecord};

use std::{str::FromStr, time::Duration};

use sqlx::{
    any::{install_default_drivers, AnyPoolOptions},
    Any, AnyConnection, AnyPool,
};

use crate::crypto::Sealed;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn from_url(url: &str) -> Option<Backend> {
        if url.starts_with("sqlite:") {
            Some(Backend::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Some(Backend::Postgres)
        } else {
            None
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A uniqueness rule was broken (e.g. a connection name already used in the organization).
    #[error("conflict: {0}")]
    Conflict(&'static str),
    /// A write found no row to change (e.g. the connection was deleted meanwhile, or is no longer
    /// in the state the write requires). Never a silent success.
    #[error("the row to change is gone or changed meanwhile")]
    Missing,
    #[error("unsupported database URL (use sqlite:// or postgres://)")]
    UnsupportedUrl,
    #[error(transparent)]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error(transparent)]
    Db(sqlx::Error),
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        match e.as_database_error() {
            Some(db) if db.is_unique_violation() => StoreError::Conflict("unique"),
            _ => StoreError::Db(e),
        }
    }
}

impl From<StoreError> for crate::error::AppError {
    fn from(e: StoreError) -> Self {
        crate::error::AppError::internal("storage failure", e)
    }
}

pub type StoreResult<T> = Result<T, StoreError>;

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// The database handle every part of the server uses.
#[derive(Clone, Debug)]
pub struct Db {
    pool: AnyPool,
    backend: Backend,
}

impl Db {
    /// Opens the database at `url` (creating a SQLite file if missing) and runs the migrations.
    pub async fn connect(url: &str) -> StoreResult<Db> {
        install_default_drivers();
        let backend = Backend::from_url(url).ok_or(StoreError::UnsupportedUrl)?;
        let url = match backend {
            Backend::Sqlite if !url.contains("mode=") => {
                let sep = if url.contains('?') { '&' } else { '?' };
                format!("{url}{sep}mode=rwc")
            }
            _ => url.to_string(),
        };
        // Validate the URL early so a typo names itself instead of failing on first use.
        sqlx::any::AnyConnectOptions::from_str(&url)?;
        let pool = AnyPoolOptions::new()
            .max_connections(match backend {
                Backend::Sqlite => 4,
                Backend::Postgres => 10,
            })
            .acquire_timeout(Duration::from_secs(10))
            .after_connect(move |conn, _| {
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        sqlx::query("PRAGMA foreign_keys = ON")
                            .execute(&mut *conn)
                            .await?;
                        sqlx::query("PRAGMA busy_timeout = 5000")
                            .execute(&mut *conn)
                            .await?;
                    }
                    Ok(())
                })
            })
            .connect(&url)
            .await?;
        let db = Db { pool, backend };
        db.migrate().await?;
        Ok(db)
    }

    async fn migrate(&self) -> StoreResult<()> {
        match self.backend {
            Backend::Sqlite => SQLITE_MIGRATIONS.run(&self.pool).await?,
            Backend::Postgres => POSTGRES_MIGRATIONS.run(&self.pool).await?,
        }
        Ok(())
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// True when the database answers a trivial query (readiness).
    pub async fn ping(&self) -> bool {
        sqlx::query("SELECT 1").execute(&self.pool).await.is_ok()
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// Connections of the pool now: (in use, idle).
    pub fn pool_connections(&self) -> (u64, u64) {
        let idle = self.pool.num_idle() as u64;
        (u64::from(self.pool.size()).saturating_sub(idle), idle)
    }
}

impl Db {
    /// Starts a unit of work: the storage calls made on the returned [`Tx`] commit together or not at
    /// all (dropping it uncommitted rolls back).
    pub async fn begin(&self) -> StoreResult<Tx> {
        let tx = match self.backend {
            // Takes SQLite's write lock at once, so a second writer waits (busy_timeout) instead of
            // failing when its read would have to become a write.
            Backend::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await?,
            Backend::Postgres => self.pool.begin().await?,
        };
        Ok(Tx { tx })
    }
}

/// One database transaction. Every write of the domain goes through one, together with its audit
/// event; reads are on [`Db`] (and here, where a write needs to read its own result).
pub struct Tx {
    tx: sqlx::Transaction<'static, Any>,
}

impl Tx {
    pub async fn commit(self) -> StoreResult<()> {
        self.tx.commit().await?;
        Ok(())
    }

    fn conn(&mut self) -> &mut AnyConnection {
        &mut self.tx
    }
}

/// `Ok` when a write changed exactly one row; `StoreError::Missing` when it changed none.
fn one_row(done: sqlx::any::AnyQueryResult) -> StoreResult<()> {
    match done.rows_affected() {
        0 => Err(StoreError::Missing),
        _ => Ok(()),
    }
}

/// The same server URL pointing at another database (tests create one database per run).
pub fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, format!("?{q}")),
        None => (url, String::new()),
    };
    let authority_end = base.find("://").map(|i| i + 3).unwrap_or(0);
    let base = match base[authority_end..].find('/') {
        Some(i) => &base[..authority_end + i],
        None => base,
    };
    format!("{base}/{name}{query}")
}

/// Current time in Unix milliseconds.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or_default()
}

/// Splits a sealed secret into the two columns it is stored in.
fn sealed_columns(secret: Option<&Sealed>) -> (Option<Vec<u8>>, Option<String>) {
    match secret {
        Some(s) => (Some(s.blob.clone()), Some(s.key_id.clone())),
        None => (None, None),
    }
}

fn sealed_from_columns(blob: Option<Vec<u8>>, key_id: Option<String>) -> Option<Sealed> {
    match (blob, key_id) {
        (Some(blob), Some(key_id)) => Some(Sealed { key_id, blob }),
        _ => None,
    }
}

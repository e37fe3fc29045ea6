//! Sync runs: what was asked (trigger, mode), who runs it (the fencing token), how far each stream
//! got (checkpoints), where the next incremental window starts (bounds), and removals held for an
//! admin. The rules that decide are in `domain::sync`; here are the rows.

use std::collections::HashMap;

use super::{connections::Parsed, now_ms, one_row, Db, StoreError, StoreResult, Tx};
use crate::model::{ConnectionId, EmployeeId, OrganizationId, SyncRunId};

/// What made a run.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    serde::Serialize,
    serde::Deserialize,
    strum::EnumString,
    strum::IntoStaticStr,
)]
#[strum(serialize_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum SyncTrigger {
    /// The connection became the organization's active one.
    Activation,
    /// The connection was linked again (new Merge ids: records are re-bound by remote id).
    Relink,
    /// The daily full sync.
    Schedule,
    /// The scheduled poll of Merge's sync status.
    Poll,
    /// Merge's `LinkedAccount.sync_completed` webhook.
    Webhook,
    /// An admin's "Sync now".
    Manual,
}

/// A full scan reads everything (and may notice records gone); an incremental one reads a window.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    serde::Serialize,
    serde::Deserialize,
    strum::EnumString,
    strum::IntoStaticStr,
)]
#[strum(serialize_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum SyncMode {
    Full,
    Incremental,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, strum::EnumString, strum::IntoStaticStr)]
#[strum(serialize_all = "snake_case")]
pub enum RunState {
    Queued,
    Running,
    Finished,
}

/// How a finished run ended.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    serde::Serialize,
    serde::Deserialize,
    strum::EnumString,
    strum::IntoStaticStr,
)]
#[strum(serialize_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum RunOutcome {
    /// Everything applied.
    Done,
    /// Everything applied except the deactivations, which the safety brake holds for an admin.
    Held,
    /// Merge reported the account PARTIALLY_SYNCED: changes applied, no removals.
    Partial,
    /// Merge reported the account FAILED: the last good data is kept.
    ProviderFailed,
    /// The account token was refused: the connection needs a relink; its schedule stops.
    Unauthorized,
    /// Gave up (the connection went away, or the provider kept failing).
    Failed,
}

/// The safety brake's held deactivations of a run, and what the admin decided.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    serde::Serialize,
    serde::Deserialize,
    strum::EnumString,
    strum::IntoStaticStr,
)]
#[strum(serialize_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum HoldState {
    Pending,
    Applied,
    Kept,
    /// A later run computed the removals again; its hold replaces this one.
    Superseded,
}

/// Why a person leaves the directory.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    serde::Serialize,
    serde::Deserialize,
    strum::EnumString,
    strum::IntoStaticStr,
)]
#[strum(serialize_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum RemovalReason {
    /// Inactive or terminated (termination date reached) in the HR system.
    Terminated,
    /// Deleted in the HR system (`remote_was_deleted`).
    Deleted,
    /// Missing from two complete full scans in a row.
    Missing,
}

/// The counts a run reports. "Changed" counts records whose content changed, never a re-read.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RunCounts {
    pub added: i64,
    pub changed: i64,
    pub deactivated: i64,
    pub reactivated: i64,
    pub held: i64,
}

impl RunCounts {
    pub fn any(&self) -> bool {
        self.added + self.changed + self.deactivated + self.reactivated + self.held > 0
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncRunRecord {
    pub id: SyncRunId,
    pub org_id: OrganizationId,
    pub connection_id: ConnectionId,
    pub trigger: SyncTrigger,
    pub trigger_key: String,
    pub mode: SyncMode,
    pub state: RunState,
    pub outcome: Option<RunOutcome>,
    pub outcome_detail: Option<String>,
    pub attempt: i64,
    pub pushes: i64,
    pub queued_at: i64,
    pub started_at: Option<i64>,
    pub heartbeat_at: Option<i64>,
    pub finished_at: Option<i64>,
    pub upper_bound: Option<i64>,
    pub counts: RunCounts,
    pub hold_state: Option<HoldState>,
}

#[derive(sqlx::FromRow)]
struct Row {
    id: SyncRunId,
    org_id: OrganizationId,
    connection_id: ConnectionId,
    #[sqlx(try_from = "String")]
    trigger_kind: Parsed<SyncTrigger>,
    trigger_key: String,
    #[sqlx(try_from = "String")]
    mode: Parsed<SyncMode>,
    #[sqlx(try_from = "String")]
    state: Parsed<RunState>,
    outcome: Option<String>,
    outcome_detail: Option<String>,
    attempt: i64,
    pushes: i64,
    queued_at: i64,
    started_at: Option<i64>,
    heartbeat_at: Option<i64>,
    finished_at: Option<i64>,
    upper_bound: Option<i64>,
    added: i64,
    changed: i64,
    deactivated: i64,
    reactivated: i64,
    held: i64,
    hold_state: Option<String>,
}

impl TryFrom<Row> for SyncRunRecord {
    type Error = sqlx::Error;
    fn try_from(r: Row) -> Result<Self, sqlx::Error> {
        fn parse<T: std::str::FromStr>(s: Option<String>) -> Result<Option<T>, sqlx::Error> {
            s.map(|s| {
                s.parse()
                    .map_err(|_| sqlx::Error::Decode(format!("unknown value {s:?}").into()))
            })
            .transpose()
        }
        Ok(SyncRunRecord {
            id: r.id,
            org_id: r.org_id,
            connection_id: r.connection_id,
            trigger: r.trigger_kind.0,
            trigger_key: r.trigger_key,
            mode: r.mode.0,
            state: r.state.0,
            outcome: parse(r.outcome)?,
            outcome_detail: r.outcome_detail,
            attempt: r.attempt,
            pushes: r.pushes,
            queued_at: r.queued_at,
            started_at: r.started_at,
            heartbeat_at: r.heartbeat_at,
            finished_at: r.finished_at,
            upper_bound: r.upper_bound,
            counts: RunCounts {
                added: r.added,
                changed: r.changed,
                deactivated: r.deactivated,
                reactivated: r.reactivated,
                held: r.held,
            },
            hold_state: parse(r.hold_state)?,
        })
    }
}

const COLUMNS: &str = "id, org_id, connection_id, trigger_kind, trigger_key, mode, state, outcome,
    outcome_detail, attempt, pushes, queued_at, started_at, heartbeat_at, finished_at, upper_bound,
    added, changed, deactivated, reactivated, held, hold_state";

/// The right to write for one run: its id and the attempt that claimed it. Every write of a run
/// checks it, so a worker whose run was taken over (lease lost, job restarted) cannot write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fence {
    pub run_id: SyncRunId,
    pub attempt: i64,
}

/// One stream's checkpoint in a run.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct StreamProgress {
    pub stream: String,
    /// The lower bound of the window actually read (`None`: a full read).
    pub modified_after: Option<i64>,
    /// Where to continue: the cursor after the last committed page (`None`: from the start).
    pub cursor: Option<String>,
    pub pages: i64,
    pub records: i64,
    pub done: i64,
}

#[derive(Debug, Clone)]
pub struct NewSyncRun {
    pub org_id: OrganizationId,
    pub connection_id: ConnectionId,
    pub trigger: SyncTrigger,
    pub trigger_key: String,
    pub mode: SyncMode,
}

fn runs(rows: Vec<Row>) -> StoreResult<Vec<SyncRunRecord>> {
    rows.into_iter()
        .map(|r| SyncRunRecord::try_from(r).map_err(StoreError::Db))
        .collect()
}

impl Db {
    pub async fn sync_run(&self, id: &SyncRunId) -> StoreResult<Option<SyncRunRecord>> {
        let row: Option<Row> =
            sqlx::query_as(sql!("SELECT {COLUMNS} FROM sync_runs WHERE id = $1"))
                .bind(id)
                .fetch_optional(&self.pool)
                .await?;
        Ok(runs(row.into_iter().collect())?.pop())
    }

    /// The connection's queued or running run, if any (there is at most one).
    pub async fn pending_sync_run(
        &self,
        connection_id: &ConnectionId,
    ) -> StoreResult<Option<SyncRunRecord>> {
        let row: Option<Row> = sqlx::query_as(sql!(
            "SELECT {COLUMNS} FROM sync_runs WHERE connection_id = $1 AND state IN ('queued', 'running')"
        ))
        .bind(connection_id)
        .fetch_optional(&self.pool)
        .await?;
        Ok(runs(row.into_iter().collect())?.pop())
    }

    /// The organization's runs, newest first (`limit` from `offset`).
    pub async fn sync_runs(
        &self,
        org_id: &OrganizationId,
        limit: i64,
        offset: i64,
    ) -> StoreResult<Vec<SyncRunRecord>> {
        let rows: Vec<Row> = sqlx::query_as(sql!(
            "SELECT {COLUMNS} FROM sync_runs WHERE org_id = $1
             ORDER BY queued_at DESC, id DESC LIMIT $2 OFFSET $3"
        ))
        .bind(org_id)
        .bind(limit)
        .bind(offset)
        .fetch_all(&self.pool)
        .await?;
        runs(rows)
    }

    /// The connection's last finished run of `mode` that read everything it meant to (done, held or
    /// partial), newest first.
    pub async fn last_complete_run(
        &self,
        connection_id: &ConnectionId,
        mode: Option<SyncMode>,
    ) -> StoreResult<Option<SyncRunRecord>> {
        let rows: Vec<Row> = sqlx::query_as(sql!(
            "SELECT {COLUMNS} FROM sync_runs WHERE connection_id = $1 AND state = 'finished'
               AND outcome IN ('done', 'held', 'partial') AND ($2 = '' OR mode = $2)
             ORDER BY finished_at DESC, id DESC LIMIT 1"
        ))
        .bind(connection_id)
        .bind(mode.map(<&str>::from).unwrap_or(""))
        .fetch_all(&self.pool)
        .await?;
        Ok(runs(rows)?.pop())
    }

    /// Runs that need the watchdog: queued ones no worker started since `queued_before` (their job
    /// was lost or is not picked up), and running ones whose worker has not beaten since
    /// `heartbeat_before` (it died: a crash, `kill -9`).
    pub async fn stalled_sync_runs(
        &self,
        queued_before: i64,
        heartbeat_before: i64,
    ) -> StoreResult<Vec<SyncRunRecord>> {
        let rows: Vec<Row> = sqlx::query_as(sql!(
            "SELECT {COLUMNS} FROM sync_runs
             WHERE (state = 'queued' AND COALESCE(heartbeat_at, queued_at) < $1)
                OR (state = 'running' AND heartbeat_at < $2)
             ORDER BY queued_at"
        ))
        .bind(queued_before)
        .bind(heartbeat_before)
        .fetch_all(&self.pool)
        .await?;
        runs(rows)
    }

    /// Claims a queued run for a worker: it becomes running with the next attempt number, which is
    /// the worker's fence. `None` when it is not queued (another worker has it, or it finished).
    /// The run's upper bound is fixed at its first claim, so a resumed run reads the same window.
    pub async fn claim_sync_run(&self, id: &SyncRunId) -> StoreResult<Option<Fence>> {
        let now = now_ms();
        let attempt: Option<i64> = sqlx::query_scalar(
            "UPDATE sync_runs SET state = 'running', attempt = attempt + 1,
                 started_at = COALESCE(started_at, $1), upper_bound = COALESCE(upper_bound, $1),
                 heartbeat_at = $1
             WHERE id = $2 AND state = 'queued' RETURNING attempt",
        )
        .bind(now)
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        Ok(attempt.map(|attempt| Fence {
            run_id: id.clone(),
            attempt,
        }))
    }

    /// Puts a running run back in the queue (its worker gives it up to retry later, or the watchdog
    /// found it dead). Only while `fence` still holds; the next claim takes a new attempt.
    pub async fn requeue_sync_run(&self, fence: &Fence) -> StoreResult<()> {
        one_row(
            sqlx::query(
                "UPDATE sync_runs SET state = 'queued', heartbeat_at = $1
                 WHERE id = $2 AND attempt = $3 AND state = 'running'",
            )
            .bind(now_ms())
            .bind(&fence.run_id)
            .bind(fence.attempt)
            .execute(&self.pool)
            .await?,
        )
    }

    /// Counts one more push of the run's job (the job's idempotency key carries it) and returns it.
    pub async fn count_sync_push(&self, id: &SyncRunId) -> StoreResult<i64> {
        sqlx::query_scalar(
            "UPDATE sync_runs SET pushes = pushes + 1, heartbeat_at = CASE WHEN state = 'queued' THEN $1 ELSE heartbeat_at END
             WHERE id = $2 AND state <> 'finished' RETURNING pushes",
        )
        .bind(now_ms())
        .bind(id)
        .fetch_optional(&self.pool)
        .await?
        .ok_or(StoreError::Missing)
    }

    /// The run's stream checkpoints.
    pub async fn sync_run_streams(&self, id: &SyncRunId) -> StoreResult<Vec<StreamProgress>> {
        Ok(sqlx::query_as(
            "SELECT stream, modified_after, cursor, pages, records, done FROM sync_run_streams
             WHERE run_id = $1 ORDER BY stream",
        )
        .bind(id)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Per stream, the upper bound of the connection's last completed pull.
    pub async fn sync_bounds(
        &self,
        connection_id: &ConnectionId,
    ) -> StoreResult<HashMap<String, i64>> {
        let rows: Vec<(String, i64)> =
            sqlx::query_as("SELECT stream, upper_bound FROM sync_bounds WHERE connection_id = $1")
                .bind(connection_id)
                .fetch_all(&self.pool)
                .await?;
        Ok(rows.into_iter().collect())
    }

    /// The people a held run would deactivate, with why.
    pub async fn held_removals(
        &self,
        run_id: &SyncRunId,
    ) -> StoreResult<Vec<(EmployeeId, RemovalReason)>> {
        let rows: Vec<(EmployeeId, String)> = sqlx::query_as(
            "SELECT employee_id, reason FROM sync_held_removals WHERE run_id = $1 ORDER BY employee_id",
        )
        .bind(run_id)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|(id, r)| {
                r.parse()
                    .map(|r| (id, r))
                    .map_err(|_| StoreError::Db(sqlx::Error::Decode("reason".into())))
            })
            .collect()
    }

    /// The organization's run whose removals wait for an admin, if any.
    /// Across every organization, now: runs queued, runs running, and removals held for an
    /// admin's decision (the metrics' gauges, sampled at scrape time).
    pub async fn sync_gauges(&self) -> StoreResult<(i64, i64, i64)> {
        Ok(sqlx::query_as(
            "SELECT CAST(COALESCE(SUM(CASE WHEN state = 'queued' THEN 1 ELSE 0 END), 0) AS BIGINT),
                    CAST(COALESCE(SUM(CASE WHEN state = 'running' THEN 1 ELSE 0 END), 0) AS BIGINT),
                    CAST(COALESCE(SUM(CASE WHEN hold_state = 'pending' THEN held ELSE 0 END), 0) AS BIGINT)
             FROM sync_runs WHERE state <> 'finished' OR hold_state = 'pending'",
        )
        .fetch_one(&self.pool)
        .await?)
    }

    pub async fn pending_hold(
        &self,
        org_id: &OrganizationId,
    ) -> StoreResult<Option<SyncRunRecord>> {
        let row: Option<Row> = sqlx::query_as(sql!(
            "SELECT {COLUMNS} FROM sync_runs WHERE org_id = $1 AND hold_state = 'pending'
             ORDER BY queued_at DESC LIMIT 1"
        ))
        .bind(org_id)
        .fetch_optional(&self.pool)
        .await?;
        Ok(runs(row.into_iter().collect())?.pop())
    }
}

impl Tx {
    /// Queues a run. `StoreError::Conflict` when its trigger key was used before, or when the
    /// connection already has a queued or running run (both backends report both alike).
    pub async fn insert_sync_run(&mut self, new: &NewSyncRun) -> StoreResult<SyncRunRecord> {
        let id = SyncRunId::from(uuid::Uuid::now_v7().to_string());
        let row: Row = sqlx::query_as(sql!(
            "INSERT INTO sync_runs (id, org_id, connection_id, trigger_kind, trigger_key, mode, state, queued_at)
             VALUES ($1, $2, $3, $4, $5, $6, 'queued', $7)
             RETURNING {COLUMNS}"
        ))
        .bind(&id)
        .bind(&new.org_id)
        .bind(&new.connection_id)
        .bind(<&str>::from(new.trigger))
        .bind(&new.trigger_key)
        .bind(<&str>::from(new.mode))
        .bind(now_ms())
        .fetch_one(self.conn())
        .await?;
        row.try_into().map_err(StoreError::Db)
    }

    /// Checks the fence and beats the run's heartbeat; `StoreError::Missing` when the fence no
    /// longer holds (the caller must stop writing: this transaction rolls back).
    pub async fn check_fence(&mut self, fence: &Fence) -> StoreResult<()> {
        one_row(
            sqlx::query(
                "UPDATE sync_runs SET heartbeat_at = $1
                 WHERE id = $2 AND attempt = $3 AND state = 'running'",
            )
            .bind(now_ms())
            .bind(&fence.run_id)
            .bind(fence.attempt)
            .execute(self.conn())
            .await?,
        )
    }

    /// Creates the stream's checkpoint if it has none yet, with the window it reads.
    pub async fn open_stream(
        &mut self,
        run_id: &SyncRunId,
        stream: &str,
        modified_after: Option<i64>,
    ) -> StoreResult<StreamProgress> {
        sqlx::query(
            "INSERT INTO sync_run_streams (run_id, stream, modified_after) VALUES ($1, $2, $3)
             ON CONFLICT (run_id, stream) DO NOTHING",
        )
        .bind(run_id)
        .bind(stream)
        .bind(modified_after)
        .execute(self.conn())
        .await?;
        Ok(sqlx::query_as(
            "SELECT stream, modified_after, cursor, pages, records, done FROM sync_run_streams
             WHERE run_id = $1 AND stream = $2",
        )
        .bind(run_id)
        .bind(stream)
        .fetch_one(self.conn())
        .await?)
    }

    /// Saves the checkpoint after a committed page.
    pub async fn advance_stream(
        &mut self,
        run_id: &SyncRunId,
        stream: &str,
        next_cursor: Option<&str>,
        records: i64,
    ) -> StoreResult<()> {
        one_row(
            sqlx::query(
                "UPDATE sync_run_streams SET cursor = $1, pages = pages + 1, records = records + $2, done = $3
                 WHERE run_id = $4 AND stream = $5",
            )
            .bind(next_cursor)
            .bind(records)
            .bind(i64::from(next_cursor.is_none()))
            .bind(run_id)
            .bind(stream)
            .execute(self.conn())
            .await?,
        )
    }

    /// Records the upper bound of a completed pull of `stream`: the next window starts here.
    pub async fn set_sync_bound(
        &mut self,
        connection_id: &ConnectionId,
        stream: &str,
        upper_bound: i64,
    ) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO sync_bounds (connection_id, stream, upper_bound) VALUES ($1, $2, $3)
             ON CONFLICT (connection_id, stream) DO UPDATE SET upper_bound = excluded.upper_bound",
        )
        .bind(connection_id)
        .bind(stream)
        .bind(upper_bound)
        .execute(self.conn())
        .await?;
        Ok(())
    }

    /// Forgets the connection's bounds (a relink: the next pulls read everything).
    pub async fn clear_sync_bounds(&mut self, connection_id: &ConnectionId) -> StoreResult<()> {
        sqlx::query("DELETE FROM sync_bounds WHERE connection_id = $1")
            .bind(connection_id)
            .execute(self.conn())
            .await?;
        Ok(())
    }

    /// The run's counts as this transaction sees them.
    pub async fn sync_run_counts(&mut self, run_id: &SyncRunId) -> StoreResult<RunCounts> {
        let (added, changed, deactivated, reactivated, held): (i64, i64, i64, i64, i64) =
            sqlx::query_as(
                "SELECT added, changed, deactivated, reactivated, held FROM sync_runs WHERE id = $1",
            )
            .bind(run_id)
            .fetch_one(self.conn())
            .await?;
        Ok(RunCounts {
            added,
            changed,
            deactivated,
            reactivated,
            held,
        })
    }

    /// Adds to the run's counts.
    pub async fn add_run_counts(&mut self, run_id: &SyncRunId, c: &RunCounts) -> StoreResult<()> {
        one_row(
            sqlx::query(
                "UPDATE sync_runs SET added = added + $1, changed = changed + $2,
                     deactivated = deactivated + $3, reactivated = reactivated + $4, held = held + $5
                 WHERE id = $6",
            )
            .bind(c.added)
            .bind(c.changed)
            .bind(c.deactivated)
            .bind(c.reactivated)
            .bind(c.held)
            .bind(run_id)
            .execute(self.conn())
            .await?,
        )
    }

    /// Ends the run (the fence must hold).
    pub async fn finish_sync_run(
        &mut self,
        fence: &Fence,
        outcome: RunOutcome,
        detail: Option<&str>,
    ) -> StoreResult<()> {
        let hold = (outcome == RunOutcome::Held).then_some(<&str>::from(HoldState::Pending));
        one_row(
            sqlx::query(
                "UPDATE sync_runs SET state = 'finished', outcome = $1, outcome_detail = $2,
                     finished_at = $3, heartbeat_at = $3, hold_state = $4
                 WHERE id = $5 AND attempt = $6 AND state = 'running'",
            )
            .bind(<&str>::from(outcome))
            .bind(detail)
            .bind(now_ms())
            .bind(hold)
            .bind(&fence.run_id)
            .bind(fence.attempt)
            .execute(self.conn())
            .await?,
        )
    }

    /// Ends a queued run that will not run (its connection is gone or no longer active).
    pub async fn cancel_queued_run(&mut self, run_id: &SyncRunId, detail: &str) -> StoreResult<()> {
        one_row(
            sqlx::query(
                "UPDATE sync_runs SET state = 'finished', outcome = 'failed', outcome_detail = $1,
                     finished_at = $2
                 WHERE id = $3 AND state = 'queued'",
            )
            .bind(detail)
            .bind(now_ms())
            .bind(run_id)
            .execute(self.conn())
            .await?,
        )
    }

    /// Holds the deactivations of a run for an admin; an older pending hold of the connection is
    /// superseded (this one lists the removals as they are now).
    pub async fn hold_removals(
        &mut self,
        run: &SyncRunRecord,
        removals: &[(EmployeeId, RemovalReason)],
    ) -> StoreResult<()> {
        sqlx::query(
            "UPDATE sync_runs SET hold_state = 'superseded'
             WHERE connection_id = $1 AND hold_state = 'pending' AND id <> $2",
        )
        .bind(&run.connection_id)
        .bind(&run.id)
        .execute(self.conn())
        .await?;
        for (employee, reason) in removals {
            sqlx::query(
                "INSERT INTO sync_held_removals (run_id, employee_id, reason) VALUES ($1, $2, $3)",
            )
            .bind(&run.id)
            .bind(employee)
            .bind(<&str>::from(*reason))
            .execute(self.conn())
            .await?;
        }
        Ok(())
    }

    /// Settles a pending hold (`Applied` or `Kept`); `Missing` when it is no longer pending.
    pub async fn settle_hold(&mut self, run_id: &SyncRunId, to: HoldState) -> StoreResult<()> {
        one_row(
            sqlx::query(
                "UPDATE sync_runs SET hold_state = $1 WHERE id = $2 AND hold_state = 'pending'",
            )
            .bind(<&str>::from(to))
            .bind(run_id)
            .execute(self.conn())
            .await?,
        )
    }
}

/// A stored preview's plan: the target, the matches (our id, remote id, Merge id) and the leavers.
pub type PreviewPlan = (
    ConnectionId,
    Vec<(EmployeeId, String, String)>,
    Vec<EmployeeId>,
);

impl Db {
    /// The organization's open preview `id`.
    pub async fn preview(
        &self,
        org_id: &OrganizationId,
        id: &crate::model::PreviewId,
    ) -> StoreResult<Option<PreviewPlan>> {
        let row: Option<(ConnectionId, String, String)> = sqlx::query_as(
            "SELECT connection_id, matches, leaver_ids FROM source_previews
             WHERE org_id = $1 AND id = $2 AND state = 'open'",
        )
        .bind(org_id)
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|(c, m, l)| {
            let bad = |e: serde_json::Error| StoreError::Db(sqlx::Error::Decode(Box::new(e)));
            Ok((
                c,
                serde_json::from_str(&m).map_err(bad)?,
                serde_json::from_str(&l).map_err(bad)?,
            ))
        })
        .transpose()
    }
}

impl Tx {
    pub async fn insert_preview(
        &mut self,
        org_id: &OrganizationId,
        p: &crate::domain::sync::preview::Preview,
        matches: &[(EmployeeId, String, String)],
        leavers: &[EmployeeId],
    ) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO source_previews (id, org_id, connection_id, created_at, joiners, leavers,
                 matched, matched_by_email, matches, leaver_ids, state)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'open')",
        )
        .bind(&p.id)
        .bind(org_id)
        .bind(&p.connection_id)
        .bind(now_ms())
        .bind(p.joiners)
        .bind(p.leavers)
        .bind(p.matched)
        .bind(p.matched_by_email)
        .bind(serde_json::to_string(matches).unwrap_or_default())
        .bind(serde_json::to_string(leavers).unwrap_or_default())
        .execute(self.conn())
        .await?;
        Ok(())
    }

    /// Ends an open preview (`confirmed` or `cancelled`); `Missing` when it is not open.
    pub async fn close_preview(
        &mut self,
        org_id: &OrganizationId,
        id: &crate::model::PreviewId,
        to: &'static str,
    ) -> StoreResult<()> {
        one_row(
            sqlx::query(
                "UPDATE source_previews SET state = $1 WHERE org_id = $2 AND id = $3 AND state = 'open'",
            )
            .bind(to)
            .bind(org_id)
            .bind(id)
            .execute(self.conn())
            .await?,
        )
    }
}

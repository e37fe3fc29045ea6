//! One run, as a worker executes it.
//!
//! 1. Claim: the run becomes running with a new attempt number, its fence. Its upper bound (the
//!    window's end) is fixed at the first claim, so a resumed run reads the same window.
//! 2. Merge's sync status: FAILED keeps the last good data (nothing is read); PARTIALLY_SYNCED
//!    applies changes but no removals; a refused token marks the connection for relinking.
//! 3. Records: each stream page by page from its checkpoint. A page, its checkpoint and the run's
//!    counts commit together, behind the fence; so `kill -9` loses at most the page in flight.
//!    Incremental windows start at the stream's previous upper bound minus the overlap.
//! 4. References: managers, teams and locations resolved to our ids (parked ones too).
//! 5. Reconciliation: who leaves the directory (terminated, deleted, missing from two complete full
//!    scans), under the safety brake; who comes back (rehires). Then the run finishes, audited.

use std::{
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc,
    },
    time::Duration,
};

use time::OffsetDateTime;

use crate::{
    model::{ConnectionId, HealthStatus, OrganizationId, SyncRunId},
    provider::{AccountToken, PageQuery, ProviderError, SyncState},
    state::AppState,
    storage::{
        Actor, AuditAction, AuditEvent, AuditSubject, ConnectionRecord, EmployeeData,
        EmploymentData, Fence, RunCounts, RunOutcome, StoreError, StreamProgress, SyncMode,
        SyncRunRecord, SyncTrigger, UnitData, UnitKind,
    },
};

use super::{records, STREAMS};
use crate::domain::health::HealthDetail;

/// What executing a run came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Executed {
    /// The run was not queued (another worker has it, or it finished): nothing done.
    NotQueued,
    Finished(RunOutcome),
    /// The provider or the database failed for now: the run is queued again with its checkpoints;
    /// push it again after this long.
    RetryAfter(Duration),
    /// Another attempt took the run over: this worker stopped without writing.
    Fenced,
}

/// Why a run stopped before finishing.
enum Stop {
    Fenced,
    Provider(ProviderError),
    Store(StoreError),
}

impl From<StoreError> for Stop {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Missing => Stop::Fenced,
            e => Stop::Store(e),
        }
    }
}

impl From<ProviderError> for Stop {
    fn from(e: ProviderError) -> Self {
        Stop::Provider(e)
    }
}

/// Executes the run `run_id` (called by the job engine's worker).
pub async fn execute(state: &AppState, run_id: &SyncRunId) -> Executed {
    let fence = match state.db.claim_sync_run(run_id).await {
        Ok(Some(fence)) => fence,
        Ok(None) => return Executed::NotQueued,
        Err(e) => {
            tracing::warn!(run = %run_id, error = %e, "sync run not claimable now");
            return Executed::RetryAfter(state.settings.sync.lease / 4);
        }
    };
    let run = match state.db.sync_run(run_id).await {
        Ok(Some(run)) => run,
        _ => return Executed::RetryAfter(state.settings.sync.lease / 4),
    };
    tracing::info!(run = %run.id, attempt = fence.attempt, connection = %run.connection_id, "sync run started");

    // The heartbeat: while the run waits on the provider, the lease stays ours; if the fence is
    // lost, the run stops at its next write.
    let lost = Arc::new(AtomicBool::new(false));
    let beat = {
        let (db, fence, lost) = (state.db.clone(), fence.clone(), lost.clone());
        let every = (state.settings.sync.lease / 4).max(Duration::from_millis(200));
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(every).await;
                let held = async {
                    let mut tx = db.begin().await?;
                    tx.check_fence(&fence).await?;
                    tx.commit().await
                }
                .await;
                if let Err(StoreError::Missing) = held {
                    lost.store(true, Ordering::SeqCst);
                    return;
                }
            }
        })
    };
    let result = run_phases(state, &run, &fence, &lost).await;
    beat.abort();

    match result {
        Ok(outcome) => {
            crate::telemetry::sync_run_finished(outcome.into());
            tracing::info!(run = %run.id, outcome = <&str>::from(outcome), "sync run finished");
            Executed::Finished(outcome)
        }
        Err(Stop::Fenced) => {
            tracing::warn!(run = %run.id, attempt = fence.attempt, "sync run taken over; this attempt stops");
            Executed::Fenced
        }
        Err(Stop::Provider(e @ (ProviderError::TokenRejected | ProviderError::RelinkNeeded))) => {
            finish_refused(state, &run, &fence, &e).await
        }
        Err(Stop::Provider(e @ (ProviderError::NotFound | ProviderError::InvalidRequest))) => {
            finish_failed(state, &run, &fence, &e.to_string()).await
        }
        Err(Stop::Provider(e)) => {
            let after = match &e {
                ProviderError::RateLimited {
                    retry_after: Some(d),
                } => *d,
                _ => backoff(state, fence.attempt),
            };
            retry_later(state, &run, &fence, &e.to_string(), after).await
        }
        Err(Stop::Store(e)) => {
            tracing::error!(run = %run.id, error = %e, "sync run: storage failure");
            retry_later(
                state,
                &run,
                &fence,
                "storage failure",
                backoff(state, fence.attempt),
            )
            .await
        }
    }
}

fn backoff(state: &AppState, attempt: i64) -> Duration {
    let base = state.settings.sync.retry_base;
    base.saturating_mul(1 << attempt.clamp(1, 6).saturating_sub(1) as u32)
}

/// Gives the run back to the queue with its checkpoints, or gives up after the last attempt.
async fn retry_later(
    state: &AppState,
    run: &SyncRunRecord,
    fence: &Fence,
    why: &str,
    after: Duration,
) -> Executed {
    if fence.attempt >= state.settings.sync.max_attempts {
        return finish_failed(state, run, fence, why).await;
    }
    match state.db.requeue_sync_run(fence).await {
        Ok(()) => {
            tracing::warn!(run = %run.id, attempt = fence.attempt, why, after_ms = after.as_millis() as u64, "sync run will resume later");
            Executed::RetryAfter(after)
        }
        Err(_) => Executed::Fenced,
    }
}

async fn finish_failed(
    state: &AppState,
    run: &SyncRunRecord,
    fence: &Fence,
    why: &str,
) -> Executed {
    finish_without_data(state, run, fence, RunOutcome::Failed, why, None).await
}

/// A refused token: the connection needs a relink, and its schedule stops until then.
async fn finish_refused(
    state: &AppState,
    run: &SyncRunRecord,
    fence: &Fence,
    e: &ProviderError,
) -> Executed {
    finish_without_data(
        state,
        run,
        fence,
        RunOutcome::Unauthorized,
        &e.to_string(),
        Some(HealthDetail::of_failure(e.clone())),
    )
    .await
}

async fn finish_without_data(
    state: &AppState,
    run: &SyncRunRecord,
    fence: &Fence,
    outcome: RunOutcome,
    why: &str,
    health: Option<(HealthStatus, HealthDetail)>,
) -> Executed {
    let done = async {
        let mut tx = state.db.begin().await?;
        tx.finish_sync_run(fence, outcome, Some(why)).await?;
        if let Some((h, detail)) = health {
            crate::domain::health_watch::record_in(
                &mut tx,
                &run.org_id,
                &run.connection_id,
                h,
                &detail,
                None,
            )
            .await?;
        }
        audit(&mut tx, run, AuditAction::SyncFailed, why).await?;
        tx.commit().await
    }
    .await;
    match done {
        Ok(()) => {
            crate::telemetry::sync_run_finished(outcome.into());
            tracing::warn!(run = %run.id, outcome = <&str>::from(outcome), why, "sync run ended without applying");
            Executed::Finished(outcome)
        }
        Err(StoreError::Missing) => Executed::Fenced,
        Err(e) => {
            tracing::error!(run = %run.id, error = %e, "sync run: could not record its end");
            Executed::RetryAfter(state.settings.sync.lease / 4)
        }
    }
}

async fn audit(
    tx: &mut crate::storage::Tx,
    run: &SyncRunRecord,
    action: AuditAction,
    detail: impl Into<String>,
) -> Result<(), StoreError> {
    // The timeline names the connection as it was called when this happened.
    let name = tx
        .connection(&run.org_id, &run.connection_id)
        .await?
        .map(|c| c.display_name)
        .unwrap_or_default();
    tx.record_audit(
        &AuditEvent::new(
            &run.org_id,
            Actor::sync(),
            action,
            AuditSubject::Connection(run.connection_id.clone()),
            detail,
        )
        .with_subject_name(name),
    )
    .await
}

/// What Merge's sync status says about reading now.
struct MergeStatus {
    failed: bool,
    partial: bool,
    /// The latest `last_sync_finished` of any model (ms).
    last_finished: Option<i64>,
}

fn ms(rfc3339: Option<&str>) -> Option<i64> {
    rfc3339
        .and_then(|s| OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).ok())
        .map(|t| (t.unix_timestamp_nanos() / 1_000_000) as i64)
}

async fn merge_status(state: &AppState, token: &AccountToken) -> Result<MergeStatus, Stop> {
    let statuses = state.sync_provider.sync_status(token).await?;
    let is = |s: &SyncState| {
        statuses
            .iter()
            .any(|m| m.status == *s || m.last_sync_result.as_ref() == Some(s))
    };
    Ok(MergeStatus {
        failed: is(&SyncState::Failed),
        partial: is(&SyncState::PartiallySynced),
        last_finished: statuses
            .iter()
            .filter_map(|m| ms(m.last_sync_finished.as_deref()))
            .max(),
    })
}

async fn run_phases(
    state: &AppState,
    run: &SyncRunRecord,
    fence: &Fence,
    lost: &AtomicBool,
) -> Result<RunOutcome, Stop> {
    let connection = state
        .db
        .connection(&run.org_id, &run.connection_id)
        .await?
        .filter(|c| c.enabled);
    let Some((connection, token)) = connection.and_then(|c| {
        let token = c
            .account_token
            .as_ref()
            .and_then(|s| state.keyring.open(s).ok())?;
        Some((c, AccountToken::new(token)))
    }) else {
        finish_failed(state, run, fence, "the connection is no longer active").await;
        return Ok(RunOutcome::Failed);
    };
    let upper = run.upper_bound.unwrap_or_else(crate::storage::now_ms);
    let status = merge_status(state, &token).await?;
    if status.failed {
        finish_without_data(
            state,
            run,
            fence,
            RunOutcome::ProviderFailed,
            "Merge reported the account's last sync as failed: the last good data is kept",
            None,
        )
        .await;
        return Ok(RunOutcome::ProviderFailed);
    }

    // A poll reads only when Merge synced since the window's start.
    let bounds = state.db.sync_bounds(&connection.id).await?;
    let overlap = state.settings.sync.overlap.as_millis() as i64;
    let nothing_new = run.trigger == SyncTrigger::Poll
        && run.mode == SyncMode::Incremental
        && STREAMS.iter().all(|s| bounds.contains_key(*s))
        && match (status.last_finished, bounds.values().min()) {
            (Some(merge), Some(ours)) => merge < ours - overlap,
            _ => false,
        };
    if !nothing_new {
        for stream in STREAMS {
            if lost.load(Ordering::SeqCst) {
                return Err(Stop::Fenced);
            }
            let after = match run.mode {
                SyncMode::Full => None,
                SyncMode::Incremental => bounds.get(stream).map(|b| b - overlap),
            };
            read_stream(
                state,
                run,
                fence,
                &connection,
                &token,
                stream,
                after,
                upper,
                lost,
            )
            .await?;
        }
    }

    // References, then reconciliation, then the end: one transaction behind the fence.
    let mut tx = state.db.begin().await?;
    tx.check_fence(fence).await?;
    let since = match run.mode {
        SyncMode::Full => i64::MIN,
        SyncMode::Incremental => run.started_at.unwrap_or(upper),
    };
    let relinked = tx
        .resolve_references(&run.org_id, &connection.id, since)
        .await? as i64;
    let complete_full = run.mode == SyncMode::Full && !status.partial;
    if complete_full {
        tx.count_missing(&run.org_id, &connection.id, &run.id)
            .await?;
    }
    let today = state.settings.sync.today();
    let mut counts = RunCounts {
        changed: relinked,
        ..RunCounts::default()
    };
    let mut outcome = if status.partial {
        RunOutcome::Partial
    } else {
        RunOutcome::Done
    };
    if !status.partial {
        let leaving = tx
            .removal_candidates(&run.org_id, &connection.id, &today)
            .await?;
        let active = tx.active_employee_count(&run.org_id).await?;
        let limit = state.settings.sync.max_deactivate_percent / 100.0 * active as f64;
        if !leaving.is_empty() && leaving.len() as f64 > limit {
            tx.hold_removals(run, &leaving).await?;
            counts.held = leaving.len() as i64;
            outcome = RunOutcome::Held;
        } else {
            let ids: Vec<_> = leaving.iter().map(|(id, _)| id.clone()).collect();
            counts.deactivated = tx.deactivate_employees(&run.org_id, &ids).await?;
        }
        counts.reactivated = tx
            .reactivate_returning(&run.org_id, &connection.id, &today)
            .await?;
    }
    tx.add_run_counts(&run.id, &counts).await?;
    tx.finish_sync_run(fence, outcome, outcome_detail(outcome))
        .await?;
    let total = tx.sync_run_counts(&run.id).await?;
    if total.any() {
        let detail = serde_json::to_string(&total).unwrap_or_default();
        audit(&mut tx, run, AuditAction::SyncCompleted, detail).await?;
    }
    if outcome == RunOutcome::Held {
        audit(
            &mut tx,
            run,
            AuditAction::SyncRemovalsHeld,
            format!("{} removals held for approval", counts.held),
        )
        .await?;
    }
    tx.commit().await?;
    if total.any() {
        super::notify::directory_changed(state, run, &total).await;
    }
    Ok(outcome)
}

fn outcome_detail(outcome: RunOutcome) -> Option<&'static str> {
    match outcome {
        RunOutcome::Partial => {
            Some("Merge reported the account as partially synced: removals were not applied")
        }
        RunOutcome::Held => Some(
            "More people would leave than the safety brake allows: the removals wait for an admin",
        ),
        _ => None,
    }
}

/// One page of one stream, as the directory takes it.
enum Pulled {
    Employees(Vec<EmployeeData>),
    Employments(Vec<EmploymentData>),
    Units(UnitKind, Vec<UnitData>),
}

impl Pulled {
    fn len(&self) -> usize {
        match self {
            Pulled::Employees(v) => v.len(),
            Pulled::Employments(v) => v.len(),
            Pulled::Units(_, v) => v.len(),
        }
    }
}

async fn fetch(
    state: &AppState,
    token: &AccountToken,
    stream: &str,
    query: PageQuery,
) -> Result<(Pulled, Option<String>), ProviderError> {
    let p = &state.sync_provider;
    Ok(match stream {
        "employees" => {
            let page = p.employees(token, query).await?;
            (
                Pulled::Employees(page.results.iter().map(records::employee).collect()),
                page.next_cursor,
            )
        }
        "employments" => {
            let page = p.employments(token, query).await?;
            (
                Pulled::Employments(page.results.iter().map(records::employment).collect()),
                page.next_cursor,
            )
        }
        "teams" => {
            let page = p.teams(token, query).await?;
            (
                Pulled::Units(
                    UnitKind::Team,
                    page.results.iter().map(records::team).collect(),
                ),
                page.next_cursor,
            )
        }
        "locations" => {
            let page = p.locations(token, query).await?;
            (
                Pulled::Units(
                    UnitKind::Location,
                    page.results.iter().map(records::location).collect(),
                ),
                page.next_cursor,
            )
        }
        _ => {
            let page = p.groups(token, query).await?;
            (
                Pulled::Units(
                    UnitKind::Group,
                    page.results.iter().map(records::group).collect(),
                ),
                page.next_cursor,
            )
        }
    })
}

#[allow(clippy::too_many_arguments)]
async fn read_stream(
    state: &AppState,
    run: &SyncRunRecord,
    fence: &Fence,
    connection: &ConnectionRecord,
    token: &AccountToken,
    stream: &'static str,
    after: Option<i64>,
    upper: i64,
    lost: &AtomicBool,
) -> Result<(), Stop> {
    let mut progress: StreamProgress = {
        let mut tx = state.db.begin().await?;
        tx.check_fence(fence).await?;
        let p = tx.open_stream(&run.id, stream, after).await?;
        tx.commit().await?;
        p
    };
    let modified_after = progress
        .modified_after
        .and_then(|ms| OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000).ok());
    let seen_by = (run.mode == SyncMode::Full).then_some(&run.id);
    while progress.done == 0 {
        if lost.load(Ordering::SeqCst) {
            return Err(Stop::Fenced);
        }
        let query = PageQuery {
            cursor: progress.cursor.clone(),
            page_size: Some(state.settings.sync.page_size),
            modified_after,
            include_deleted_data: true,
        };
        let (pulled, next) = fetch(state, token, stream, query).await?;
        let n = pulled.len() as i64;
        let mut tx = state.db.begin().await?;
        tx.check_fence(fence).await?;
        let today = state.settings.sync.today();
        let counts = apply(
            &mut tx,
            &run.org_id,
            &connection.id,
            pulled,
            seen_by,
            &today,
        )
        .await?;
        tx.advance_stream(&run.id, stream, next.as_deref(), n)
            .await?;
        tx.add_run_counts(&run.id, &counts.into()).await?;
        if next.is_none() {
            tx.set_sync_bound(&connection.id, stream, upper).await?;
        }
        tx.commit().await?;
        crate::telemetry::sync_records_applied(stream, (counts.added + counts.changed) as u64);
        if counts.added + counts.changed > 0 {
            tracing::debug!(run = %run.id, stream, added = counts.added, changed = counts.changed, "page applied");
        }
        progress.cursor = next;
        progress.pages += 1;
        progress.records += n;
        progress.done = i64::from(progress.cursor.is_none());
    }
    Ok(())
}

async fn apply(
    tx: &mut crate::storage::Tx,
    org_id: &OrganizationId,
    connection_id: &ConnectionId,
    pulled: Pulled,
    seen_by: Option<&SyncRunId>,
    today: &str,
) -> Result<crate::storage::PageCounts, StoreError> {
    match pulled {
        Pulled::Employees(page) => {
            tx.upsert_employees(org_id, connection_id, &page, seen_by, today)
                .await
        }
        Pulled::Employments(page) => tx.upsert_employments(org_id, connection_id, &page).await,
        Pulled::Units(kind, page) => tx.upsert_units(org_id, connection_id, kind, &page).await,
    }
}

//! Everything that starts a sync only enqueues one: a `sync_runs` row (the database allows one
//! queued or running run per connection, and each trigger key once, on every instance), then the
//! run's job on the engine. Triggers arriving together (webhook, poll, "Sync now") make one run.

use std::time::Duration;

use crate::{
    auth::Identity,
    error::AppError,
    i18n::Texts,
    model::{ConnectionId, OrganizationId},
    state::AppState,
    storage::{now_ms, NewSyncRun, StoreError, SyncMode, SyncRunRecord, SyncTrigger},
};

/// What a trigger achieved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Requested {
    /// A new run is queued.
    Queued(SyncRunRecord),
    /// The connection already has a queued or running run: this trigger joins it.
    AlreadyPending(SyncRunRecord),
    /// This trigger (its key) was handled before, e.g. by another instance's tick.
    AlreadyHandled,
}

/// Queues a run of `connection_id` unless one is queued or running, or `trigger_key` was used.
pub async fn request(
    state: &AppState,
    org_id: &OrganizationId,
    connection_id: &ConnectionId,
    trigger: SyncTrigger,
    trigger_key: String,
    mode: SyncMode,
) -> Result<Requested, AppError> {
    let new = NewSyncRun {
        org_id: org_id.clone(),
        connection_id: connection_id.clone(),
        trigger,
        trigger_key,
        mode,
    };
    let inserted = async {
        let mut tx = state.db.begin().await?;
        let run = tx.insert_sync_run(&new).await?;
        tx.commit().await?;
        Ok::<_, StoreError>(run)
    }
    .await;
    match inserted {
        Ok(run) => {
            push(state, &run).await;
            tracing::info!(run = %run.id, connection = %connection_id, trigger = <&str>::from(trigger), mode = <&str>::from(mode), "sync run queued");
            Ok(Requested::Queued(run))
        }
        // PostgreSQL and SQLite both refuse the duplicate: treated alike.
        Err(StoreError::Conflict(_)) => match state.db.pending_sync_run(connection_id).await? {
            Some(run) => Ok(Requested::AlreadyPending(run)),
            None => Ok(Requested::AlreadyHandled),
        },
        Err(e) => Err(e.into()),
    }
}

/// Hands the run's job to the engine. A failure is logged, not raised: the run is queued in the
/// database, and the watchdog pushes queued runs that nothing started.
pub async fn push(state: &AppState, run: &SyncRunRecord) {
    push_after(state, run, Duration::ZERO).await
}

pub async fn push_after(state: &AppState, run: &SyncRunRecord, delay: Duration) {
    let nudge = match state.db.count_sync_push(&run.id).await {
        Ok(n) => n,
        Err(e) => {
            tracing::warn!(run = %run.id, error = %e, "sync run not pushed: it is no longer pending");
            return;
        }
    };
    if let Err(e) = state.sync_queue.push(&run.id, nudge, delay).await {
        tracing::warn!(run = %run.id, error = %e, "sync job not pushed; the watchdog will push it again");
    }
}

/// The mode a trigger asks for: full when the connection never completed a full scan.
pub async fn mode_for(
    state: &AppState,
    connection_id: &ConnectionId,
) -> Result<SyncMode, AppError> {
    Ok(
        match state
            .db
            .last_complete_run(connection_id, Some(SyncMode::Full))
            .await?
        {
            Some(_) => SyncMode::Incremental,
            None => SyncMode::Full,
        },
    )
}

/// The connection became the active one (or was relinked while active): a full sync.
pub async fn on_activation(
    state: &AppState,
    org_id: &OrganizationId,
    connection_id: &ConnectionId,
    trigger: SyncTrigger,
) {
    let key = format!("{}:{connection_id}:{}", <&str>::from(trigger), now_ms());
    if let Err(e) = request(state, org_id, connection_id, trigger, key, SyncMode::Full).await {
        // The schedule's next tick queues the full sync a connection without one needs.
        tracing::warn!(connection = %connection_id, error = %e, "sync after activation not queued");
    }
}

/// Merge's `LinkedAccount.sync_completed` for the active connection: an incremental run, once per
/// delivered event (`event_key`: what identifies the event, e.g. its sync time).
pub async fn on_sync_completed(
    state: &AppState,
    org_id: &OrganizationId,
    connection_id: &ConnectionId,
    event_key: &str,
) -> Result<Requested, AppError> {
    let mode = mode_for(state, connection_id).await?;
    request(
        state,
        org_id,
        connection_id,
        SyncTrigger::Webhook,
        format!("webhook:{connection_id}:{event_key}"),
        mode,
    )
    .await
}

/// An admin's "Sync now" on the organization's active connection. Refused while a run is queued or
/// running (the reason says which).
pub async fn sync_now(
    state: &AppState,
    who: &Identity,
    t: &Texts,
) -> Result<SyncRunRecord, AppError> {
    let active = state
        .db
        .connections(&who.org_id)
        .await?
        .into_iter()
        .find(|c| c.enabled)
        .ok_or_else(|| AppError::Conflict(t.sync_no_active_connection.into()))?;
    let mode = mode_for(state, &active.id).await?;
    let key = format!("manual:{}", uuid::Uuid::now_v7());
    match request(
        state,
        &who.org_id,
        &active.id,
        SyncTrigger::Manual,
        key,
        mode,
    )
    .await?
    {
        Requested::Queued(run) => Ok(run),
        Requested::AlreadyPending(run) => Err(AppError::Conflict(
            match run.state {
                crate::storage::RunState::Running => t.sync_already_running,
                _ => t.sync_already_queued,
            }
            .into(),
        )),
        Requested::AlreadyHandled => Err(AppError::Conflict(t.sync_already_queued.into())),
    }
}

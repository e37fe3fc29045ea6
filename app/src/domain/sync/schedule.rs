//! The schedule: on every tick (each instance has one; they may tick together), each active
//! connection gets its hourly poll and its daily full sync, keyed by period so that N instances make
//! one run; and the watchdog takes care of runs nothing is working on.

use std::time::Duration;

use crate::{
    model::HealthStatus,
    state::AppState,
    storage::{Fence, RunState, SyncMode, SyncTrigger},
};

use super::triggers::{self, Requested};

/// What one tick did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TickReport {
    /// Runs queued by this tick (polls and full syncs).
    pub queued: usize,
    /// Queued runs pushed to the engine again (their job was lost or not picked up).
    pub pushed_again: usize,
    /// Running runs whose worker stopped beating, taken over.
    pub taken_over: usize,
}

fn period(now_ms: i64, every: Duration) -> i64 {
    now_ms / (every.as_millis().max(1) as i64)
}

/// One tick at `now_ms` (the caller's clock: the engine's cron, or a test's).
pub async fn tick(state: &AppState, now_ms: i64) -> TickReport {
    let mut report = TickReport::default();
    let settings = &state.settings.sync;
    match state.db.active_connections().await {
        Ok(connections) => {
            for c in connections {
                // A refused token stops the schedule until the connection is relinked.
                if c.health_status == HealthStatus::RelinkNeeded || c.account_token.is_none() {
                    continue;
                }
                let full_due = match state
                    .db
                    .last_complete_run(&c.id, Some(SyncMode::Full))
                    .await
                {
                    Ok(Some(last)) => last
                        .started_at
                        .is_none_or(|s| now_ms - s >= settings.full_interval.as_millis() as i64),
                    Ok(None) => true,
                    Err(e) => {
                        tracing::warn!(error = %e, "schedule: runs not readable");
                        continue;
                    }
                };
                let (trigger, key, mode) = if full_due {
                    (
                        SyncTrigger::Schedule,
                        format!(
                            "schedule:{}:{}",
                            c.id,
                            period(now_ms, settings.full_interval)
                        ),
                        SyncMode::Full,
                    )
                } else {
                    (
                        SyncTrigger::Poll,
                        format!("poll:{}:{}", c.id, period(now_ms, settings.poll_interval)),
                        SyncMode::Incremental,
                    )
                };
                match triggers::request(state, &c.org_id, &c.id, trigger, key, mode).await {
                    Ok(Requested::Queued(_)) => report.queued += 1,
                    Ok(_) => {}
                    Err(e) => {
                        tracing::warn!(connection = %c.id, error = %e, "schedule: run not queued")
                    }
                }
            }
        }
        Err(e) => tracing::warn!(error = %e, "schedule: connections not readable"),
    }
    let (pushed, taken) = watchdog(state, now_ms).await;
    report.pushed_again = pushed;
    report.taken_over = taken;
    report
}

/// Pushes again the queued runs nothing started within the grace time, and takes over the running
/// runs whose worker has not written within the lease (their fence is invalidated: the run is queued
/// with its checkpoints, and the next claim is a new attempt).
pub async fn watchdog(state: &AppState, now_ms: i64) -> (usize, usize) {
    let settings = &state.settings.sync;
    let stalled = match state
        .db
        .stalled_sync_runs(
            now_ms - settings.queued_grace.as_millis() as i64,
            now_ms - settings.lease.as_millis() as i64,
        )
        .await
    {
        Ok(runs) => runs,
        Err(e) => {
            tracing::warn!(error = %e, "watchdog: runs not readable");
            return (0, 0);
        }
    };
    let (mut pushed, mut taken) = (0, 0);
    for run in stalled {
        if run.state == RunState::Running {
            let fence = Fence {
                run_id: run.id.clone(),
                attempt: run.attempt,
            };
            if state.db.requeue_sync_run(&fence).await.is_err() {
                continue; // it beat, finished or was taken over meanwhile
            }
            tracing::warn!(run = %run.id, attempt = run.attempt, "watchdog: worker stopped beating; run taken over");
            taken += 1;
        } else {
            tracing::warn!(run = %run.id, "watchdog: queued run not started; pushed again");
            pushed += 1;
        }
        triggers::push(state, &run).await;
    }
    (pushed, taken)
}

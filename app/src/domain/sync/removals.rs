//! The admin's decision on removals the safety brake held: apply them, or keep everyone. Either is
//! audited; "keep" also stops the same people being proposed again until their records change.

use crate::{
    auth::Identity,
    error::AppError,
    i18n::Texts,
    model::{EmployeeId, SyncRunId},
    state::AppState,
    storage::{AuditAction, AuditEvent, AuditSubject, HoldState, RemovalReason, StoreError},
};

use super::super::actor;

/// The organization's held removals, if a run's are waiting: the run and the people with why.
pub async fn pending(
    state: &AppState,
    who: &Identity,
) -> Result<
    Option<(
        crate::storage::SyncRunRecord,
        Vec<(EmployeeId, RemovalReason)>,
    )>,
    AppError,
> {
    let Some(run) = state.db.pending_hold(&who.org_id).await? else {
        return Ok(None);
    };
    let people = state.db.held_removals(&run.id).await?;
    Ok(Some((run, people)))
}

/// Applies (`HoldState::Applied`) or discards (`HoldState::Kept`) the held removals of `run_id`.
/// Returns how many people left the directory (0 when kept).
pub async fn decide(
    state: &AppState,
    who: &Identity,
    t: &Texts,
    run_id: &SyncRunId,
    decision: HoldState,
) -> Result<i64, AppError> {
    let run = state
        .db
        .sync_run(run_id)
        .await?
        .filter(|r| r.org_id == who.org_id)
        .ok_or(AppError::NotFound)?;
    let people: Vec<EmployeeId> = state
        .db
        .held_removals(&run.id)
        .await?
        .into_iter()
        .map(|(id, _)| id)
        .collect();
    let done = async {
        let mut tx = state.db.begin().await?;
        tx.settle_hold(&run.id, decision).await?;
        let (left, action) = match decision {
            HoldState::Applied => (
                tx.deactivate_employees(&who.org_id, &people).await?,
                AuditAction::SyncRemovalsApplied,
            ),
            _ => {
                tx.keep_employees(&who.org_id, &people).await?;
                (0, AuditAction::SyncRemovalsKept)
            }
        };
        let name = tx
            .connection(&who.org_id, &run.connection_id)
            .await?
            .map(|c| c.display_name)
            .unwrap_or_default();
        tx.record_audit(
            &AuditEvent::new(
                &who.org_id,
                actor(who),
                action,
                AuditSubject::Connection(run.connection_id.clone()),
                format!("{} of {} held removals", left, people.len()),
            )
            .with_subject_name(name),
        )
        .await?;
        tx.commit().await?;
        Ok::<_, StoreError>(left)
    }
    .await;
    match done {
        Ok(left) => Ok(left),
        Err(StoreError::Missing) => Err(AppError::Conflict(t.hold_not_pending.into())),
        Err(e) => Err(e.into()),
    }
}

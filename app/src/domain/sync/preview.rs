//! Switching the organization's source of people to another connection: first a preview of what
//! would happen (joiners, leavers, matched: by HR system id, else by work e-mail), which the admin
//! confirms or cancels. Nothing changes before Confirm. On Confirm, matched people keep their ids
//! (re-bound to the new source), leavers leave the directory, and the new source's full sync runs.

use std::collections::HashMap;

use crate::{
    auth::Identity,
    error::AppError,
    i18n::Texts,
    model::{ConnectionId, EmployeeId, Lifecycle, PreviewId},
    provider::{collect_pages, PageQuery},
    state::AppState,
    storage::{AuditAction, AuditEvent, AuditSubject, StoreError, SyncTrigger},
};

use super::{super::actor, records};

/// What switching would do (the page shows it as it is).
pub type Preview = crate::model::SwitchPreview;

/// A new source's person: (remote id, Merge id, work e-mail key).
type Candidate = (String, String, Option<String>);

/// Reads the connection's people and compares them with the directory.
pub async fn compute(
    state: &AppState,
    who: &Identity,
    t: &Texts,
    connection_id: &ConnectionId,
) -> Result<Preview, AppError> {
    let c = state
        .db
        .connection(&who.org_id, connection_id)
        .await?
        .ok_or(AppError::NotFound)?;
    if c.lifecycle != Lifecycle::Linked {
        return Err(AppError::Conflict(t.finish_before_activating.into()));
    }
    let token = crate::domain::connections::token_of(state, t, &c)?;
    let query = PageQuery {
        page_size: Some(state.settings.sync.page_size),
        ..PageQuery::default()
    };
    let incoming: Vec<Candidate> = collect_pages(&query, |q| state.provider.employees(&token, q))
        .await
        .map_err(|e| AppError::provider(e, t))?
        .iter()
        .filter(|e| !e.remote_was_deleted)
        .map(records::employee)
        .filter(|e| e.employment_status.as_deref() != Some("INACTIVE"))
        .map(|e| {
            (
                e.remote_id,
                e.merge_id,
                e.work_email.map(|m| m.to_lowercase()),
            )
        })
        .collect();
    let current = state.db.active_people(&who.org_id).await?;
    let (matches, leavers, by_email) = matching(&current, &incoming, connection_id);
    let joiners = incoming.len() as i64 - matches.len() as i64;
    let preview = Preview {
        id: PreviewId::from(uuid::Uuid::now_v7().to_string()),
        connection_id: connection_id.clone(),
        joiners,
        leavers: leavers.len() as i64,
        matched: matches.len() as i64,
        matched_by_email: by_email,
    };
    let mut tx = state.db.begin().await?;
    tx.insert_preview(&who.org_id, &preview, &matches, &leavers)
        .await?;
    tx.commit().await?;
    Ok(preview)
}

/// Pairs the directory's people with the new source's: the same HR system id first (the same
/// system connected again), else the same work e-mail. Returns the matches
/// (our id, remote id, Merge id), the leavers, and how many matched by e-mail.
pub fn matching(
    current: &[(EmployeeId, Option<String>, ConnectionId, String)],
    incoming: &[Candidate],
    target: &ConnectionId,
) -> (Vec<(EmployeeId, String, String)>, Vec<EmployeeId>, i64) {
    let by_remote: HashMap<&str, &Candidate> = incoming.iter().map(|c| (c.0.as_str(), c)).collect();
    let by_mail: HashMap<&str, &Candidate> = incoming
        .iter()
        .filter_map(|c| c.2.as_deref().map(|m| (m, c)))
        .collect();
    let mut taken = std::collections::HashSet::new();
    let (mut matches, mut leavers, mut by_email) = (Vec::new(), Vec::new(), 0);
    for (id, mail, source, remote) in current {
        if source == target {
            // Already this source's record: it stays as it is.
            if by_remote.contains_key(remote.as_str()) && taken.insert(remote.clone()) {
                matches.push((
                    id.clone(),
                    remote.clone(),
                    by_remote[remote.as_str()].1.clone(),
                ));
                continue;
            }
        }
        let found = by_remote
            .get(remote.as_str())
            .filter(|c| !taken.contains(&c.0))
            .map(|c| (c, false))
            .or_else(|| {
                mail.as_deref()
                    .and_then(|m| by_mail.get(m))
                    .filter(|c| !taken.contains(&c.0))
                    .map(|c| (c, true))
            });
        match found {
            Some((c, email)) => {
                taken.insert(c.0.clone());
                by_email += i64::from(email);
                matches.push((id.clone(), c.0.clone(), c.1.clone()));
            }
            None => leavers.push(id.clone()),
        }
    }
    (matches, leavers, by_email)
}

/// Confirms the preview: the connection becomes the active one, matched people are re-bound to it,
/// leavers leave the directory, all in one transaction; then its full sync is queued.
pub async fn confirm(
    state: &AppState,
    who: &Identity,
    t: &Texts,
    preview_id: &PreviewId,
) -> Result<(), AppError> {
    let (connection_id, matches, leavers) = state
        .db
        .preview(&who.org_id, preview_id)
        .await?
        .ok_or_else(|| AppError::Conflict(t.preview_not_open.into()))?;
    let connections = state.db.connections(&who.org_id).await?;
    let c = connections
        .iter()
        .find(|c| c.id == connection_id)
        .ok_or(AppError::NotFound)?;
    let previous = connections.iter().find(|o| o.enabled && o.id != c.id);
    let done = async {
        let mut tx = state.db.begin().await?;
        tx.close_preview(&who.org_id, preview_id, "confirmed")
            .await?;
        crate::domain::connections::activate_in(&mut tx, who, c, previous).await?;
        for (id, remote, merge) in &matches {
            tx.rebind_employee(&who.org_id, id, &c.id, remote, merge)
                .await?;
        }
        let left = tx.deactivate_employees(&who.org_id, &leavers).await?;
        tx.record_audit(
            &AuditEvent::new(
                &who.org_id,
                actor(who),
                AuditAction::SyncSourceSwitched,
                AuditSubject::Connection(c.id.clone()),
                format!("{} matched, {} left the directory", matches.len(), left),
            )
            .with_subject_name(&c.display_name),
        )
        .await?;
        tx.commit().await
    }
    .await;
    match done {
        Ok(()) => {}
        Err(StoreError::Missing) => return Err(AppError::Conflict(t.preview_not_open.into())),
        Err(StoreError::Conflict(_)) => return Err(AppError::Conflict(t.preview_outdated.into())),
        Err(e) => return Err(e.into()),
    }
    super::triggers::on_activation(state, &who.org_id, &c.id, SyncTrigger::Activation).await;
    Ok(())
}

/// Cancels the preview: nothing else changes.
pub async fn cancel(
    state: &AppState,
    who: &Identity,
    t: &Texts,
    preview_id: &PreviewId,
) -> Result<(), AppError> {
    let mut tx = state.db.begin().await?;
    match tx.close_preview(&who.org_id, preview_id, "cancelled").await {
        Ok(()) => Ok(tx.commit().await?),
        Err(StoreError::Missing) => Err(AppError::Conflict(t.preview_not_open.into())),
        Err(e) => Err(e.into()),
    }
}

//! What Merge's webhooks change here. The HTTP receiver (signature, replay) is in the server crate;
//! it hands over the verified payload.

use serde_json::Value;

use crate::{
    error::AppError,
    model::LinkedAccountId,
    state::AppState,
    storage::{Actor, AuditAction, AuditEvent, AuditSubject, StoreError},
};

/// Acts on one verified webhook payload. Unknown events and shapes are accepted and ignored (Merge's
/// dashboard "Send test POST" sends a ping that is not an event). Errors other than
/// `Internal`/`Provider` are permanent (the same payload would fail the same way again).
pub async fn handle(state: &AppState, payload: &Value) -> Result<(), AppError> {
    let event = payload["hook"]["event"].as_str().unwrap_or_default();
    match event {
        "LinkedAccount.linked" => linked(state, payload).await,
        "LinkedAccount.sync_completed" => sync_completed(state, payload).await,
        _ => {
            tracing::debug!(event, "webhook event ignored");
            Ok(())
        }
    }
}

/// `LinkedAccount.linked`: the only place Merge hands over the account token of a magic link.
async fn linked(state: &AppState, payload: &Value) -> Result<(), AppError> {
    let origin = payload["linked_account"]["end_user_origin_id"].as_str();
    let account_id = payload["linked_account"]["id"].as_str();
    let token = payload["data"]["account_token"].as_str();
    let (Some(origin), Some(account_id), Some(token)) = (origin, account_id, token) else {
        tracing::warn!("LinkedAccount.linked without origin id, account id or token; ignored");
        return Ok(());
    };
    // Text the database cannot hold (a NUL byte), or would hold wrongly, can never be handled: a
    // permanent error, answered so that Merge does not retry it forever.
    for (field, value) in [
        ("end_user_origin_id", origin),
        ("linked_account_id", account_id),
        ("account_token", token),
    ] {
        crate::input::check(field, value).map_err(|e| AppError::BadRequest(e.to_string()))?;
    }
    let account = LinkedAccountId::from(account_id);
    // The link's use and its audit event are one change.
    let used = async {
        let mut tx = state.db.begin().await?;
        let (org_id, link_id) = tx
            .use_magic_link(origin, &account, &state.keyring.seal(token))
            .await?;
        tx.record_audit(&AuditEvent::new(
            &org_id,
            Actor {
                id: "merge".into(),
                name: "Merge (webhook)".into(),
            },
            AuditAction::MagicLinkUsed,
            AuditSubject::MagicLink(link_id),
            format!("Magic link used: account {account} linked"),
        ))
        .await?;
        tx.commit().await
    }
    .await;
    match used {
        Ok(()) => tracing::info!(linked_account = account_id, "magic link used"),
        // Not a pending magic link of ours (a direct connection, or a repeated delivery).
        Err(StoreError::Missing) => {}
        Err(e) => return Err(e.into()),
    }
    Ok(())
}

/// `LinkedAccount.sync_completed`: Merge has new data for an account; if it is an organization's
/// active connection, an incremental run is queued (once per event: the event is named by the
/// latest `last_sync_finished` of its models, so a repeated delivery makes no second run).
async fn sync_completed(state: &AppState, payload: &Value) -> Result<(), AppError> {
    let Some(account_id) = payload["linked_account"]["id"].as_str() else {
        tracing::warn!("LinkedAccount.sync_completed without an account id; ignored");
        return Ok(());
    };
    let finished = payload["data"]["sync_status"]
        .as_object()
        .into_iter()
        .flat_map(|m| m.values())
        .filter_map(|s| s["last_sync_finished"].as_str())
        .max();
    let Some(event_key) = finished else {
        tracing::warn!(
            linked_account = account_id,
            "sync_completed without a sync time; ignored"
        );
        return Ok(());
    };
    let account = LinkedAccountId::from(account_id);
    let active = state
        .db
        .active_connections()
        .await?
        .into_iter()
        .find(|c| c.linked_account_id.as_ref() == Some(&account));
    let Some(c) = active else {
        // Not an active connection of ours (an inactive one, or another environment's account).
        return Ok(());
    };
    crate::input::check("last_sync_finished", event_key)
        .map_err(|e| AppError::BadRequest(e.to_string()))?;
    crate::domain::sync::triggers::on_sync_completed(state, &c.org_id, &c.id, event_key).await?;
    Ok(())
}

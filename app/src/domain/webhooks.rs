//! What Merge's webhooks change here, and the webhook log. The HTTP receiver (signature, replay
//! protection) is in the server crate; it hands over the payload and records what came of it here.

use serde_json::Value;

use crate::{
    auth::Identity,
    error::AppError,
    i18n::Texts,
    model::{
        LinkedAccountId, ReplayBlock, WebhookLogId, WebhookLogPage, WebhookLogView, WebhookOutcome,
        WebhookReason, WebhookVerdict,
    },
    state::AppState,
    storage::{Actor, AuditAction, AuditEvent, AuditSubject, StoreError, WebhookLogRecord},
};

/// Bodies up to this size are kept (sealed) for replay; larger ones are logged without it.
pub const BODY_KEPT_LIMIT: usize = 64 * 1024;
/// Entries per page of the webhook log.
pub const PAGE_SIZE: u32 = 20;
const MAX_PAGE: u32 = 10_000;

/// What handling one verified payload came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Handling {
    Handled,
    /// Nothing to do (an event we do not act on, a shape we do not know): accepted.
    Ignored(WebhookReason),
    /// It can never be handled as it is (retrying would fail the same way): accepted, not retried.
    Failed(WebhookReason),
    /// A failure on our side: Merge should retry.
    Retry,
}

impl Handling {
    /// What the log records.
    pub fn logged(self) -> (WebhookOutcome, Option<WebhookReason>) {
        match self {
            Handling::Handled => (WebhookOutcome::Handled, None),
            Handling::Ignored(r) => (WebhookOutcome::Ignored, Some(r)),
            Handling::Failed(r) => (WebhookOutcome::Failed, Some(r)),
            Handling::Retry => (WebhookOutcome::Failed, Some(WebhookReason::Temporary)),
        }
    }
}

/// Acts on one verified webhook payload. Unknown events and shapes are ignored (Merge's dashboard
/// "Send test POST" sends a ping that is not an event).
pub async fn handle(state: &AppState, payload: &Value) -> Handling {
    let event = payload["hook"]["event"].as_str().unwrap_or_default();
    let result = match event {
        "LinkedAccount.linked" => linked(state, payload).await,
        "LinkedAccount.sync_completed" => sync_completed(state, payload).await,
        _ => {
            tracing::debug!(event, "webhook event ignored");
            Ok(Handling::Ignored(WebhookReason::UnknownEvent))
        }
    };
    match result {
        Ok(h) => h,
        Err(e @ (AppError::Internal | AppError::Provider(_))) => {
            tracing::warn!(event, error = %e, "webhook failed for now");
            Handling::Retry
        }
        Err(e) => {
            tracing::warn!(event, error = %e, "webhook not applicable");
            Handling::Failed(WebhookReason::BadInput)
        }
    }
}

/// `LinkedAccount.sync_completed`: Merge has new data for an account. If it is an organization's
/// active connection, an incremental sync is queued, once per sync at Merge (the event is keyed by
/// the latest `last_sync_finished` it reports, so a repeated delivery makes no second run).
async fn sync_completed(state: &AppState, payload: &Value) -> Result<Handling, AppError> {
    let Some(account_id) = payload["linked_account"]["id"].as_str() else {
        tracing::warn!("LinkedAccount.sync_completed without an account id; ignored");
        return Ok(Handling::Ignored(WebhookReason::MissingFields));
    };
    let finished = payload["data"]["sync_status"]
        .as_object()
        .into_iter()
        .flat_map(|models| models.values())
        .filter_map(|m| m["last_sync_finished"].as_str())
        .max()
        .unwrap_or("unknown")
        .to_string();
    let active = state
        .db
        .active_connections()
        .await?
        .into_iter()
        .find(|c| c.linked_account_id.as_deref() == Some(account_id));
    crate::input::check("last_sync_finished", &finished)
        .map_err(|e| AppError::BadRequest(e.to_string()))?;
    match active {
        Some(c) => {
            let done = super::sync::triggers::on_sync_completed(state, &c.org_id, &c.id, &finished)
                .await?;
            tracing::info!(connection = %c.id, ?done, "sync_completed handled");
            Ok(Handling::Handled)
        }
        None => {
            tracing::debug!(
                linked_account = account_id,
                "sync_completed for no active connection; ignored"
            );
            Ok(Handling::Ignored(WebhookReason::UnknownAccount))
        }
    }
}

/// `LinkedAccount.linked`: the only place Merge hands over the account token of a magic link.
async fn linked(state: &AppState, payload: &Value) -> Result<Handling, AppError> {
    let origin = payload["linked_account"]["end_user_origin_id"].as_str();
    let account_id = payload["linked_account"]["id"].as_str();
    let token = payload["data"]["account_token"].as_str();
    let (Some(origin), Some(account_id), Some(token)) = (origin, account_id, token) else {
        tracing::warn!("LinkedAccount.linked without origin id, account id or token; ignored");
        return Ok(Handling::Ignored(WebhookReason::MissingFields));
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
        Ok(()) => {
            tracing::info!(linked_account = account_id, "magic link used");
            Ok(Handling::Handled)
        }
        // Not a pending magic link: a direct connection's (its own Link flow did the work), a
        // repeated delivery, or nothing of ours at all.
        Err(StoreError::Missing) => Ok(if state.db.origin_known(origin).await? {
            Handling::Handled
        } else {
            tracing::warn!(linked_account = account_id, "webhook for an unknown origin");
            Handling::Failed(WebhookReason::UnknownAccount)
        }),
        Err(e) => Err(e.into()),
    }
}

/// A label of the log (event type, account id) from outside: printable, at most 100 characters
/// (PostgreSQL refuses a NUL byte).
fn label(v: &Value) -> Option<String> {
    let s: String = v
        .as_str()?
        .chars()
        .filter(|c| !c.is_control())
        .take(100)
        .collect();
    (!s.is_empty()).then_some(s)
}

/// The event type of a payload, for the log and the server's logs.
pub fn event_label(payload: Option<&Value>) -> String {
    payload
        .and_then(|p| label(&p["hook"]["event"]))
        .unwrap_or_else(|| "unknown".into())
}

/// The log entry of a delivery received now. The body is kept sealed (it can carry an account
/// token) when it is small enough.
pub fn received(
    state: &AppState,
    body: &[u8],
    payload: Option<&Value>,
    verdict: WebhookVerdict,
    outcome: WebhookOutcome,
    reason: Option<WebhookReason>,
) -> WebhookLogRecord {
    let mut r = WebhookLogRecord::new(event_label(payload), verdict, outcome);
    r.linked_account_id = payload.and_then(|p| label(&p["linked_account"]["id"]));
    r.reason = reason;
    r.body_bytes = body.len() as i64;
    r.body =
        (body.len() <= BODY_KEPT_LIMIT).then(|| state.keyring.seal(&String::from_utf8_lossy(body)));
    r
}

/// Adds an entry to the log. A delivery is answered whether or not its entry could be stored.
pub async fn log(state: &AppState, r: &WebhookLogRecord) {
    use crate::telemetry::webhook as m;
    let counted = match (r.outcome, r.reason) {
        (WebhookOutcome::Handled, _) => m::HANDLED,
        (WebhookOutcome::Duplicate, Some(WebhookReason::InProgress)) => m::IN_PROGRESS,
        (WebhookOutcome::Duplicate, _) => m::DUPLICATE,
        (WebhookOutcome::Ignored, _) => m::IGNORED,
        (WebhookOutcome::Failed, _) => m::FAILED,
        // Counted where the receiver knows whether the signature was missing or wrong.
        (WebhookOutcome::Rejected, _) => "",
    };
    if !counted.is_empty() {
        crate::telemetry::webhook_received(&r.event, counted);
    }
    if let Err(e) = state.db.record_webhook(r).await {
        tracing::error!(error = %e, event = %r.event, "webhook log entry not stored");
    }
}

/// Why `r` cannot be replayed, if it is a failed, ignored or rejected delivery that cannot be.
fn replay_block(r: &WebhookLogRecord) -> Option<ReplayBlock> {
    if !matches!(
        r.outcome,
        WebhookOutcome::Failed | WebhookOutcome::Ignored | WebhookOutcome::Rejected
    ) {
        return None;
    }
    if r.verdict != WebhookVerdict::Valid {
        Some(ReplayBlock::SignatureNotValid)
    } else if r.body.is_none() {
        Some(ReplayBlock::BodyNotKept)
    } else {
        None
    }
}

fn replayable(r: &WebhookLogRecord) -> bool {
    matches!(r.outcome, WebhookOutcome::Failed | WebhookOutcome::Ignored)
        && replay_block(r).is_none()
}

fn view(r: &WebhookLogRecord, t: &Texts) -> WebhookLogView {
    WebhookLogView {
        id: r.id.clone(),
        received_at: super::format_time(r.received_at, t),
        event: r.event.clone(),
        linked_account_id: r.linked_account_id.clone(),
        verdict: r.verdict,
        outcome: r.outcome,
        reason: r.reason,
        replay_of: r.replay_of.clone(),
        replayed_by: r.replayed_by_name.clone(),
        replayable: replayable(r),
        replay_block: replay_block(r),
    }
}

/// Page `page` (from 1) of the webhook log, newest first. Deliveries are the service's, not one
/// organization's (a rejected one names nobody we could trust): the desk sees them all.
pub async fn page(state: &AppState, t: &Texts, page: u32) -> Result<WebhookLogPage, AppError> {
    let page = page.clamp(1, MAX_PAGE);
    let size = i64::from(PAGE_SIZE);
    let mut rows = state
        .db
        .webhook_log(size + 1, i64::from(page - 1) * size)
        .await?;
    let has_more = rows.len() as i64 > size;
    rows.truncate(PAGE_SIZE as usize);
    Ok(WebhookLogPage {
        entries: rows.iter().map(|r| view(r, t)).collect(),
        page,
        has_more,
    })
}

/// Replays a failed or ignored delivery from its stored body. Its signature is not checked again:
/// it was verified at receipt, and only deliveries whose signature was valid are replayed. The
/// replay is a new log entry linked to the original; the entry and the audit event of the replay
/// are one transaction (what the handler changes is its own, as for a delivery from Merge).
pub async fn replay(
    state: &AppState,
    who: &Identity,
    id: &WebhookLogId,
) -> Result<WebhookLogView, AppError> {
    let t = who.texts();
    let original = state
        .db
        .webhook_log_entry(id)
        .await?
        .ok_or(AppError::NotFound)?;
    match replay_block(&original) {
        Some(ReplayBlock::SignatureNotValid) => {
            return Err(AppError::Conflict(t.replay_signature_not_valid.into()))
        }
        Some(ReplayBlock::BodyNotKept) => {
            return Err(AppError::Conflict(t.replay_body_not_kept.into()))
        }
        None if !replayable(&original) => {
            return Err(AppError::Conflict(t.replay_only_failed.into()))
        }
        None => {}
    }
    let sealed = original.body.as_ref().ok_or(AppError::Internal)?;
    let body = state
        .keyring
        .open(sealed)
        .map_err(|e| AppError::internal("webhook body cannot be opened", e))?;
    let payload: Option<Value> = serde_json::from_str(&body).ok();
    let handling = match &payload {
        Some(p) => handle(state, p).await,
        None => Handling::Ignored(WebhookReason::NotJson),
    };
    let (outcome, reason) = handling.logged();
    let mut r = WebhookLogRecord::new(original.event.clone(), original.verdict, outcome);
    r.linked_account_id = original.linked_account_id.clone();
    r.reason = reason;
    r.body_bytes = original.body_bytes;
    r.body = Some(state.keyring.seal(&body));
    r.replay_of = Some(original.id.clone());
    r.replayed_by_name = Some(who.user_name.clone());
    // Recorded in the agent's own organization: a delivery need not belong to any we know.
    state
        .db
        .upsert_organization(&who.org_id, &who.org_name)
        .await?;
    let mut tx = state.db.begin().await?;
    tx.record_webhook(&r).await?;
    tx.record_audit(
        &AuditEvent::new(
            &who.org_id,
            super::actor(who),
            AuditAction::WebhookReplayed,
            AuditSubject::WebhookDelivery(r.id.clone()),
            format!(
                "Replayed webhook delivery {} ({}): {}",
                original.id,
                original.event,
                <&str>::from(outcome)
            ),
        )
        .with_subject_name(&original.event)
        .with_outcome(<&str>::from(outcome)),
    )
    .await?;
    tx.commit().await?;
    tracing::info!(original = %original.id, replay = %r.id, outcome = <&str>::from(outcome), "webhook replayed");
    Ok(view(&r, t))
}

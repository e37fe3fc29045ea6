//! Merge → app webhooks: `{hook, linked_account, data}` JSON, signed as Merge signs
//! (HMAC-SHA256 of the raw body, base64url, header `X-Merge-Webhook-Signature`).

use base64::{engine::general_purpose::URL_SAFE, Engine};
use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::Sha256;

use super::{
    state::{Account, Sandbox},
    WebhookTarget,
};

pub const SIGNATURE_HEADER: &str = "X-Merge-Webhook-Signature";

/// The signature of a raw body. Padded base64url, as Python's `urlsafe_b64encode` in Merge's docs
/// gives; receivers should compare with `=` stripped.
pub fn sign(key: &str, body: &[u8]) -> String {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(key.as_bytes()).expect("HMAC takes keys of any length");
    mac.update(body);
    URL_SAFE.encode(mac.finalize().into_bytes())
}

/// Posts one event in the background, if a receiver is configured. A 5xx or no answer is retried
/// after each of `webhook_retry_delays`; a 2xx or a 4xx ends the delivery (a 4xx drops the event).
/// Every attempt carries the same body and signature, as Merge's retries do.
pub fn emit(
    sb: &Sandbox,
    target: Option<WebhookTarget>,
    event: &str,
    account: &Account,
    data: Value,
) {
    let Some(target) = target else { return };
    let payload = json!({
        // Merge reuses the hook id for every event of one webhook configuration.
        "hook": {"id": hook_id(&target.url), "event": event, "target": target.url},
        "linked_account": account.details(),
        "data": data,
    });
    let body = payload.to_string().into_bytes();
    let signature = sign(&target.signing_key, &body);
    let request = sb
        .http
        .post(&target.url)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .header(SIGNATURE_HEADER, signature)
        .timeout(std::time::Duration::from_secs(10))
        .body(body);
    let retries = sb.config.webhook_retry_delays.clone();
    let event = event.to_string();
    tokio::spawn(async move {
        let waits = std::iter::once(std::time::Duration::ZERO).chain(retries);
        for (attempt, wait) in waits.enumerate() {
            tokio::time::sleep(wait).await;
            let Some(request) = request.try_clone() else {
                return;
            };
            match request.send().await {
                Ok(r) if r.status().is_success() => {
                    tracing::debug!(%event, attempt, "webhook delivered");
                    return;
                }
                Ok(r) if r.status().is_client_error() => {
                    let status = r.status().as_u16();
                    tracing::warn!(%event, status, "webhook refused: dropped");
                    return;
                }
                Ok(r) => {
                    let status = r.status().as_u16();
                    tracing::warn!(%event, attempt, status, "webhook failed");
                }
                Err(e) => {
                    tracing::warn!(%event, attempt, error = %e.without_url(), "webhook not delivered")
                }
            }
        }
        tracing::warn!(%event, "webhook given up");
    });
}

fn hook_id(url: &str) -> String {
    use sha2::Digest;
    let digest = Sha256::digest(url.as_bytes());
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    uuid::Builder::from_random_bytes(bytes)
        .into_uuid()
        .to_string()
}

/// `LinkedAccount.linked`: carries the account token (the only way to get it after a magic link).
/// The key names in `data` are UNCONFIRMED; `account_token` and `is_relink` are Merge's documented words.
pub fn linked(sb: &Sandbox, account: &Account, is_relink: bool) {
    let target = sb.lock().webhook.clone();
    let entry = account.integration_entry();
    let data = json!({
        "account_token": account.token,
        "is_relink": is_relink,
        "integration_name": entry.name,
        "integration_slug": entry.slug,
    });
    emit(sb, target, "LinkedAccount.linked", account, data);
}

/// `LinkedAccount.sync_completed`, after the initial sync and each later one: `data` is
/// `{is_initial_sync, integration_name, integration_id, sync_status}`, `sync_status` a map from
/// `model_id` to that model's `SyncStatus` (with `last_sync_finished` and `last_sync_result`), as
/// merge-api.md §4 describes Merge's.
pub fn sync_completed(sb: &Sandbox, account: &Account) {
    let target = sb.lock().webhook.clone();
    let statuses = account.sync_statuses(sb.sync_interval(), "DONE");
    let sync_status: serde_json::Map<String, Value> = statuses
        .into_iter()
        .map(|s| (s.model_id.clone(), json!(s)))
        .collect();
    let data = json!({
        "is_initial_sync": account.syncs.len() <= 1,
        "integration_name": account.integration_entry().name,
        "integration_id": account.integration,
        "sync_status": sync_status,
    });
    emit(sb, target, "LinkedAccount.sync_completed", account, data);
}

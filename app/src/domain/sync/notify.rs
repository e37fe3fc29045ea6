//! Telling the host platform: after a run that changed the directory, a signed `directory.changed`
//! webhook to `HRIS_HOST_WEBHOOK_URL`, carrying the run's counts. Signed and retried as Merge signs
//! and retries its own: `X-Hris-Webhook-Signature` is the base64url HMAC-SHA256 of the raw body;
//! two retries, on 5xx or timeout only (a 4xx drops the event).

use std::time::Duration;

use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::{
    state::AppState,
    storage::{RunCounts, SyncRunRecord},
};

use super::HostWebhook;

pub const SIGNATURE_HEADER: &str = "X-Hris-Webhook-Signature";

/// The signature of `body` under `secret`.
pub fn sign(secret: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key");
    mac.update(body);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
}

/// The event's body.
pub fn body(run: &SyncRunRecord, counts: &RunCounts) -> serde_json::Value {
    serde_json::json!({
        "hook": { "event": "directory.changed" },
        "data": {
            "organization_id": run.org_id,
            "connection_id": run.connection_id,
            "sync_run_id": run.id,
            "trigger": run.trigger,
            "mode": run.mode,
            "counts": counts,
        }
    })
}

/// Sends the event in the background (the run does not wait for the host).
pub async fn directory_changed(state: &AppState, run: &SyncRunRecord, counts: &RunCounts) {
    let Some(hook) = state.settings.sync.host_webhook.clone() else {
        return;
    };
    let body = body(run, counts).to_string();
    let run_id = run.id.clone();
    tokio::spawn(async move {
        if let Err(why) = deliver(&hook, body).await {
            tracing::warn!(run = %run_id, why, "directory.changed not delivered");
        }
    });
}

/// One delivery with Merge's retries: up to three tries, the next only after a 5xx or a timeout.
pub async fn deliver(hook: &HostWebhook, body: String) -> Result<(), String> {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .map_err(|e| e.to_string())?;
    let signature = sign(&hook.secret, body.as_bytes());
    let mut last = String::new();
    for attempt in 0..3u32 {
        if attempt > 0 {
            tokio::time::sleep(Duration::from_millis(500 * u64::from(attempt))).await;
        }
        let sent = client
            .post(&hook.url)
            .header("Content-Type", "application/json")
            .header(SIGNATURE_HEADER, &signature)
            .body(body.clone())
            .send()
            .await;
        match sent {
            Ok(r) if r.status().is_success() => return Ok(()),
            Ok(r) if r.status().is_server_error() => last = format!("status {}", r.status()),
            Ok(r) => return Err(format!("refused with status {}", r.status())),
            Err(e) if e.is_timeout() || e.is_connect() => last = "no answer".into(),
            Err(e) => return Err(e.to_string()),
        }
    }
    Err(last)
}

//! `POST /webhooks/merge`: Merge's webhooks in.
//!
//! 1. The signature (`X-Merge-Webhook-Signature`: base64url HMAC-SHA256 of the raw body) is checked in
//!    constant time against every configured key, before the body is parsed. Missing or wrong: 401,
//!    logged (without the signature or body).
//! 2. A replay (the same signature value, which Merge advises as the delivery's unique id) answers
//!    200 "already handled" without doing anything.
//! 3. The payload goes to `app::domain::webhooks::handle`. Transient failures answer 503 so Merge
//!    retries (Merge drops events on 4xx); unknown shapes (the dashboard's test POST) answer 200, as
//!    does input that can never be handled (e.g. a NUL byte in an id): logged, recorded as handled,
//!    answered "ignored", so Merge does not retry it forever.
//!
//! Every answer is counted (`hris_webhook_deliveries_total{event, outcome}`, `app::telemetry`).

use axum::{
    body::Bytes,
    extract::State,
    http::{header, HeaderMap, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
};
use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use app::{
    error::AppError,
    state::AppState,
    storage::{now_ms, DeliveryClaim},
    telemetry::{self, webhook as delivery},
};

pub const SIGNATURE_HEADER: &str = "x-merge-webhook-signature";

/// A delivery still "processing" after this long is taken over by a retry (its request died).
const STALE_AFTER_MS: i64 = 5 * 60 * 1000;

/// True when `header` is the signature of `body` under one of `keys`. Compares the unpadded
/// base64url text in constant time; every key is tried (no early exit on a match).
pub fn verify(body: &[u8], header: &str, keys: &[String]) -> bool {
    let got = header.trim().trim_end_matches('=');
    if got.is_empty() {
        return false;
    }
    let mut ok = subtle::Choice::from(0);
    for key in keys {
        let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(key.as_bytes()) else {
            continue;
        };
        mac.update(body);
        let want = URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
        ok |= want.as_bytes().ct_eq(got.as_bytes());
    }
    ok.into()
}

fn text(status: StatusCode, body: &'static str) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, HeaderValue::from_static("text/plain"))],
        body,
    )
        .into_response()
}

pub async fn receive(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let Some(signature) = headers
        .get(SIGNATURE_HEADER)
        .and_then(|v| v.to_str().ok())
        .filter(|s| !s.trim().is_empty())
    else {
        tracing::warn!(bytes = body.len(), "webhook refused: no signature");
        telemetry::webhook_received("", delivery::UNSIGNED);
        return text(StatusCode::UNAUTHORIZED, "missing signature");
    };
    if !verify(&body, signature, &state.settings.webhook_keys) {
        tracing::warn!(bytes = body.len(), "webhook refused: wrong signature");
        telemetry::webhook_received("", delivery::BAD_SIGNATURE);
        return text(StatusCode::UNAUTHORIZED, "wrong signature");
    }
    let payload: serde_json::Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(_) => {
            tracing::info!("signed webhook that is not JSON; ignored");
            telemetry::webhook_received("", delivery::IGNORED);
            return text(StatusCode::OK, "ignored");
        }
    };
    // A label for the record and the logs: printable (PostgreSQL refuses a NUL byte, which would
    // fail every delivery of this event), at most 100 characters.
    let event: String = payload["hook"]["event"]
        .as_str()
        .unwrap_or("unknown")
        .chars()
        .filter(|c| !c.is_control())
        .take(100)
        .collect();
    let delivery: String = Sha256::digest(signature.trim().trim_end_matches('=').as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let db = &state.db;
    match db
        .claim_webhook_delivery(&delivery, &event, now_ms(), STALE_AFTER_MS)
        .await
    {
        Ok(DeliveryClaim::New) => {}
        Ok(DeliveryClaim::AlreadyDone) => {
            tracing::info!(%event, "webhook replay: already handled");
            telemetry::webhook_received(&event, delivery::DUPLICATE);
            return text(StatusCode::OK, "already handled");
        }
        Ok(DeliveryClaim::InProgress) => {
            tracing::info!(%event, "webhook delivery already in progress");
            telemetry::webhook_received(&event, delivery::IN_PROGRESS);
            let mut res = text(StatusCode::SERVICE_UNAVAILABLE, "in progress, retry later");
            res.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
            return res;
        }
        Err(e) => {
            tracing::error!(error = %e, "webhook: cannot record the delivery");
            telemetry::webhook_received(&event, delivery::FAILED);
            return text(StatusCode::SERVICE_UNAVAILABLE, "temporarily unavailable");
        }
    }
    match app::domain::webhooks::handle(&state, &payload).await {
        Ok(()) => {
            if let Err(e) = db.finish_webhook_delivery(&delivery, now_ms()).await {
                tracing::error!(error = %e, "webhook handled but not recorded as handled");
            }
            tracing::info!(%event, "webhook handled");
            telemetry::webhook_received(&event, delivery::HANDLED);
            text(StatusCode::OK, "ok")
        }
        Err(e @ (AppError::Internal | AppError::Provider(_))) => {
            let _ = db.release_webhook_delivery(&delivery).await;
            tracing::warn!(%event, error = %e, "webhook failed for now; Merge will retry");
            telemetry::webhook_received(&event, delivery::FAILED);
            text(StatusCode::SERVICE_UNAVAILABLE, "temporarily unavailable")
        }
        Err(e) => {
            // Permanent: retrying would fail the same way. Accept it so Merge does not retry.
            let _ = db.finish_webhook_delivery(&delivery, now_ms()).await;
            tracing::warn!(%event, error = %e, "webhook not applicable; ignored");
            telemetry::webhook_received(&event, delivery::IGNORED);
            text(StatusCode::OK, "ignored")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verifies_like_merge_signs() {
        let body = br#"{"hook":{"event":"LinkedAccount.linked"}}"#;
        let keys = vec![
            "old-key-0123456789".to_string(),
            "new-key-0123456789".to_string(),
        ];
        let padded = merge_sandbox::sign_webhook("new-key-0123456789", body);
        assert!(padded.ends_with('='), "the sandbox pads like Merge's docs");
        assert!(verify(body, &padded, &keys));
        assert!(verify(body, padded.trim_end_matches('='), &keys));
        assert!(!verify(
            body,
            &merge_sandbox::sign_webhook("other-key-0123456", body),
            &keys
        ));
        assert!(!verify(b"{}", &padded, &keys));
        assert!(!verify(body, "", &keys));
        assert!(!verify(body, "====", &keys));
        assert!(!verify(body, &padded, &[]));
    }
}

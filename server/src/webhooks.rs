//! `POST /webhooks/merge`: Merge's webhooks in.
//!
//! 1. The signature (`X-Merge-Webhook-Signature`: base64url HMAC-SHA256 of the raw body) is checked in
//!    constant time against every configured key, before the body is parsed. Missing or wrong: 401,
//!    logged (without the signature or body) and recorded in the webhook log as rejected, never
//!    acted on.
//! 2. A replay (the same signature value, which Merge advises as the delivery's unique id) answers
//!    200 "already handled" without doing anything.
//! 3. The payload goes to `app::domain::webhooks::handle`. Transient failures answer 503 so Merge
//!    retries (Merge drops events on 4xx); unknown shapes (the dashboard's test POST) answer 200, as
//!    does input that can never be handled (e.g. a NUL byte in an id): logged, recorded as handled,
//!    answered "ignored", so Merge does not retry it forever.
//!
//! Every delivery lands in the webhook log (`app::domain::webhooks`) with its verdict and outcome,
//! its body sealed, so that the service desk can see it and replay a failed or ignored one.

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
    domain::webhooks::{self as domain, Handling},
    model::{WebhookOutcome, WebhookReason, WebhookVerdict},
    state::AppState,
    storage::{now_ms, DeliveryClaim},
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

/// The signature check's verdict: valid (one of `keys` made it), unknown key (a well-formed
/// HMAC-SHA256 signature none of them makes), or invalid (missing, or not a signature at all).
pub fn verdict(body: &[u8], header: Option<&str>, keys: &[String]) -> WebhookVerdict {
    let Some(header) = header.filter(|s| !s.trim().is_empty()) else {
        return WebhookVerdict::Invalid;
    };
    if verify(body, header, keys) {
        return WebhookVerdict::Valid;
    }
    match URL_SAFE_NO_PAD.decode(header.trim().trim_end_matches('=')) {
        Ok(mac) if mac.len() == 32 => WebhookVerdict::UnknownKey,
        _ => WebhookVerdict::Invalid,
    }
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
    let signature = headers
        .get(SIGNATURE_HEADER)
        .and_then(|v| v.to_str().ok())
        .filter(|s| !s.trim().is_empty());
    let verdict = verdict(&body, signature, &state.settings.webhook_keys);
    let payload: Option<serde_json::Value> = serde_json::from_slice(&body).ok();
    let log = |outcome: WebhookOutcome, reason: Option<WebhookReason>| {
        domain::received(&state, &body, payload.as_ref(), verdict, outcome, reason)
    };
    let Some(signature) = signature.filter(|_| verdict == WebhookVerdict::Valid) else {
        tracing::warn!(
            bytes = body.len(),
            ?verdict,
            "webhook refused: no valid signature"
        );
        domain::log(&state, &log(WebhookOutcome::Rejected, None)).await;
        return match signature {
            None => {
                app::telemetry::webhook_received("", app::telemetry::webhook::UNSIGNED);
                text(StatusCode::UNAUTHORIZED, "missing signature")
            }
            Some(_) => {
                app::telemetry::webhook_received("", app::telemetry::webhook::BAD_SIGNATURE);
                text(StatusCode::UNAUTHORIZED, "wrong signature")
            }
        };
    };
    let Some(json) = payload.as_ref() else {
        tracing::info!("signed webhook that is not JSON; ignored");
        domain::log(
            &state,
            &log(WebhookOutcome::Ignored, Some(WebhookReason::NotJson)),
        )
        .await;
        return text(StatusCode::OK, "ignored");
    };
    let event = domain::event_label(Some(json));
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
            domain::log(&state, &log(WebhookOutcome::Duplicate, None)).await;
            return text(StatusCode::OK, "already handled");
        }
        Ok(DeliveryClaim::InProgress) => {
            tracing::info!(%event, "webhook delivery already in progress");
            domain::log(
                &state,
                &log(WebhookOutcome::Duplicate, Some(WebhookReason::InProgress)),
            )
            .await;
            let mut res = text(StatusCode::SERVICE_UNAVAILABLE, "in progress, retry later");
            res.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
            return res;
        }
        Err(e) => {
            tracing::error!(error = %e, "webhook: cannot record the delivery");
            domain::log(
                &state,
                &log(WebhookOutcome::Failed, Some(WebhookReason::Temporary)),
            )
            .await;
            return text(StatusCode::SERVICE_UNAVAILABLE, "temporarily unavailable");
        }
    }
    let handling = domain::handle(&state, json).await;
    let (outcome, reason) = handling.logged();
    domain::log(&state, &log(outcome, reason)).await;
    match handling {
        Handling::Handled => {
            if let Err(e) = db.finish_webhook_delivery(&delivery, now_ms()).await {
                tracing::error!(error = %e, "webhook handled but not recorded as handled");
            }
            tracing::info!(%event, "webhook handled");
            text(StatusCode::OK, "ok")
        }
        Handling::Retry => {
            let _ = db.release_webhook_delivery(&delivery).await;
            tracing::warn!(%event, "webhook failed for now; Merge will retry");
            text(StatusCode::SERVICE_UNAVAILABLE, "temporarily unavailable")
        }
        // Nothing to do, or permanent: retrying would fail the same way. Accept it so Merge does
        // not retry. (An event we do not act on still answers "ok", as before.)
        Handling::Ignored(WebhookReason::UnknownEvent)
        | Handling::Ignored(WebhookReason::MissingFields) => {
            let _ = db.finish_webhook_delivery(&delivery, now_ms()).await;
            tracing::info!(%event, "webhook ignored");
            text(StatusCode::OK, "ok")
        }
        Handling::Ignored(_) | Handling::Failed(_) => {
            let _ = db.finish_webhook_delivery(&delivery, now_ms()).await;
            tracing::warn!(%event, ?reason, "webhook not applicable; ignored");
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

    #[test]
    fn verdicts_tell_a_foreign_key_from_no_signature() {
        let body = br#"{"hook":{"event":"LinkedAccount.linked"}}"#;
        let keys = vec!["our-key-0123456789".to_string()];
        let ours = merge_sandbox::sign_webhook("our-key-0123456789", body);
        let theirs = merge_sandbox::sign_webhook("their-key-0123456789", body);
        assert_eq!(verdict(body, Some(&ours), &keys), WebhookVerdict::Valid);
        assert_eq!(
            verdict(body, Some(&theirs), &keys),
            WebhookVerdict::UnknownKey
        );
        // Our key over another body is a signature no key of ours makes for it.
        assert_eq!(
            verdict(b"{}", Some(&ours), &keys),
            WebhookVerdict::UnknownKey
        );
        assert_eq!(verdict(body, None, &keys), WebhookVerdict::Invalid);
        assert_eq!(verdict(body, Some("  "), &keys), WebhookVerdict::Invalid);
        assert_eq!(verdict(body, Some("AAAA"), &keys), WebhookVerdict::Invalid);
        assert_eq!(
            verdict(body, Some("not base64!"), &keys),
            WebhookVerdict::Invalid
        );
        assert_eq!(verdict(body, Some(&ours), &[]), WebhookVerdict::UnknownKey);
    }
}

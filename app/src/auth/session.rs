//! Sessions: a random token in an HttpOnly cookie, its SHA-256 in the database, expiry on inactivity.
//!
//! The cookie is `SameSite=None; Secure; Partitioned` so it keeps working when the widget runs in an
//! iframe of the admin shell on another site (current Chromium drops unpartitioned third-party cookies).

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use http::{header, request::Parts, HeaderMap, HeaderValue};
use leptos::prelude::use_context;
use rand::RngCore;
use sha2::{Digest, Sha256};

use super::Identity;
use crate::{
    error::AppError,
    model::Permission,
    state::{AppState, Settings},
    storage::{now_ms, SessionRecord},
};

pub const COOKIE: &str = "hris_session";

/// Only refresh `last_seen_at` when it is older than this, to spare a write per request.
const TOUCH_AFTER_MS: i64 = 60_000;

fn hash(token: &str) -> String {
    Sha256::digest(token.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Signs in with a verified host token. A token opens one session: the first use starts it (and
/// returns its cookie); a later use only goes on in the browser already signed in as that same user
/// (a shell that hands the token over again), so anyone else holding a copy is refused.
pub async fn start_with_host_token(
    state: &AppState,
    token: &str,
    identity: Identity,
) -> Result<(Identity, Option<HeaderValue>), AppError> {
    // Remembered until it could no longer verify anyway.
    let valid_for_ms =
        (crate::auth::host::MAX_LIFETIME_SECS + crate::auth::host::LEEWAY_SECS as i64) * 1000;
    if state
        .db
        .claim_host_token(&hash(token), now_ms() + valid_for_ms)
        .await?
    {
        let cookie = start(state, &identity).await?;
        tracing::info!(user = %identity.user_id, org = %identity.org_id, "host sign-in");
        return Ok((identity, Some(cookie)));
    }
    match super::request_identity()? {
        Some(current)
            if current.org_id == identity.org_id && current.user_id == identity.user_id =>
        {
            Ok((current, None))
        }
        _ => {
            tracing::warn!(user = %identity.user_id, org = %identity.org_id, "host token used again: refused");
            Err(AppError::Unauthenticated)
        }
    }
}

/// Starts a session for `identity` (creating its organization on first sight) and returns the
/// `Set-Cookie` header value that carries it.
pub async fn start(state: &AppState, identity: &Identity) -> Result<HeaderValue, AppError> {
    state
        .db
        .upsert_organization(&identity.org_id, &identity.org_name)
        .await?;
    let mut raw = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut raw);
    let token = URL_SAFE_NO_PAD.encode(raw);
    let now = now_ms();
    let idle = state.settings.session_idle_timeout.as_millis() as i64;
    state
        .db
        .insert_session(&SessionRecord {
            id_hash: hash(&token),
            org_id: identity.org_id.clone(),
            user_id: identity.user_id.clone(),
            user_name: identity.user_name.clone(),
            locale: identity.locale.clone(),
            permissions: identity
                .permissions
                .iter()
                .map(|p| p.as_str())
                .collect::<Vec<_>>()
                .join(" "),
            created_at: now,
            last_seen_at: now,
            expires_at: now + idle,
        })
        .await?;
    Ok(cookie(&state.settings, &token))
}

/// Ends the current session (if any) and returns the `Set-Cookie` value that clears the cookie.
pub async fn end(state: &AppState) -> Result<HeaderValue, AppError> {
    if let Some(token) = use_context::<Parts>().and_then(|p| token_from(&p.headers)) {
        state.db.delete_session(&hash(&token)).await?;
    }
    Ok(cookie(&state.settings, ""))
}

/// The identity behind the session cookie in `headers`, if the session is live (for axum middleware).
pub async fn identity_from_headers(
    state: &AppState,
    headers: &HeaderMap,
) -> Result<Option<Identity>, AppError> {
    match token_from(headers) {
        Some(token) => identity_from_token(state, &token).await,
        None => Ok(None),
    }
}

pub async fn identity_from_token(
    state: &AppState,
    token: &str,
) -> Result<Option<Identity>, AppError> {
    let now = now_ms();
    let id_hash = hash(token);
    let Some((s, org_name)) = state.db.live_session_with_org_name(&id_hash, now).await? else {
        return Ok(None);
    };
    if now - s.last_seen_at > TOUCH_AFTER_MS {
        let idle = state.settings.session_idle_timeout.as_millis() as i64;
        state.db.touch_session(&id_hash, now, now + idle).await?;
    }
    Ok(Some(Identity {
        org_id: s.org_id,
        org_name,
        user_id: s.user_id,
        user_name: s.user_name,
        locale: s.locale,
        permissions: s
            .permissions
            .split_whitespace()
            .filter_map(Permission::parse)
            .collect(),
    }))
}

fn token_from(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, value)| *name == COOKIE && !value.is_empty())
        .map(|(_, value)| value.to_string())
}

fn cookie(settings: &Settings, token: &str) -> HeaderValue {
    let attrs = if settings.secure_cookies() {
        "SameSite=None; Secure; Partitioned"
    } else {
        "SameSite=Lax"
    };
    let expiry = if token.is_empty() { "; Max-Age=0" } else { "" };
    HeaderValue::from_str(&format!(
        "{COOKIE}={token}; Path=/; HttpOnly; {attrs}{expiry}"
    ))
    .expect("cookie made of URL-safe characters")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_session_cookie_among_others() {
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            HeaderValue::from_static("a=1; hris_session=tok; b=2"),
        );
        assert_eq!(token_from(&h).as_deref(), Some("tok"));
        h.insert(header::COOKIE, HeaderValue::from_static("hris_session="));
        assert_eq!(token_from(&h), None);
    }
}

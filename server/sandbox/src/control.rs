//! The control API under `/sandbox`: drive what a person (or Merge's back office) would.
//! Unauthenticated: the sandbox is a development tool bound to a local address.

use std::sync::{atomic::Ordering, Arc};

use axum::{
    extract::{Path, Query, State},
    http::StatusCode,
    response::{IntoResponse, Response},
    routing::{delete, get, post, put},
    Json, Router,
};
use serde::Deserialize;
use serde_json::{json, Value};

use super::{
    api::{set_relink_needed, ApiError},
    link::announce,
    state::{rfc3339, FaultKind, FaultSpec, LinkError, Sandbox},
    webhook, WebhookTarget, DEMO_PASSWORD, DEMO_USERNAME,
};

type Shared = State<Arc<Sandbox>>;

pub fn router() -> Router<Arc<Sandbox>> {
    Router::new()
        .route("/link-tokens/{link_token}/complete", post(complete))
        .route("/clock", get(clock))
        .route("/clock/advance", post(advance))
        .route("/faults", post(inject).delete(clear))
        .route("/organizations/{origin_id}", put(set_size))
        .route("/webhook", put(set_webhook).delete(clear_webhook))
        .route("/accounts", get(accounts))
        .route("/accounts/{id}/sync", post(sync))
        .route("/accounts/{id}", delete(remove))
        .route("/requests", get(requests))
}

fn bad(status: StatusCode, detail: &str) -> Response {
    ApiError::detail(status, detail).into_response()
}

#[derive(Deserialize)]
struct Complete {
    #[serde(default)]
    integration: Option<String>,
    /// The HR tenant signed in to (the dialog's "Company domain"); default: the one it suggests.
    #[serde(default)]
    tenant: Option<String>,
    #[serde(default)]
    username: Option<String>,
    #[serde(default)]
    password: Option<String>,
}

/// Finishes a link session as the dialog would; `{"public_token": "..."}`.
async fn complete(
    State(sb): Shared,
    Path(link_token): Path<String>,
    body: Option<Json<Complete>>,
) -> Response {
    let c = body.map(|Json(c)| c).unwrap_or(Complete {
        integration: None,
        tenant: None,
        username: None,
        password: None,
    });
    let username = c.username.as_deref().unwrap_or(DEMO_USERNAME);
    let password = c.password.as_deref().unwrap_or(DEMO_PASSWORD);
    match sb.complete_link(
        &link_token,
        c.integration.as_deref(),
        c.tenant.as_deref(),
        username,
        password,
    ) {
        Ok(done) => {
            announce(&sb, &done);
            Json(json!({
                "public_token": done.public_token,
                "linked_account_id": done.account.id,
                "tenant": done.account.tenant,
                "is_relink": done.is_relink,
                "previous_linked_account_id": done.replaces,
                "is_token_for_other_preexisting_linked_account":
                    done.is_token_for_other_preexisting_linked_account(),
            }))
            .into_response()
        }
        Err(e) => {
            let status = match e {
                LinkError::UnknownToken => StatusCode::NOT_FOUND,
                LinkError::Expired | LinkError::Used => StatusCode::GONE,
                LinkError::UnknownIntegration
                | LinkError::InvalidTenant
                | LinkError::WrongCredentials => StatusCode::BAD_REQUEST,
            };
            bad(status, &e.to_string())
        }
    }
}

async fn clock(State(sb): Shared) -> Json<Value> {
    let inner = sb.lock();
    Json(
        json!({ "now": rfc3339(inner.now()), "offset_seconds": inner.clock_offset.whole_seconds() }),
    )
}

#[derive(Deserialize)]
struct Advance {
    #[serde(default)]
    seconds: i64,
    #[serde(default)]
    minutes: i64,
    #[serde(default)]
    hours: i64,
    #[serde(default)]
    days: i64,
}

/// Moves the clock forward; syncs that fall due run (and send their webhooks).
async fn advance(State(sb): Shared, Json(a): Json<Advance>) -> Response {
    let by = time::Duration::seconds(a.seconds)
        + time::Duration::minutes(a.minutes)
        + time::Duration::hours(a.hours)
        + time::Duration::days(a.days);
    if by.is_negative() {
        return bad(StatusCode::BAD_REQUEST, "The clock only moves forward.");
    }
    let synced = sb.advance_clock(by);
    for account in &synced {
        webhook::sync_completed(&sb, account);
    }
    let ids: Vec<&str> = synced.iter().map(|a| a.id.as_str()).collect();
    Json(json!({ "now": rfc3339(sb.now()), "synced_accounts": ids })).into_response()
}

async fn inject(State(sb): Shared, Json(spec): Json<FaultSpec>) -> Response {
    match (spec.kind, spec.account_id.clone()) {
        (FaultKind::RelinkNeeded, None) => bad(
            StatusCode::BAD_REQUEST,
            "relink_needed needs an account_id.",
        ),
        (FaultKind::RelinkNeeded, Some(id)) => {
            if set_relink_needed(&sb, &id) {
                StatusCode::NO_CONTENT.into_response()
            } else {
                bad(StatusCode::NOT_FOUND, "No such linked account.")
            }
        }
        (_, Some(id)) => {
            let mut inner = sb.lock();
            match inner.account_mut(&id) {
                Some(a) => {
                    a.faults.push(spec);
                    StatusCode::NO_CONTENT.into_response()
                }
                None => bad(StatusCode::NOT_FOUND, "No such linked account."),
            }
        }
        (_, None) => {
            sb.lock().global_faults.push(spec);
            StatusCode::NO_CONTENT.into_response()
        }
    }
}

#[derive(Deserialize)]
struct ClearQuery {
    account_id: Option<String>,
}

/// Clears faults: one account's (also its relink-needed status), or all of them.
async fn clear(State(sb): Shared, Query(q): Query<ClearQuery>) -> StatusCode {
    let mut inner = sb.lock();
    if q.account_id.is_none() {
        inner.global_faults.clear();
    }
    for a in inner
        .accounts
        .iter_mut()
        .filter(|a| q.account_id.as_ref().is_none_or(|id| *id == a.id))
    {
        a.faults.clear();
        if a.status == crate::wire::LinkStatus::RelinkNeeded {
            a.status = crate::wire::LinkStatus::Complete;
            a.status_detail = None;
        }
    }
    StatusCode::NO_CONTENT
}

#[derive(Deserialize)]
struct Size {
    employees: usize,
}

async fn set_size(
    State(sb): Shared,
    Path(origin_id): Path<String>,
    Json(s): Json<Size>,
) -> Response {
    if s.employees == 0 || s.employees > 10_000_000 {
        return bad(
            StatusCode::BAD_REQUEST,
            "employees must be between 1 and 10,000,000.",
        );
    }
    sb.lock().org_sizes.insert(origin_id, s.employees);
    StatusCode::NO_CONTENT.into_response()
}

async fn set_webhook(State(sb): Shared, Json(target): Json<WebhookTarget>) -> Response {
    if !(target.url.starts_with("http://") || target.url.starts_with("https://"))
        || target.signing_key.is_empty()
    {
        return bad(
            StatusCode::BAD_REQUEST,
            "Give an http(s) url and a non-empty signing_key.",
        );
    }
    sb.lock().webhook = Some(target);
    StatusCode::NO_CONTENT.into_response()
}

async fn clear_webhook(State(sb): Shared) -> StatusCode {
    sb.lock().webhook = None;
    StatusCode::NO_CONTENT
}

/// Linked accounts with their tokens (a dashboard's view, for development).
async fn accounts(State(sb): Shared) -> Json<Value> {
    let inner = sb.lock();
    let list: Vec<Value> = inner
        .accounts
        .iter()
        .map(|a| {
            json!({
                "id": a.id,
                "account_token": a.token,
                "end_user_origin_id": a.end_user.origin_id,
                "integration": a.integration,
                "tenant": a.tenant,
                "status": a.status.as_str(),
                "syncs": a.syncs.len(),
                "employees": sb.org(&inner, a).employee_count(),
            })
        })
        .collect();
    Json(json!({ "results": list }))
}

/// A sync now, as if the HR system changed: data moves on and `LinkedAccount.sync_completed` is sent.
async fn sync(State(sb): Shared, Path(id): Path<String>) -> Response {
    match sb.sync_now(&id) {
        Some(account) => {
            webhook::sync_completed(&sb, &account);
            StatusCode::NO_CONTENT.into_response()
        }
        None => bad(StatusCode::NOT_FOUND, "No such linked account."),
    }
}

/// Deletes a linked account as Merge's dashboard would (its token stops working).
async fn remove(State(sb): Shared, Path(id): Path<String>) -> Response {
    let removed = {
        let mut inner = sb.lock();
        let before = inner.accounts.len();
        inner.accounts.retain(|a| a.id != id);
        inner.accounts.len() < before
    };
    if removed {
        StatusCode::NO_CONTENT.into_response()
    } else {
        bad(StatusCode::NOT_FOUND, "No such linked account.")
    }
}

async fn requests(State(sb): Shared) -> Json<Value> {
    Json(json!({ "api_requests": sb.api_requests.load(Ordering::Relaxed) }))
}

//! The control API under `/sandbox`: drive what a person (or Merge's back office) would.
//! Unauthenticated: the sandbox is a development tool bound to a local address. Errors answer
//! `{"detail": "..."}` (400 bad body, 404 unknown account or employee).
//!
//! For the employee sync's tests (the README's "Control API" table says the same):
//! - `PUT /organizations/{origin_id}` `{"employees"?: 1..=10000000, "evolve"?: bool}` → 204. Size
//!   (before or after linking); `evolve: false` stops the generated data changing at syncs.
//! - `GET /accounts/{id}/employees/{employee}` → the employee as the API serves it, with
//!   `employments` expanded. `{employee}`: a remote id (`E1005`, `H1`) or a Merge id.
//! - `PATCH /accounts/{id}/employees/{employee}` `{"first_name"?, "last_name"?, "work_email"?,
//!   "job_title"?}` (at least one) → 200 employee.
//! - `POST /accounts/{id}/employees/{employee}/terminate` `{"termination_date"?: "YYYY-MM-DD"}`
//!   (default today) → 200 employee. `INACTIVE` from that date on (sandbox clock, UTC).
//! - `DELETE /accounts/{id}/employees/{employee}` → 200 employee (`remote_was_deleted: true`);
//!   `?hard=true` → 204: the employee (and its employment) is gone from every listing and lookup,
//!   without a tombstone.
//! - `POST /accounts/{id}/employees/{employee}/rehire` `{"start_date"?: "YYYY-MM-DD"}` → 200
//!   employee: termination cleared, not deleted, `ACTIVE` (`PENDING` before a future start date).
//! - `POST /accounts/{id}/leavers` `{"action": "terminate"|"delete", "percent": 0..=100 | "count":
//!   n, "termination_date"?}` → `{"active_before", "remote_ids": [...], "ids": [...]}`.
//! - `POST /accounts/{id}/hires` `{"count": 1..=100000, "start_date"?}` → `{"remote_ids": ["H1",
//!   ...], "ids": [...]}`.
//! - `PUT /accounts/{id}/sync-status` `{"status": "PARTIALLY_SYNCED"|"FAILED"|"DONE"|"SYNCING"|
//!   "PAUSED"|"DISABLED", "models"?: ["hris.Employee" | "Employee", ...]}` → `{"results":
//!   [SyncStatus]}`; `DELETE` → 204 clears.
//! - `POST /faults` also takes `"stream"` (`employees`, `employments`, `teams`, `locations`,
//!   `groups`, `sync-status`; `account-token`: the public token's exchange) and `"page"` (1-based
//!   page of a walk; the number travels in cursors).
//!
//! Every edit moves the employee's and its employment's `modified_at` to the sandbox clock's now;
//! an edited employee no longer changes at later syncs (`data/edits.rs` has the exact rules).

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
    data::{
        edits::{Change, View},
        employee_remote_id, Expand, MODELS,
    },
    link::announce,
    state::{rfc3339, FaultKind, FaultSpec, LinkError, Sandbox, SyncState, STREAMS},
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
        .route(
            "/accounts/{id}/sync-status",
            put(force_sync_status).delete(clear_sync_status),
        )
        .route(
            "/accounts/{id}/employees/{employee}",
            get(show_employee)
                .patch(change_employee)
                .delete(delete_employee),
        )
        .route(
            "/accounts/{id}/employees/{employee}/terminate",
            post(terminate_employee),
        )
        .route(
            "/accounts/{id}/employees/{employee}/rehire",
            post(rehire_employee),
        )
        .route("/accounts/{id}/leavers", post(leavers))
        .route("/accounts/{id}/hires", post(hires))
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
    /// On a relink: Merge re-issues the account's record ids (remote ids stay), as it does when
    /// an account is linked anew.
    #[serde(default)]
    new_ids: bool,
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
        new_ids: false,
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
            if c.new_ids && done.is_relink {
                if let Some(a) = sb.lock().account_mut(&done.account.id) {
                    a.id_epoch += 1;
                }
            }
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
    if spec
        .stream
        .as_deref()
        .is_some_and(|s| !STREAMS.contains(&s))
    {
        let known = STREAMS.join(", ");
        return bad(
            StatusCode::BAD_REQUEST,
            &format!("stream must be one of {known}."),
        );
    }
    if spec.page == Some(0) {
        return bad(StatusCode::BAD_REQUEST, "page counts from 1.");
    }
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
    #[serde(default)]
    employees: Option<usize>,
    /// `false`: the generated data no longer changes at syncs (only control-API edits change it).
    #[serde(default)]
    evolve: Option<bool>,
}

async fn set_size(
    State(sb): Shared,
    Path(origin_id): Path<String>,
    Json(s): Json<Size>,
) -> Response {
    if s.employees.is_some_and(|n| n == 0 || n > 10_000_000) {
        return bad(
            StatusCode::BAD_REQUEST,
            "employees must be between 1 and 10,000,000.",
        );
    }
    if s.employees.is_none() && s.evolve.is_none() {
        return bad(StatusCode::BAD_REQUEST, "Give employees and/or evolve.");
    }
    let mut inner = sb.lock();
    if let Some(n) = s.employees {
        inner.org_sizes.insert(origin_id.clone(), n);
    }
    match s.evolve {
        Some(false) => {
            inner.frozen.insert(origin_id);
        }
        Some(true) => {
            inner.frozen.remove(&origin_id);
        }
        None => {}
    }
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

#[derive(Deserialize)]
struct ForceStatus {
    status: SyncState,
    /// `model_id`s (`hris.Employee`) or `model_name`s (`Employee`); default: every model.
    #[serde(default)]
    models: Option<Vec<String>>,
}

/// Sets what `sync-status` (and `LinkedAccount.sync_completed`) report for some or all models
/// until cleared; answers the account's sync statuses as `GET /hris/v1/sync-status` now shows them.
async fn force_sync_status(
    State(sb): Shared,
    Path(id): Path<String>,
    Json(f): Json<ForceStatus>,
) -> Response {
    let models: Vec<&str> = match &f.models {
        None => MODELS.iter().map(|(_, id)| *id).collect(),
        Some(list) => {
            let mut ids = Vec::new();
            for m in list {
                match MODELS.iter().find(|(name, id)| m == name || m == id) {
                    Some((_, id)) => ids.push(*id),
                    None => {
                        return bad(
                            StatusCode::BAD_REQUEST,
                            &format!("Unknown model {m:?}: use hris.Employee, hris.Employment, hris.Team, hris.Location or hris.Group."),
                        )
                    }
                }
            }
            ids
        }
    };
    let interval = sb.sync_interval();
    let mut inner = sb.lock();
    let Some(a) = inner.account_mut(&id) else {
        return bad(StatusCode::NOT_FOUND, "No such linked account.");
    };
    for m in models {
        a.forced_status.insert(m.to_string(), f.status);
    }
    Json(json!({ "results": a.sync_statuses(interval, "DONE") })).into_response()
}

async fn clear_sync_status(State(sb): Shared, Path(id): Path<String>) -> Response {
    let mut inner = sb.lock();
    match inner.account_mut(&id) {
        Some(a) => {
            a.forced_status.clear();
            StatusCode::NO_CONTENT.into_response()
        }
        None => bad(StatusCode::NOT_FOUND, "No such linked account."),
    }
}

/// The employee as the API shows it to a client now, with `employments` expanded (job title).
fn shown(view: &View<'_>, i: usize) -> Value {
    json!(view.employee(i, &Expand::parse(Some("employments"))))
}

fn no_employee() -> Response {
    bad(
        StatusCode::NOT_FOUND,
        "No such linked account, or no such employee (give a remote_id like E1005 or a Merge id).",
    )
}

async fn show_employee(
    State(sb): Shared,
    Path((id, employee)): Path<(String, String)>,
) -> Response {
    sb.with_view(&id, |view| view.find(&employee).map(|i| shown(view, i)))
        .flatten()
        .map_or_else(no_employee, |v| Json(v).into_response())
}

/// Applies one change to a named employee; answers the employee as the API now shows it.
fn edit(
    sb: &Sandbox,
    id: &str,
    employee: &str,
    change: impl FnOnce(time::Date) -> Change,
) -> Response {
    sb.with_org(id, |org, state, now| {
        let i = View {
            org,
            state,
            today: now.date(),
        }
        .find(employee)?;
        state.apply(org, i, change(now.date()), now);
        Some(shown(
            &View {
                org,
                state,
                today: now.date(),
            },
            i,
        ))
    })
    .flatten()
    .map_or_else(no_employee, |v| Json(v).into_response())
}

#[derive(Deserialize)]
struct Fields {
    #[serde(default)]
    first_name: Option<String>,
    #[serde(default)]
    last_name: Option<String>,
    #[serde(default)]
    work_email: Option<String>,
    #[serde(default)]
    job_title: Option<String>,
}

async fn change_employee(
    State(sb): Shared,
    Path((id, employee)): Path<(String, String)>,
    Json(f): Json<Fields>,
) -> Response {
    let given = [&f.first_name, &f.last_name, &f.work_email, &f.job_title];
    if given.iter().all(|v| v.is_none()) {
        return bad(
            StatusCode::BAD_REQUEST,
            "Give at least one of first_name, last_name, work_email, job_title.",
        );
    }
    if given
        .iter()
        .any(|v| v.as_deref().is_some_and(|s| s.trim().is_empty()))
    {
        return bad(StatusCode::BAD_REQUEST, "Fields may not be blank.");
    }
    edit(&sb, &id, &employee, |_| Change::Fields {
        first_name: f.first_name,
        last_name: f.last_name,
        work_email: f.work_email,
        job_title: f.job_title,
    })
}

#[derive(Deserialize, Default)]
struct DeleteQuery {
    #[serde(default)]
    hard: bool,
}

/// Deletes an employee: a tombstone (`remote_was_deleted`), or with `?hard=true` gone from every
/// listing without one (a record the HR system purged); a hard delete answers 204.
async fn delete_employee(
    State(sb): Shared,
    Path((id, employee)): Path<(String, String)>,
    Query(q): Query<DeleteQuery>,
) -> Response {
    if !q.hard {
        return edit(&sb, &id, &employee, |_| Change::Delete);
    }
    sb.with_org(&id, |org, state, now| {
        let i = View {
            org,
            state,
            today: now.date(),
        }
        .find(&employee)?;
        state.purge(org, i);
        Some(())
    })
    .flatten()
    .map_or_else(no_employee, |()| StatusCode::NO_CONTENT.into_response())
}

fn parse_date(field: &str, value: Option<&str>) -> Result<Option<time::Date>, ApiError> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    value
        .map(|v| {
            time::Date::parse(v, format).map_err(|_| {
                ApiError::detail(
                    StatusCode::BAD_REQUEST,
                    &format!("{field} must be a date like 2025-01-31."),
                )
            })
        })
        .transpose()
}

#[derive(Deserialize, Default)]
struct Dates {
    #[serde(default)]
    termination_date: Option<String>,
    #[serde(default)]
    start_date: Option<String>,
}

async fn terminate_employee(
    State(sb): Shared,
    Path((id, employee)): Path<(String, String)>,
    body: Option<Json<Dates>>,
) -> Response {
    let d = body.map(|Json(d)| d).unwrap_or_default();
    match parse_date("termination_date", d.termination_date.as_deref()) {
        Ok(date) => edit(&sb, &id, &employee, |today| {
            Change::Terminate(date.unwrap_or(today))
        }),
        Err(e) => e.into_response(),
    }
}

async fn rehire_employee(
    State(sb): Shared,
    Path((id, employee)): Path<(String, String)>,
    body: Option<Json<Dates>>,
) -> Response {
    let d = body.map(|Json(d)| d).unwrap_or_default();
    match parse_date("start_date", d.start_date.as_deref()) {
        Ok(date) => edit(&sb, &id, &employee, |today| {
            Change::Rehire(date.unwrap_or(today))
        }),
        Err(e) => e.into_response(),
    }
}

#[derive(Deserialize, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
enum LeaverAction {
    Terminate,
    Delete,
}

#[derive(Deserialize)]
struct Leavers {
    action: LeaverAction,
    #[serde(default)]
    percent: Option<f64>,
    #[serde(default)]
    count: Option<usize>,
    #[serde(default)]
    termination_date: Option<String>,
}

/// Terminates or deletes a share of the currently active employees (a fixed pseudo-random
/// choice: the same state picks the same people).
async fn leavers(State(sb): Shared, Path(id): Path<String>, Json(l): Json<Leavers>) -> Response {
    let share = match (l.percent, l.count) {
        (Some(p), None) if (0.0..=100.0).contains(&p) => Share::Percent(p),
        (None, Some(n)) => Share::Count(n),
        _ => {
            return bad(
                StatusCode::BAD_REQUEST,
                "Give either percent (0 to 100) or count.",
            )
        }
    };
    let date = match parse_date("termination_date", l.termination_date.as_deref()) {
        Ok(d) => d,
        Err(e) => return e.into_response(),
    };
    let done = sb.with_org(&id, |org, state, now| {
        let today = now.date();
        let (chosen, active) = View { org, state, today }.pick_active(|total| match share {
            Share::Percent(p) => (total as f64 * p / 100.0).round() as usize,
            Share::Count(n) => n.min(total),
        });
        for &i in &chosen {
            let change = match l.action {
                LeaverAction::Terminate => Change::Terminate(date.unwrap_or(today)),
                LeaverAction::Delete => Change::Delete,
            };
            state.apply(org, i, change, now);
        }
        let ids: Vec<String> = chosen.iter().map(|&i| org.employee_id(i)).collect();
        (chosen, ids, active)
    });
    match done {
        None => bad(StatusCode::NOT_FOUND, "No such linked account."),
        Some((chosen, _, _)) if chosen.is_empty() => bad(
            StatusCode::BAD_REQUEST,
            "That share of the active employees is nobody: nothing changed.",
        ),
        Some((chosen, ids, active)) => Json(json!({
            "active_before": active,
            "remote_ids": chosen.iter().map(|&i| employee_remote_id(i)).collect::<Vec<_>>(),
            "ids": ids,
        }))
        .into_response(),
    }
}

#[derive(Clone, Copy)]
enum Share {
    Percent(f64),
    Count(usize),
}

#[derive(Deserialize)]
struct Hires {
    count: usize,
    #[serde(default)]
    start_date: Option<String>,
}

/// Adds new hires (remote ids `H1`, `H2`, …), ACTIVE from their start date (default: today).
async fn hires(State(sb): Shared, Path(id): Path<String>, Json(h): Json<Hires>) -> Response {
    if h.count == 0 || h.count > 100_000 {
        return bad(
            StatusCode::BAD_REQUEST,
            "count must be between 1 and 100,000.",
        );
    }
    let start = match parse_date("start_date", h.start_date.as_deref()) {
        Ok(d) => d,
        Err(e) => return e.into_response(),
    };
    let done = sb.with_org(&id, |org, state, now| {
        let added = state.hire(org, h.count, start.unwrap_or(now.date()), now);
        let ids: Vec<String> = added.iter().map(|&i| org.employee_id(i)).collect();
        (added, ids)
    });
    match done {
        None => bad(StatusCode::NOT_FOUND, "No such linked account."),
        Some((added, ids)) => Json(json!({
            "remote_ids": added.iter().map(|&i| employee_remote_id(i)).collect::<Vec<_>>(),
            "ids": ids,
        }))
        .into_response(),
    }
}

//! Merge's HRIS API, as the sandbox serves it under `/api`: same paths, methods, headers, status
//! codes, JSON and DRF-style error bodies.

use std::{
    collections::{btree_set::Range, BTreeSet, HashMap},
    ops::Bound,
    sync::Arc,
    time::Duration,
};

use crate::wire::{self, LinkStatus};
use axum::{
    body::Body,
    extract::{FromRequestParts, Path, Query, Request, State},
    http::{header, request::Parts, HeaderMap, StatusCode},
    middleware::{self, Next},
    response::{IntoResponse, Response},
    routing::{get, post},
    Json, Router,
};
use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use serde::Serialize;
use serde_json::{json, Value};
use time::{format_description::well_known::Rfc3339, OffsetDateTime};

use super::{
    data::{
        edits::{millis, Pos, View},
        employee_index_of_remote_id, integration_wire, Expand, Org, RecordMeta, DIRECTORY,
    },
    state::{
        random_token, Account, EndUser, FaultKind, LinkSession, RequestInfo, Sandbox, STREAMS,
    },
    webhook,
};

type Shared = State<Arc<Sandbox>>;

/// A DRF-style error answer: `{"detail": "..."}` or `{"<field>": ["..."]}`.
#[derive(Debug)]
pub struct ApiError(StatusCode, Value);

impl ApiError {
    pub fn detail(status: StatusCode, detail: &str) -> Self {
        ApiError(status, json!({ "detail": detail }))
    }

    fn field(field: &str, message: &str) -> Self {
        ApiError(StatusCode::BAD_REQUEST, json!({ field: [message] }))
    }

    fn not_found() -> Self {
        Self::detail(StatusCode::NOT_FOUND, "Not found.")
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.0, Json(self.1)).into_response()
    }
}

type ApiResult<T> = Result<Json<T>, ApiError>;

pub fn router(sandbox: Arc<Sandbox>) -> Router<Arc<Sandbox>> {
    let hris = Router::new()
        .route("/link-token", post(create_link_token))
        .route("/account-token/{public_token}", get(exchange_public_token))
        .route("/account-token/regenerate", post(regenerate_account_token))
        .route("/account-details", get(account_details))
        .route("/linked-accounts", get(linked_accounts))
        .route("/delete-account", post(delete_account))
        .route("/sync-status", get(sync_status))
        .route("/sync-status/resync", post(resync))
        .route("/employees", get(employees))
        .route("/employees/{id}", get(employee))
        .route("/employments", get(employments))
        .route("/teams", get(teams))
        .route("/locations", get(locations))
        .route("/groups", get(groups));
    Router::new()
        .nest("/hris/v1", hris)
        .route(
            "/organizations/integrations",
            get(organization_integrations),
        )
        .route_layer(middleware::from_fn_with_state(
            sandbox.clone(),
            require_api_key,
        ))
        // The public directory needs no API key (Merge's docs).
        .route("/integrations", get(integrations))
        .fallback(|| async { ApiError::not_found() })
        .method_not_allowed_fallback(|req: Request| async move {
            ApiError::detail(
                StatusCode::METHOD_NOT_ALLOWED,
                &format!("Method \"{}\" not allowed.", req.method()),
            )
        })
        .layer(middleware::from_fn_with_state(sandbox, faults))
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
        .map(str::trim)
}

fn account_token_header(headers: &HeaderMap) -> Option<&str> {
    headers
        .get("x-account-token")?
        .to_str()
        .ok()
        .map(str::trim)
        .filter(|t| !t.is_empty())
}

async fn require_api_key(State(sb): Shared, req: Request, next: Next) -> Response {
    match bearer(req.headers()) {
        None => ApiError::detail(
            StatusCode::UNAUTHORIZED,
            "Authentication credentials were not provided.",
        )
        .into_response(),
        Some(key)
            if !bool::from(subtle::ConstantTimeEq::ct_eq(
                key.as_bytes(),
                sb.config.api_key.as_bytes(),
            )) =>
        {
            ApiError::detail(StatusCode::UNAUTHORIZED, "Invalid token.").into_response()
        }
        Some(_) => next.run(req).await,
    }
}

/// Injected faults: slow answers, 401/429/500 and truncated JSON.
async fn faults(State(sb): Shared, req: Request, next: Next) -> Response {
    sb.count_request();
    let path = req.uri().path();
    let stream = path
        .split("/hris/v1/")
        .nth(1)
        .map(|s| s.trim_end_matches('/'))
        .map(|s| match s.split_once('/') {
            // `account-token/{public_token}`: the exchange (not `account-token/regenerate`).
            Some(("account-token", rest)) if rest != "regenerate" => "account-token",
            _ => s,
        })
        .and_then(|s| STREAMS.iter().copied().find(|known| *known == s));
    let page = stream.and_then(|_| {
        let q = Query::<HashMap<String, String>>::try_from_uri(req.uri()).ok()?;
        match param(&q, "cursor") {
            None => Some(1),
            Some(c) => Cursor::decode(c).map(|c| c.page),
        }
    });
    let info = RequestInfo {
        account_token: account_token_header(req.headers()),
        stream,
        page,
    };
    let plan = sb.lock().fault_plan(&info);
    if plan.delay_ms > 0 {
        tokio::time::sleep(Duration::from_millis(plan.delay_ms)).await;
    }
    let response = match plan.respond {
        Some(FaultKind::TokenRevoked) => return invalid_account_token().into_response(),
        Some(FaultKind::RateLimited) => {
            let mut r = ApiError::detail(StatusCode::TOO_MANY_REQUESTS, "Request was throttled.")
                .into_response();
            r.headers_mut()
                .insert(header::RETRY_AFTER, plan.retry_after_secs.into());
            return r;
        }
        Some(_) => {
            return ApiError::detail(
                StatusCode::INTERNAL_SERVER_ERROR,
                "A server error occurred.",
            )
            .into_response()
        }
        None => next.run(req).await,
    };
    if plan.malformed && response.status().is_success() {
        let (parts, _) = response.into_parts();
        return Response::from_parts(parts, Body::from(r#"{"next": null, "results": [{"id": "#));
    }
    response
}

fn invalid_account_token() -> ApiError {
    // Merge's text for an unknown token is UNCONFIRMED; the status (401) is what clients act on.
    ApiError::detail(StatusCode::UNAUTHORIZED, "Invalid account token.")
}

/// The linked account named by `X-Account-Token`, checked as Merge checks it.
pub struct Linked(pub Account);

impl FromRequestParts<Arc<Sandbox>> for Linked {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, sb: &Arc<Sandbox>) -> Result<Self, ApiError> {
        let token = account_token_header(&parts.headers).ok_or_else(|| {
            ApiError::detail(
                StatusCode::UNAUTHORIZED,
                "Account Token must be passed in as an X-Account-Token header.",
            )
        })?;
        sb.lock()
            .account_by_token(token)
            .cloned()
            .map(Linked)
            .ok_or_else(invalid_account_token)
    }
}

type Params = Query<HashMap<String, String>>;

fn param<'a>(q: &'a HashMap<String, String>, key: &str) -> Option<&'a str> {
    q.get(key).map(String::as_str).filter(|v| !v.is_empty())
}

fn flag(q: &HashMap<String, String>, key: &str) -> bool {
    matches!(param(q, key), Some("true" | "True" | "1"))
}

fn required(body: &Value, field: &str) -> Result<String, ApiError> {
    match body.get(field) {
        Some(Value::String(s)) if !s.trim().is_empty() => Ok(s.clone()),
        Some(Value::String(_)) => Err(ApiError::field(field, "This field may not be blank.")),
        _ => Err(ApiError::field(field, "This field is required.")),
    }
}

async fn create_link_token(
    State(sb): Shared,
    body: Result<Json<Value>, axum::extract::rejection::JsonRejection>,
) -> ApiResult<wire::LinkToken> {
    let Json(body) =
        body.map_err(|_| ApiError::detail(StatusCode::BAD_REQUEST, "JSON parse error."))?;
    let end_user = EndUser {
        email_address: required(&body, "end_user_email_address")?,
        organization_name: required(&body, "end_user_organization_name")?,
        origin_id: required(&body, "end_user_origin_id")?,
    };
    let categories: Vec<String> =
        serde_json::from_value(body.get("categories").cloned().unwrap_or(Value::Null))
            .map_err(|_| ApiError::field("categories", "This field is required."))?;
    if !categories.iter().any(|c| c == "hris") {
        return Err(ApiError::field(
            "categories",
            "This sandbox serves the hris category only.",
        ));
    }
    let magic = body
        .get("should_create_magic_link_url")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let expiry = match body.get("link_expiry_mins") {
        None | Some(Value::Null) => 30,
        Some(v) => v
            .as_i64()
            .ok_or_else(|| ApiError::field("link_expiry_mins", "A valid integer is required."))?,
    };
    let max = if magic { 10_080 } else { 720 };
    if !(30..=max).contains(&expiry) {
        let msg = format!("Ensure this value is between 30 and {max}.");
        return Err(ApiError::field("link_expiry_mins", &msg));
    }
    let integration = match body
        .get("integration")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
    {
        Some(slug) => Some(
            DIRECTORY
                .iter()
                .find(|d| d.slug == slug && d.is_hris())
                .ok_or_else(|| ApiError::field("integration", "Invalid integration."))?,
        ),
        None => None,
    };
    let link_token = random_token(48);
    let mut inner = sb.lock();
    let now = inner.now();
    inner.link_sessions.insert(
        link_token.clone(),
        LinkSession {
            end_user,
            integration: integration.map(|d| d.slug.to_string()),
            expires_at: now + time::Duration::minutes(expiry),
            used: false,
        },
    );
    let magic_link_url = magic.then(|| {
        let id = random_token(32);
        inner.magic_links.insert(id.clone(), link_token.clone());
        format!("{}/sandbox/magic/{id}", sb.public_url)
    });
    Ok(Json(wire::LinkToken {
        link_token,
        integration_name: integration.map(|d| d.name.to_string()),
        magic_link_url,
    }))
}

async fn exchange_public_token(
    State(sb): Shared,
    Path(public_token): Path<String>,
) -> ApiResult<wire::AccountToken> {
    let inner = sb.lock();
    let now = inner.now();
    let account = inner
        .public_tokens
        .get(&public_token)
        .filter(|(_, expires)| *expires > now)
        .and_then(|(id, _)| inner.accounts.iter().find(|a| &a.id == id))
        .ok_or_else(ApiError::not_found)?;
    Ok(Json(wire::AccountToken {
        account_token: account.token.clone(),
        integration: integration_wire(account.integration_entry(), &sb.public_url),
        id: account.id.clone(),
    }))
}

async fn regenerate_account_token(State(sb): Shared, Linked(account): Linked) -> ApiResult<Value> {
    let token = random_token(48);
    let mut inner = sb.lock();
    let a = inner
        .account_mut(&account.id)
        .ok_or_else(invalid_account_token)?;
    a.token = token.clone();
    Ok(Json(
        json!({ "linked_account_id": account.id, "account_token": token }),
    ))
}

async fn account_details(Linked(account): Linked) -> ApiResult<wire::AccountDetails> {
    Ok(Json(account.details()))
}

fn linked_account_wire(sb: &Sandbox, a: &Account) -> wire::AccountDetailsAndActions {
    let entry = a.integration_entry();
    let integration = integration_wire(entry, &sb.public_url);
    wire::AccountDetailsAndActions {
        id: a.id.clone(),
        category: Some("hris".to_string()),
        status: a.status,
        status_detail: a.status_detail.clone(),
        end_user_origin_id: Some(a.end_user.origin_id.clone()),
        end_user_organization_name: a.end_user.organization_name.clone(),
        end_user_email_address: a.end_user.email_address.clone(),
        subdomain: None,
        webhook_listener_url: String::new(),
        is_duplicate: Some(false),
        integration: Some(wire::AccountDetailsAndActionsIntegration {
            name: integration.name,
            categories: integration.categories.unwrap_or_default(),
            image: integration.image,
            square_image: integration.square_image,
            color: entry.color.to_string(),
            slug: entry.slug.to_string(),
            passthrough_available: true,
            available_model_operations: None,
        }),
        account_type: "PRODUCTION".to_string(),
        completed_at: super::state::rfc3339(a.completed_at),
        integration_specific_fields: None,
    }
}

async fn linked_accounts(
    State(sb): Shared,
    Query(q): Params,
) -> ApiResult<wire::Paginated<wire::AccountDetailsAndActions>> {
    let matching: Vec<Account> = {
        let inner = sb.lock();
        let is = |key: &str, value: &str| param(&q, key).is_none_or(|v| v == value);
        inner
            .accounts
            .iter()
            .filter(|a| {
                is("category", "hris")
                    && is("end_user_origin_id", &a.end_user.origin_id)
                    && is("end_user_email_address", &a.end_user.email_address)
                    && is("end_user_organization_name", &a.end_user.organization_name)
                    && is("id", &a.id)
                    && is("status", a.status.as_str())
                    && is("integration_name", a.integration_entry().name)
                    // Sandbox accounts are production accounts: asking for test accounts finds none.
                    && param(&q, "is_test_account").is_none()
            })
            .cloned()
            .collect()
    };
    paginate(
        &q,
        Source::Indexes(matching.len()),
        |_| true,
        |i| linked_account_wire(&sb, &matching[i]),
    )
    .map(Json)
}

async fn delete_account(State(sb): Shared, Linked(account): Linked) -> StatusCode {
    let target = {
        let mut inner = sb.lock();
        inner.accounts.retain(|a| a.id != account.id);
        inner.webhook.clone()
    };
    webhook::emit(&sb, target, "LinkedAccount.deleted", &account, json!({}));
    StatusCode::OK
}

async fn sync_status(
    State(sb): Shared,
    Linked(account): Linked,
    Query(q): Params,
) -> ApiResult<wire::Paginated<wire::SyncStatus>> {
    let statuses = account.sync_statuses(sb.sync_interval(), "DONE");
    paginate(
        &q,
        Source::Indexes(statuses.len()),
        |_| true,
        |i| statuses[i].clone(),
    )
    .map(Json)
}

async fn resync(State(sb): Shared, Linked(account): Linked) -> ApiResult<Vec<wire::SyncStatus>> {
    let synced = sb.sync_now(&account.id).ok_or_else(invalid_account_token)?;
    webhook::sync_completed(&sb, &synced);
    Ok(Json(synced.sync_statuses(sb.sync_interval(), "SYNCING")))
}

async fn integrations(State(sb): Shared) -> Json<Vec<wire::AccountIntegration>> {
    Json(
        DIRECTORY
            .iter()
            .map(|d| integration_wire(d, &sb.public_url))
            .collect(),
    )
}

async fn organization_integrations(
    State(sb): Shared,
    Query(q): Params,
) -> ApiResult<wire::Paginated<wire::AccountIntegration>> {
    paginate(
        &q,
        Source::Indexes(DIRECTORY.len()),
        |_| true,
        |i| integration_wire(&DIRECTORY[i], &sb.public_url),
    )
    .map(Json)
}

/// The organization behind the request's account, and its list filters.
fn org_of(sb: &Sandbox, account: &Account) -> Org {
    sb.org(&sb.lock(), account)
}

fn time_param(q: &HashMap<String, String>, key: &str) -> Result<Option<OffsetDateTime>, ApiError> {
    param(q, key)
        .map(|v| {
            OffsetDateTime::parse(v, &Rfc3339)
                .map_err(|_| ApiError::field(key, "Enter a valid date/time."))
        })
        .transpose()
}

/// `modified_after`/`before`, `created_after`/`before`, `include_deleted_data`: the filters every list has.
struct CommonFilter {
    modified_after: Option<OffsetDateTime>,
    modified_before: Option<OffsetDateTime>,
    created_after: Option<OffsetDateTime>,
    created_before: Option<OffsetDateTime>,
    include_deleted: bool,
}

impl CommonFilter {
    fn parse(q: &HashMap<String, String>) -> Result<Self, ApiError> {
        Ok(CommonFilter {
            modified_after: time_param(q, "modified_after")?,
            modified_before: time_param(q, "modified_before")?,
            created_after: time_param(q, "created_after")?,
            created_before: time_param(q, "created_before")?,
            include_deleted: flag(q, "include_deleted_data"),
        })
    }

    fn matches(&self, r: RecordMeta) -> bool {
        (self.include_deleted || !r.deleted)
            && self.modified_after.is_none_or(|t| r.modified > t)
            && self.modified_before.is_none_or(|t| r.modified < t)
            && self.created_after.is_none_or(|t| r.created > t)
            && self.created_before.is_none_or(|t| r.created < t)
    }
}

/// A list of generated records: filter by index, then build the page's records.
fn common_list<T: Serialize>(
    q: &HashMap<String, String>,
    len: usize,
    meta: impl Fn(usize) -> RecordMeta,
    extra: impl Fn(usize) -> bool,
    build: impl Fn(usize) -> T,
) -> ApiResult<wire::Paginated<T>> {
    let filter = CommonFilter::parse(q)?;
    paginate(
        q,
        Source::Indexes(len),
        |i| filter.matches(meta(i)) && extra(i),
        build,
    )
    .map(Json)
}

/// Employees or employments: in `modified_at` order from the organization's ordered index, so a
/// page costs O(log N + page) whatever the size and `modified_after`/`modified_before` window.
fn employee_list<T: Serialize>(
    sb: &Sandbox,
    account: &Account,
    q: &HashMap<String, String>,
    build: impl Fn(&View<'_>, usize) -> T,
) -> ApiResult<wire::Paginated<T>> {
    let filter = CommonFilter::parse(q)?;
    let status = param(q, "employment_status");
    let remote_id = param(q, "remote_id");
    sb.with_view(&account.id, |view| {
        let source = match remote_id {
            Some(r) => match employee_index_of_remote_id(r).filter(|&i| view.exists(i)) {
                Some(i) => {
                    let pos = (millis(view.record(i).modified), i);
                    Source::Ordered {
                        set: view.order(),
                        lower: Bound::Included(pos),
                        upper: Bound::Included(pos),
                    }
                }
                None => Source::Indexes(0),
            },
            None => Source::Ordered {
                set: view.order(),
                lower: filter.modified_after.map_or(Bound::Unbounded, |t| {
                    Bound::Excluded((millis(t), usize::MAX))
                }),
                upper: filter
                    .modified_before
                    .map_or(Bound::Unbounded, |t| Bound::Excluded((millis(t) + 1, 0))),
            },
        };
        paginate(
            q,
            source,
            |i| {
                filter.matches(view.record(i))
                    && status.is_none_or(|s| s == view.employment_status(i))
            },
            |i| build(view, i),
        )
    })
    .ok_or_else(invalid_account_token)?
    .map(Json)
}

async fn employees(
    State(sb): Shared,
    Linked(account): Linked,
    Query(q): Params,
) -> ApiResult<wire::Paginated<wire::Employee>> {
    let expand = Expand::parse(param(&q, "expand"));
    employee_list(&sb, &account, &q, |view, i| view.employee(i, &expand))
}

async fn employee(
    State(sb): Shared,
    Linked(account): Linked,
    Path(id): Path<String>,
    Query(q): Params,
) -> ApiResult<wire::Employee> {
    let expand = Expand::parse(param(&q, "expand"));
    sb.with_view(&account.id, |view| {
        view.by_id(&id).map(|i| view.employee(i, &expand))
    })
    .flatten()
    .map(Json)
    .ok_or_else(ApiError::not_found)
}

async fn employments(
    State(sb): Shared,
    Linked(account): Linked,
    Query(q): Params,
) -> ApiResult<wire::Paginated<wire::Employment>> {
    let expand = Expand::parse(param(&q, "expand"));
    employee_list(&sb, &account, &q, |view, i| view.employment(i, &expand))
}

async fn teams(
    State(sb): Shared,
    Linked(account): Linked,
    Query(q): Params,
) -> ApiResult<wire::Paginated<wire::Team>> {
    let org = org_of(&sb, &account);
    let expand = Expand::parse(param(&q, "expand"));
    common_list(
        &q,
        org.team_count(),
        |_| org.static_record(),
        |_| true,
        |i| org.team(i, &expand),
    )
}

async fn locations(
    State(sb): Shared,
    Linked(account): Linked,
    Query(q): Params,
) -> ApiResult<wire::Paginated<wire::Location>> {
    let org = org_of(&sb, &account);
    let kind = param(&q, "location_type");
    common_list(
        &q,
        org.location_count(),
        |_| org.static_record(),
        |_| kind.is_none_or(|k| k == "WORK"),
        |i| org.location(i),
    )
}

async fn groups(
    State(sb): Shared,
    Linked(account): Linked,
    Query(q): Params,
) -> ApiResult<wire::Paginated<wire::Group>> {
    let org = org_of(&sb, &account);
    let team_only = param(&q, "is_commonly_used_as_team");
    common_list(
        &q,
        org.group_count(),
        |_| org.static_record(),
        |_| team_only != Some("true"),
        |i| org.group(i),
    )
}

/// A page boundary: a position in list order, the direction, and the page number it leads to.
/// A forward cursor's page starts after `pos`; a backward cursor's page ends before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Cursor {
    forward: bool,
    pos: Pos,
    /// 1-based number of the page this cursor asks for, counted from the walk's first page (what
    /// a fault's `page` matches).
    page: u32,
}

impl Cursor {
    /// Opaque to clients, like Merge's base64 cursors.
    fn encode(self) -> String {
        let dir = if self.forward { 'n' } else { 'p' };
        let (ms, i) = self.pos;
        URL_SAFE_NO_PAD.encode(format!("{dir}.{ms}.{i}.{}", self.page))
    }

    fn decode(s: &str) -> Option<Self> {
        let raw = String::from_utf8(URL_SAFE_NO_PAD.decode(s.trim_end_matches('=')).ok()?).ok()?;
        let mut parts = raw.split('.');
        let forward = match parts.next()? {
            "n" => true,
            "p" => false,
            _ => return None,
        };
        let ms = parts.next()?.parse().ok()?;
        let i = parts.next()?.parse().ok()?;
        let page = parts.next()?.parse().ok().filter(|p| *p >= 1)?;
        parts.next().is_none().then_some(Cursor {
            forward,
            pos: (ms, i),
            page,
        })
    }
}

/// The records of a list, in order.
enum Source<'a> {
    /// Records `0..len`, in index order (all modified at once: teams, locations, groups, …).
    Indexes(usize),
    /// The positions of `set` between the bounds.
    Ordered {
        set: &'a BTreeSet<Pos>,
        lower: Bound<Pos>,
        upper: Bound<Pos>,
    },
}

type Positions<'a> = Box<dyn Iterator<Item = Pos> + 'a>;

fn satisfies_lower(p: Pos, b: Bound<Pos>) -> bool {
    match b {
        Bound::Included(l) => p >= l,
        Bound::Excluded(l) => p > l,
        Bound::Unbounded => true,
    }
}

fn satisfies_upper(p: Pos, b: Bound<Pos>) -> bool {
    match b {
        Bound::Included(u) => p <= u,
        Bound::Excluded(u) => p < u,
        Bound::Unbounded => true,
    }
}

/// `set.range` without its panics on empty or inverted ranges.
fn range(set: &BTreeSet<Pos>, lower: Bound<Pos>, upper: Bound<Pos>) -> Option<Range<'_, Pos>> {
    use Bound::*;
    let empty = match (lower, upper) {
        (Included(a), Included(b)) => a > b,
        (Included(a) | Excluded(a), Included(b) | Excluded(b)) => a >= b,
        _ => false,
    };
    (!empty).then(|| set.range((lower, upper)))
}

impl Source<'_> {
    /// Positions after `after` (all, when `None`), ascending.
    fn forward(&self, after: Option<Pos>) -> Positions<'_> {
        match *self {
            Source::Indexes(len) => {
                let from = after.map_or(0, |(_, i)| i.saturating_add(1));
                Box::new((from.min(len)..len).map(|i| (0, i)))
            }
            Source::Ordered { set, lower, upper } => {
                let lower = match after {
                    Some(p) if satisfies_lower(p, lower) => Bound::Excluded(p),
                    _ => lower,
                };
                Box::new(range(set, lower, upper).into_iter().flatten().copied())
            }
        }
    }

    /// Positions before `before`, descending.
    fn backward(&self, before: Pos) -> Positions<'_> {
        match *self {
            Source::Indexes(len) => Box::new((0..before.1.min(len)).rev().map(|i| (0, i))),
            Source::Ordered { set, lower, upper } => {
                let upper = if satisfies_upper(before, upper) {
                    Bound::Excluded(before)
                } else {
                    upper
                };
                Box::new(
                    range(set, lower, upper)
                        .into_iter()
                        .flatten()
                        .rev()
                        .copied(),
                )
            }
        }
    }
}

const DEFAULT_PAGE_SIZE: usize = 30;
const MAX_PAGE_SIZE: usize = 100;

/// DRF cursor pagination over `source`, keeping the indexes `keep` accepts. `next`/`previous`
/// are bare cursors, as in Merge's documented examples. A cursor is a position in list order, so
/// it stays valid while records change between pages: a record modified meanwhile moves to the
/// end (and is returned again there), none is skipped.
fn paginate<T>(
    q: &HashMap<String, String>,
    source: Source<'_>,
    keep: impl Fn(usize) -> bool,
    build: impl Fn(usize) -> T,
) -> Result<wire::Paginated<T>, ApiError> {
    let size = param(q, "page_size")
        .and_then(|s| s.parse::<usize>().ok())
        .filter(|n| *n > 0)
        .unwrap_or(DEFAULT_PAGE_SIZE);
    let size = size.min(MAX_PAGE_SIZE);
    let cursor = match param(q, "cursor") {
        Some(c) => Some(
            Cursor::decode(c)
                .ok_or_else(|| ApiError::detail(StatusCode::NOT_FOUND, "Invalid cursor"))?,
        ),
        None => None,
    };
    let page_no = cursor.map_or(1, |c| c.page);
    let kept = |p: &Pos| keep(p.1);
    let to_next = |last: Pos| Cursor {
        forward: true,
        pos: last,
        page: page_no.saturating_add(1),
    };
    let to_previous = |first: Pos| Cursor {
        forward: false,
        pos: first,
        page: page_no.saturating_sub(1).max(1),
    };
    let (page, next, previous) = match cursor {
        Some(Cursor {
            forward: false,
            pos,
            ..
        }) => {
            let mut found = source.backward(pos).filter(kept);
            let mut page: Vec<Pos> = found.by_ref().take(size).collect();
            page.reverse();
            let previous = match (page.first(), found.next()) {
                (Some(&first), Some(_)) => Some(to_previous(first)),
                _ => None,
            };
            let last = page.last().copied().unwrap_or(pos);
            let next = source.forward(Some(last)).find(kept).map(|_| to_next(last));
            (page, next, previous)
        }
        forward => {
            let after = forward.map(|c| c.pos);
            let mut found = source.forward(after).filter(kept);
            let page: Vec<Pos> = found.by_ref().take(size).collect();
            let next = match (page.last(), found.next()) {
                (Some(&last), Some(_)) => Some(to_next(last)),
                _ => None,
            };
            let previous = page
                .first()
                .filter(|&&first| source.backward(first).any(|p| kept(&p)))
                .map(|&first| to_previous(first));
            (page, next, previous)
        }
    };
    Ok(wire::Paginated {
        next: next.map(Cursor::encode),
        previous: previous.map(Cursor::encode),
        results: page.into_iter().map(|(_, i)| build(i)).collect(),
    })
}

/// Marks an account as needing relink, as a revoked credential in the HR system would.
pub fn set_relink_needed(sb: &Sandbox, account_id: &str) -> bool {
    let mut inner = sb.lock();
    match inner.account_mut(account_id) {
        Some(a) => {
            a.status = LinkStatus::RelinkNeeded;
            a.status_detail = Some("Invalid login credentials".to_string());
            true
        }
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip() {
        for c in [
            Cursor {
                forward: true,
                pos: (0, 0),
                page: 1,
            },
            Cursor {
                forward: true,
                pos: (1_700_000_000_123, 99_999),
                page: 1000,
            },
            Cursor {
                forward: false,
                pos: (-5, 7),
                page: 2,
            },
        ] {
            assert_eq!(Cursor::decode(&c.encode()), Some(c));
        }
        assert_eq!(Cursor::decode("not a cursor"), None);
        assert_eq!(Cursor::decode(&URL_SAFE_NO_PAD.encode("n.1.2.0")), None);
    }

    fn q(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn pages_forward_and_back() {
        let three = q(&[("page_size", "3")]);
        let first = paginate(&three, Source::Indexes(10), |i| i % 2 == 0, |i| i).unwrap();
        assert_eq!(first.results, vec![0, 2, 4]);
        assert!(first.previous.is_none());
        let mut q2 = three.clone();
        q2.insert("cursor".into(), first.next.clone().unwrap());
        let second = paginate(&q2, Source::Indexes(10), |i| i % 2 == 0, |i| i).unwrap();
        assert_eq!(second.results, vec![6, 8]);
        assert!(second.next.is_none());
        q2.insert("cursor".into(), second.previous.unwrap());
        assert_eq!(
            paginate(&q2, Source::Indexes(10), |i| i % 2 == 0, |i| i)
                .unwrap()
                .results,
            vec![0, 2, 4]
        );
    }

    #[test]
    fn ordered_pages_survive_changes_between_pages() {
        // Five records at times 10..50 (ms); page size 2.
        let mut set: BTreeSet<Pos> = (0..5).map(|i| (10 * (i as i64 + 1), i)).collect();
        fn all(set: &BTreeSet<Pos>) -> Source<'_> {
            Source::Ordered {
                set,
                lower: Bound::Unbounded,
                upper: Bound::Unbounded,
            }
        }
        let two = q(&[("page_size", "2")]);
        let first = paginate(&two, all(&set), |_| true, |i| i).unwrap();
        assert_eq!(first.results, vec![0, 1]);
        // Record 0 (already read) and record 3 (not yet read) change: both move to the end.
        set.remove(&(10, 0));
        set.insert((60, 0));
        set.remove(&(40, 3));
        set.insert((61, 3));
        let mut seen = first.results.clone();
        let mut cursor = first.next;
        let mut pages = 1;
        while let Some(c) = cursor {
            let page = paginate(
                &q(&[("page_size", "2"), ("cursor", &c)]),
                all(&set),
                |_| true,
                |i| i,
            )
            .unwrap();
            pages += 1;
            assert_eq!(Cursor::decode(&c).unwrap().page, pages);
            seen.extend(page.results);
            cursor = page.next;
        }
        // Nothing skipped; the changed ones come again at the end, in modified_at order.
        assert_eq!(seen, vec![0, 1, 2, 4, 0, 3]);

        // A window: after 20 ms, before 50 ms.
        let window = Source::Ordered {
            set: &set,
            lower: Bound::Excluded((20, usize::MAX)),
            upper: Bound::Excluded((50, 0)),
        };
        assert_eq!(
            paginate(&two, window, |_| true, |i| i).unwrap().results,
            vec![2]
        );
        // An empty or inverted window is no panic.
        let inverted = Source::Ordered {
            set: &set,
            lower: Bound::Excluded((50, usize::MAX)),
            upper: Bound::Excluded((20, 0)),
        };
        assert!(paginate(&two, inverted, |_| true, |i| i)
            .unwrap()
            .results
            .is_empty());
    }
}

//! The directory API for the host platform's backend: `GET /v1/employees`, `/v1/teams`,
//! `/v1/locations` with `Authorization: Bearer <host token with read_directory>`. The rules (who,
//! which query, which JSON) are `app::domain::sync::directory_api`'s; this module only routes.
//!
//! Without a host-token key configured the API is off: 404.

use axum::{
    extract::{RawQuery, State},
    http::{header, HeaderMap, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
    routing::get,
    Json, Router,
};
use serde::Serialize;

use app::{
    domain::sync::directory_api::{self as api, DirectoryError, List, ListParams},
    model::OrganizationId,
    state::AppState,
};

pub const EMPLOYEES: &str = "/v1/employees";
pub const TEAMS: &str = "/v1/teams";
pub const LOCATIONS: &str = "/v1/locations";

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(EMPLOYEES, get(employees))
        .route(TEAMS, get(teams))
        .route(LOCATIONS, get(locations))
}

/// An answer of the API: a page, or an error with its status (and challenge on 401).
struct Answer<T>(Result<T, DirectoryError>);

impl<T: Serialize> IntoResponse for Answer<T> {
    fn into_response(self) -> Response {
        let mut res = match self.0 {
            Ok(page) => Json(page).into_response(),
            Err(e) => {
                match &e {
                    DirectoryError::Unauthorized(why) => {
                        tracing::info!(%why, "directory API: token refused")
                    }
                    DirectoryError::InvalidParameter { .. } => {
                        tracing::debug!(error = %e, "directory API: bad request")
                    }
                    _ => {}
                }
                let status =
                    StatusCode::from_u16(e.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
                let mut res = (status, Json(e.body())).into_response();
                if let Some(challenge) = e.challenge() {
                    res.headers_mut().insert(
                        header::WWW_AUTHENTICATE,
                        HeaderValue::from_static(challenge),
                    );
                }
                res
            }
        };
        // People's data: never kept by caches in between.
        res.headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        res
    }
}

/// The caller's organization, then the parameters (a caller without a token learns nothing about
/// the query's rules).
fn request(
    state: &AppState,
    headers: &HeaderMap,
    query: Option<&str>,
    list: List,
) -> Result<(OrganizationId, ListParams), DirectoryError> {
    let authorization = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    let org_id = api::authorize(
        state.host_tokens.as_deref(),
        authorization,
        app::storage::now_ms() / 1000,
    )?;
    Ok((org_id, ListParams::from_query(query, list)?))
}

async fn employees(
    State(state): State<AppState>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let answer = match request(&state, &headers, query.as_deref(), List::Employees) {
        Ok((org, params)) => api::employees(&state.db, &org, &params).await,
        Err(e) => Err(e),
    };
    Answer(answer).into_response()
}

async fn teams(
    State(state): State<AppState>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let answer = match request(&state, &headers, query.as_deref(), List::Teams) {
        Ok((org, params)) => api::teams(&state.db, &org, &params).await,
        Err(e) => Err(e),
    };
    Answer(answer).into_response()
}

async fn locations(
    State(state): State<AppState>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let answer = match request(&state, &headers, query.as_deref(), List::Locations) {
        Ok((org, params)) => api::locations(&state.db, &org, &params).await,
        Err(e) => Err(e),
    };
    Answer(answer).into_response()
}

//! Operations endpoints: `/healthz` (the process is up) and `/readyz` (the database answers).

use axum::{extract::State, http::StatusCode, response::IntoResponse};

use app::state::AppState;

pub async fn healthz() -> impl IntoResponse {
    (StatusCode::OK, "ok")
}

pub async fn readyz(State(state): State<AppState>) -> impl IntoResponse {
    if state.db.ping().await {
        (StatusCode::OK, "ready")
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "database unreachable")
    }
}

//! `GET /metrics` (Prometheus text format) on a listener of its own, `HRIS_METRICS_ADDR`: it is
//! never routed on the public port. Metric names live in `app::telemetry`; this module serves the
//! recorder's rendering and samples what is read at scrape time (the database pool, the sync runs
//! queued and running, the removals held).

use app::{
    storage::Db,
    telemetry::{self, PrometheusHandle},
};
use axum::{
    extract::State,
    http::{header, HeaderValue},
    response::{IntoResponse, Response},
    routing::get,
    Router,
};

/// The Prometheus text exposition format's content type.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// What the scrape needs.
#[derive(Clone)]
pub struct Scrape {
    pub handle: PrometheusHandle,
    pub db: Db,
}

/// The metrics listener's routes: `GET /metrics` only (anything else is 404).
pub fn router(scrape: Scrape) -> Router {
    Router::new()
        .route("/metrics", get(render))
        .with_state(scrape)
}

async fn render(State(scrape): State<Scrape>) -> Response {
    let (in_use, idle) = scrape.db.pool_connections();
    telemetry::db_pool(in_use, idle);
    match scrape.db.sync_gauges().await {
        Ok((queued, running, held)) => {
            telemetry::sync_runs_in_state(queued as u64, running as u64);
            telemetry::sync_held_removals(held as u64);
        }
        // The scrape still answers; the gauges keep their last values.
        Err(e) => tracing::warn!(error = %e, "metrics: sync gauges not readable"),
    }
    (
        [(header::CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE))],
        scrape.handle.render(),
    )
        .into_response()
}

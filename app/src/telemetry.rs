//! Prometheus metrics: the one place metric names, labels and help texts live.
//!
//! Code records through the functions below (the `metrics` facade); without an installed recorder
//! (no `HRIS_METRICS_ADDR`) they cost next to nothing. [`install`] installs the
//! `metrics-exporter-prometheus` recorder once per process; the server renders its handle on its
//! metrics listener. Label values are fixed sets or templates chosen here, never raw paths, ids or
//! tokens.

use std::{sync::OnceLock, time::Instant};

use metrics::{counter, describe_counter, describe_gauge, describe_histogram, gauge, histogram};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder};

pub use metrics::Unit;
pub use metrics_exporter_prometheus::PrometheusHandle;

/// Prefix of the HTTP request families; the layer (`axum-prometheus`) appends
/// `_http_requests_total`, `_http_requests_duration_seconds` and `_http_requests_pending`.
pub const HTTP_PREFIX: &str = "hris";
/// Requests served, by `method`, `endpoint` (the route template, `fallback` when no route matched)
/// and `status`.
pub const HTTP_REQUESTS: &str = "hris_http_requests_total";
pub const HTTP_DURATION: &str = "hris_http_requests_duration_seconds";
pub const HTTP_PENDING: &str = "hris_http_requests_pending";

/// Requests sent to Merge, by `method`, `endpoint` (e.g. `/hris/v1/employees`) and `outcome`.
pub const PROVIDER_REQUESTS: &str = "hris_provider_requests_total";
pub const PROVIDER_DURATION: &str = "hris_provider_request_duration_seconds";
pub const PROVIDER_RETRIES: &str = "hris_provider_retries_total";

pub const WEBHOOK_DELIVERIES: &str = "hris_webhook_deliveries_total";

pub const DB_POOL_CONNECTIONS: &str = "hris_db_pool_connections";

pub const SYNC_RUNS_TOTAL: &str = "hris_sync_runs_total";
pub const SYNC_RECORDS_APPLIED: &str = "hris_sync_records_applied_total";
pub const SYNC_RUNS: &str = "hris_sync_runs";
pub const SYNC_HELD_REMOVALS: &str = "hris_sync_held_removals";

pub const HEALTH_CHECKS: &str = "hris_health_checks_total";

/// Upper bounds (seconds) of the latency histograms: from a cached page to a slow provider call
/// near the interactive budget (20 s).
pub const LATENCY_BUCKETS: &[f64] = &[
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0,
];

/// Outcomes of one request to Merge.
pub mod outcome {
    pub const OK: &str = "ok";
    pub const CLIENT_ERROR: &str = "4xx";
    pub const SERVER_ERROR: &str = "5xx";
    pub const RATE_LIMITED: &str = "429";
    /// The attempt's timeout, a 408, or the call's budget ran out while it was in flight.
    pub const TIMEOUT: &str = "timeout";
    /// No answer: connection refused or reset, body cut off.
    pub const NETWORK: &str = "network";
}

/// Outcomes of a received webhook delivery (what the receiver answered and why).
pub mod webhook {
    /// Acted on (or a known event that needed nothing): 200.
    pub const HANDLED: &str = "handled";
    /// The same delivery again: 200 "already handled".
    pub const DUPLICATE: &str = "duplicate";
    /// The same delivery is being handled right now: 503, Merge retries.
    pub const IN_PROGRESS: &str = "in_progress";
    /// Signed but not applicable (not JSON, input that can never be handled): 200 "ignored".
    pub const IGNORED: &str = "ignored";
    /// A transient failure: 503, Merge retries.
    pub const FAILED: &str = "failed";
    /// No signature header: 401.
    pub const UNSIGNED: &str = "unsigned";
    /// A signature no configured key made: 401.
    pub const BAD_SIGNATURE: &str = "bad_signature";
}

/// Says once, at start, what every family means: name, unit and help text.
pub fn describe() {
    describe_counter!(
        HTTP_REQUESTS,
        Unit::Count,
        "HTTP requests served, by method, route template (endpoint) and status."
    );
    describe_histogram!(HTTP_DURATION, Unit::Seconds, "Time to serve an HTTP request (to the response head), by method, route template and status.");
    describe_gauge!(
        HTTP_PENDING,
        Unit::Count,
        "HTTP requests being served now, by method and route template."
    );
    describe_counter!(PROVIDER_REQUESTS, Unit::Count, "Requests sent to Merge (each retry counts), by method, endpoint template and outcome (ok, 4xx, 5xx, 429, timeout, network).");
    describe_histogram!(
        PROVIDER_DURATION,
        Unit::Seconds,
        "Time of one request to Merge, by method, endpoint template and outcome."
    );
    describe_counter!(PROVIDER_RETRIES, Unit::Count, "Retries of Merge requests (after a 429, 5xx, timeout or network failure), by method and endpoint template.");
    describe_counter!(WEBHOOK_DELIVERIES, Unit::Count, "Merge webhook deliveries received, by event and outcome (handled, duplicate, in_progress, ignored, failed, unsigned, bad_signature).");
    describe_gauge!(
        DB_POOL_CONNECTIONS,
        Unit::Count,
        "Database pool connections, by state (in_use, idle), sampled at scrape time."
    );
    describe_counter!(
        SYNC_RUNS_TOTAL,
        Unit::Count,
        "Employee sync runs finished, by outcome."
    );
    describe_counter!(
        SYNC_RECORDS_APPLIED,
        Unit::Count,
        "Records a sync applied, by stream."
    );
    describe_gauge!(
        SYNC_RUNS,
        Unit::Count,
        "Sync runs by state (queued, running)."
    );
    describe_gauge!(
        SYNC_HELD_REMOVALS,
        Unit::Count,
        "Removals a sync holds back for review."
    );
    describe_counter!(
        HEALTH_CHECKS,
        Unit::Count,
        "Connection health checks, by outcome."
    );
}

/// The Prometheus recorder with this app's histogram buckets, not installed.
pub fn builder() -> PrometheusBuilder {
    PrometheusBuilder::new()
        .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), LATENCY_BUCKETS)
        .expect("the bucket list is not empty")
}

/// Installs the Prometheus recorder for the whole process (once; later calls return the same
/// handle) and describes every family. `None` when another recorder was installed first.
pub fn install() -> Option<PrometheusHandle> {
    static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();
    HANDLE
        .get_or_init(|| match builder().install_recorder() {
            Ok(handle) => {
                describe();
                Some(handle)
            }
            Err(e) => {
                tracing::error!(error = %e, "cannot install the metrics recorder");
                None
            }
        })
        .clone()
}

/// One request to Merge, measured from its start; recorded when dropped, so that an attempt
/// abandoned by the call's budget counts as a timeout.
pub struct ProviderRequest {
    method: &'static str,
    endpoint: &'static str,
    started: Instant,
    outcome: Option<&'static str>,
}

impl ProviderRequest {
    /// `endpoint` is the path template below the API base, e.g. `/hris/v1/account-token/{public_token}`.
    pub fn start(method: &'static str, endpoint: &'static str) -> Self {
        ProviderRequest {
            method,
            endpoint,
            started: Instant::now(),
            outcome: None,
        }
    }

    /// How the request ended (see [`outcome`]); the last one set counts.
    pub fn set_outcome(&mut self, outcome: &'static str) {
        self.outcome = Some(outcome);
    }

    /// The outcome of an HTTP answer's status.
    pub fn outcome_of_status(status: u16) -> &'static str {
        match status {
            200..=299 => outcome::OK,
            429 => outcome::RATE_LIMITED,
            408 => outcome::TIMEOUT,
            500..=599 => outcome::SERVER_ERROR,
            _ => outcome::CLIENT_ERROR,
        }
    }
}

impl Drop for ProviderRequest {
    fn drop(&mut self) {
        let outcome = self.outcome.unwrap_or(outcome::TIMEOUT);
        let labels = [
            ("method", self.method),
            ("endpoint", self.endpoint),
            ("outcome", outcome),
        ];
        counter!(PROVIDER_REQUESTS, &labels).increment(1);
        histogram!(PROVIDER_DURATION, &labels).record(self.started.elapsed().as_secs_f64());
    }
}

/// A Merge request is tried again.
pub fn provider_retry(method: &'static str, endpoint: &'static str) {
    counter!(PROVIDER_RETRIES, "method" => method, "endpoint" => endpoint).increment(1);
}

/// The events a webhook is labelled with: Merge's linked-account events by name, anything else as
/// `other` (the event name comes from the body, so it is never used as it came).
pub fn webhook_event_label(event: &str) -> &'static str {
    match event {
        "LinkedAccount.linked" => "LinkedAccount.linked",
        "LinkedAccount.sync_completed" => "LinkedAccount.sync_completed",
        "LinkedAccount.deleted" => "LinkedAccount.deleted",
        "LinkedAccount.sync_failed" => "LinkedAccount.sync_failed",
        "" => "unknown",
        _ => "other",
    }
}

/// A webhook delivery was answered; `event` as in the body (`""` when unread), `outcome` one of
/// [`webhook`].
pub fn webhook_received(event: &str, outcome: &'static str) {
    counter!(WEBHOOK_DELIVERIES, "event" => webhook_event_label(event), "outcome" => outcome)
        .increment(1);
}

/// The database pool right now.
pub fn db_pool(in_use: u64, idle: u64) {
    gauge!(DB_POOL_CONNECTIONS, "state" => "in_use").set(in_use as f64);
    gauge!(DB_POOL_CONNECTIONS, "state" => "idle").set(idle as f64);
}

/// A sync run ended, by its outcome: `done`, `held`, `partial`, `provider_failed`, `unauthorized`, `failed`.
pub fn sync_run_finished(outcome: &'static str) {
    counter!(SYNC_RUNS_TOTAL, "outcome" => outcome).increment(1);
}

/// A sync applied `n` records of one stream, e.g. `employees`.
pub fn sync_records_applied(stream: &'static str, n: u64) {
    counter!(SYNC_RECORDS_APPLIED, "stream" => stream).increment(n);
}

/// How many sync runs are queued and running now.
pub fn sync_runs_in_state(queued: u64, running: u64) {
    gauge!(SYNC_RUNS, "state" => "queued").set(queued as f64);
    gauge!(SYNC_RUNS, "state" => "running").set(running as f64);
}

/// How many removals syncs hold back now.
pub fn sync_held_removals(n: u64) {
    gauge!(SYNC_HELD_REMOVALS).set(n as f64);
}

/// A connection's health was checked, e.g. `works`, `broken`.
pub fn health_checked(outcome: &'static str) {
    counter!(HEALTH_CHECKS, "outcome" => outcome).increment(1);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every function records under its family, with HELP and TYPE, through a recorder of its own.
    #[test]
    fn every_family_renders_with_help_and_type() {
        let recorder = builder().build_recorder();
        let handle = recorder.handle();
        metrics::with_local_recorder(&recorder, || {
            describe();
            let mut ok = ProviderRequest::start("GET", "/hris/v1/employees");
            ok.set_outcome(ProviderRequest::outcome_of_status(200));
            drop(ok);
            // Abandoned before it ended: a timeout.
            drop(ProviderRequest::start(
                "GET",
                "/hris/v1/account-token/{public_token}",
            ));
            provider_retry("GET", "/hris/v1/employees");
            webhook_received("LinkedAccount.linked", webhook::HANDLED);
            webhook_received("Evil\n{label}", webhook::IGNORED);
            db_pool(1, 3);
            sync_run_finished("succeeded");
            sync_records_applied("employees", 42);
            sync_runs_in_state(2, 1);
            sync_held_removals(5);
            health_checked("works");
        });
        let text = handle.render();
        for (family, kind) in [
            (PROVIDER_REQUESTS, "counter"),
            (PROVIDER_DURATION, "histogram"),
            (PROVIDER_RETRIES, "counter"),
            (WEBHOOK_DELIVERIES, "counter"),
            (DB_POOL_CONNECTIONS, "gauge"),
            (SYNC_RUNS_TOTAL, "counter"),
            (SYNC_RECORDS_APPLIED, "counter"),
            (SYNC_RUNS, "gauge"),
            (SYNC_HELD_REMOVALS, "gauge"),
            (HEALTH_CHECKS, "counter"),
        ] {
            assert!(
                text.contains(&format!("# TYPE {family} {kind}\n")),
                "{family}:\n{text}"
            );
            assert!(
                text.contains(&format!("# HELP {family} ")),
                "{family}:\n{text}"
            );
        }
        for sample in [
            r#"hris_provider_requests_total{method="GET",endpoint="/hris/v1/employees",outcome="ok"} 1"#,
            r#"hris_provider_requests_total{method="GET",endpoint="/hris/v1/account-token/{public_token}",outcome="timeout"} 1"#,
            r#"hris_provider_request_duration_seconds_bucket{method="GET",endpoint="/hris/v1/employees",outcome="ok",le="20"} 1"#,
            r#"hris_provider_retries_total{method="GET",endpoint="/hris/v1/employees"} 1"#,
            r#"hris_webhook_deliveries_total{event="LinkedAccount.linked",outcome="handled"} 1"#,
            r#"hris_webhook_deliveries_total{event="other",outcome="ignored"} 1"#,
            r#"hris_db_pool_connections{state="in_use"} 1"#,
            r#"hris_db_pool_connections{state="idle"} 3"#,
            r#"hris_sync_runs_total{outcome="succeeded"} 1"#,
            r#"hris_sync_records_applied_total{stream="employees"} 42"#,
            r#"hris_sync_runs{state="queued"} 2"#,
            r#"hris_sync_runs{state="running"} 1"#,
            "hris_sync_held_removals 5",
            r#"hris_health_checks_total{outcome="works"} 1"#,
        ] {
            assert!(text.contains(sample), "{sample}:\n{text}");
        }
        assert!(!text.contains("Evil"), "body text never becomes a label");
    }

    #[test]
    fn statuses_map_to_outcomes() {
        let of = ProviderRequest::outcome_of_status;
        assert_eq!(
            [
                of(200),
                of(204),
                of(401),
                of(404),
                of(429),
                of(408),
                of(500),
                of(503)
            ],
            ["ok", "ok", "4xx", "4xx", "429", "timeout", "5xx", "5xx"]
        );
    }
}

//! `GET /metrics` on its own listener (`HRIS_METRICS_ADDR`): the real server (`startup::prepare`
//! and `startup::serve`, both listeners) against the Merge sandbox. Flows over HTTP (a page, server
//! functions, Link, Test Connection through a rate limit, the sandbox's signed webhook and an
//! unsigned one), then a scrape: every family with its HELP and TYPE, route templates and outcomes
//! as labels, no raw path and no secret anywhere, and no `/metrics` on the public port.
//!
//! Its own test binary: the recorder is process-wide.

mod common;

use std::{collections::HashMap, time::Duration};

use merge_sandbox::SandboxConfig;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use server::{config::Config, startup};

const API_KEY: &str = "sandbox-api-key-for-metrics";

struct Served {
    base: String,
    metrics: String,
    sandbox: String,
    http: reqwest::Client,
    _sandbox: merge_sandbox::SandboxHandle,
    dir: std::path::PathBuf,
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

impl Served {
    async fn start() -> Served {
        let sandbox = merge_sandbox::spawn(
            SandboxConfig {
                api_key: API_KEY.into(),
                ..SandboxConfig::default()
            },
            tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap(),
        )
        .await
        .unwrap();
        let dir = std::env::temp_dir().join(format!("hris-metrics-{}", uuid::Uuid::new_v4()));
        let vars: HashMap<&str, String> = [
            ("HRIS_DATA_DIR", dir.display().to_string()),
            ("HRIS_BIND_ADDR", "127.0.0.1:0".into()),
            ("HRIS_METRICS_ADDR", "127.0.0.1:0".into()),
            ("MERGE_API_BASE_URL", sandbox.api_base_url()),
            ("MERGE_API_KEY", API_KEY.into()),
            ("MERGE_LINK_SCRIPT_URL", sandbox.link_script_url()),
        ]
        .into();
        let config = Config::from_lookup(|k| vars.get(k).cloned()).unwrap();
        let prepared = startup::prepare(&config).await.unwrap();
        let base = prepared.state.settings.public_url.clone();
        let signing_key = prepared.state.settings.webhook_keys[0].clone();
        let metrics = format!(
            "http://{}/metrics",
            prepared
                .metrics
                .as_ref()
                .expect("HRIS_METRICS_ADDR opens a listener")
                .listener
                .local_addr()
                .unwrap()
        );
        tokio::spawn(startup::serve(prepared));
        let served = Served {
            base,
            metrics,
            sandbox: sandbox.public_url.clone(),
            http: common::test_client(true),
            _sandbox: sandbox,
            dir,
        };
        served
            .control(
                Method::PUT,
                "/webhook",
                json!({"url": format!("{}/webhooks/merge", served.base), "signing_key": signing_key}),
            )
            .await;
        served
    }

    async fn control(&self, method: Method, path: &str, body: Value) -> Value {
        let res = self
            .http
            .request(method, format!("{}/sandbox{path}", self.sandbox))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert!(
            res.status().is_success(),
            "sandbox {path}: {}",
            res.status()
        );
        res.json().await.unwrap_or(Value::Null)
    }

    /// A server function as the browser posts it; returns the JSON answer.
    async fn call(&self, path: &str, form: &[(&str, &str)], cookie: &str) -> Value {
        let res = self
            .http
            .post(format!("{}/api/{path}", self.base))
            .header("cookie", cookie)
            .form(form)
            .send()
            .await
            .unwrap();
        let status = res.status();
        let body = res.text().await.unwrap();
        assert_eq!(status, StatusCode::OK, "{path}: {body}");
        serde_json::from_str(&body).unwrap_or(Value::Null)
    }

    async fn scrape(&self) -> String {
        let res = self.http.get(&self.metrics).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(
            res.headers()["content-type"],
            server::metrics::CONTENT_TYPE,
            "Prometheus text format"
        );
        res.text().await.unwrap()
    }
}

/// The value of the sample of `family` whose labels include every one of `labels`.
fn sample(text: &str, family: &str, labels: &[(&str, &str)]) -> Option<f64> {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| {
            let (name_labels, value) = l.rsplit_once(' ')?;
            let (name, rest) = name_labels.split_once('{').unwrap_or((name_labels, "}"));
            (name == family
                && labels
                    .iter()
                    .all(|(k, v)| rest.contains(&format!("{k}=\"{v}\""))))
            .then(|| value.parse().ok())?
        })
        .reduce(|a, b| a + b)
}

#[tokio::test]
async fn metrics_show_every_family_on_their_own_listener_only() {
    let app = Served::start().await;

    // The public port has no /metrics (a page not found), the metrics port nothing but it.
    let res = app
        .http
        .get(format!("{}/metrics", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let res = app
        .http
        .get(app.metrics.replace("/metrics", "/healthz"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);

    // A page, a page that does not exist (its path must not become a label), server functions.
    let res = app
        .http
        .get(format!("{}/signin", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let secret_path = "/no-such-page-7f3a9c";
    let res = app
        .http
        .get(format!("{}{secret_path}", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let res = app
        .http
        .post(format!("{}/api/session/dev_sign_in", app.base))
        .form(&[("user_id", "alice"), ("organization", "Metrics Inc.")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let cookie = res.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string();
    app.call("hris/set_enabled", &[("enabled", "true")], &cookie)
        .await;

    // Link (the link token, the public token's exchange), then Test Connection through one 429.
    let session = app
        .call(
            "connections/start",
            &[("slug", "personio"), ("name", "Metrics HR")],
            &cookie,
        )
        .await;
    let conn_id = session["connection_id"].as_str().unwrap().to_string();
    let link_token = session["link_token"].as_str().unwrap().to_string();
    let completed = app
        .control(
            Method::POST,
            &format!("/link-tokens/{link_token}/complete"),
            json!({"integration": "personio"}),
        )
        .await;
    let public_token = completed["public_token"].as_str().unwrap().to_string();
    app.call(
        "connections/finish_link",
        &[("id", &conn_id), ("public_token", &public_token)],
        &cookie,
    )
    .await;
    let accounts = app.control(Method::GET, "/accounts", Value::Null).await;
    let account = accounts["results"].as_array().unwrap().last().unwrap();
    let account_token = account["account_token"].as_str().unwrap().to_string();
    app.control(
        Method::POST,
        "/faults",
        json!({"kind": "rate_limited", "account_id": account["id"], "count": 1, "retry_after_secs": 0}),
    )
    .await;
    app.call("connections/test", &[("id", &conn_id)], &cookie)
        .await;

    // An unsigned webhook is refused and counted; the sandbox's signed LinkedAccount.linked (sent
    // when Link completed) is handled: wait for it, a bounded number of scrapes.
    let res = app
        .http
        .post(format!("{}/webhooks/merge", app.base))
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let linked = [("event", "LinkedAccount.linked"), ("outcome", "handled")];
    let mut handled = false;
    for _ in 0..200 {
        if sample(
            &app.scrape().await,
            "hris_webhook_deliveries_total",
            &linked,
        )
        .is_some()
        {
            handled = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(handled, "the signed LinkedAccount.linked was handled");

    // The families other code records (the sync engine, the health watch), through the same
    // functions and the same recorder (end2end/tests/metrics.spec.ts sees them from real runs).
    // The gauges of runs and held removals are sampled from the database at scrape time.
    app::telemetry::sync_run_finished("done");
    app::telemetry::sync_records_applied("employees", 12);
    app::telemetry::health_checked("works");

    let text = app.scrape().await;
    for (family, kind) in [
        ("hris_http_requests_total", "counter"),
        ("hris_http_requests_duration_seconds", "histogram"),
        ("hris_http_requests_pending", "gauge"),
        ("hris_provider_requests_total", "counter"),
        ("hris_provider_request_duration_seconds", "histogram"),
        ("hris_provider_retries_total", "counter"),
        ("hris_webhook_deliveries_total", "counter"),
        ("hris_db_pool_connections", "gauge"),
        ("hris_sync_runs_total", "counter"),
        ("hris_sync_records_applied_total", "counter"),
        ("hris_sync_runs", "gauge"),
        ("hris_sync_held_removals", "gauge"),
        ("hris_health_checks_total", "counter"),
    ] {
        assert!(
            text.contains(&format!("# TYPE {family} {kind}\n")),
            "TYPE of {family}:\n{text}"
        );
        assert!(
            text.contains(&format!("# HELP {family} ")),
            "HELP of {family}:\n{text}"
        );
    }
    let present = |family: &str, labels: &[(&str, &str)]| {
        assert!(
            sample(&text, family, labels).is_some_and(|v| v > 0.0),
            "{family} {labels:?}:\n{text}"
        )
    };
    // HTTP by route template and status; an unmatched path under one label.
    present(
        "hris_http_requests_total",
        &[
            ("method", "GET"),
            ("endpoint", "/signin"),
            ("status", "200"),
        ],
    );
    present(
        "hris_http_requests_total",
        &[
            ("method", "POST"),
            ("endpoint", "/api/session/dev_sign_in"),
            ("status", "200"),
        ],
    );
    present(
        "hris_http_requests_total",
        &[("endpoint", "/webhooks/merge"), ("status", "401")],
    );
    present(
        "hris_http_requests_total",
        &[
            ("method", "GET"),
            ("endpoint", "fallback"),
            ("status", "404"),
        ],
    );
    present(
        "hris_http_requests_duration_seconds_count",
        &[("endpoint", "/api/connections/test"), ("status", "200")],
    );
    // Merge by endpoint template and outcome, the retry after the 429.
    present(
        "hris_provider_requests_total",
        &[
            ("method", "POST"),
            ("endpoint", "/hris/v1/link-token"),
            ("outcome", "ok"),
        ],
    );
    present(
        "hris_provider_requests_total",
        &[
            ("endpoint", "/hris/v1/account-token/{public_token}"),
            ("outcome", "ok"),
        ],
    );
    present(
        "hris_provider_requests_total",
        &[("endpoint", "/hris/v1/account-details"), ("outcome", "429")],
    );
    present(
        "hris_provider_requests_total",
        &[("endpoint", "/hris/v1/account-details"), ("outcome", "ok")],
    );
    present(
        "hris_provider_retries_total",
        &[("endpoint", "/hris/v1/account-details")],
    );
    present(
        "hris_provider_request_duration_seconds_bucket",
        &[("endpoint", "/hris/v1/link-token"), ("le", "+Inf")],
    );
    // Webhooks by outcome, the pool, sync and health.
    present("hris_webhook_deliveries_total", &linked);
    present("hris_webhook_deliveries_total", &[("outcome", "unsigned")]);
    assert!(
        sample(&text, "hris_db_pool_connections", &[("state", "idle")]).is_some()
            && sample(&text, "hris_db_pool_connections", &[("state", "in_use")]).is_some(),
        "{text}"
    );
    present("hris_sync_runs_total", &[("outcome", "done")]);
    present(
        "hris_sync_records_applied_total",
        &[("stream", "employees")],
    );
    // Gauges read from the database at the scrape: nothing is queued or held here, so zeros.
    for (family, labels) in [
        ("hris_sync_runs", &[("state", "queued")][..]),
        ("hris_sync_runs", &[("state", "running")]),
        ("hris_sync_held_removals", &[]),
    ] {
        assert_eq!(
            sample(&text, family, labels),
            Some(0.0),
            "{family} {labels:?}:\n{text}"
        );
    }
    present("hris_health_checks_total", &[("outcome", "works")]);

    // No secret and no raw path: tokens, the key, the session, the unknown page, ids.
    for (what, secret) in [
        ("public token", public_token.as_str()),
        ("account token", account_token.as_str()),
        ("link token", link_token.as_str()),
        ("api key", API_KEY),
        ("session", cookie.split('=').nth(1).unwrap()),
        ("raw path", secret_path),
        ("connection id", conn_id.as_str()),
    ] {
        assert!(!text.contains(secret), "{what} in the scrape:\n{text}");
    }
}

//! A real server environment for tests: configuration, SQLite in a temp dir, the Merge sandbox
//! (in-process, a dev-dependency) on a free port and the real Merge client pointed at it.

#![allow(dead_code)]

use std::{collections::HashMap, sync::Arc, time::Duration};

pub mod sync;

use app::{
    auth::{dev::demo_identity, Identity},
    provider::{MergeClient, RetryPolicy},
    state::AppState,
};
use merge_sandbox::{SandboxConfig, SandboxHandle};
use server::{config::Config, startup};

pub struct TestEnv {
    pub state: AppState,
    /// The job engine's storage (tests start its workers when they need them).
    pub jobs: server::jobs::JobStore,
    pub sandbox_url: String,
    pub http: reqwest::Client,
    dir: std::path::PathBuf,
    sandbox: SandboxHandle,
}

impl Drop for TestEnv {
    fn drop(&mut self) {
        self.sandbox.stop();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn unique() -> String {
    use std::time::{SystemTime, UNIX_EPOCH};
    format!(
        "{}-{}",
        std::process::id(),
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    )
}

impl TestEnv {
    pub async fn start() -> TestEnv {
        Self::start_with(&[]).await
    }

    /// Like `start`, with more (or other) configuration variables, e.g. `DATABASE_URL`.
    pub async fn start_with(extra: &[(&str, String)]) -> TestEnv {
        let dir = std::env::temp_dir().join(format!("hris-test-{}", unique()));
        let api_key = "sandbox-api-key";
        let sandbox = merge_sandbox::spawn(
            SandboxConfig {
                api_key: api_key.into(),
                ..SandboxConfig::default()
            },
            tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap(),
        )
        .await
        .unwrap();
        let mut vars: HashMap<&str, String> = [
            ("HRIS_DATA_DIR", dir.display().to_string()),
            ("HRIS_BIND_ADDR", "127.0.0.1:0".into()),
            ("MERGE_API_BASE_URL", sandbox.api_base_url()),
            ("MERGE_API_KEY", api_key.into()),
            ("MERGE_LINK_SCRIPT_URL", sandbox.link_script_url()),
        ]
        .into();
        vars.extend(extra.iter().map(|(k, v)| (*k, v.clone())));
        let config = Config::from_lookup(|k| vars.get(k).cloned()).unwrap();
        let prepared = startup::prepare(&config).await.unwrap();
        let sandbox_url = sandbox.public_url.clone();
        let jobs = prepared.jobs;
        let mut state = prepared.state;
        // Same client, quicker retries, so fault tests do not wait half-seconds.
        let fast = RetryPolicy {
            timeout: Duration::from_secs(5),
            max_attempts: 3,
            base_delay: Duration::from_millis(10),
            max_delay: Duration::from_millis(50),
            max_retry_after: Duration::from_secs(2),
            budget: Duration::from_secs(20),
        };
        let client = MergeClient::with_policy(
            state.settings.provider_base_url.clone(),
            state.settings.provider_api_key.clone(),
            fast,
        )
        .unwrap();
        state.sync_provider = Arc::new(client.clone());
        state.provider = Arc::new(client);
        let env = TestEnv {
            state,
            jobs,
            sandbox_url,
            http: test_client(true),
            dir,
            sandbox,
        };
        // As in dev: the sandbox's webhooks go to this app, signed with its first webhook key.
        let hook = serde_json::json!({
            "url": format!("{}/webhooks/merge", env.state.settings.public_url),
            "signing_key": env.state.settings.webhook_keys[0],
        });
        env.control(reqwest::Method::PUT, "/webhook", Some(hook))
            .await;
        env
    }

    /// The data directory (the SQLite file, dev keys).
    pub fn data_dir(&self) -> &std::path::Path {
        &self.dir
    }

    /// A demo admin in an organization of its own (HRIS Integration turned on).
    pub async fn admin(&self, org: &str) -> Identity {
        let who = app::auth::dev::in_organization(demo_identity("alice").unwrap(), org).unwrap();
        app::domain::organization::set_hris_enabled(&self.state.db, &who, true)
            .await
            .unwrap();
        who
    }

    pub async fn control(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<serde_json::Value>,
    ) -> serde_json::Value {
        let mut req = self
            .http
            .request(method, format!("{}/sandbox{path}", self.sandbox_url));
        if let Some(b) = body {
            req = req.json(&b);
        }
        let res = req.send().await.unwrap();
        assert!(
            res.status().is_success(),
            "sandbox {path}: {}",
            res.status()
        );
        res.json().await.unwrap_or(serde_json::Value::Null)
    }

    /// Completes a link token the way a person would in the Link dialog; returns the public token.
    pub async fn complete_link(&self, link_token: &str, body: serde_json::Value) -> String {
        let v = self
            .control(
                reqwest::Method::POST,
                &format!("/link-tokens/{link_token}/complete"),
                Some(body),
            )
            .await;
        v["public_token"].as_str().unwrap().to_string()
    }
}

impl TestEnv {
    /// Opens a magic link as the customer would (its page redirects to the Link dialog) and
    /// completes the dialog for `slug`; returns the public token.
    pub async fn complete_magic_link(&self, url: &str, slug: &str) -> String {
        let no_redirect = test_client(false);
        let res = no_redirect.get(url).send().await.unwrap();
        let location = res.headers()["location"].to_str().unwrap().to_string();
        let link_token = location
            .split("link_token=")
            .nth(1)
            .unwrap()
            .split('&')
            .next()
            .unwrap()
            .to_string();
        self.complete_link(&link_token, serde_json::json!({ "integration": slug }))
            .await
    }
}

impl TestEnv {
    /// The organization's latest `n` audit actions, newest first.
    pub async fn audit_actions(&self, org_id: &app::model::OrganizationId, n: i64) -> Vec<String> {
        self.state
            .db
            .audit_events(org_id, n)
            .await
            .unwrap()
            .into_iter()
            .map(|e| e.action.as_str().to_string())
            .collect()
    }
}

/// An HTTP client for tests: a request that never answers fails the test instead of hanging it.
pub fn test_client(follow_redirects: bool) -> reqwest::Client {
    let policy = if follow_redirects {
        reqwest::redirect::Policy::default()
    } else {
        reqwest::redirect::Policy::none()
    };
    reqwest::Client::builder()
        .redirect(policy)
        .timeout(std::time::Duration::from_secs(60))
        .build()
        .unwrap()
}

/// A server-function call over TCP, signed in with `cookie`: (status, JSON body, raw body).
pub async fn call(
    base: &str,
    path: &str,
    body: &str,
    cookie: &str,
) -> (axum::http::StatusCode, serde_json::Value, String) {
    use axum::http::header;
    let res = test_client(false)
        .post(format!("{base}{path}"))
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::COOKIE, cookie)
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    let status = axum::http::StatusCode::from_u16(res.status().as_u16()).unwrap();
    let text = res.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(serde_json::Value::Null),
        text,
    )
}

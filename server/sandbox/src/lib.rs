//! A local stand-in for Merge.dev: its HRIS API under `/api`, Merge Link (`/initialize.js` and the
//! dialog), magic links, signed webhooks, fault injection and a control API under `/sandbox`.
//! The main README documents it ("The Merge sandbox").
//!
//! `spawn` starts it on a listener (port 0 in tests); the `merge-sandbox` binary runs it alone.

mod api;
mod control;
pub mod data;
mod link;
mod state;
mod webhook;
pub mod wire;

use std::{net::SocketAddr, sync::Arc, time::Duration};

use axum::Router;
use tokio::{net::TcpListener, task::JoinHandle};

pub use state::{FaultKind, FaultSpec};
pub use webhook::{sign as sign_webhook, SIGNATURE_HEADER};

use state::Sandbox;

/// Any username with this password links successfully in the sandbox's Link dialog.
pub const DEMO_PASSWORD: &str = "sandbox-password";
/// The username the dialog suggests (any non-empty username works).
pub const DEMO_USERNAME: &str = "admin@demo.example";

#[derive(Debug, Clone)]
pub struct SandboxConfig {
    /// The API key clients must send as `Authorization: Bearer <key>`.
    pub api_key: String,
    /// Employees of each organization unless set per organization via the control API.
    pub default_employees: usize,
    /// The origin browsers reach the sandbox at (Link script, dialog, magic links, logos).
    /// `None`: `http://<bound address>`.
    pub public_url: Option<String>,
    /// Where `LinkedAccount.*` webhooks go, and the key they are signed with.
    pub webhook: Option<WebhookTarget>,
    /// How often linked accounts sync on their own (on the sandbox clock).
    pub sync_interval: Duration,
    /// Waits before each retry of a webhook that got a 5xx or no answer (a 4xx drops it).
    pub webhook_retry_delays: Vec<Duration>,
}

impl Default for SandboxConfig {
    fn default() -> Self {
        SandboxConfig {
            api_key: "sandbox-api-key".to_string(),
            default_employees: 250,
            public_url: None,
            webhook: None,
            sync_interval: Duration::from_secs(24 * 3600),
            // Merge's schedule as far as it is known (UNCONFIRMED, merge-api.md §4): one attempt
            // and two retries, after 1 s and 2 s.
            webhook_retry_delays: vec![Duration::from_secs(1), Duration::from_secs(2)],
        }
    }
}

#[derive(Clone, PartialEq, Eq, serde::Deserialize)]
pub struct WebhookTarget {
    pub url: String,
    pub signing_key: String,
}

impl std::fmt::Debug for WebhookTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookTarget")
            .field("url", &self.url)
            .field("signing_key", &"<redacted>")
            .finish()
    }
}

/// A running sandbox. Dropping the handle leaves it running; call [`SandboxHandle::stop`] to end it.
#[derive(Debug)]
pub struct SandboxHandle {
    pub addr: SocketAddr,
    /// What browsers use, e.g. `http://127.0.0.1:4010`.
    pub public_url: String,
    task: JoinHandle<()>,
}

impl SandboxHandle {
    /// The base URL for a Merge client: `http://<addr>/api`.
    pub fn api_base_url(&self) -> String {
        format!("http://{}/api", self.addr)
    }

    /// The URL of the Link script (Merge's `https://cdn.merge.dev/initialize.js`).
    pub fn link_script_url(&self) -> String {
        format!("{}/initialize.js", self.public_url)
    }

    pub fn stop(&self) {
        self.task.abort();
    }

    /// Waits until the server ends (it only does on error or `stop`).
    pub async fn wait(self) {
        let _ = self.task.await;
    }
}

/// Serves the sandbox on `listener` in a background task.
pub async fn spawn(config: SandboxConfig, listener: TcpListener) -> std::io::Result<SandboxHandle> {
    let addr = listener.local_addr()?;
    let public_url = config
        .public_url
        .clone()
        .unwrap_or_else(|| format!("http://{addr}"))
        .trim_end_matches('/')
        .to_string();
    let sandbox = Arc::new(Sandbox::new(config, public_url.clone()));
    let router = router(sandbox);
    let task = tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, router).await {
            tracing::error!(error = %e, "merge sandbox stopped");
        }
    });
    tracing::info!(%addr, %public_url, "merge sandbox serving");
    Ok(SandboxHandle {
        addr,
        public_url,
        task,
    })
}

fn router(sandbox: Arc<Sandbox>) -> Router {
    Router::new()
        .nest("/api", api::router(sandbox.clone()))
        .merge(link::router())
        .nest("/sandbox", control::router())
        .with_state(sandbox)
}

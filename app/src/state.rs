//! What server functions and handlers reach: the database, the keyring and the settings.

use std::{fmt, sync::Arc, time::Duration};

use axum::extract::FromRef;
use leptos::prelude::*;

use crate::{
    crypto::Keyring, domain::directory::DirectoryCache, error::AppError, provider::HrisProvider,
    storage::Db,
};

/// How users are identified.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthMode {
    /// A page to pick a demo user. Development only.
    DevSignIn,
    /// A short-lived signed token from the admin shell.
    HostToken,
}

/// The settings the app itself needs (the server's configuration holds these and more).
#[derive(Clone)]
pub struct Settings {
    pub production: bool,
    pub auth_mode: AuthMode,
    pub public_url: String,
    pub allowed_host_origins: Vec<String>,
    pub session_idle_timeout: Duration,
    pub provider_base_url: String,
    pub provider_api_key: String,
    /// Merge Link's browser script: Merge's CDN, or the sandbox's stand-in.
    pub link_script_url: String,
    /// Keys Merge's webhooks may be signed with (any of them verifies; several allow rotation).
    pub webhook_keys: Vec<String>,
    pub sync: crate::domain::sync::SyncSettings,
    /// How often the health watch tests each active connection (`HRIS_HEALTH_INTERVAL_MINUTES`).
    pub health_interval: Duration,
}

impl fmt::Debug for Settings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Settings")
            .field("production", &self.production)
            .field("auth_mode", &self.auth_mode)
            .field("public_url", &self.public_url)
            .field("allowed_host_origins", &self.allowed_host_origins)
            .field("session_idle_timeout", &self.session_idle_timeout)
            .field("provider_base_url", &self.provider_base_url)
            .field("provider_api_key", &"<redacted>")
            .field("link_script_url", &self.link_script_url)
            .field(
                "webhook_keys",
                &format!("<{} redacted>", self.webhook_keys.len()),
            )
            .field("sync", &self.sync)
            .field("health_interval", &self.health_interval)
            .finish()
    }
}

impl Settings {
    /// Session cookies are `Secure` unless the app is served over plain http on a non-local host.
    pub fn secure_cookies(&self) -> bool {
        let url = self.public_url.as_str();
        url.starts_with("https://")
            || url.starts_with("http://127.0.0.1")
            || url.starts_with("http://localhost")
            || url.starts_with("http://[::1]")
    }
}

#[derive(Clone)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub db: Db,
    pub keyring: Arc<Keyring>,
    pub settings: Arc<Settings>,
    pub provider: Arc<dyn HrisProvider>,
    /// The same provider with the budget of background work (the sync): longer tries, more retries.
    pub sync_provider: Arc<dyn HrisProvider>,
    pub directory: Arc<DirectoryCache>,
    /// Checks the admin shell's tokens; `None` when no host-token key is configured.
    pub host_tokens: Option<Arc<crate::auth::host::HostTokenVerifier>>,
    /// The job engine that runs employee syncs (apalis; `server/src/jobs.rs`).
    pub sync_queue: Arc<dyn crate::domain::sync::SyncQueue>,
}

impl fmt::Debug for AppState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AppState")
            .field("db", &self.db)
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}

/// The state, inside a server function or a server-rendered component.
pub fn app_state() -> Result<AppState, AppError> {
    use_context::<AppState>().ok_or_else(|| AppError::internal("context", "AppState missing"))
}

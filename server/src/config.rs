//! Configuration from environment variables (or the options of the same names), parsed by clap
//! from the table below, which is also what `server --help` prints.
//!
//! Invalid configuration stops the server at start with a message that names the variable.

use std::{net::SocketAddr, path::PathBuf, time::Duration};

use app::{
    auth::host::{HostKey, HostTokenVerifier},
    crypto::Keyring,
    state::{AuthMode, Settings},
    storage::Backend,
};

/// A variable's default: a value (given to clap, shown as `[default: ...]`), or a description of
/// what happens without it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VarDefault {
    Value(&'static str),
    Described(&'static str),
}

impl VarDefault {
    pub fn text(&self) -> &'static str {
        match self {
            VarDefault::Value(v) | VarDefault::Described(v) => v,
        }
    }
}

use VarDefault::{Described, Value};

/// Every variable the server reads: name, default, meaning. The single source of the command line
/// parser ([`command`], clap with its `env` feature) and so of `server --help`.
pub const VARIABLES: &[(&str, VarDefault, &str)] = &[
    ("HRIS_MODE", Value("dev"), "dev or production. Production refuses dev settings and generated keys."),
    ("HRIS_BIND_ADDR", Value("127.0.0.1:3000"), "Address to listen on (port 0 picks a free port)."),
    ("HRIS_PUBLIC_URL", Described("http://<HRIS_BIND_ADDR>"), "URL users reach the app at."),
    ("HRIS_DATA_DIR", Value("./data"), "Directory for the SQLite file and the dev encryption key."),
    ("DATABASE_URL", Described("sqlite://<HRIS_DATA_DIR>/hris.db"), "sqlite://... (embedded) or postgres://... (several instances)."),
    ("MERGE_API_BASE_URL", Described("(none; required)"), "Merge API base, e.g. https://api.merge.dev/api, https://api-eu.merge.dev/api, https://api-ap.merge.dev/api (in dev: a merge-sandbox's, e.g. http://127.0.0.1:4010/api)."),
    ("MERGE_API_KEY", Described("(none; required)"), "Merge API key (secret)."),
    ("MERGE_LINK_SCRIPT_URL", Value("https://cdn.merge.dev/initialize.js"), "Merge Link's browser script (a merge-sandbox serves its own at /initialize.js)."),
    ("HRIS_ENCRYPTION_KEYS", Described("dev: generated once in <HRIS_DATA_DIR>/encryption-keys"), "id:base64(32 bytes)[,id:base64...]; the first seals, all open."),
    ("HRIS_ALLOWED_HOST_ORIGINS", Described("(none)"), "Comma-separated origins of admin shells allowed to embed the widget (CSP frame-ancestors) and to post host tokens."),
    ("MERGE_WEBHOOK_KEYS", Described("dev: generated once in <HRIS_DATA_DIR>/webhook-keys"), "Comma-separated signature keys of Merge's webhooks (any verifies; list several to rotate). Required in production."),
    ("HRIS_HOST_TOKEN_SECRET", Described("(none)"), "HS256 shared secret (at least 32 bytes) of the admin shell's tokens."),
    ("HRIS_HOST_TOKEN_PUBLIC_KEY", Described("(none)"), "Or: the shell's EdDSA (Ed25519) or RS256 public key, as PEM text or the path of a PEM file."),
    ("HRIS_HOST_TOKEN_ISSUER", Described("(none; required with a host-token key)"), "Expected `iss` of host tokens."),
    ("HRIS_HOST_TOKEN_AUDIENCE", Value("hris-connect"), "Expected `aud` of host tokens."),
    ("HRIS_AUTH_MODE", Described("dev-signin (dev), host-token (production)"), "dev-signin: demo users page; host-token: signed tokens from the admin shell."),
    ("HRIS_SESSION_IDLE_MINUTES", Value("60"), "A session ends after this many minutes without activity."),
    ("HRIS_SYNC_WORKERS", Value("2"), "Sync runs this instance executes at once (0: a web-only instance; it still enqueues)."),
    ("HRIS_SYNC_TICK_SECONDS", Value("30"), "How often the sync schedule and its watchdog look at the runs (a divisor of 60)."),
    ("HRIS_SYNC_POLL_MINUTES", Value("60"), "How often each active connection's sync status is polled (an incremental run)."),
    ("HRIS_SYNC_FULL_HOURS", Value("24"), "How often each active connection gets a full sync (leavers are detected on full syncs)."),
    ("HRIS_SYNC_MAX_DEACTIVATE_PERCENT", Value("10"), "Safety brake: a run that would deactivate more than this share of active employees holds the deactivations for an admin."),
    ("HRIS_SYNC_LEASE_SECONDS", Value("120"), "A running sync whose worker has not written for this long is taken over by another worker."),
    ("HRIS_SYNC_RETRY_SECONDS", Value("30"), "The first wait before a sync that failed for now resumes from its checkpoint (it doubles each attempt)."),
    ("HRIS_HEALTH_INTERVAL_MINUTES", Value("60"), "How often each active connection is tested in the background, once per interval across all instances (fractions allowed, e.g. 0.1)."),
    ("HRIS_HOST_WEBHOOK_URL", Described("(none)"), "Where to POST the signed directory.changed event after a sync changed the directory."),
    ("HRIS_HOST_WEBHOOK_SECRET", Described("(none; required with the URL)"), "HMAC-SHA256 key that signs directory.changed (X-Hris-Webhook-Signature: base64url of the body's HMAC)."),
    ("HRIS_LOG_FORMAT", Value("text"), "text or json."),
    ("HRIS_METRICS_ADDR", Described("(none: no metrics listener)"), "Address of the Prometheus metrics listener (GET /metrics), e.g. 127.0.0.1:9100; keep it off the public network."),
    ("LEPTOS_SITE_ROOT", Value("target/site"), "Where the built site (wasm, js, css) is served from."),
];

/// The logger's own variable (read by tracing's `EnvFilter`, not an option): listed after the others.
pub const LOG_VARIABLE: (&str, VarDefault, &str) = (
    "RUST_LOG",
    Value("info"),
    "Log filter (tracing EnvFilter syntax).",
);

/// The command line: the subcommands, and every variable of [`VARIABLES`] as an option that
/// falls back to its environment variable (clap's `env`). Values are never shown in `--help`.
pub fn command() -> clap::Command {
    use clap::{Arg, Command};
    let vars = VARIABLES.iter().map(|(name, default, meaning)| {
        let arg = Arg::new(*name)
            .long(name.to_lowercase().replace('_', "-"))
            .value_name("VALUE")
            .env(*name)
            .hide_env_values(true)
            .help_heading("Configuration (environment variables; options override them)");
        match default {
            Value(v) => arg.help(*meaning).default_value(*v),
            Described(d) => arg.help(format!("{meaning} [default: {d}]")),
        }
    });
    let (log_name, log_default, log_meaning) = LOG_VARIABLE;
    Command::new("server")
        .about("HRIS Connect server")
        .after_help(format!(
            "Logging:\n      {log_name}\n          {log_meaning} [default: {}]",
            log_default.text()
        ))
        .subcommand(
            Command::new("rotate-key").about(
                "Re-encrypt every stored secret under the first key of HRIS_ENCRYPTION_KEYS",
            ),
        )
        .subcommand(
            Command::new("generate-key")
                .about("Print a new key for HRIS_ENCRYPTION_KEYS")
                .arg(Arg::new("id").required(true).help("The new key's id")),
        )
        .args(vars)
}

/// What the command line asks for, besides serving.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Subcommand {
    RotateKey,
    GenerateKey { id: String },
}

/// The subcommand in parsed arguments, if any.
pub fn subcommand(matches: &clap::ArgMatches) -> Option<Subcommand> {
    match matches.subcommand() {
        Some(("rotate-key", _)) => Some(Subcommand::RotateKey),
        Some(("generate-key", m)) => Some(Subcommand::GenerateKey {
            id: m.get_one::<String>("id").cloned().unwrap_or_default(),
        }),
        _ => None,
    }
}

/// Where Merge is: Merge itself, or any server that speaks its API (such as `merge-sandbox`).
#[derive(Clone, PartialEq, Eq)]
pub struct ProviderEndpoints {
    pub base_url: String,
    pub api_key: String,
    pub link_script_url: String,
}

impl std::fmt::Debug for ProviderEndpoints {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProviderEndpoints")
            .field("base_url", &self.base_url)
            .field("api_key", &"<redacted>")
            .field("link_script_url", &self.link_script_url)
            .finish()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Clone)]
pub struct Config {
    pub production: bool,
    pub bind_addr: SocketAddr,
    pub public_url: Option<String>,
    pub data_dir: PathBuf,
    pub database_url: String,
    pub provider: ProviderEndpoints,
    /// `None` in dev mode without the variable: a key is generated once in the data dir.
    pub encryption_keys: Option<String>,
    pub allowed_host_origins: Vec<String>,
    /// `None` in dev mode without the variable: a key is generated once in the data dir.
    pub webhook_keys: Option<Vec<String>>,
    /// How the admin shell's tokens are verified; `None` when no key is configured.
    pub host_token: Option<HostTokenConfig>,
    pub auth_mode: AuthMode,
    pub session_idle: Duration,
    pub log_format: LogFormat,
    pub site_root: String,
    /// Sync runs executed at once by this instance.
    pub sync_workers: usize,
    pub sync_tick_seconds: u32,
    pub sync: app::domain::sync::SyncSettings,
    /// How often the health watch tests each active connection.
    pub health_interval: Duration,
    /// Where `GET /metrics` is served; `None`: nowhere (and no metrics are kept).
    pub metrics_addr: Option<SocketAddr>,
}

impl std::fmt::Debug for Config {
    /// The secrets (encryption and webhook keys) show as how many there are, never their values.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let count = |n: Option<usize>| n.map(|n| format!("<{n} redacted>"));
        f.debug_struct("Config")
            .field("production", &self.production)
            .field("bind_addr", &self.bind_addr)
            .field("public_url", &self.public_url)
            .field("data_dir", &self.data_dir)
            .field("database_url", &self.database_url)
            .field("provider", &self.provider)
            .field(
                "encryption_keys",
                &count(self.encryption_keys.as_ref().map(|k| k.split(',').count())),
            )
            .field("allowed_host_origins", &self.allowed_host_origins)
            .field(
                "webhook_keys",
                &count(self.webhook_keys.as_ref().map(Vec::len)),
            )
            .field("host_token", &self.host_token)
            .field("auth_mode", &self.auth_mode)
            .field("session_idle", &self.session_idle)
            .field("log_format", &self.log_format)
            .field("site_root", &self.site_root)
            .field("sync_workers", &self.sync_workers)
            .field("sync_tick_seconds", &self.sync_tick_seconds)
            .field("sync", &self.sync)
            .field("health_interval", &self.health_interval)
            .field("metrics_addr", &self.metrics_addr)
            .finish()
    }
}

/// The admin shell's token key, issuer and audience.
#[derive(Debug, Clone)]
pub struct HostTokenConfig {
    pub key: HostKey,
    pub issuer: String,
    pub audience: String,
}

impl HostTokenConfig {
    pub fn verifier(&self) -> HostTokenVerifier {
        HostTokenVerifier::new(self.key.clone(), &self.issuer, &self.audience)
            .expect("validated when the configuration was read")
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("configuration error in {var}: {message}")]
pub struct ConfigError {
    pub var: &'static str,
    pub message: String,
}

fn err(var: &'static str, message: impl Into<String>) -> ConfigError {
    ConfigError {
        var,
        message: message.into(),
    }
}

impl Config {
    /// The configuration from the process's arguments and environment (`--help` exits here).
    pub fn from_env() -> Result<Config, ConfigError> {
        Self::from_matches(&command().get_matches())
    }

    /// The configuration from parsed arguments: an option, else its variable, else its default.
    /// Blank values count as unset.
    pub fn from_matches(matches: &clap::ArgMatches) -> Result<Config, ConfigError> {
        Self::from_resolved(|var| {
            let set = matches
                .try_get_one::<String>(var)
                .ok()
                .flatten()
                .filter(|v| !v.trim().is_empty());
            set.cloned().or_else(|| {
                VARIABLES
                    .iter()
                    .find_map(|(name, default, _)| match default {
                        Value(v) if *name == var => Some(v.to_string()),
                        _ => None,
                    })
            })
        })
    }

    /// The configuration with the variables read through `get` (a map in tests) instead of the
    /// process environment, through the same parser as [`Config::from_env`].
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
        let args = std::iter::once("server".to_string()).chain(VARIABLES.iter().filter_map(
            |(name, _, _)| {
                get(name).map(|v| format!("--{}={v}", name.to_lowercase().replace('_', "-")))
            },
        ));
        let matches = command()
            .mut_args(|a| a.env(None))
            .try_get_matches_from(args)
            .map_err(|e| err("arguments", e.kind().to_string()))?;
        Self::from_matches(&matches)
    }

    /// Reads the configuration through `get`: a variable's value, or `None` when unset.
    fn from_resolved(get: impl Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
        let production = match get("HRIS_MODE").as_deref().map(str::trim) {
            None | Some("dev") => false,
            Some("production") => true,
            Some(other) => {
                return Err(err(
                    "HRIS_MODE",
                    format!("expected dev or production, got {other:?}"),
                ))
            }
        };
        let bind_addr = parse_addr(&get, "HRIS_BIND_ADDR", "127.0.0.1:3000")?;
        let public_url = match get("HRIS_PUBLIC_URL") {
            Some(u) if u.starts_with("http://") || u.starts_with("https://") => {
                Some(u.trim_end_matches('/').to_string())
            }
            Some(u) => {
                return Err(err(
                    "HRIS_PUBLIC_URL",
                    format!("expected an http(s) URL, got {u:?}"),
                ))
            }
            None => None,
        };
        let data_dir = PathBuf::from(get("HRIS_DATA_DIR").unwrap_or_else(|| "./data".into()));
        let database_url = get("DATABASE_URL")
            .unwrap_or_else(|| format!("sqlite://{}/hris.db", data_dir.display()));
        if Backend::from_url(&database_url).is_none() {
            return Err(err(
                "DATABASE_URL",
                "expected a sqlite:// or postgres:// URL",
            ));
        }
        let provider = match (get("MERGE_API_BASE_URL"), get("MERGE_API_KEY")) {
            (Some(base_url), Some(api_key)) => {
                if !(base_url.starts_with("http://") || base_url.starts_with("https://")) {
                    return Err(err("MERGE_API_BASE_URL", "expected an http(s) URL"));
                }
                let link_script_url = get("MERGE_LINK_SCRIPT_URL")
                    .unwrap_or_else(|| "https://cdn.merge.dev/initialize.js".into());
                ProviderEndpoints {
                    base_url: base_url.trim_end_matches('/').into(),
                    api_key,
                    link_script_url,
                }
            }
            (Some(_), None) => {
                return Err(err(
                    "MERGE_API_KEY",
                    "required when MERGE_API_BASE_URL is set",
                ))
            }
            (None, Some(_)) => {
                return Err(err(
                    "MERGE_API_BASE_URL",
                    "required when MERGE_API_KEY is set",
                ))
            }
            (None, None) if production => {
                return Err(err(
                    "MERGE_API_BASE_URL",
                    "production mode needs Merge's URL and MERGE_API_KEY",
                ))
            }
            (None, None) => {
                return Err(err(
                    "MERGE_API_BASE_URL",
                    "needs Merge's URL and MERGE_API_KEY; in dev, a merge-sandbox's \
                     (`make run` starts one: http://127.0.0.1:4010/api, key sandbox-api-key)",
                ))
            }
        };
        let encryption_keys = get("HRIS_ENCRYPTION_KEYS");
        match &encryption_keys {
            Some(spec) => {
                Keyring::parse(spec).map_err(|e| err("HRIS_ENCRYPTION_KEYS", e.to_string()))?;
            }
            None if production => {
                return Err(err(
                    "HRIS_ENCRYPTION_KEYS",
                    "production mode refuses to start without encryption keys",
                ))
            }
            None => {}
        }
        let allowed_host_origins = get("HRIS_ALLOWED_HOST_ORIGINS")
            .map(|v| {
                v.split(',')
                    .map(|o| o.trim().trim_end_matches('/').to_string())
                    .filter(|o| !o.is_empty())
                    .collect::<Vec<_>>()
            })
            .unwrap_or_default();
        if let Some(bad) = allowed_host_origins.iter().find(|o| {
            !(o.starts_with("http://") || o.starts_with("https://")) || o.matches('/').count() != 2
        }) {
            return Err(err(
                "HRIS_ALLOWED_HOST_ORIGINS",
                format!("{bad:?} is not an origin (scheme://host[:port])"),
            ));
        }
        let webhook_keys = match get("MERGE_WEBHOOK_KEYS") {
            Some(v) => {
                let keys: Vec<String> = v
                    .split(',')
                    .map(|k| k.trim().to_string())
                    .filter(|k| !k.is_empty())
                    .collect();
                if keys.is_empty() || keys.iter().any(|k| k.len() < 16) {
                    return Err(err(
                        "MERGE_WEBHOOK_KEYS",
                        "expected comma-separated keys of at least 16 characters",
                    ));
                }
                Some(keys)
            }
            None if production => {
                return Err(err(
                    "MERGE_WEBHOOK_KEYS",
                    "production mode needs the webhook signature key(s) from Merge's dashboard",
                ))
            }
            None => None,
        };
        let host_key = match (
            get("HRIS_HOST_TOKEN_SECRET"),
            get("HRIS_HOST_TOKEN_PUBLIC_KEY"),
        ) {
            (Some(_), Some(_)) => {
                return Err(err(
                    "HRIS_HOST_TOKEN_PUBLIC_KEY",
                    "set either HRIS_HOST_TOKEN_SECRET or HRIS_HOST_TOKEN_PUBLIC_KEY, not both",
                ))
            }
            (Some(secret), None) => Some((
                "HRIS_HOST_TOKEN_SECRET",
                HostKey::Secret(secret.into_bytes()),
            )),
            (None, Some(pem)) => {
                let pem = if pem.trim_start().starts_with("-----BEGIN") {
                    pem
                } else {
                    std::fs::read_to_string(pem.trim()).map_err(|e| {
                        err(
                            "HRIS_HOST_TOKEN_PUBLIC_KEY",
                            format!("expected PEM text or a readable PEM file: {e}"),
                        )
                    })?
                };
                Some(("HRIS_HOST_TOKEN_PUBLIC_KEY", HostKey::PublicKeyPem(pem)))
            }
            (None, None) => None,
        };
        let host_token = match host_key {
            Some((var, key)) => {
                let issuer = get("HRIS_HOST_TOKEN_ISSUER").ok_or_else(|| {
                    err("HRIS_HOST_TOKEN_ISSUER", "required with a host-token key")
                })?;
                let audience =
                    get("HRIS_HOST_TOKEN_AUDIENCE").unwrap_or_else(|| "hris-connect".into());
                HostTokenVerifier::new(key.clone(), issuer.trim(), audience.trim())
                    .map_err(|e| err(var, e.to_string()))?;
                Some(HostTokenConfig {
                    key,
                    issuer: issuer.trim().into(),
                    audience: audience.trim().into(),
                })
            }
            None => None,
        };
        let auth_mode = match get("HRIS_AUTH_MODE").as_deref() {
            None if production => AuthMode::HostToken,
            None | Some("dev-signin") => AuthMode::DevSignIn,
            Some("host-token") => AuthMode::HostToken,
            Some(other) => {
                return Err(err(
                    "HRIS_AUTH_MODE",
                    format!("expected dev-signin or host-token, got {other:?}"),
                ))
            }
        };
        if auth_mode == AuthMode::HostToken && host_token.is_none() {
            return Err(err(
                "HRIS_HOST_TOKEN_SECRET",
                "host-token mode needs HRIS_HOST_TOKEN_SECRET or HRIS_HOST_TOKEN_PUBLIC_KEY",
            ));
        }
        if production && auth_mode == AuthMode::DevSignIn {
            return Err(err(
                "HRIS_AUTH_MODE",
                "dev-signin is not allowed in production mode",
            ));
        }
        let idle_minutes: u64 = match get("HRIS_SESSION_IDLE_MINUTES") {
            None => 60,
            Some(v) => v
                .trim()
                .parse()
                .ok()
                .filter(|m| (1..=24 * 60).contains(m))
                .ok_or_else(|| {
                    err(
                        "HRIS_SESSION_IDLE_MINUTES",
                        format!("expected minutes between 1 and 1440, got {v:?}"),
                    )
                })?,
        };
        let log_format = match get("HRIS_LOG_FORMAT").as_deref() {
            None | Some("text") => LogFormat::Text,
            Some("json") => LogFormat::Json,
            Some(other) => {
                return Err(err(
                    "HRIS_LOG_FORMAT",
                    format!("expected text or json, got {other:?}"),
                ))
            }
        };
        let number = |var: &'static str, default: u64, range: std::ops::RangeInclusive<u64>| {
            match get(var) {
                None => Ok(default),
                Some(v) => v
                    .trim()
                    .parse()
                    .ok()
                    .filter(|n| range.contains(n))
                    .ok_or_else(|| {
                        err(
                            var,
                            format!(
                                "expected a whole number from {} to {}, got {v:?}",
                                range.start(),
                                range.end()
                            ),
                        )
                    }),
            }
        };
        let sync_workers = number("HRIS_SYNC_WORKERS", 2, 0..=64)? as usize;
        let sync_tick_seconds = number("HRIS_SYNC_TICK_SECONDS", 30, 1..=60)? as u32;
        if 60 % sync_tick_seconds != 0 {
            return Err(err(
                "HRIS_SYNC_TICK_SECONDS",
                format!("expected a divisor of 60, got {sync_tick_seconds}"),
            ));
        }
        let host_webhook = match (
            get("HRIS_HOST_WEBHOOK_URL"),
            get("HRIS_HOST_WEBHOOK_SECRET"),
        ) {
            (None, _) => None,
            (Some(url), Some(secret)) if secret.len() >= 16 => {
                Some(app::domain::sync::HostWebhook { url, secret })
            }
            (Some(_), _) => {
                return Err(err(
                    "HRIS_HOST_WEBHOOK_SECRET",
                    "HRIS_HOST_WEBHOOK_URL needs a secret of at least 16 characters",
                ))
            }
        };
        let sync = app::domain::sync::SyncSettings {
            max_deactivate_percent: number("HRIS_SYNC_MAX_DEACTIVATE_PERCENT", 10, 0..=100)? as f64,
            poll_interval: Duration::from_secs(
                number("HRIS_SYNC_POLL_MINUTES", 60, 1..=7 * 24 * 60)? * 60,
            ),
            full_interval: Duration::from_secs(
                number("HRIS_SYNC_FULL_HOURS", 24, 1..=24 * 30)? * 3600,
            ),
            lease: Duration::from_secs(number("HRIS_SYNC_LEASE_SECONDS", 120, 1..=24 * 3600)?),
            queued_grace: Duration::from_secs(number(
                "HRIS_SYNC_LEASE_SECONDS",
                120,
                1..=24 * 3600,
            )?),
            retry_base: Duration::from_secs(number("HRIS_SYNC_RETRY_SECONDS", 30, 0..=3600)?),
            host_webhook,
            ..app::domain::sync::SyncSettings::default()
        };
        let health_interval = match get("HRIS_HEALTH_INTERVAL_MINUTES") {
            None => Duration::from_secs(3600),
            Some(v) => v
                .trim()
                .parse::<f64>()
                .ok()
                .filter(|m| (0.05..=10_080.0).contains(m))
                .map(|m| Duration::from_secs_f64(m * 60.0))
                .ok_or_else(|| {
                    err(
                        "HRIS_HEALTH_INTERVAL_MINUTES",
                        format!("expected a number of minutes from 0.05 to 10080, got {v:?}"),
                    )
                })?,
        };
        let metrics_addr = match get("HRIS_METRICS_ADDR") {
            Some(_) => Some(parse_addr(&get, "HRIS_METRICS_ADDR", "127.0.0.1:9100")?),
            None => None,
        };
        Ok(Config {
            sync_workers,
            sync_tick_seconds,
            sync,
            health_interval,
            production,
            bind_addr,
            public_url,
            data_dir,
            database_url,
            provider,
            encryption_keys,
            allowed_host_origins,
            webhook_keys,
            host_token,
            auth_mode,
            session_idle: Duration::from_secs(idle_minutes * 60),
            log_format,
            site_root: get("LEPTOS_SITE_ROOT").unwrap_or_else(|| "target/site".into()),
            metrics_addr,
        })
    }

    /// The public URL, once the real bound address is known.
    pub fn public_url_for(&self, bound: SocketAddr) -> String {
        self.public_url
            .clone()
            .unwrap_or_else(|| format!("http://{bound}"))
    }

    /// The settings the app needs, once the provider's address is known.
    pub fn settings(
        &self,
        public_url: String,
        provider: ProviderEndpoints,
        webhook_keys: Vec<String>,
    ) -> Settings {
        Settings {
            production: self.production,
            auth_mode: self.auth_mode,
            public_url,
            allowed_host_origins: self.allowed_host_origins.clone(),
            session_idle_timeout: self.session_idle,
            provider_base_url: provider.base_url,
            provider_api_key: provider.api_key,
            link_script_url: provider.link_script_url,
            webhook_keys,
            sync: self.sync.clone(),
            health_interval: self.health_interval,
        }
    }
}

fn parse_addr(
    get: &impl Fn(&str) -> Option<String>,
    var: &'static str,
    default: &str,
) -> Result<SocketAddr, ConfigError> {
    let v = get(var).unwrap_or_else(|| default.into());
    v.trim().parse().map_err(|_| {
        err(
            var,
            format!("expected host:port such as {default}, got {v:?}"),
        )
    })
}

/// The `--help` text, generated by clap from [`command`].
pub fn help() -> String {
    command().render_long_help().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn config(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_lookup(|k| map.get(k).cloned())
    }

    #[test]
    fn defaults_are_the_embedded_dev_setup() {
        let c = config(&[
            ("MERGE_API_BASE_URL", "http://127.0.0.1:4010/api/"),
            ("MERGE_API_KEY", "sandbox-api-key"),
        ])
        .unwrap();
        assert!(!c.production);
        assert_eq!(c.bind_addr.to_string(), "127.0.0.1:3000");
        assert_eq!(c.database_url, "sqlite://./data/hris.db");
        assert_eq!(
            c.provider,
            ProviderEndpoints {
                base_url: "http://127.0.0.1:4010/api".into(),
                api_key: "sandbox-api-key".into(),
                link_script_url: "https://cdn.merge.dev/initialize.js".into(),
            }
        );
        assert!(
            !format!("{c:?}").contains("sandbox-api-key"),
            "the key stays out of Debug"
        );
        assert_eq!(c.auth_mode, AuthMode::DevSignIn);
        assert_eq!(c.encryption_keys, None);
        assert_eq!(c.session_idle, Duration::from_secs(3600));
        assert_eq!(c.metrics_addr, None, "no metrics listener unless asked for");
    }

    #[test]
    fn invalid_values_name_their_variable() {
        for (var, value) in [
            ("HRIS_MODE", "staging"),
            ("HRIS_BIND_ADDR", "localhost"),
            ("DATABASE_URL", "mysql://x"),
            ("HRIS_ENCRYPTION_KEYS", "k1:short"),
            (
                "HRIS_ALLOWED_HOST_ORIGINS",
                "https://shell.example.com/path",
            ),
            ("HRIS_AUTH_MODE", "magic"),
            ("HRIS_SESSION_IDLE_MINUTES", "0"),
            ("HRIS_LOG_FORMAT", "xml"),
            ("HRIS_METRICS_ADDR", "localhost"),
            ("HRIS_PUBLIC_URL", "ftp://x"),
            ("MERGE_WEBHOOK_KEYS", "short"),
            ("HRIS_HOST_TOKEN_SECRET", "too-short"),
            (
                "HRIS_HOST_TOKEN_PUBLIC_KEY",
                "-----BEGIN PUBLIC KEY-----\nnope\n-----END PUBLIC KEY-----",
            ),
            ("HRIS_HOST_TOKEN_PUBLIC_KEY", "/nonexistent/key.pem"),
        ] {
            let mut vars = vec![
                (var, value),
                ("MERGE_API_BASE_URL", "http://127.0.0.1:4010/api"),
                ("MERGE_API_KEY", "sandbox-api-key"),
            ];
            if var.starts_with("HRIS_HOST_TOKEN") {
                vars.push(("HRIS_HOST_TOKEN_ISSUER", "https://shell.example.com"));
            }
            let e = config(&vars).unwrap_err();
            assert_eq!(e.var, var, "{e}");
            assert!(e.to_string().contains(var));
            assert!(
                !e.to_string().contains("too-short"),
                "secrets stay out of messages: {e}"
            );
        }
        assert_eq!(
            config(&[("MERGE_API_BASE_URL", "https://api.merge.dev/api")])
                .unwrap_err()
                .var,
            "MERGE_API_KEY"
        );
    }

    #[test]
    fn secrets_stay_out_of_debug() {
        let key = "k1:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
        let c = config(&[
            ("MERGE_API_BASE_URL", "http://127.0.0.1:4010/api"),
            ("MERGE_API_KEY", "sandbox-api-key"),
            ("HRIS_ENCRYPTION_KEYS", key),
            (
                "MERGE_WEBHOOK_KEYS",
                "whsec_0123456789abcdef,whsec_fedcba9876543210",
            ),
        ])
        .unwrap();
        let debug = format!("{c:?}");
        for secret in [key, "whsec_0123456789abcdef", "whsec_fedcba9876543210"] {
            assert!(!debug.contains(secret), "{secret} in {debug}");
        }
        assert!(
            debug.contains("encryption_keys: Some(\"<1 redacted>\")"),
            "{debug}"
        );
        assert!(
            debug.contains("webhook_keys: Some(\"<2 redacted>\")"),
            "{debug}"
        );
    }

    #[test]
    fn dev_mode_needs_a_provider_too() {
        // The server holds no sandbox: dev mode names the variable and how to get one.
        let e = config(&[]).unwrap_err();
        assert_eq!(e.var, "MERGE_API_BASE_URL");
        assert!(e.message.contains("merge-sandbox"), "{e}");
    }

    #[test]
    fn production_refuses_dev_settings() {
        let merge = [
            ("HRIS_MODE", "production"),
            ("MERGE_API_BASE_URL", "https://api.merge.dev/api"),
            ("MERGE_API_KEY", "k"),
        ];
        assert_eq!(config(&merge).unwrap_err().var, "HRIS_ENCRYPTION_KEYS");
        let key = Keyring::generate_spec("k1");
        let mut vars = merge.to_vec();
        vars.push(("HRIS_ENCRYPTION_KEYS", &key));
        assert_eq!(config(&vars).unwrap_err().var, "MERGE_WEBHOOK_KEYS");
        vars.push(("MERGE_WEBHOOK_KEYS", "whsec_0123456789abcdef"));
        assert_eq!(config(&vars).unwrap_err().var, "HRIS_HOST_TOKEN_SECRET");
        vars.push(("HRIS_HOST_TOKEN_SECRET", "0123456789abcdef0123456789abcdef"));
        assert_eq!(config(&vars).unwrap_err().var, "HRIS_HOST_TOKEN_ISSUER");
        vars.push(("HRIS_HOST_TOKEN_ISSUER", "https://shell.example.com"));
        let c = config(&vars).unwrap();
        let host = c.host_token.as_ref().unwrap();
        assert_eq!(host.audience, "hris-connect");
        assert_eq!(c.webhook_keys.as_deref().unwrap().len(), 1);
        assert_eq!(c.auth_mode, AuthMode::HostToken);
        vars.push(("HRIS_AUTH_MODE", "dev-signin"));
        assert_eq!(config(&vars).unwrap_err().var, "HRIS_AUTH_MODE");
        assert_eq!(
            config(&[("HRIS_MODE", "production")]).unwrap_err().var,
            "MERGE_API_BASE_URL"
        );
    }

    #[test]
    fn help_lists_every_variable_with_its_default() {
        let h = help();
        for (name, default, meaning) in VARIABLES.iter().chain([&LOG_VARIABLE]) {
            assert!(
                h.contains(name) && h.contains(default.text()) && h.contains(meaning),
                "{name} missing from --help:\n{h}"
            );
        }
        assert!(h.contains("rotate-key") && h.contains("generate-key"));
    }

    #[test]
    fn options_override_variables_and_blank_values_are_unset() {
        let m = command()
            .mut_args(|a| a.env(None))
            .try_get_matches_from([
                "server",
                "--hris-bind-addr=127.0.0.1:9",
                "--hris-data-dir= ",
                "--merge-api-base-url=http://127.0.0.1:4010/api",
                "--merge-api-key=sandbox-api-key",
            ])
            .unwrap();
        let c = Config::from_matches(&m).unwrap();
        assert_eq!(c.bind_addr.to_string(), "127.0.0.1:9");
        assert_eq!(c.data_dir, PathBuf::from("./data"));
        let m = command()
            .mut_args(|a| a.env(None))
            .try_get_matches_from(["server", "generate-key", "k2"])
            .unwrap();
        assert_eq!(
            subcommand(&m),
            Some(Subcommand::GenerateKey { id: "k2".into() })
        );
    }

    /// README's Configuration table lists exactly the variables of `--help`, with the same defaults.
    #[test]
    fn readme_table_matches_help() {
        let readme = include_str!("../../README.md");
        let rows: HashMap<String, String> = readme
            .lines()
            .filter_map(|l| {
                let cells: Vec<&str> = l.split('|').map(str::trim).collect();
                let name = cells.get(1)?.strip_prefix('`')?.strip_suffix('`')?;
                name.chars()
                    .all(|c| c.is_ascii_uppercase() || c == '_')
                    .then(|| {
                        (
                            name.to_string(),
                            cells.get(2).unwrap_or(&"").replace('`', ""),
                        )
                    })
            })
            .collect();
        let documented: Vec<_> = VARIABLES.iter().chain([&LOG_VARIABLE]).collect();
        assert_eq!(rows.len(), documented.len(), "{rows:?}");
        for (name, default, _) in documented {
            assert_eq!(
                rows.get(*name).map(String::as_str),
                Some(default.text()),
                "README row of {name}"
            );
        }
    }
}

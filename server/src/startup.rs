//! Start-up: logging, keys, database, state, listener, graceful shutdown.

use std::sync::Arc;

use leptos::config::{Env, LeptosOptions};
use tokio::net::TcpListener;

use app::{provider::MergeClient, state::AppState, storage::Db};

use crate::config::{Config, LogFormat};

pub fn init_logging(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn,tower_http=info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    match format {
        LogFormat::Json => builder.json().init(),
        LogFormat::Text => builder.init(),
    }
}

/// Everything the server needs to serve, built from configuration.
pub struct Prepared {
    pub state: AppState,
    pub listener: TcpListener,
}

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    #[error("cannot open the database ({0}): {1}")]
    Database(&'static str, app::storage::StoreError),
    #[error("cannot listen on {0}: {1}")]
    Bind(std::net::SocketAddr, std::io::Error),
    #[error("the Merge client cannot be built: {0}")]
    Provider(app::provider::ProviderError),
}

pub async fn prepare(config: &Config) -> Result<Prepared, StartError> {
    let keyring = crate::keys::load(config)?;
    let webhook_keys = crate::keys::webhook_keys(config)?;
    if config.database_url.starts_with("sqlite:") {
        std::fs::create_dir_all(&config.data_dir).map_err(|e| crate::config::ConfigError {
            var: "HRIS_DATA_DIR",
            message: format!("cannot create {}: {e}", config.data_dir.display()),
        })?;
    }
    let db = Db::connect(&config.database_url)
        .await
        .map_err(|e| StartError::Database("DATABASE_URL", e))?;
    let listener = TcpListener::bind(config.bind_addr)
        .await
        .map_err(|e| StartError::Bind(config.bind_addr, e))?;
    let bound = listener
        .local_addr()
        .map_err(|e| StartError::Bind(config.bind_addr, e))?;
    let public_url = config.public_url_for(bound);
    let endpoints = config.provider.clone();
    let provider = MergeClient::new(endpoints.base_url.clone(), endpoints.api_key.clone())
        .map_err(StartError::Provider)?;
    let leptos_options = LeptosOptions::builder()
        .output_name("hris-connect")
        .site_root(config.site_root.as_str())
        .site_pkg_dir("pkg")
        .site_addr(bound)
        .env(if config.production {
            Env::PROD
        } else {
            Env::DEV
        })
        .build();
    let settings = config.settings(public_url, endpoints, webhook_keys);
    Ok(Prepared {
        state: AppState {
            leptos_options,
            db,
            keyring: Arc::new(keyring),
            settings: Arc::new(settings),
            provider: Arc::new(provider),
            directory: Arc::default(),
            host_tokens: config.host_token.as_ref().map(|h| Arc::new(h.verifier())),
        },
        listener,
    })
}

/// Serves until SIGTERM or Ctrl-C, then finishes in-flight requests and closes the database.
pub async fn serve(prepared: Prepared) -> std::io::Result<()> {
    let Prepared { state, listener } = prepared;
    let addr = listener.local_addr()?;
    let db = state.db.clone();
    // The end-to-end harness reads this line to learn the port.
    println!("listening on http://{addr}");
    tracing::info!(%addr, public_url = %state.settings.public_url, backend = ?db.backend(), "HRIS Connect serving");
    let housekeeping = crate::housekeeping::spawn(db.clone());
    axum::serve(listener, crate::router::app(state))
        .with_graceful_shutdown(shutdown_signal())
        .await?;
    housekeeping.abort();
    db.close().await;
    tracing::info!("stopped");
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutdown signal received, finishing requests");
}

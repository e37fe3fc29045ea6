//! Start-up: logging, keys, database, state, listener, graceful shutdown.

use std::{future::Future, sync::Arc, time::Duration};

use hyper_util::{
    rt::{TokioIo, TokioTimer},
    server::graceful::GracefulShutdown,
    service::TowerToHyperService,
};
use leptos::config::{Env, LeptosOptions};
use tokio::{net::TcpListener, sync::Semaphore};

use app::{provider::MergeClient, state::AppState, storage::Db, telemetry::PrometheusHandle};

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
    /// The job engine's storage (its workers start with [`serve`]).
    pub jobs: crate::jobs::JobStore,
    pub engine: crate::jobs::EngineSettings,
    /// The metrics listener (`HRIS_METRICS_ADDR`) and the recorder's handle, when configured.
    pub metrics: Option<MetricsListener>,
}

/// Where and what `GET /metrics` serves.
pub struct MetricsListener {
    pub listener: TcpListener,
    pub handle: PrometheusHandle,
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
    #[error("cannot set up the job engine in the database: {0}")]
    Jobs(String),
    #[error("cannot install the metrics recorder (HRIS_METRICS_ADDR)")]
    Metrics,
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
    let jobs = crate::jobs::JobStore::connect(&config.database_url, db.backend())
        .await
        .map_err(StartError::Jobs)?;
    let listener = TcpListener::bind(config.bind_addr)
        .await
        .map_err(|e| StartError::Bind(config.bind_addr, e))?;
    let bound = listener
        .local_addr()
        .map_err(|e| StartError::Bind(config.bind_addr, e))?;
    let metrics = match config.metrics_addr {
        Some(addr) => Some(MetricsListener {
            listener: TcpListener::bind(addr)
                .await
                .map_err(|e| StartError::Bind(addr, e))?,
            handle: app::telemetry::install().ok_or(StartError::Metrics)?,
        }),
        None => None,
    };
    let public_url = config.public_url_for(bound);
    let endpoints = config.provider.clone();
    let provider = MergeClient::new(endpoints.base_url.clone(), endpoints.api_key.clone())
        .map_err(StartError::Provider)?;
    let leptos_options = LeptosOptions::builder()
        .output_name("hris-connect")
        .site_root(config.site_root.as_str())
        .site_pkg_dir("pkg")
        .site_addr(bound)
        .hash_files(crate::assets::site_is_hashed(
            &config.site_root,
            "pkg",
            "hris-connect",
        ))
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
            sync_provider: Arc::new(provider.with_budget(app::provider::RetryPolicy::background())),
            provider: Arc::new(provider),
            sync_queue: crate::jobs::queue(&jobs),
            directory: Arc::default(),
            host_tokens: config.host_token.as_ref().map(|h| Arc::new(h.verifier())),
        },
        listener,
        jobs,
        engine: crate::jobs::EngineSettings {
            workers: config.sync_workers,
            tick_seconds: config.sync_tick_seconds,
        },
        metrics,
    })
}

/// Serves until SIGTERM or Ctrl-C, then finishes in-flight requests and closes the database.
pub async fn serve(prepared: Prepared) -> std::io::Result<()> {
    let Prepared {
        state,
        listener,
        jobs,
        engine,
        metrics,
    } = prepared;
    let (stop_jobs, jobs_stopped) = tokio::sync::oneshot::channel::<()>();
    let engine = crate::jobs::spawn(jobs, state.clone(), engine, async move {
        let _ = jobs_stopped.await;
    });
    let addr = listener.local_addr()?;
    let db = state.db.clone();
    // The end-to-end harness reads this line to learn the port.
    println!("listening on http://{addr}");
    tracing::info!(%addr, public_url = %state.settings.public_url, backend = ?db.backend(), "HRIS Connect serving");
    let housekeeping = crate::housekeeping::spawn(db.clone());
    let metrics = match metrics {
        Some(m) => Some(spawn_metrics(m, db.clone())?),
        None => None,
    };
    serve_http(
        listener,
        crate::router::app(state),
        ConnectionLimits::default(),
        shutdown_signal(),
    )
    .await?;
    if let Some(m) = metrics {
        m.stop().await;
    }
    housekeeping.abort();
    let _ = stop_jobs.send(());
    let _ = engine.await;
    db.close().await;
    tracing::info!("stopped");
    Ok(())
}

/// The running metrics listener and the recorder's upkeep.
pub struct MetricsServer {
    pub addr: std::net::SocketAddr,
    stop: tokio::sync::oneshot::Sender<()>,
    served: tokio::task::JoinHandle<std::io::Result<()>>,
    upkeep: tokio::task::JoinHandle<()>,
}

impl MetricsServer {
    /// Stops the listener (after in-flight scrapes) and the upkeep.
    pub async fn stop(self) {
        let _ = self.stop.send(());
        let _ = self.served.await;
        self.upkeep.abort();
    }
}

/// How often the recorder's histograms are drained when nobody scrapes.
const METRICS_UPKEEP: Duration = Duration::from_secs(5);

/// Serves `GET /metrics` on the metrics listener until stopped, and runs the recorder's upkeep.
pub fn spawn_metrics(
    metrics: MetricsListener,
    db: app::storage::Db,
) -> std::io::Result<MetricsServer> {
    let MetricsListener { listener, handle } = metrics;
    let addr = listener.local_addr()?;
    println!("metrics on http://{addr}/metrics");
    tracing::info!(%addr, "Prometheus metrics serving");
    let upkeep = tokio::spawn({
        let handle = handle.clone();
        async move {
            let mut every = tokio::time::interval(METRICS_UPKEEP);
            loop {
                every.tick().await;
                handle.run_upkeep();
            }
        }
    });
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let router = crate::metrics::router(crate::metrics::Scrape { handle, db });
    // A few scrapers at most: a handful of connections, the same header timeout as the app's.
    let limits = ConnectionLimits {
        max_connections: 16,
        shutdown_grace: Duration::from_secs(5),
        ..ConnectionLimits::default()
    };
    let served = tokio::spawn(serve_http(listener, router, limits, async move {
        let _ = stopped.await;
    }));
    Ok(MetricsServer {
        addr,
        stop,
        served,
        upkeep,
    })
}

/// Bounds on client connections, so that clients holding connections without finishing a request
/// (slowloris) cannot use them all up.
#[derive(Debug, Clone, Copy)]
pub struct ConnectionLimits {
    /// Time a client has to send a request's headers, counted from the connection's opening or from
    /// the end of the previous response: it bounds slow headers and idle keep-alive connections.
    pub header_read_timeout: Duration,
    /// Connections served at once; further ones wait in the listen backlog until one closes.
    pub max_connections: usize,
    /// After the shutdown signal, time in-flight requests have to finish.
    pub shutdown_grace: Duration,
}

impl Default for ConnectionLimits {
    fn default() -> Self {
        ConnectionLimits {
            header_read_timeout: Duration::from_secs(15),
            max_connections: 512,
            shutdown_grace: Duration::from_secs(30),
        }
    }
}

/// Serves `app` over HTTP/1.1 on `listener` within `limits` until `shutdown` completes; then stops
/// accepting, lets in-flight requests finish (at most `shutdown_grace`) and returns.
pub async fn serve_http(
    listener: TcpListener,
    app: axum::Router,
    limits: ConnectionLimits,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    let graceful = GracefulShutdown::new();
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout);
    tokio::pin!(shutdown);
    loop {
        let slot = tokio::select! {
            slot = slots.clone().acquire_owned() => slot.expect("the semaphore is never closed"),
            () = &mut shutdown => break,
        };
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(e) => {
                    accept_failed(e).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let connection = graceful.watch(
            http.serve_connection(TokioIo::new(stream), TowerToHyperService::new(app.clone())),
        );
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                // Timeouts and clients going away: routine.
                tracing::debug!(error = %e, "connection ended with an error");
            }
            drop(slot);
        });
    }
    drop(listener);
    if tokio::time::timeout(limits.shutdown_grace, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!(
            grace = ?limits.shutdown_grace,
            "requests still running after the grace period; stopping anyway"
        );
    }
    Ok(())
}

/// A failed `accept`: a connection that went away before it was accepted is routine; anything else
/// (e.g. out of file descriptors) is logged and retried after a pause, as `axum::serve` does.
async fn accept_failed(e: std::io::Error) {
    use std::io::ErrorKind::{ConnectionAborted, ConnectionRefused, ConnectionReset};
    if matches!(
        e.kind(),
        ConnectionAborted | ConnectionRefused | ConnectionReset
    ) {
        return;
    }
    tracing::error!(error = %e, "cannot accept a connection");
    tokio::time::sleep(Duration::from_secs(1)).await;
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

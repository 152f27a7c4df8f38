//! Starting and stopping: open the database, migrate, check the master key,
//! serve until asked to stop.

use crate::clock::{Clock, SystemClock};
use crate::config::{Config, LogFormat};
use crate::crypto::Crypto;
use crate::state::AppState;
use crate::workers::{Registry, Worker};
use anyhow::{Context, bail};
use mercato_store::{Db, migrate, repo::settings};
use std::future::Future;
use std::sync::Arc;
use tokio::net::TcpListener;

/// Opens the database named by the configuration and applies migrations.
pub async fn open_database(config: &Config) -> anyhow::Result<Db> {
    if config.database_url.is_empty() {
        std::fs::create_dir_all(&config.data_dir)
            .with_context(|| format!("creating data directory {}", config.data_dir.display()))?;
    }
    let db = Db::open_sized(&config.database_location(), config.database_max_connections)
        .await
        .context("opening the database")?;
    let applied = migrate::run(&db).await.context("migrating the database")?;
    if !applied.is_empty() {
        tracing::info!(?applied, "applied migrations");
    }
    Ok(db)
}

/// Everything a node needs, ready to serve.
pub async fn build_state(config: Config, clock: Arc<dyn Clock>) -> anyhow::Result<AppState> {
    let db = open_database(&config).await?;
    let crypto = Crypto::load(&config.master_key, &config.data_dir)?;
    // Every node sharing the database must hold the same master key; the first
    // one to start records a check value and the others compare with it.
    let check = crypto.key_check();
    let stored = settings::get_or_insert(&db.conn, "master_key_check", &check).await?;
    if stored != check {
        bail!(
            "this database was set up with a different master key; set MERCATO_MASTER_KEY to the key the other nodes use"
        );
    }
    std::fs::create_dir_all(config.media_dir())
        .with_context(|| format!("creating {}", config.media_dir().display()))?;
    // On the test clock the marketplace's time is the shared frozen instant,
    // whatever `clock` was passed; without it, a database that has lived in
    // test time is refused (its time would jump).
    if config.test_clock {
        let test_clock = crate::app::test_clock::start(&db).await?;
        return Ok(AppState::with_test_clock(db, crypto, test_clock, config));
    }
    crate::app::test_clock::refuse_if_frozen(&db).await?;
    Ok(AppState::new(db, crypto, clock, config))
}

pub async fn build_default_state(config: Config) -> anyhow::Result<AppState> {
    build_state(config, Arc::new(SystemClock)).await
}

/// Serves on `listener` until `shutdown` completes, then drains in-flight
/// requests. Unless `worker_enabled` is off, also runs this node's background
/// worker over `registry` (jobs and periodic tasks, usually
/// [`crate::workers::registry`]), which stops taking work on shutdown and
/// finishes what it holds.
pub async fn serve(
    state: AppState,
    registry: Arc<Registry>,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    tokio::spawn(async move {
        shutdown.await;
        let _ = stop_tx.send(true);
    });
    let worker = state.config.worker_enabled.then(|| {
        let worker = Worker::new(state.clone(), registry, state.node_id.clone());
        tokio::spawn(worker.run_loop(stop_rx.clone()))
    });
    let app = crate::http::router(state);
    let mut http_stop = stop_rx;
    // The peer address reaches handlers (login throttling per source).
    let app = app.into_make_service_with_connect_info::<std::net::SocketAddr>();
    let served = axum::serve(listener, app)
        .with_graceful_shutdown(async move {
            let _ = http_stop.wait_for(|stop| *stop).await;
        })
        .await
        .context("serving HTTP");
    if let Some(worker) = worker {
        let _ = worker.await;
    }
    served
}

/// Resolves on SIGINT or SIGTERM.
pub async fn shutdown_signal() {
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
    tracing::info!("shutting down: finishing in-flight requests");
}

pub fn init_logging(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("MERCATO_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn,sea_orm=warn"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Json => builder.json().try_init(),
        LogFormat::Text => builder.try_init(),
    };
}

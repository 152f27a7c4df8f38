//! Serving the reference seller over HTTP on 127.0.0.1: the SDK router
//! wrapped in the fault-injection layer.

use crate::clock::{Clock, SystemClock};
use crate::faults::{FaultAction, FaultPolicy, Faults};
use crate::seller::ReferenceSeller;
use crate::store::SellerStore;
use anyhow::Context;
use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use koo::seller::SellerConfig;
use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use tokio::net::TcpListener;

/// Everything `mercato isv serve` needs (no clap here; the CLI maps its flags).
#[derive(Debug, Clone)]
pub struct ReferenceSellerConfig {
    /// Port on 127.0.0.1; 0 picks a free one.
    pub port: u16,
    /// Access key for basic and license calls.
    pub key: String,
    /// Kit-call key; kit calls use `key` when absent.
    pub kit_key: Option<String>,
    /// The seller's SQLite file (created if missing).
    pub db_path: PathBuf,
    pub faults: FaultPolicy,
    /// Time for the signature window, async provisioning and `down_for`.
    pub clock: Arc<dyn Clock>,
}

impl ReferenceSellerConfig {
    pub fn new(key: impl Into<String>, db_path: impl Into<PathBuf>) -> Self {
        ReferenceSellerConfig {
            port: 0,
            key: key.into(),
            kit_key: None,
            db_path: db_path.into(),
            faults: FaultPolicy::default(),
            clock: Arc::new(SystemClock),
        }
    }
}

/// Opens the store and builds the full router (SDK + fault layer).
pub async fn app(config: &ReferenceSellerConfig) -> anyhow::Result<Router> {
    Ok(Controlled::open(config).await?.router)
}

/// A reference seller's router with handles on its running parts: the
/// fault policy, which may be changed while it serves, and its state, which
/// may be read (how many instances each order line got). For programs that
/// run the seller in process, such as `mercato chaos`.
pub struct Controlled {
    pub router: Router,
    pub faults: Arc<Faults>,
    pub store: SellerStore,
}

impl Controlled {
    /// Opens the store and builds the router, as [`app`].
    pub async fn open(config: &ReferenceSellerConfig) -> anyhow::Result<Controlled> {
        let store = SellerStore::open(&config.db_path, config.clock.clone())
            .await
            .with_context(|| format!("opening the seller database {}", config.db_path.display()))?;
        let faults = Arc::new(Faults::new(config.faults.clone(), config.clock.clone()));
        let seller = Arc::new(ReferenceSeller::new(store.clone(), faults.clone()));
        let clock = config.clock.clone();
        let mut sdk = SellerConfig::new(config.key.as_bytes()).with_clock(move || clock.now_ms());
        if let Some(kit_key) = &config.kit_key {
            sdk = sdk.with_kit_key(kit_key.as_bytes());
        }
        let router = koo::seller::router_with_kit(seller, sdk)
            .layer(middleware::from_fn_with_state(faults.clone(), fault_layer));
        Ok(Controlled { router, faults, store })
    }

    /// Serves the router on a listener the caller bound, until `shutdown` completes.
    pub async fn serve(
        router: Router,
        listener: TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        axum::serve(listener, router).with_graceful_shutdown(shutdown).await.context("serving the reference seller")
    }
}

/// Misbehaves as configured, before the SDK sees the call.
async fn fault_layer(State(faults): State<Arc<Faults>>, request: Request, next: Next) -> Response {
    let action = faults.decide();
    if action == FaultAction::HttpStatus(503) {
        // "Down": answer at once, like a proxy in front of a stopped server.
        return (StatusCode::SERVICE_UNAVAILABLE, "reference seller is down (--down-for)").into_response();
    }
    let latency = faults.latency();
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    match action {
        FaultAction::Proceed => {
            let response = next.run(request).await;
            // The work is done; only the answer is late.
            if let Some(late) = faults.late_answer() {
                tokio::time::sleep(late).await;
            }
            response
        }
        FaultAction::HttpStatus(status) => {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            (status, "injected failure (--fail-rate)").into_response()
        }
        FaultAction::InternalError => {
            let mut response =
                r#"{"resultCode":"000005","resultMsg":"injected failure (--fail-rate)"}"#.into_response();
            response
                .headers_mut()
                .insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json;charset=UTF-8"));
            response
        }
    }
}

/// Serves on a listener the caller bound, until `shutdown` completes.
pub async fn serve_on(
    listener: TcpListener,
    config: ReferenceSellerConfig,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    Controlled::serve(app(&config).await?, listener, shutdown).await
}

/// Binds 127.0.0.1:`port` and serves until Ctrl-C. Logs the URL.
pub async fn serve(config: ReferenceSellerConfig) -> anyhow::Result<()> {
    let (listener, addr) = bind(config.port).await?;
    tracing::info!(url = %format!("http://{addr}/produce"), "reference seller listening");
    serve_on(listener, config, async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await
}

/// Binds 127.0.0.1:`port` (0 = any free port) and says which address it got.
pub async fn bind(port: u16) -> anyhow::Result<(TcpListener, SocketAddr)> {
    let listener = TcpListener::bind(("127.0.0.1", port)).await.with_context(|| format!("binding 127.0.0.1:{port}"))?;
    let addr = listener.local_addr()?;
    Ok((listener, addr))
}

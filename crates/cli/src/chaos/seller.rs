//! The reference seller, in this process: its misbehaviour is switched while
//! it serves, and its own database says how many instances each order line
//! got.

use mercato_isv::{Controlled, FaultPolicy, Faults, ReferenceSellerConfig, SellerStore};
use std::path::Path;
use std::sync::Arc;

/// The seller's access key at its endpoint.
pub const KEY: &str = "chaos-access-key-0001";

pub struct Seller {
    pub url: String,
    pub faults: Arc<Faults>,
    pub store: SellerStore,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

/// 30 % of calls fail (HTTP 500 or 000005), and `timeouts` of them are
/// handled but answered after the marketplace's 5 s call timeout.
pub fn chaotic(timeouts: f64) -> FaultPolicy {
    FaultPolicy { fail_rate: 0.3, slow_rate: timeouts, slow_ms: 6_000, ..FaultPolicy::default() }
}

/// Every call handled, its answer held back `ms` (below the timeout: the
/// call is in flight that long).
pub fn slow(ms: u64) -> FaultPolicy {
    FaultPolicy { slow_rate: 1.0, slow_ms: ms, ..FaultPolicy::default() }
}

impl Seller {
    /// Starts a well-behaved seller on a free port with its SQLite file in `dir`.
    pub async fn start(dir: &Path) -> anyhow::Result<Seller> {
        let config = ReferenceSellerConfig::new(KEY, dir.join("reference-seller.db"));
        let Controlled { router, faults, store } = Controlled::open(&config).await?;
        let (listener, addr) = mercato_isv::bind(0).await?;
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(async move {
            let shutdown = async {
                let _ = stopped.await;
            };
            if let Err(e) = Controlled::serve(router, listener, shutdown).await {
                eprintln!("the reference seller stopped: {e:#}");
            }
        });
        Ok(Seller { url: format!("http://{addr}/produce"), faults, store, stop: Some(stop) })
    }

    /// Behaves again: no failures, no delays, up.
    pub fn behave(&self) {
        self.faults.set_policy(FaultPolicy::default());
        self.faults.go_down_for(std::time::Duration::ZERO);
    }
}

impl Drop for Seller {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

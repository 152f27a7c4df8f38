//! What every request handler can reach.

use crate::clock::{Clock, SystemClock, TestClock};
use crate::config::Config;
use crate::crypto::Crypto;
use crate::metrics::Metrics;
use mercato_store::Db;
use std::sync::Arc;

#[derive(Clone)]
pub struct AppState(Arc<Inner>);

pub struct Inner {
    pub db: Db,
    pub crypto: Crypto,
    /// The single source of time: `state.now()`.
    pub clock: Arc<dyn Clock>,
    /// Set when the node runs on the operator test clock (`clock` is then
    /// this same clock).
    pub test_clock: Option<Arc<TestClock>>,
    /// Real time, which job and task leases and login throttling are kept
    /// in: `clock` itself, except on the test clock, whose frozen time would
    /// keep a crashed node's lease (or a locked login) from ever running out.
    pub lease_clock: Arc<dyn Clock>,
    pub config: Config,
    pub metrics: Metrics,
    /// Wakes this node's worker loop before its next poll (see `app::outbox::wake`).
    pub worker_wake: tokio::sync::Notify,
    /// This node's name in leases (`node-<random>`), unique per process start.
    pub node_id: String,
    /// The client for sellers' servers, made on first use and shared so that
    /// connections to a seller are kept alive between calls.
    pub seller_client: std::sync::OnceLock<koo::client::Client>,
    /// Usage writers' turns on SQLite (see `app::usage::intake`).
    pub usage_writers: tokio::sync::Mutex<()>,
}

impl AppState {
    pub fn new(db: Db, crypto: Crypto, clock: Arc<dyn Clock>, config: Config) -> AppState {
        Self::build(db, crypto, clock.clone(), None, clock, config)
    }

    /// A node on the operator test clock; its leases run on the system clock.
    pub fn with_test_clock(db: Db, crypto: Crypto, clock: Arc<TestClock>, config: Config) -> AppState {
        Self::build(db, crypto, clock.clone(), Some(clock), Arc::new(SystemClock), config)
    }

    fn build(
        db: Db,
        crypto: Crypto,
        clock: Arc<dyn Clock>,
        test_clock: Option<Arc<TestClock>>,
        lease_clock: Arc<dyn Clock>,
        config: Config,
    ) -> AppState {
        let node_id = format!("node-{}", &uuid::Uuid::new_v4().simple().to_string()[..12]);
        AppState(Arc::new(Inner {
            db,
            crypto,
            clock,
            test_clock,
            lease_clock,
            config,
            metrics: Metrics::default(),
            worker_wake: tokio::sync::Notify::new(),
            node_id,
            seller_client: std::sync::OnceLock::new(),
            usage_writers: tokio::sync::Mutex::new(()),
        }))
    }

    pub fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.0.clock.now()
    }

    /// Real time (see `lease_clock`).
    pub fn real_now(&self) -> chrono::DateTime<chrono::Utc> {
        self.0.lease_clock.now()
    }

    /// The marketplace's time and the real time leases are kept in.
    pub fn moment(&self) -> mercato_store::repo::jobs::Moment {
        mercato_store::repo::jobs::Moment { now: self.now(), real: self.real_now() }
    }
}

impl std::ops::Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

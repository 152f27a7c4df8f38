//! What every request handler can reach.

use crate::clock::Clock;
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
    pub clock: Arc<dyn Clock>,
    pub config: Config,
    pub metrics: Metrics,
}

impl AppState {
    pub fn new(db: Db, crypto: Crypto, clock: Arc<dyn Clock>, config: Config) -> AppState {
        AppState(Arc::new(Inner { db, crypto, clock, config, metrics: Metrics::default() }))
    }

    pub fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.0.clock.now()
    }
}

impl std::ops::Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

//! The reference seller's own state, in one SQLite file (WAL mode).
//!
//! Raw SQL through `sea_orm::sqlx`: the schema is tiny and every write that
//! must be idempotent is a single `INSERT .. ON CONFLICT` statement, which is
//! what makes concurrent retries safe without application-level locks.

mod instances;
mod kit;
mod licenses;
mod schema;

pub use instances::{AppInfo, Instance, InstanceStatus, NewInstance, Refresh, RefreshScene};
pub use kit::{Application, KitScope, Org, SyncFlag, Tenant, User};
pub use licenses::{License, LicenseRequest};

use crate::clock::Clock;
use sea_orm::sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

/// Why a store operation failed. `NotFound` and `Invalid` map to protocol
/// codes 000003 and 000002; `Db` to 000005 (retryable).
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("instance does not exist: {0}")]
    NotFound(String),
    #[error("invalid request: {0}")]
    Invalid(String),
    #[error("database: {0}")]
    Db(#[from] sea_orm::sqlx::Error),
}

pub type StoreResult<T> = Result<T, StoreError>;

/// A handle to the seller's database; cheap to clone.
#[derive(Debug, Clone)]
pub struct SellerStore {
    pool: SqlitePool,
    clock: Arc<dyn Clock>,
}

impl SellerStore {
    /// Opens (creating if needed) the SQLite file at `path` in WAL mode and
    /// creates missing tables.
    pub async fn open(path: &Path, clock: Arc<dyn Clock>) -> StoreResult<Self> {
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(10));
        let pool = SqlitePoolOptions::new().max_connections(4).connect_with(options).await?;
        for statement in schema::MIGRATIONS {
            sea_orm::sqlx::query(*statement).execute(&pool).await?;
        }
        Ok(SellerStore { pool, clock })
    }

    pub fn now_ms(&self) -> i64 {
        self.clock.now_ms()
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}

//! Other sessions' statements in the current PostgreSQL database: a node
//! that has stopped serving may leave some running (its usage validator's),
//! and a baseline must not share the machine with them.

use super::usage_records::count_rows;
use crate::Db;
use crate::error::StoreResult;
use sea_orm::ConnectionTrait;

/// The sessions of this database other than the asking one that are not idle.
const OTHERS: &str = "FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() \
                      AND state <> 'idle'";

/// How many statements other sessions are running in this database.
/// PostgreSQL only.
pub async fn other_active_statements(db: &Db) -> StoreResult<u64> {
    count_rows(&db.conn, &format!("SELECT COUNT(*) AS n {OTHERS}")).await
}

/// Asks PostgreSQL to cancel every statement other sessions are running in
/// this database; the cancellation itself is asynchronous. PostgreSQL only.
pub async fn cancel_other_statements(db: &Db) -> StoreResult<()> {
    db.conn.execute_unprepared(&format!("SELECT pg_cancel_backend(pid) {OTHERS}")).await?;
    Ok(())
}

//! Whole-table figures of usage_records, and its upkeep after a bulk load.

use crate::Db;
use crate::error::StoreResult;
use sea_orm::{ConnectionTrait, DbBackend, DbErr, Statement};
use std::collections::BTreeMap;

/// Rows in usage_records, whatever their status.
pub async fn count_usage_records(db: &Db) -> StoreResult<u64> {
    count_rows(&db.conn, "SELECT COUNT(*) AS n FROM usage_records").await
}

/// Rows in usage_records per status (statuses without rows are absent).
pub async fn usage_records_by_status(db: &Db) -> StoreResult<BTreeMap<String, u64>> {
    let rows = db
        .conn
        .query_all_raw(Statement::from_string(
            db.conn.get_database_backend(),
            "SELECT status, COUNT(*) AS n FROM usage_records GROUP BY status",
        ))
        .await?;
    let mut by_status = BTreeMap::new();
    for row in rows {
        by_status.insert(row.try_get::<String>("", "status")?, row.try_get::<i64>("", "n")? as u64);
    }
    Ok(by_status)
}

/// Valid usage records: how many, and Σ usage_e4.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ValidTotals {
    pub rows: u64,
    pub usage_e4: i64,
}

/// [`ValidTotals`] over usage_records.
pub async fn valid_usage_totals(db: &Db) -> StoreResult<ValidTotals> {
    let row = db
        .conn
        .query_one_raw(Statement::from_string(
            db.conn.get_database_backend(),
            "SELECT COUNT(*) AS n, CAST(COALESCE(SUM(usage_e4), 0) AS BIGINT) AS u FROM usage_records \
             WHERE status = 'valid'",
        ))
        .await?
        .ok_or_else(|| DbErr::RecordNotFound("a count".into()))?;
    Ok(ValidTotals { rows: row.try_get::<i64>("", "n")? as u64, usage_e4: row.try_get::<i64>("", "u")? })
}

/// After a bulk load of usage_records: on PostgreSQL its statistics and
/// visibility map (autovacuum's work, done now so that it does not run
/// during a measurement) and a checkpoint; on SQLite the WAL folded back
/// into the file.
pub async fn settle_after_bulk_load(db: &Db) -> StoreResult<()> {
    if db.conn.get_database_backend() == DbBackend::Postgres {
        db.conn.execute_unprepared("VACUUM (ANALYZE) usage_records").await?;
        db.conn.execute_unprepared("CHECKPOINT").await?;
    } else {
        db.conn.execute_unprepared("PRAGMA wal_checkpoint(TRUNCATE)").await?;
    }
    Ok(())
}

/// The single `n` a `SELECT COUNT(*) AS n` answers.
pub(super) async fn count_rows(db: &impl ConnectionTrait, sql: &str) -> StoreResult<u64> {
    let row = db
        .query_one_raw(Statement::from_string(db.get_database_backend(), sql))
        .await?
        .ok_or_else(|| DbErr::RecordNotFound("a count".into()))?;
    Ok(row.try_get::<i64>("", "n")? as u64)
}

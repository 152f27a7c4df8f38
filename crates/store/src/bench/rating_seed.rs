//! `bench rating`'s seeding: valid usage records written straight into
//! usage_records by set-based SQL, as the validator would have left them,
//! and the database put where it would be had they been pushed in time.
//!
//! The records follow one formula (the bench's module docs give it in
//! full): record `k` belongs to instance `k % I`, lies in hour `k / R` from
//! the first hour, ends at hour start + 60 s + `((k % R) / I) * 3539 / S` s,
//! began 60 s earlier, was received 300 s after its end, and has `usage_e4`
//! = `1 + (k * 7919) % 1_000_000` and `metering_sn` = `rb-<k>`.

use super::usage_records::count_rows;
use crate::Db;
use crate::error::StoreResult;
use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DbBackend, Statement, Value};

/// Deletes every rating mark, so rating starts from the oldest record, in a
/// transaction committed only when no usage line exists yet (with lines,
/// forgetting the marks would rate their periods twice). Returns the usage
/// lines found: 0 when the marks were deleted.
pub async fn clear_rating_marks(db: &Db) -> StoreResult<u64> {
    let tx = db.write().await?;
    tx.execute_unprepared("DELETE FROM usage_rating_marks").await?;
    let lines = count_rows(&tx, "SELECT COUNT(*) AS n FROM usage_lines").await?;
    if lines == 0 {
        tx.commit().await?;
    }
    Ok(lines)
}

/// Creates bench_rating_instances, which numbers the instances for the
/// formula: `instance_ids[i]` gets index `i`. Drop it with
/// [`drop_instance_index`] once the records are written.
pub async fn create_instance_index(db: &Db, instance_ids: &[&str]) -> StoreResult<()> {
    let backend = db.conn.get_database_backend();
    let pg = backend == DbBackend::Postgres;
    db.conn
        .execute_unprepared("CREATE TABLE bench_rating_instances (idx BIGINT PRIMARY KEY, instance_id TEXT NOT NULL)")
        .await?;
    for (c, chunk) in instance_ids.chunks(1000).enumerate() {
        let mut sql = String::from("INSERT INTO bench_rating_instances (idx, instance_id) VALUES ");
        let mut values: Vec<Value> = Vec::with_capacity(chunk.len() * 2);
        for (i, instance) in chunk.iter().enumerate() {
            let n = values.len();
            if i > 0 {
                sql.push(',');
            }
            sql.push_str(&if pg { format!("(${}, ${})", n + 1, n + 2) } else { "(?, ?)".to_string() });
            values.push(((c * 1000 + i) as i64).into());
            values.push((*instance).into());
        }
        db.conn.execute_raw(Statement::from_sql_and_values(backend, sql, values)).await?;
    }
    Ok(())
}

/// Drops bench_rating_instances.
pub async fn drop_instance_index(db: &Db) -> StoreResult<()> {
    db.conn.execute_unprepared("DROP TABLE bench_rating_instances").await?;
    Ok(())
}

/// The formula's parameters.
#[derive(Debug, Clone, Copy)]
pub struct RecordFormula<'a> {
    pub seller_id: &'a str,
    /// I: the instances numbered by [`create_instance_index`].
    pub instances: u64,
    /// R: records per hour.
    pub per_hour: u64,
    /// S: records per instance and hour, at most.
    pub per_line: u64,
    /// The start of hour 0 (a whole hour).
    pub first_hour: DateTime<Utc>,
}

/// PostgreSQL: records `$2..=$3`. `$1` seller, `$4` I, `$5` R, `$6` the
/// first hour, `$7` S.
const PG_INSERT: &str = "INSERT INTO usage_records (seller_id, metering_sn, instance_id, record_time, begin_time, \
     end_time, usage_e4, relate_pkg_instance, received_at, status, billing) \
     SELECT $1, 'rb-' || g.k, i.instance_id, t.e, t.e - interval '60 seconds', t.e, 1 + (g.k * 7919) % 1000000, \
     NULL, t.e + interval '300 seconds', 'valid', 'hourly' \
     FROM generate_series($2::bigint, $3::bigint) AS g(k) \
     JOIN bench_rating_instances i ON i.idx = g.k % $4 \
     CROSS JOIN LATERAL (SELECT $6::timestamptz \
         + ((g.k / $5) * 3600 + 60 + ((g.k % $5) / $4) * 3539 / $7) * interval '1 second' AS e) t";

/// SQLite: the same rows, timestamps in sqlx's text form
/// (`2026-11-22T08:00:00+00:00`). `?6` is the first hour in Unix seconds.
const SQLITE_INSERT: &str = "WITH RECURSIVE g(k) AS (SELECT ?2 UNION ALL SELECT k + 1 FROM g WHERE k < ?3) \
     INSERT INTO usage_records (seller_id, metering_sn, instance_id, record_time, begin_time, end_time, usage_e4, \
     relate_pkg_instance, received_at, status, billing) \
     SELECT ?1, 'rb-' || t.k, i.instance_id, \
         strftime('%Y-%m-%dT%H:%M:%S+00:00', t.e, 'unixepoch'), \
         strftime('%Y-%m-%dT%H:%M:%S+00:00', t.e - 60, 'unixepoch'), \
         strftime('%Y-%m-%dT%H:%M:%S+00:00', t.e, 'unixepoch'), \
         1 + (t.k * 7919) % 1000000, NULL, \
         strftime('%Y-%m-%dT%H:%M:%S+00:00', t.e + 300, 'unixepoch'), 'valid', 'hourly' \
     FROM (SELECT k, ?6 + (k / ?5) * 3600 + 60 + ((k % ?5) / ?4) * 3539 / ?7 AS e FROM g) t \
     JOIN bench_rating_instances i ON i.idx = t.k % ?4";

/// Writes records `from..=to` of `formula` (status 'valid', billing
/// 'hourly') with one set-based statement in one write transaction; returns
/// the rows inserted.
pub async fn insert_formula_records(db: &Db, formula: &RecordFormula<'_>, from: u64, to: u64) -> StoreResult<u64> {
    let backend = db.conn.get_database_backend();
    let pg = backend == DbBackend::Postgres;
    let first: Value = if pg { formula.first_hour.into() } else { formula.first_hour.timestamp().into() };
    let values: Vec<Value> = vec![
        formula.seller_id.into(),
        (from as i64).into(),
        (to as i64).into(),
        (formula.instances as i64).into(),
        (formula.per_hour as i64).into(),
        first,
        (formula.per_line as i64).into(),
    ];
    let tx = db.write().await?;
    let inserted = tx
        .execute_raw(Statement::from_sql_and_values(backend, if pg { PG_INSERT } else { SQLITE_INSERT }, values))
        .await?
        .rows_affected();
    tx.commit().await?;
    Ok(inserted)
}

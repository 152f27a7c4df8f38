//! `bench usage`'s baseline: usage_baseline, a copy of usage_records (key
//! and indexes included), written with the push path's statement form
//! (`repo::usage`) but ending `ON CONFLICT DO NOTHING`, so the figure is
//! what the database alone takes for the same rows.

use super::usage_records::count_rows;
use crate::error::StoreResult;
use crate::{Backend, Db};
use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DbBackend, Statement, Value};

/// How [`insert_baseline_rows`] writes on `backend`, in the report's words.
pub fn statement_form(backend: Backend) -> &'static str {
    match backend {
        Backend::Postgres => "INSERT ... SELECT FROM UNNEST",
        Backend::Sqlite => "INSERT ... VALUES",
    }
}

/// Creates usage_baseline with usage_records' own DDL: on PostgreSQL `LIKE
/// ... INCLUDING ALL`, on SQLite the table's and its indexes' stored SQL,
/// renamed.
pub async fn create_baseline_table(db: &Db) -> StoreResult<()> {
    let conn = &db.conn;
    let backend = conn.get_database_backend();
    if backend == DbBackend::Postgres {
        conn.execute_unprepared("CREATE TABLE usage_baseline (LIKE usage_records INCLUDING ALL)").await?;
        return Ok(());
    }
    let ddl = conn
        .query_all_raw(Statement::from_string(
            backend,
            "SELECT sql FROM sqlite_master WHERE tbl_name = 'usage_records' AND sql IS NOT NULL ORDER BY type DESC",
        ))
        .await?;
    for row in ddl {
        let sql: String = row.try_get("", "sql")?;
        conn.execute_unprepared(&sql.replace("usage_records", "usage_baseline")).await?;
    }
    Ok(())
}

/// One row for usage_baseline, as a push would store it (status
/// 'received', no package).
#[derive(Debug, Clone)]
pub struct BaselineRow {
    pub metering_sn: String,
    pub instance_id: String,
    pub record_time: DateTime<Utc>,
    pub begin_time: DateTime<Utc>,
    pub end_time: DateTime<Utc>,
    pub usage_e4: i64,
}

/// Inserts `rows` of `seller_id` received at `received_at` with one
/// statement in one write transaction; returns the rows inserted (an
/// existing (seller_id, metering_sn) is skipped). `rows` is consumed straight
/// into the statement's binds. On SQLite each row takes 8 of the 32766 binds
/// a statement may carry: at most 4095 rows.
pub async fn insert_baseline_rows(
    db: &Db,
    seller_id: &str,
    received_at: DateTime<Utc>,
    rows: impl IntoIterator<Item = BaselineRow>,
) -> StoreResult<u64> {
    let tx = db.write().await?;
    let statement = insert_statement(tx.get_database_backend(), seller_id, received_at, rows);
    let inserted = tx.execute_raw(statement).await?.rows_affected();
    tx.commit().await?;
    Ok(inserted)
}

/// The push path's PostgreSQL statement, into usage_baseline.
const PG_INSERT: &str = "INSERT INTO usage_baseline (seller_id, metering_sn, instance_id, record_time, begin_time, \
     end_time, usage_e4, relate_pkg_instance, received_at, status) \
     SELECT $1, t.sn, t.ins, t.rt, t.bt, t.et, t.u, NULL, $2, 'received' \
     FROM UNNEST($3::text[], $4::text[], $5::timestamptz[], $6::timestamptz[], $7::timestamptz[], $8::int8[]) \
     AS t(sn, ins, rt, bt, et, u) ON CONFLICT (seller_id, metering_sn) DO NOTHING";

fn insert_statement(
    backend: DbBackend,
    seller_id: &str,
    received_at: DateTime<Utc>,
    rows: impl IntoIterator<Item = BaselineRow>,
) -> Statement {
    if backend == DbBackend::Postgres {
        let (mut sn, mut ins, mut rt, mut bt, mut et, mut u) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for row in rows {
            sn.push(row.metering_sn);
            ins.push(row.instance_id);
            rt.push(row.record_time);
            bt.push(row.begin_time);
            et.push(row.end_time);
            u.push(row.usage_e4);
        }
        let values: Vec<Value> = vec![
            seller_id.into(),
            received_at.into(),
            sn.into(),
            ins.into(),
            rt.into(),
            bt.into(),
            et.into(),
            u.into(),
        ];
        return Statement::from_sql_and_values(backend, PG_INSERT, values);
    }
    let rows = rows.into_iter();
    let mut sql = String::from(
        "INSERT INTO usage_baseline (seller_id, metering_sn, instance_id, record_time, begin_time, end_time, \
         usage_e4, relate_pkg_instance, received_at, status) VALUES ",
    );
    let mut values: Vec<Value> = Vec::with_capacity(rows.size_hint().0 * 8);
    for (i, row) in rows.enumerate() {
        sql.push_str(if i == 0 { "(?,?,?,?,?,?,?,NULL,?,'received')" } else { ",(?,?,?,?,?,?,?,NULL,?,'received')" });
        values.extend([
            seller_id.into(),
            row.metering_sn.into(),
            row.instance_id.into(),
            row.record_time.into(),
            row.begin_time.into(),
            row.end_time.into(),
            row.usage_e4.into(),
            received_at.into(),
        ]);
    }
    sql.push_str(" ON CONFLICT (seller_id, metering_sn) DO NOTHING");
    Statement::from_sql_and_values(backend, sql, values)
}

/// Rows in usage_baseline.
pub async fn count_baseline_rows(db: &Db) -> StoreResult<u64> {
    count_rows(&db.conn, "SELECT COUNT(*) AS n FROM usage_baseline").await
}

/// Drops usage_baseline.
pub async fn drop_baseline_table(db: &Db) -> StoreResult<()> {
    db.conn.execute_unprepared("DROP TABLE usage_baseline").await?;
    Ok(())
}

//! Usage records (话单). The push path writes a whole batch with one statement
//! ending `ON CONFLICT (seller_id, metering_sn) DO NOTHING`, so a retried or
//! concurrent push of the same records inserts each record once, and the
//! affected-row count is the number of new records:
//! - PostgreSQL: `INSERT ... SELECT ... FROM UNNEST(arrays)`, ten bind
//!   parameters whatever the batch size, so one prepared statement serves
//!   every push and the server parses no 1000-row VALUES list;
//! - SQLite: multi-row `VALUES`, in chunks that respect its limit of 32766
//!   bind parameters (a 1000-record push is one statement).

use crate::entity::usage_record as usage;
use crate::error::StoreResult;
use chrono::{DateTime, Utc};
use mercato_domain::usage::UsageRecord;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, Statement, Value,
};

/// A record just pushed, not yet validated.
pub const STATUS_RECEIVED: &str = "received";

const INSERT_HEAD: &str = "INSERT INTO usage_records (seller_id, metering_sn, instance_id, record_time, begin_time, \
     end_time, usage_e4, relate_pkg_instance, received_at, status) VALUES ";
const INSERT_TAIL: &str = " ON CONFLICT (seller_id, metering_sn) DO NOTHING";
/// Bound values per row (`status` is a literal).
const BINDS_PER_ROW: usize = 9;

/// The most bind parameters one statement may carry.
fn max_binds(backend: DbBackend) -> usize {
    match backend {
        DbBackend::Postgres => 65_535,
        _ => 32_766,
    }
}

/// Inserts the records as 'received' for the seller; returns how many were
/// new (the rest were already stored under the same metering_sn). Callers
/// pass the records sorted by metering_sn, so that concurrent transactions
/// inserting overlapping batches take the key locks in the same order and
/// cannot deadlock on PostgreSQL.
pub async fn insert_received(
    db: &impl ConnectionTrait,
    seller_id: &str,
    received_at: DateTime<Utc>,
    records: &[UsageRecord],
) -> StoreResult<u64> {
    let backend = db.get_database_backend();
    if backend == DbBackend::Postgres {
        return insert_received_pg(db, seller_id, received_at, records).await;
    }
    let rows_per_statement = max_binds(backend) / BINDS_PER_ROW;
    let mut inserted = 0;
    for chunk in records.chunks(rows_per_statement) {
        let mut sql = String::with_capacity(INSERT_HEAD.len() + INSERT_TAIL.len() + chunk.len() * 64);
        sql.push_str(INSERT_HEAD);
        let mut values: Vec<Value> = Vec::with_capacity(chunk.len() * BINDS_PER_ROW);
        for (row, r) in chunk.iter().enumerate() {
            if row > 0 {
                sql.push(',');
            }
            sql.push('(');
            for col in 0..BINDS_PER_ROW {
                if col > 0 {
                    sql.push(',');
                }
                match backend {
                    DbBackend::Postgres => {
                        sql.push('$');
                        sql.push_str(&(row * BINDS_PER_ROW + col + 1).to_string());
                    }
                    _ => sql.push('?'),
                }
            }
            sql.push_str(",'");
            sql.push_str(STATUS_RECEIVED);
            sql.push_str("')");
            values.extend([
                seller_id.into(),
                r.metering_sn.as_str().into(),
                r.instance_id.as_str().into(),
                r.record_time.into(),
                r.begin_time.into(),
                r.end_time.into(),
                r.usage_e4.into(),
                r.relate_pkg_instance.as_deref().into(),
                received_at.into(),
            ]);
        }
        sql.push_str(INSERT_TAIL);
        inserted += db.execute_raw(Statement::from_sql_and_values(backend, sql, values)).await?.rows_affected();
    }
    Ok(inserted)
}

/// Array binds cannot hold NULL elements here (sea-query binds `Vec<T>`), so
/// an absent record_time travels as a flag next to a placeholder time, and
/// an absent package instance as '' (the shape rules forbid an empty one).
const PG_INSERT: &str = "INSERT INTO usage_records (seller_id, metering_sn, instance_id, record_time, begin_time, \
     end_time, usage_e4, relate_pkg_instance, received_at, status) \
     SELECT $1, t.sn, t.ins, CASE WHEN t.has_rt THEN t.rt END, t.bt, t.et, t.u, NULLIF(t.pkg, ''), $2, 'received' \
     FROM UNNEST($3::text[], $4::text[], $5::bool[], $6::timestamptz[], $7::timestamptz[], $8::timestamptz[], \
     $9::int8[], $10::text[]) AS t(sn, ins, has_rt, rt, bt, et, u, pkg) \
     ON CONFLICT (seller_id, metering_sn) DO NOTHING";

async fn insert_received_pg(
    db: &impl ConnectionTrait,
    seller_id: &str,
    received_at: DateTime<Utc>,
    records: &[UsageRecord],
) -> StoreResult<u64> {
    let n = records.len();
    let (mut sn, mut ins, mut has_rt, mut rt) =
        (Vec::with_capacity(n), Vec::with_capacity(n), Vec::with_capacity(n), Vec::with_capacity(n));
    let (mut bt, mut et, mut u, mut pkg) =
        (Vec::with_capacity(n), Vec::with_capacity(n), Vec::with_capacity(n), Vec::with_capacity(n));
    for r in records {
        sn.push(r.metering_sn.clone());
        ins.push(r.instance_id.clone());
        has_rt.push(r.record_time.is_some());
        rt.push(r.record_time.unwrap_or(r.begin_time));
        bt.push(r.begin_time);
        et.push(r.end_time);
        u.push(r.usage_e4);
        pkg.push(r.relate_pkg_instance.clone().unwrap_or_default());
    }
    let values: Vec<Value> = vec![
        seller_id.into(),
        received_at.into(),
        sn.into(),
        ins.into(),
        has_rt.into(),
        rt.into(),
        bt.into(),
        et.into(),
        u.into(),
        pkg.into(),
    ];
    Ok(db.execute_raw(Statement::from_sql_and_values(DbBackend::Postgres, PG_INSERT, values)).await?.rows_affected())
}

/// The seller's records, by metering_sn.
pub async fn list_for_seller(db: &impl ConnectionTrait, seller_id: &str) -> StoreResult<Vec<usage::Model>> {
    Ok(usage::Entity::find()
        .filter(usage::Column::SellerId.eq(seller_id))
        .order_by_asc(usage::Column::MeteringSn)
        .all(db)
        .await?)
}

/// How many records the seller has stored.
pub async fn count_for_seller(db: &impl ConnectionTrait, seller_id: &str) -> StoreResult<u64> {
    Ok(usage::Entity::find().filter(usage::Column::SellerId.eq(seller_id)).count(db).await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_statements_store_the_received_status() {
        assert!(PG_INSERT.contains(&format!("'{STATUS_RECEIVED}'")));
        assert_eq!(max_binds(DbBackend::Sqlite) / BINDS_PER_ROW, 3640, "a 1000-record push is one SQLite statement");
    }
}

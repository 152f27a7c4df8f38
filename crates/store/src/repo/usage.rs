//! Usage records (话单). The push path writes a whole batch with one statement
//! ending `ON CONFLICT (seller_id, metering_sn) DO UPDATE ... WHERE status =
//! 'error'`, so a retried or concurrent push of the same records inserts each
//! record once, only an error record is replaced (corrected and resent), and
//! the affected-row count is the number of new or replaced records:
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
     end_time, usage_e4, relate_pkg_instance, received_at, batch_id, batch_position, status) VALUES ";
/// A record stored as 'error' may be corrected and resent under the same
/// metering_sn: it is replaced and validated again. Any other stored record
/// ('received', 'valid', 'duplicate') is left as it is, so a retried push
/// changes nothing.
const ON_CONFLICT: &str = " ON CONFLICT (seller_id, metering_sn) DO UPDATE SET instance_id = excluded.instance_id, \
     record_time = excluded.record_time, begin_time = excluded.begin_time, end_time = excluded.end_time, \
     usage_e4 = excluded.usage_e4, relate_pkg_instance = excluded.relate_pkg_instance, \
     received_at = excluded.received_at, batch_id = excluded.batch_id, batch_position = excluded.batch_position, \
     status = 'received', error_code = NULL, error_reason = NULL, \
     duplicate_of = NULL WHERE usage_records.status = 'error'";
const INSERT_TAIL: &str = ON_CONFLICT;
/// Bound values per row (`status` is a literal).
const BINDS_PER_ROW: usize = 11;

/// The most bind parameters one statement may carry.
fn max_binds(backend: DbBackend) -> usize {
    match backend {
        DbBackend::Postgres => 65_535,
        _ => 32_766,
    }
}

/// Inserts the records of push `batch_id` as 'received' for the seller;
/// returns how many were new (the rest were already stored under the same
/// metering_sn). Callers
/// pass the records sorted by metering_sn, so that concurrent transactions
/// inserting overlapping batches take the key locks in the same order and
/// cannot deadlock on PostgreSQL.
pub async fn insert_received(
    db: &impl ConnectionTrait,
    seller_id: &str,
    received_at: DateTime<Utc>,
    batch_id: &str,
    records: &[UsageRecord],
) -> StoreResult<u64> {
    let backend = db.get_database_backend();
    if backend == DbBackend::Postgres {
        return insert_received_pg(db, seller_id, received_at, batch_id, records).await;
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
                batch_id.into(),
                i64::from(r.position).into(),
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
     end_time, usage_e4, relate_pkg_instance, received_at, batch_id, batch_position, status) \
     SELECT $1, t.sn, t.ins, CASE WHEN t.has_rt THEN t.rt END, t.bt, t.et, t.u, NULLIF(t.pkg, ''), $2, $11, t.pos, \
     'received' \
     FROM UNNEST($3::text[], $4::text[], $5::bool[], $6::timestamptz[], $7::timestamptz[], $8::timestamptz[], \
     $9::int8[], $10::text[], $12::int8[]) AS t(sn, ins, has_rt, rt, bt, et, u, pkg, pos)";

async fn insert_received_pg(
    db: &impl ConnectionTrait,
    seller_id: &str,
    received_at: DateTime<Utc>,
    batch_id: &str,
    records: &[UsageRecord],
) -> StoreResult<u64> {
    let n = records.len();
    let mut pos: Vec<i64> = Vec::with_capacity(n);
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
        pos.push(i64::from(r.position));
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
        batch_id.into(),
        pos.into(),
    ];
    let sql = format!("{PG_INSERT}{ON_CONFLICT}");
    Ok(db.execute_raw(Statement::from_sql_and_values(DbBackend::Postgres, sql, values)).await?.rows_affected())
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

/// Statuses the validator writes.
pub const STATUS_VALID: &str = "valid";
pub const STATUS_ERROR: &str = "error";
pub const STATUS_DUPLICATE: &str = "duplicate";

/// On PostgreSQL the key probes below compare `status || ''`, not `status`:
/// with the status index usable, the planner (its statistics lagging the
/// validator's updates) ANDs a bitmap of every 'received' row into each key
/// probe, a scan of the whole queue per record; the expression keeps it on
/// the key (or window) index. SQLite's `+status` does the same there.
/// Row-value pairs per status update (two binds each).
const KEYS_PER_UPDATE: usize = 1000;

/// The oldest `limit` records still 'received', in push order: by the time
/// the push was accepted, then the push (batch ids are time-ordered), then
/// the record's place in it. Of two copies of one usage window the
/// validator keeps the first it takes, so the first pushed counts.
pub async fn received_chunk(db: &impl ConnectionTrait, limit: u64) -> StoreResult<Vec<usage::Model>> {
    use sea_orm::QuerySelect;
    Ok(usage::Entity::find()
        .filter(usage::Column::Status.eq(STATUS_RECEIVED))
        .order_by_asc(usage::Column::ReceivedAt)
        .order_by_asc(usage::Column::BatchId)
        .order_by_asc(usage::Column::BatchPosition)
        .limit(limit)
        .all(db)
        .await?)
}

/// The subscriptions holding these instance ids, in one query per 5000 ids.
pub async fn subscriptions_of_instances(
    db: &impl ConnectionTrait,
    instance_ids: &[String],
) -> StoreResult<Vec<crate::entity::subscription::Model>> {
    use crate::entity::subscription as sub;
    let mut out = Vec::new();
    for ids in instance_ids.chunks(5000) {
        out.extend(sub::Entity::find().filter(sub::Column::InstanceId.is_in(ids.iter().cloned())).all(db).await?);
    }
    Ok(out)
}

/// A usage window: (instance, begin, end).
pub type Window = (String, DateTime<Utc>, DateTime<Utc>);

/// The valid records whose window is one of `windows` (the duplicates a new
/// record may be of), looked up through the (instance, begin, end) index.
pub async fn valid_windows(db: &impl ConnectionTrait, windows: &[Window]) -> StoreResult<Vec<usage::Model>> {
    let backend = db.get_database_backend();
    let mut out = Vec::new();
    if backend == DbBackend::Postgres {
        // One statement with three array binds, joined on the index.
        let (mut ins, mut bt, mut et) = (Vec::new(), Vec::new(), Vec::new());
        for (i, b, e) in windows {
            ins.push(i.clone());
            bt.push(*b);
            et.push(*e);
        }
        let sql = "SELECT u.* FROM usage_records u \
             JOIN UNNEST($1::text[], $2::timestamptz[], $3::timestamptz[]) AS w(ins, bt, et) \
             ON u.instance_id = w.ins AND u.begin_time = w.bt AND u.end_time = w.et \
             WHERE u.status || '' = $4";
        let values: Vec<Value> = vec![ins.into(), bt.into(), et.into(), STATUS_VALID.into()];
        let stmt = Statement::from_sql_and_values(DbBackend::Postgres, sql, values);
        out.extend(usage::Entity::find().from_raw_sql(stmt).all(db).await?);
        return Ok(out);
    }
    for chunk in windows.chunks(KEYS_PER_UPDATE) {
        // SQLite plans a row-value IN list through the status index (a scan
        // of every valid record); a join from the windows probes the
        // (instance, begin, end) index instead.
        let mut sql = String::from("WITH w(ins, bt, et) AS (VALUES ");
        let mut values: Vec<Value> = Vec::new();
        for (n, (i, b, e)) in chunk.iter().enumerate() {
            sql.push_str(if n == 0 { "(?, ?, ?)" } else { ", (?, ?, ?)" });
            values.push(i.as_str().into());
            values.push((*b).into());
            values.push((*e).into());
        }
        sql.push_str(
            ") SELECT u.* FROM w CROSS JOIN usage_records u \
             ON u.instance_id = w.ins AND u.begin_time = w.bt AND u.end_time = w.et WHERE u.status = ?",
        );
        values.push(STATUS_VALID.into());
        let stmt = Statement::from_sql_and_values(backend, sql, values);
        out.extend(usage::Entity::find().from_raw_sql(stmt).all(db).await?);
    }
    Ok(out)
}

/// An outcome shared by a group of records.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Outcome {
    pub status: &'static str,
    pub error_code: Option<String>,
    pub error_reason: Option<String>,
    pub duplicate_of: Option<String>,
    /// A valid record's billing ('hourly' / 'daily'): the period kind it is rated in.
    pub billing: Option<&'static str>,
}

/// Writes `outcome` on the records `(seller_id, metering_sn)` that are still
/// 'received' (so a record is decided once even if two validators race);
/// returns how many rows changed.
pub async fn set_outcome(db: &impl ConnectionTrait, outcome: &Outcome, keys: &[(String, String)]) -> StoreResult<u64> {
    let backend = db.get_database_backend();
    let head: Vec<Value> = vec![
        outcome.status.into(),
        outcome.error_code.clone().into(),
        outcome.error_reason.clone().into(),
        outcome.duplicate_of.clone().into(),
        outcome.billing.into(),
    ];
    if backend == DbBackend::Postgres {
        // A join on two array binds: one index probe per key, whatever the
        // number of keys (a long row-value IN list plans as a scan).
        let (sellers, sns): (Vec<String>, Vec<String>) = keys.iter().cloned().unzip();
        let sql = format!(
            "UPDATE usage_records u SET status = $1, error_code = $2, error_reason = $3, duplicate_of = $4, \
             billing = $5 FROM UNNEST($6::text[], $7::text[]) AS k(seller_id, metering_sn) \
             WHERE u.seller_id = k.seller_id AND u.metering_sn = k.metering_sn \
             AND u.status || '' = '{STATUS_RECEIVED}'"
        );
        let mut values = head;
        values.push(sellers.into());
        values.push(sns.into());
        return Ok(db.execute_raw(Statement::from_sql_and_values(backend, sql, values)).await?.rows_affected());
    }
    let mut changed = 0;
    for chunk in keys.chunks(KEYS_PER_UPDATE) {
        // `+status` keeps SQLite off the status index, so it probes the
        // primary key for each pair instead of scanning every received row.
        let mut sql = format!(
            "UPDATE usage_records SET status = ?, error_code = ?, error_reason = ?, duplicate_of = ?, billing = ? \
             WHERE +status = '{STATUS_RECEIVED}' AND (seller_id, metering_sn) IN (SELECT column1, column2 FROM (VALUES "
        );
        let mut values = head.clone();
        for (i, (seller, sn)) in chunk.iter().enumerate() {
            sql.push_str(if i == 0 { "(?, ?)" } else { ", (?, ?)" });
            values.push(seller.as_str().into());
            values.push(sn.as_str().into());
        }
        sql.push_str("))");
        changed += db.execute_raw(Statement::from_sql_and_values(backend, sql, values)).await?.rows_affected();
    }
    Ok(changed)
}

/// Marks the records `(seller_id, metering_sn, first)` that are still
/// 'received' as duplicates of the metering_sn `first` (code `code`), in one
/// statement per [`KEYS_PER_UPDATE`] records (PostgreSQL: one).
pub async fn set_duplicates(
    db: &impl ConnectionTrait,
    code: &str,
    rows: &[(String, String, String)],
) -> StoreResult<u64> {
    if rows.is_empty() {
        return Ok(0);
    }
    let backend = db.get_database_backend();
    if backend == DbBackend::Postgres {
        let (mut sellers, mut sns, mut firsts) = (Vec::new(), Vec::new(), Vec::new());
        for (seller, sn, first) in rows {
            sellers.push(seller.clone());
            sns.push(sn.clone());
            firsts.push(first.clone());
        }
        let sql = format!(
            "UPDATE usage_records u SET status = '{STATUS_DUPLICATE}', error_code = $1, \
             error_reason = 'duplicate of metering_sn ' || k.first, duplicate_of = k.first \
             FROM UNNEST($2::text[], $3::text[], $4::text[]) AS k(seller_id, metering_sn, first) \
             WHERE u.seller_id = k.seller_id AND u.metering_sn = k.metering_sn \
             AND u.status || '' = '{STATUS_RECEIVED}'"
        );
        let values: Vec<Value> = vec![code.into(), sellers.into(), sns.into(), firsts.into()];
        return Ok(db.execute_raw(Statement::from_sql_and_values(backend, sql, values)).await?.rows_affected());
    }
    let mut changed = 0;
    for chunk in rows.chunks(KEYS_PER_UPDATE) {
        let mut sql = String::from("WITH k(seller_id, metering_sn, first) AS (VALUES ");
        let mut values: Vec<Value> = Vec::with_capacity(chunk.len() * 3 + 1);
        for (i, (seller, sn, first)) in chunk.iter().enumerate() {
            sql.push_str(if i == 0 { "(?, ?, ?)" } else { ", (?, ?, ?)" });
            values.extend([seller.as_str().into(), sn.as_str().into(), first.as_str().into()]);
        }
        sql.push_str(&format!(
            ") UPDATE usage_records SET status = '{STATUS_DUPLICATE}', error_code = ?, \
             error_reason = 'duplicate of metering_sn ' || k.first, duplicate_of = k.first FROM k \
             WHERE usage_records.seller_id = k.seller_id AND usage_records.metering_sn = k.metering_sn \
             AND +usage_records.status = '{STATUS_RECEIVED}'"
        ));
        values.push(code.into());
        changed += db.execute_raw(Statement::from_sql_and_values(backend, sql, values)).await?.rows_affected();
    }
    Ok(changed)
}

/// Takes the validator's lock for the rest of the transaction on PostgreSQL
/// (SQLite write transactions are already serial): chunks are decided one
/// at a time, each seeing the valid records of the ones before it.
pub async fn lock_validator(db: &impl ConnectionTrait) -> StoreResult<()> {
    xact_lock(db, VALIDATOR_LOCK_KEY).await
}

/// A transaction-scoped advisory lock named `key` on PostgreSQL; nothing on
/// SQLite, whose write transactions already run one at a time.
pub(crate) async fn xact_lock(db: &impl ConnectionTrait, key: i64) -> StoreResult<()> {
    if db.get_database_backend() == DbBackend::Postgres {
        db.execute_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT pg_advisory_xact_lock($1)",
            [key.into()],
        ))
        .await?;
    }
    Ok(())
}

/// Arbitrary constant naming the usage validator's lock.
const VALIDATOR_LOCK_KEY: i64 = 0x6d65_7263_7573_6701;

/// The seller's error and duplicate records, by metering_sn after `after`.
pub async fn list_errors(
    db: &impl ConnectionTrait,
    seller_id: &str,
    instance_id: Option<&str>,
    statuses: &[&str],
    after: Option<&str>,
    limit: u64,
) -> StoreResult<Vec<usage::Model>> {
    use sea_orm::QuerySelect;
    let mut q = usage::Entity::find()
        .filter(usage::Column::SellerId.eq(seller_id))
        .filter(usage::Column::Status.is_in(statuses.iter().copied()));
    if let Some(i) = instance_id {
        q = q.filter(usage::Column::InstanceId.eq(i));
    }
    if let Some(a) = after {
        q = q.filter(usage::Column::MeteringSn.gt(a));
    }
    Ok(q.order_by_asc(usage::Column::MeteringSn).limit(limit).all(db).await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_statements_store_the_received_status() {
        assert!(PG_INSERT.contains(&format!("'{STATUS_RECEIVED}'")));
        assert!(max_binds(DbBackend::Sqlite) / BINDS_PER_ROW >= 1000, "a 1000-record push is one SQLite statement");
    }
}

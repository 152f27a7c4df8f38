//! Storage of rating and charging (rules: `mercato_domain::rating`; the use
//! case: the server's `app::usage::rating`).
//!
//! A period's records are read through the (status, received_at) index: a
//! valid record of the period [start, end) has start <= end_time <=
//! received_at < close, so `received_at` in [start, close) bounds the scan
//! and `end_time` in [start, end) picks the period's records from it.

use crate::entity::{
    order_line, subscription, usage_charge, usage_line, usage_package, usage_package_draw, usage_rating_mark,
};
use crate::error::StoreResult;
use crate::repo::usage::{STATUS_RECEIVED, STATUS_VALID};
use chrono::{DateTime, Utc};
use mercato_domain::catalog::{Billing, ChargingMode};
use mercato_domain::orders::SubscriptionStatus;
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, ExprTrait, FromQueryResult, QueryFilter,
    QueryOrder, QuerySelect, Statement, Value,
};

/// Takes the rating lock for the rest of the transaction: periods are rated
/// one at a time across nodes, each after the one before it.
pub async fn lock_rating(db: &impl ConnectionTrait) -> StoreResult<()> {
    crate::repo::usage::xact_lock(db, RATING_LOCK_KEY).await
}

/// Arbitrary constant naming the rating lock.
const RATING_LOCK_KEY: i64 = 0x6d65_7263_7261_7401;

/// Charge statuses.
pub const CHARGE_PAID: &str = "paid";
pub const CHARGE_ARREARS: &str = "arrears";

/// The order lines with these ids.
pub async fn order_lines(db: &impl ConnectionTrait, ids: &[String]) -> StoreResult<Vec<order_line::Model>> {
    let mut out = Vec::new();
    for chunk in ids.chunks(5000) {
        out.extend(
            order_line::Entity::find().filter(order_line::Column::Id.is_in(chunk.iter().cloned())).all(db).await?,
        );
    }
    Ok(out)
}

/// Every period of `billing` starting before the answer is rated.
pub async fn rated_until(db: &impl ConnectionTrait, billing: Billing) -> StoreResult<Option<DateTime<Utc>>> {
    Ok(usage_rating_mark::Entity::find_by_id(billing).one(db).await?.map(|m| m.rated_until))
}

/// Moves the mark of `billing` to `until`.
pub async fn set_rated_until(db: &impl ConnectionTrait, billing: Billing, until: DateTime<Utc>) -> StoreResult<()> {
    let row = usage_rating_mark::ActiveModel { billing: sea_orm::Set(billing), rated_until: sea_orm::Set(until) };
    usage_rating_mark::Entity::insert(row)
        .on_conflict(
            OnConflict::column(usage_rating_mark::Column::Billing)
                .update_column(usage_rating_mark::Column::RatedUntil)
                .to_owned(),
        )
        .exec(db)
        .await?;
    Ok(())
}

#[derive(Debug, FromQueryResult)]
struct Earliest {
    t: Option<DateTime<Utc>>,
}

/// When the oldest record still waiting for validation was received.
pub async fn oldest_received(db: &impl ConnectionTrait) -> StoreResult<Option<DateTime<Utc>>> {
    earliest_received(db, STATUS_RECEIVED, None, None).await
}

/// When the first valid `billing` record received at or after `from` was
/// received.
pub async fn first_valid_received(
    db: &impl ConnectionTrait,
    billing: Billing,
    from: DateTime<Utc>,
) -> StoreResult<Option<DateTime<Utc>>> {
    earliest_received(db, STATUS_VALID, Some(billing.as_str()), Some(from)).await
}

/// The earliest received_at of records in `status` (one probe of the
/// (status, received_at) index).
async fn earliest_received(
    db: &impl ConnectionTrait,
    status: &str,
    billing: Option<&str>,
    from: Option<DateTime<Utc>>,
) -> StoreResult<Option<DateTime<Utc>>> {
    use crate::entity::usage_record as u;
    let mut q =
        u::Entity::find().select_only().column_as(u::Column::ReceivedAt, "t").filter(u::Column::Status.eq(status));
    if let Some(b) = billing {
        q = q.filter(u::Column::Billing.eq(b));
    }
    if let Some(f) = from {
        q = q.filter(u::Column::ReceivedAt.gte(f));
    }
    Ok(q.order_by_asc(u::Column::ReceivedAt).limit(1).into_model::<Earliest>().one(db).await?.and_then(|e| e.t))
}

/// One instance's valid usage in a period.
#[derive(Debug, Clone, PartialEq, Eq, FromQueryResult)]
pub struct InstanceUsage {
    pub instance_id: String,
    pub records: i64,
    pub quantity_e4: i64,
}

/// The bounds of one period's records.
#[derive(Debug, Clone, Copy)]
pub struct PeriodBounds {
    pub billing: Billing,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub closes_at: DateTime<Utc>,
}

/// The period's valid usage summed per instance, by instance id: one
/// aggregate over an index range, whatever the number of records.
pub async fn period_usage(db: &impl ConnectionTrait, p: PeriodBounds) -> StoreResult<Vec<InstanceUsage>> {
    let backend = db.get_database_backend();
    let sql = match backend {
        DbBackend::Postgres => {
            "SELECT instance_id, COUNT(*)::int8 AS records, SUM(usage_e4)::int8 AS quantity_e4 FROM usage_records \
             WHERE status = $1 AND received_at >= $2 AND received_at < $3 AND end_time >= $4 AND end_time < $5 \
             AND billing = $6 GROUP BY instance_id ORDER BY instance_id"
        }
        _ => {
            "SELECT instance_id, COUNT(*) AS records, SUM(usage_e4) AS quantity_e4 FROM usage_records \
             WHERE status = ? AND received_at >= ? AND received_at < ? AND end_time >= ? AND end_time < ? \
             AND billing = ? GROUP BY instance_id ORDER BY instance_id"
        }
    };
    let values: Vec<Value> =
        vec![STATUS_VALID.into(), p.start.into(), p.closes_at.into(), p.start.into(), p.end.into(), p.billing.into()];
    Ok(InstanceUsage::find_by_statement(Statement::from_sql_and_values(backend, sql, values)).all(db).await?)
}

/// The quota packages (on_demand_pkg subscriptions, active or frozen) of these
/// buyers for these products that are valid at some time in [from, to).
pub async fn package_subscriptions(
    db: &impl ConnectionTrait,
    buyer_ids: &[String],
    product_ids: &[String],
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> StoreResult<Vec<subscription::Model>> {
    use subscription::Column as C;
    Ok(subscription::Entity::find()
        .filter(C::ChargingMode.eq(ChargingMode::OnDemandPkg))
        .filter(C::BuyerId.is_in(buyer_ids.iter().cloned()))
        .filter(C::ProductId.is_in(product_ids.iter().cloned()))
        // Released packages (unsubscribed, or long expired) cover nothing.
        .filter(C::Status.is_in(["active", "frozen"]))
        .filter(C::StartsAt.lt(to))
        .filter(C::ExpiresAt.gt(from))
        .all(db)
        .await?)
}

/// The balances of these packages (rows exist once a package was drawn on
/// or seen by rating).
pub async fn packages(db: &impl ConnectionTrait, ids: &[String]) -> StoreResult<Vec<usage_package::Model>> {
    Ok(usage_package::Entity::find()
        .filter(usage_package::Column::SubscriptionId.is_in(ids.iter().cloned()))
        .all(db)
        .await?)
}

pub async fn insert_packages(db: &impl ConnectionTrait, rows: Vec<usage_package::Model>) -> StoreResult<()> {
    if rows.is_empty() {
        return Ok(());
    }
    let rows: Vec<usage_package::ActiveModel> = rows.into_iter().map(Into::into).collect();
    usage_package::Entity::insert_many(rows)
        .on_conflict_do_nothing_on([usage_package::Column::SubscriptionId])
        .exec(db)
        .await?;
    Ok(())
}

/// Adds `used_e4` to a package's use.
pub async fn add_package_use(db: &impl ConnectionTrait, id: &str, used_e4: i64) -> StoreResult<()> {
    usage_package::Entity::update_many()
        .col_expr(usage_package::Column::UsedE4, Expr::col(usage_package::Column::UsedE4).add(used_e4))
        .filter(usage_package::Column::SubscriptionId.eq(id))
        .exec(db)
        .await?;
    Ok(())
}

/// Rows per multi-row insert (SQLite takes at most 32766 bind values).
const ROWS_PER_INSERT: usize = 1000;

pub async fn insert_lines(db: &impl ConnectionTrait, rows: Vec<usage_line::Model>) -> StoreResult<()> {
    insert_all(db, rows.into_iter().map(usage_line::ActiveModel::from)).await
}

pub async fn insert_draws(db: &impl ConnectionTrait, rows: Vec<usage_package_draw::Model>) -> StoreResult<()> {
    insert_all(db, rows.into_iter().map(usage_package_draw::ActiveModel::from)).await
}

pub async fn insert_charges(db: &impl ConnectionTrait, rows: Vec<usage_charge::Model>) -> StoreResult<()> {
    insert_all(db, rows.into_iter().map(usage_charge::ActiveModel::from)).await
}

/// Inserts `rows` with multi-row statements of [`ROWS_PER_INSERT`].
async fn insert_all<A: ActiveModelTrait + Send>(
    db: &impl ConnectionTrait,
    rows: impl Iterator<Item = A>,
) -> StoreResult<()> {
    let mut rows = rows.peekable();
    while rows.peek().is_some() {
        let chunk: Vec<A> = rows.by_ref().take(ROWS_PER_INSERT).collect();
        A::Entity::insert_many(chunk).exec(db).await?;
    }
    Ok(())
}

/// The buyer's charges in arrears in `currency` (all currencies when None),
/// oldest period first.
pub async fn arrears(
    db: &impl ConnectionTrait,
    buyer_id: &str,
    currency: Option<&str>,
) -> StoreResult<Vec<usage_charge::Model>> {
    let mut q = usage_charge::Entity::find()
        .filter(usage_charge::Column::BuyerId.eq(buyer_id))
        .filter(usage_charge::Column::Status.eq(CHARGE_ARREARS));
    if let Some(c) = currency {
        q = q.filter(usage_charge::Column::Currency.eq(c));
    }
    Ok(q.order_by_asc(usage_charge::Column::PeriodStart).order_by_asc(usage_charge::Column::Id).all(db).await?)
}

/// The buyers among `buyer_ids` that owe something.
pub async fn buyers_in_arrears(db: &impl ConnectionTrait, buyer_ids: &[String]) -> StoreResult<Vec<String>> {
    let mut out = Vec::new();
    for chunk in buyer_ids.chunks(5000) {
        let rows = usage_charge::Entity::find()
            .select_only()
            .column(usage_charge::Column::BuyerId)
            .distinct()
            .filter(usage_charge::Column::Status.eq(CHARGE_ARREARS))
            .filter(usage_charge::Column::BuyerId.is_in(chunk.iter().cloned()))
            .into_tuple::<String>()
            .all(db)
            .await?;
        out.extend(rows);
    }
    Ok(out)
}

/// Marks an arrears charge paid at `at` if it still is in arrears (false:
/// another transaction paid it first). The caller then posts its entry.
pub async fn claim_arrears(db: &impl ConnectionTrait, id: &str, at: DateTime<Utc>) -> StoreResult<bool> {
    let r = usage_charge::Entity::update_many()
        .col_expr(usage_charge::Column::Status, Expr::value(CHARGE_PAID))
        .col_expr(usage_charge::Column::PaidAt, Expr::value(at))
        .filter(usage_charge::Column::Id.eq(id))
        .filter(usage_charge::Column::Status.eq(CHARGE_ARREARS))
        .exec(db)
        .await?;
    Ok(r.rows_affected == 1)
}

/// Records the ledger entry that paid a charge.
pub async fn set_entry(db: &impl ConnectionTrait, id: &str, entry_id: &str) -> StoreResult<()> {
    usage_charge::Entity::update_many()
        .col_expr(usage_charge::Column::EntryId, Expr::value(entry_id))
        .filter(usage_charge::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}

/// The lines a charge sums.
pub async fn lines_of_charge(db: &impl ConnectionTrait, charge_id: &str) -> StoreResult<Vec<usage_line::Model>> {
    Ok(usage_line::Entity::find()
        .filter(usage_line::Column::ChargeId.eq(charge_id))
        .order_by_asc(usage_line::Column::InstanceId)
        .all(db)
        .await?)
}

/// Sets why usage froze a subscription (None: it is not frozen by usage).
pub async fn set_frozen_for(db: &impl ConnectionTrait, subscription_id: &str, why: Option<&str>) -> StoreResult<()> {
    subscription::Entity::update_many()
        .col_expr(subscription::Column::FrozenFor, Expr::value(why.map(str::to_string)))
        .filter(subscription::Column::Id.eq(subscription_id))
        .exec(db)
        .await?;
    Ok(())
}

/// The buyer's subscriptions frozen for `why`.
pub async fn frozen_for(db: &impl ConnectionTrait, buyer_id: &str, why: &str) -> StoreResult<Vec<subscription::Model>> {
    Ok(subscription::Entity::find()
        .filter(subscription::Column::BuyerId.eq(buyer_id))
        .filter(subscription::Column::Status.eq(SubscriptionStatus::Frozen))
        .filter(subscription::Column::FrozenFor.eq(why))
        .all(db)
        .await?)
}

//! Reading rated usage back: a buyer's or seller's usage lines over a time
//! range, a buyer's usage charges and their lines, and a buyer's quota
//! packages with what rating drew from them.
//!
//! Every function takes the tenant's id (buyer or seller) and filters on it,
//! so another tenant's rows are never returned, whatever id is asked for.

use crate::entity::usage_package_draw as draw;
use crate::entity::{order_line, subscription, usage_charge as charge, usage_line as line, usage_package as package};
use crate::error::StoreResult;
use chrono::{DateTime, Utc};
use mercato_domain::catalog::ChargingMode;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, FromQueryResult, QueryFilter, QueryOrder, QuerySelect,
};

/// The lines of one buyer's subscription whose period starts in
/// `[from, to)`, oldest first (the `(subscription_id, period_start)` index).
pub async fn lines_of_subscription(
    db: &impl ConnectionTrait,
    buyer_id: &str,
    subscription_id: &str,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> StoreResult<Vec<line::Model>> {
    Ok(line::Entity::find()
        .filter(line::Column::SubscriptionId.eq(subscription_id))
        .filter(line::Column::BuyerId.eq(buyer_id))
        .filter(line::Column::PeriodStart.gte(from))
        .filter(line::Column::PeriodStart.lt(to))
        .order_by_asc(line::Column::PeriodStart)
        .order_by_asc(line::Column::InstanceId)
        .all(db)
        .await?)
}

/// The lines of one seller's instance whose period starts in `[from, to)`,
/// oldest first (the primary key `(instance_id, period_start)`).
pub async fn lines_of_instance(
    db: &impl ConnectionTrait,
    seller_id: &str,
    instance_id: &str,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> StoreResult<Vec<line::Model>> {
    Ok(line::Entity::find()
        .filter(line::Column::InstanceId.eq(instance_id))
        .filter(line::Column::SellerId.eq(seller_id))
        .filter(line::Column::PeriodStart.gte(from))
        .filter(line::Column::PeriodStart.lt(to))
        .order_by_asc(line::Column::PeriodStart)
        .all(db)
        .await?)
}

/// The seller's subscription holding `instance_id`; another seller's (or
/// none) is `None`.
pub async fn seller_subscription_of_instance(
    db: &impl ConnectionTrait,
    seller_id: &str,
    instance_id: &str,
) -> StoreResult<Option<subscription::Model>> {
    Ok(subscription::Entity::find()
        .filter(subscription::Column::InstanceId.eq(instance_id))
        .filter(subscription::Column::SellerId.eq(seller_id))
        .order_by_asc(subscription::Column::Id)
        .one(db)
        .await?)
}

/// Keyset position in a charge list sorted newest period first.
#[derive(Debug, Clone, Copy)]
pub struct ChargeBefore<'a> {
    pub period_start: DateTime<Utc>,
    pub id: &'a str,
}

/// The buyer's charges (optionally of one status), newest period first
/// (ties by id, descending), `limit` at a time after `before`.
pub async fn list_charges(
    db: &impl ConnectionTrait,
    buyer_id: &str,
    status: Option<&str>,
    before: Option<ChargeBefore<'_>>,
    limit: u64,
) -> StoreResult<Vec<charge::Model>> {
    let mut q = charge::Entity::find().filter(charge::Column::BuyerId.eq(buyer_id));
    if let Some(s) = status {
        q = q.filter(charge::Column::Status.eq(s));
    }
    if let Some(b) = before {
        q = q.filter(
            Condition::any().add(charge::Column::PeriodStart.lt(b.period_start)).add(
                Condition::all()
                    .add(charge::Column::PeriodStart.eq(b.period_start))
                    .add(charge::Column::Id.lt(b.id.to_string())),
            ),
        );
    }
    Ok(q.order_by_desc(charge::Column::PeriodStart).order_by_desc(charge::Column::Id).limit(limit).all(db).await?)
}

/// One of the buyer's charges; another buyer's is `None`.
pub async fn find_charge(db: &impl ConnectionTrait, buyer_id: &str, id: &str) -> StoreResult<Option<charge::Model>> {
    Ok(charge::Entity::find_by_id(id.to_string()).filter(charge::Column::BuyerId.eq(buyer_id)).one(db).await?)
}

/// The lines a charge sums, by period then instance.
pub async fn lines_of_charge(db: &impl ConnectionTrait, charge_id: &str) -> StoreResult<Vec<line::Model>> {
    Ok(line::Entity::find()
        .filter(line::Column::ChargeId.eq(charge_id))
        .order_by_asc(line::Column::PeriodStart)
        .order_by_asc(line::Column::InstanceId)
        .all(db)
        .await?)
}

/// The buyer's quota-package subscriptions (`on_demand_pkg`, not failed),
/// newest first (ids sort by creation), `limit` at a time after `before`.
pub async fn package_subscriptions(
    db: &impl ConnectionTrait,
    buyer_id: &str,
    before: Option<&str>,
    limit: u64,
) -> StoreResult<Vec<subscription::Model>> {
    let mut q = subscription::Entity::find()
        .filter(subscription::Column::BuyerId.eq(buyer_id))
        .filter(subscription::Column::ChargingMode.eq(ChargingMode::OnDemandPkg))
        .filter(subscription::Column::Status.ne("failed"));
    if let Some(b) = before {
        q = q.filter(subscription::Column::Id.lt(b));
    }
    Ok(q.order_by_desc(subscription::Column::Id).limit(limit).all(db).await?)
}

/// The package rows rating created for these subscriptions (a package
/// rating never drew from has none).
pub async fn packages_by_ids(db: &impl ConnectionTrait, ids: &[String]) -> StoreResult<Vec<package::Model>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(package::Entity::find().filter(package::Column::SubscriptionId.is_in(ids.iter().cloned())).all(db).await?)
}

/// The order lines with these ids (subscriptions' current specifications).
pub async fn order_lines_by_ids(db: &impl ConnectionTrait, ids: &[String]) -> StoreResult<Vec<order_line::Model>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(order_line::Entity::find().filter(order_line::Column::Id.is_in(ids.iter().cloned())).all(db).await?)
}

/// How often a package was drawn on, and the latest period it covered.
#[derive(Debug, Clone, PartialEq, Eq, FromQueryResult)]
pub struct DrawSummary {
    pub package_id: String,
    pub draws: i64,
    pub last_period_start: Option<DateTime<Utc>>,
}

/// One summary per package of `ids` with at least one draw (the draws'
/// primary key starts with package_id, so this reads an index range).
pub async fn draw_summaries(db: &impl ConnectionTrait, ids: &[String]) -> StoreResult<Vec<DrawSummary>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(draw::Entity::find()
        .select_only()
        .column(draw::Column::PackageId)
        // COUNT is BIGINT on PostgreSQL and INTEGER on SQLite; both read as i64.
        .column_as(Expr::cust("COUNT(*)"), "draws")
        .column_as(Expr::cust("MAX(period_start)"), "last_period_start")
        .filter(draw::Column::PackageId.is_in(ids.iter().cloned()))
        .group_by(draw::Column::PackageId)
        .into_model::<DrawSummary>()
        .all(db)
        .await?)
}

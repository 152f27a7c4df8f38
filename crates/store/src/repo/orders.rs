//! Orders, their lines, the subscriptions paying creates, and trial use.
//! State changes are conditional on the state they were decided from
//! (`... WHERE status = <expected>`), so two concurrent requests (or workers)
//! cannot both win: the loser updates no row and is told so.

use crate::entity::{account, order, order_line, subscription, trial_use};
use crate::error::StoreResult;
use crate::repo::like_escape;
use chrono::{DateTime, Utc};
use mercato_domain::orders::{OrderStatus, SubscriptionStatus};
use sea_orm::ExprTrait;
use sea_orm::sea_query::{Expr, Func, LikeExpr, OnConflict};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, QueryTrait,
};

/// Inserts an order unless its id is taken; false on an id collision (the
/// caller draws a new id). Never aborts the caller's transaction.
pub async fn insert_order(db: &impl ConnectionTrait, o: order::Model) -> StoreResult<bool> {
    let model: order::ActiveModel = o.into();
    let added = order::Entity::insert(model.reset_all())
        .on_conflict(OnConflict::column(order::Column::Id).do_nothing().to_owned())
        .exec_without_returning(db)
        .await?;
    Ok(added > 0)
}

pub async fn insert_line(db: &impl ConnectionTrait, l: order_line::Model) -> StoreResult<()> {
    let model: order_line::ActiveModel = l.into();
    order_line::Entity::insert(model.reset_all()).exec_without_returning(db).await?;
    Ok(())
}

pub async fn find_order(db: &impl ConnectionTrait, id: &str) -> StoreResult<Option<order::Model>> {
    Ok(order::Entity::find_by_id(id.to_string()).one(db).await?)
}

/// One of the buyer's orders; another buyer's order is `None`.
pub async fn find_order_for_buyer(
    db: &impl ConnectionTrait,
    buyer_id: &str,
    id: &str,
) -> StoreResult<Option<order::Model>> {
    Ok(order::Entity::find_by_id(id.to_string()).filter(order::Column::BuyerId.eq(buyer_id)).one(db).await?)
}

/// The lines of the given orders, by order then line number.
pub async fn lines_of(db: &impl ConnectionTrait, order_ids: &[String]) -> StoreResult<Vec<order_line::Model>> {
    if order_ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(order_line::Entity::find()
        .filter(order_line::Column::OrderId.is_in(order_ids.iter().cloned()))
        .order_by_asc(order_line::Column::OrderId)
        .order_by_asc(order_line::Column::LineNo)
        .all(db)
        .await?)
}

/// Only the seller's lines of the given orders.
pub async fn seller_lines_of(
    db: &impl ConnectionTrait,
    seller_id: &str,
    order_ids: &[String],
) -> StoreResult<Vec<order_line::Model>> {
    if order_ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(order_line::Entity::find()
        .filter(order_line::Column::SellerId.eq(seller_id))
        .filter(order_line::Column::OrderId.is_in(order_ids.iter().cloned()))
        .order_by_asc(order_line::Column::OrderId)
        .order_by_asc(order_line::Column::LineNo)
        .all(db)
        .await?)
}

/// An order line by its id (the seller protocol's orderLineId).
pub async fn find_line(db: &impl ConnectionTrait, line_id: &str) -> StoreResult<Option<order_line::Model>> {
    Ok(order_line::Entity::find_by_id(line_id.to_string()).one(db).await?)
}

/// Keyset position in an order list sorted newest first.
#[derive(Debug, Clone, Copy)]
pub struct Before<'a> {
    pub created_at: DateTime<Utc>,
    pub id: &'a str,
}

fn before_cond(b: Before<'_>) -> Condition {
    Condition::any().add(order::Column::CreatedAt.lt(b.created_at)).add(
        Condition::all().add(order::Column::CreatedAt.eq(b.created_at)).add(order::Column::Id.lt(b.id.to_string())),
    )
}

/// What an order list is filtered by; every field optional. A buyer's list
/// sets `buyer_id`, a seller's `seller_id`, an operator's whatever it asks.
#[derive(Debug, Clone, Default)]
pub struct OrderFilter<'a> {
    pub buyer_id: Option<&'a str>,
    /// Orders with at least one line of this seller.
    pub seller_id: Option<&'a str>,
    pub order_id: Option<&'a str>,
    /// Substring of the buyer's name or email, matched case-insensitively.
    pub customer: Option<&'a str>,
    /// Orders with at least one line of this product (of `seller_id`, when given).
    pub product_id: Option<&'a str>,
    pub status: Option<OrderStatus>,
    /// created_at >= this.
    pub created_from: Option<DateTime<Utc>>,
    /// created_at < this.
    pub created_to: Option<DateTime<Utc>>,
}

/// Orders matching `f`, newest first, `limit` at a time after `before`.
pub async fn list(
    db: &impl ConnectionTrait,
    f: &OrderFilter<'_>,
    before: Option<Before<'_>>,
    limit: u64,
) -> StoreResult<Vec<order::Model>> {
    let mut q = order::Entity::find();
    if f.seller_id.is_some() || f.product_id.is_some() {
        let mut lines = order_line::Entity::find().select_only().column(order_line::Column::OrderId);
        if let Some(s) = f.seller_id {
            lines = lines.filter(order_line::Column::SellerId.eq(s));
        }
        if let Some(p) = f.product_id {
            lines = lines.filter(order_line::Column::ProductId.eq(p));
        }
        q = q.filter(order::Column::Id.in_subquery(lines.as_query().to_owned()));
    }
    if let Some(b) = f.buyer_id {
        q = q.filter(order::Column::BuyerId.eq(b));
    }
    if let Some(id) = f.order_id {
        q = q.filter(order::Column::Id.eq(id));
    }
    if let Some(s) = f.status {
        q = q.filter(order::Column::Status.eq(s));
    }
    if let Some(t) = f.created_from {
        q = q.filter(order::Column::CreatedAt.gte(t));
    }
    if let Some(t) = f.created_to {
        q = q.filter(order::Column::CreatedAt.lt(t));
    }
    if let Some(text) = f.customer {
        let pattern = || LikeExpr::new(format!("%{}%", like_escape(&text.to_lowercase()))).escape('\\');
        let buyers = account::Entity::find()
            .select_only()
            .column(account::Column::Id)
            .filter(
                Expr::expr(Func::lower(Expr::col(account::Column::Name)))
                    .like(pattern())
                    .or(Expr::expr(Func::lower(Expr::col(account::Column::Email))).like(pattern())),
            )
            .as_query()
            .to_owned();
        q = q.filter(order::Column::BuyerId.in_subquery(buyers));
    }
    if let Some(b) = before {
        q = q.filter(before_cond(b));
    }
    Ok(q.order_by_desc(order::Column::CreatedAt).order_by_desc(order::Column::Id).limit(limit).all(db).await?)
}

/// Accounts by id (buyers shown on seller views).
pub async fn accounts_by_ids(db: &impl ConnectionTrait, ids: &[String]) -> StoreResult<Vec<account::Model>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(account::Entity::find().filter(account::Column::Id.is_in(ids.iter().cloned())).all(db).await?)
}

/// Moves an order from `from` to `to` if it is still in `from`; false when
/// it is not (someone else moved it first). Sets `paid_at` when moving to
/// paid and `cancelled_at` when moving to cancelled.
pub async fn set_order_status_if(
    db: &impl ConnectionTrait,
    id: &str,
    from: OrderStatus,
    to: OrderStatus,
    now: DateTime<Utc>,
) -> StoreResult<bool> {
    let mut q = order::Entity::update_many()
        .col_expr(order::Column::Status, Expr::value(to))
        .col_expr(order::Column::UpdatedAt, Expr::value(now));
    if to == OrderStatus::Paid {
        q = q.col_expr(order::Column::PaidAt, Expr::value(now));
    }
    if to == OrderStatus::Cancelled {
        q = q.col_expr(order::Column::CancelledAt, Expr::value(now));
    }
    let res = q.filter(order::Column::Id.eq(id)).filter(order::Column::Status.eq(from)).exec(db).await?;
    Ok(res.rows_affected > 0)
}

/// Records the journal entry that paid the order.
pub async fn set_payment_entry(db: &impl ConnectionTrait, id: &str, entry_id: &str) -> StoreResult<()> {
    order::Entity::update_many()
        .col_expr(order::Column::PaymentEntryId, Expr::value(entry_id))
        .filter(order::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}

pub async fn insert_subscription(db: &impl ConnectionTrait, s: subscription::Model) -> StoreResult<()> {
    let model: subscription::ActiveModel = s.into();
    subscription::Entity::insert(model.reset_all()).exec_without_returning(db).await?;
    Ok(())
}

pub async fn find_subscription(db: &impl ConnectionTrait, id: &str) -> StoreResult<Option<subscription::Model>> {
    Ok(subscription::Entity::find_by_id(id.to_string()).one(db).await?)
}

/// One of the buyer's subscriptions; another buyer's is `None`.
pub async fn find_subscription_for_buyer(
    db: &impl ConnectionTrait,
    buyer_id: &str,
    id: &str,
) -> StoreResult<Option<subscription::Model>> {
    Ok(subscription::Entity::find_by_id(id.to_string())
        .filter(subscription::Column::BuyerId.eq(buyer_id))
        .one(db)
        .await?)
}

/// The subscription an order line created.
pub async fn subscription_for_line(
    db: &impl ConnectionTrait,
    line_id: &str,
) -> StoreResult<Option<subscription::Model>> {
    Ok(subscription::Entity::find().filter(subscription::Column::OrderLineId.eq(line_id)).one(db).await?)
}

/// The subscriptions of the given orders.
pub async fn subscriptions_of_orders(
    db: &impl ConnectionTrait,
    order_ids: &[String],
) -> StoreResult<Vec<subscription::Model>> {
    if order_ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(subscription::Entity::find()
        .filter(subscription::Column::OrderId.is_in(order_ids.iter().cloned()))
        .order_by_asc(subscription::Column::OrderLineId)
        .all(db)
        .await?)
}

/// The buyer's subscriptions, newest first (ids sort by creation), `limit`
/// at a time after `before` (an id).
pub async fn list_subscriptions_for_buyer(
    db: &impl ConnectionTrait,
    buyer_id: &str,
    before: Option<&str>,
    limit: u64,
) -> StoreResult<Vec<subscription::Model>> {
    let mut q = subscription::Entity::find().filter(subscription::Column::BuyerId.eq(buyer_id));
    if let Some(b) = before {
        q = q.filter(subscription::Column::Id.lt(b));
    }
    Ok(q.order_by_desc(subscription::Column::Id).limit(limit).all(db).await?)
}

/// Moves a subscription from `from` to `to` if it is still in `from`.
pub async fn set_subscription_status_if(
    db: &impl ConnectionTrait,
    id: &str,
    from: SubscriptionStatus,
    to: SubscriptionStatus,
    now: DateTime<Utc>,
) -> StoreResult<bool> {
    let res = subscription::Entity::update_many()
        .col_expr(subscription::Column::Status, Expr::value(to))
        .col_expr(subscription::Column::UpdatedAt, Expr::value(now))
        .filter(subscription::Column::Id.eq(id))
        .filter(subscription::Column::Status.eq(from))
        .exec(db)
        .await?;
    Ok(res.rows_affected > 0)
}

/// Records the seller's instance id for a subscription.
pub async fn set_instance(
    db: &impl ConnectionTrait,
    id: &str,
    instance_id: &str,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    subscription::Entity::update_many()
        .col_expr(subscription::Column::InstanceId, Expr::value(instance_id))
        .col_expr(subscription::Column::UpdatedAt, Expr::value(now))
        .filter(subscription::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}

/// Changes when a subscription expires (renewal, refund of periods).
pub async fn set_expires_at(
    db: &impl ConnectionTrait,
    id: &str,
    expires_at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    subscription::Entity::update_many()
        .col_expr(subscription::Column::ExpiresAt, Expr::value(expires_at))
        .col_expr(subscription::Column::UpdatedAt, Expr::value(now))
        .filter(subscription::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}

pub async fn set_auto_renew(
    db: &impl ConnectionTrait,
    id: &str,
    auto_renew: bool,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    subscription::Entity::update_many()
        .col_expr(subscription::Column::AutoRenew, Expr::value(auto_renew))
        .col_expr(subscription::Column::UpdatedAt, Expr::value(now))
        .filter(subscription::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}

/// The buyer's trial of the product, if taken.
pub async fn find_trial(
    db: &impl ConnectionTrait,
    buyer_id: &str,
    product_id: &str,
) -> StoreResult<Option<trial_use::Model>> {
    Ok(trial_use::Entity::find_by_id((buyer_id.to_string(), product_id.to_string())).one(db).await?)
}

/// Takes the buyer's trial of a product; false when it was taken already
/// (also by a concurrent request). Never aborts the caller's transaction.
pub async fn take_trial(db: &impl ConnectionTrait, t: trial_use::Model) -> StoreResult<bool> {
    let model = trial_use::ActiveModel {
        buyer_id: Set(t.buyer_id),
        product_id: Set(t.product_id),
        order_id: Set(t.order_id),
        created_at: Set(t.created_at),
    };
    let added = trial_use::Entity::insert(model)
        .on_conflict(
            OnConflict::columns([trial_use::Column::BuyerId, trial_use::Column::ProductId]).do_nothing().to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    Ok(added > 0)
}

/// Gives back the trial an unpaid order took (when it is cancelled).
pub async fn release_trial(db: &impl ConnectionTrait, order_id: &str) -> StoreResult<()> {
    trial_use::Entity::delete_many().filter(trial_use::Column::OrderId.eq(order_id)).exec(db).await?;
    Ok(())
}

/// A SKU by id alone (buyers name SKUs without their product).
pub async fn find_sku(db: &impl ConnectionTrait, id: &str) -> StoreResult<Option<crate::entity::sku::Model>> {
    Ok(crate::entity::sku::Entity::find_by_id(id.to_string()).one(db).await?)
}

/// The subscription's current specification line (plan changes): the
/// `spec_line_id` line, or the purchase line when none is set.
pub fn spec_line_id(s: &subscription::Model) -> &str {
    s.spec_line_id.as_deref().unwrap_or(&s.order_line_id)
}

/// Switches a subscription's current specification to `to_line` (its SKU
/// `to_sku`) if its current line is still `from_line` (the one the change
/// was decided from); false when another change won.
pub async fn switch_spec_if(
    db: &impl ConnectionTrait,
    id: &str,
    from_line: Option<&str>,
    to_sku: &str,
    to_line: Option<&str>,
    now: DateTime<Utc>,
) -> StoreResult<bool> {
    let from = match from_line {
        Some(l) => subscription::Column::SpecLineId.eq(l),
        None => subscription::Column::SpecLineId.is_null(),
    };
    let res = subscription::Entity::update_many()
        .col_expr(subscription::Column::SkuId, Expr::value(to_sku))
        .col_expr(subscription::Column::SpecLineId, Expr::value(to_line.map(str::to_string)))
        .col_expr(subscription::Column::UpdatedAt, Expr::value(now))
        .filter(subscription::Column::Id.eq(id))
        .filter(from)
        .exec(db)
        .await?;
    Ok(res.rows_affected > 0)
}

/// Orders by id, in no particular order.
pub async fn orders_by_ids(db: &impl ConnectionTrait, ids: &[String]) -> StoreResult<Vec<order::Model>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(order::Entity::find().filter(order::Column::Id.is_in(ids.iter().cloned())).all(db).await?)
}

/// Subscriptions by id, in no particular order.
pub async fn subscriptions_by_ids(db: &impl ConnectionTrait, ids: &[String]) -> StoreResult<Vec<subscription::Model>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(subscription::Entity::find().filter(subscription::Column::Id.is_in(ids.iter().cloned())).all(db).await?)
}

/// The lines acting on the given subscriptions (renewals, upgrades, trial
/// conversions, unsubscribes: `renews_subscription_id`), oldest first.
pub async fn follow_up_lines(
    db: &impl ConnectionTrait,
    subscription_ids: &[String],
) -> StoreResult<Vec<order_line::Model>> {
    if subscription_ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(order_line::Entity::find()
        .filter(order_line::Column::RenewsSubscriptionId.is_in(subscription_ids.iter().cloned()))
        .order_by_asc(order_line::Column::CreatedAt)
        .order_by_asc(order_line::Column::Id)
        .all(db)
        .await?)
}

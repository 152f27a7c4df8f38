//! Unsubscribe refunds: refund records, the yearly count of five-day refunds,
//! renewal terms, and the lines paid for a subscription.

use crate::entity::{full_refund_count, order_line, refund, renewal_term, subscription};
use crate::error::StoreResult;
use chrono::{DateTime, Utc};
use mercato_domain::orders::SubscriptionStatus;
use sea_orm::ExprTrait;
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};

pub async fn insert_refund(db: &impl ConnectionTrait, r: refund::Model) -> StoreResult<()> {
    let model: refund::ActiveModel = r.into();
    refund::Entity::insert(model).exec_without_returning(db).await?;
    Ok(())
}

/// Every refund of a subscription, oldest first.
pub async fn refunds_of(db: &impl ConnectionTrait, subscription_id: &str) -> StoreResult<Vec<refund::Model>> {
    Ok(refund::Entity::find()
        .filter(refund::Column::SubscriptionId.eq(subscription_id))
        .order_by_asc(refund::Column::CreatedAt)
        .all(db)
        .await?)
}

/// Five-day refunds the buyer took in `year`.
pub async fn full_refunds_used(db: &impl ConnectionTrait, buyer_id: &str, year: i64) -> StoreResult<i64> {
    Ok(full_refund_count::Entity::find_by_id((buyer_id.to_string(), year)).one(db).await?.map_or(0, |r| r.used))
}

/// Takes one of the buyer's five-day refunds of `year` if fewer than
/// `limit` were taken; false when none is left (also after a concurrent
/// request took the last). Never aborts the caller's transaction.
pub async fn take_full_refund(db: &impl ConnectionTrait, buyer_id: &str, year: i64, limit: i64) -> StoreResult<bool> {
    let row = full_refund_count::ActiveModel { buyer_id: Set(buyer_id.to_string()), year: Set(year), used: Set(0) };
    full_refund_count::Entity::insert(row)
        .on_conflict(
            OnConflict::columns([full_refund_count::Column::BuyerId, full_refund_count::Column::Year])
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    let res = full_refund_count::Entity::update_many()
        .col_expr(full_refund_count::Column::Used, Expr::col(full_refund_count::Column::Used).add(1))
        .filter(full_refund_count::Column::BuyerId.eq(buyer_id))
        .filter(full_refund_count::Column::Year.eq(year))
        .filter(full_refund_count::Column::Used.lt(limit))
        .exec(db)
        .await?;
    Ok(res.rows_affected == 1)
}

pub async fn insert_renewal_term(db: &impl ConnectionTrait, t: renewal_term::Model) -> StoreResult<()> {
    let model: renewal_term::ActiveModel = t.into();
    renewal_term::Entity::insert(model).exec_without_returning(db).await?;
    Ok(())
}

/// The subscription's renewal terms not refunded yet, by start.
pub async fn open_renewal_terms(
    db: &impl ConnectionTrait,
    subscription_id: &str,
) -> StoreResult<Vec<renewal_term::Model>> {
    Ok(renewal_term::Entity::find()
        .filter(renewal_term::Column::SubscriptionId.eq(subscription_id))
        .filter(renewal_term::Column::RefundOrderId.is_null())
        .order_by_asc(renewal_term::Column::StartsAt)
        .all(db)
        .await?)
}

/// Marks renewal terms refunded by `refund_order_id`.
pub async fn mark_terms_refunded(
    db: &impl ConnectionTrait,
    line_ids: &[String],
    refund_order_id: &str,
) -> StoreResult<u64> {
    let res = renewal_term::Entity::update_many()
        .col_expr(renewal_term::Column::RefundOrderId, Expr::value(refund_order_id))
        .filter(renewal_term::Column::OrderLineId.is_in(line_ids.iter().cloned()))
        .filter(renewal_term::Column::RefundOrderId.is_null())
        .exec(db)
        .await?;
    Ok(res.rows_affected)
}

/// The lines that paid for a subscription (its purchase line and every
/// follow-up line naming it, except refunds), oldest first.
pub async fn paid_lines(db: &impl ConnectionTrait, sub: &subscription::Model) -> StoreResult<Vec<order_line::Model>> {
    Ok(order_line::Entity::find()
        .filter(
            order_line::Column::Id.eq(sub.order_line_id.as_str()).or(order_line::Column::RenewsSubscriptionId
                .eq(sub.id.as_str())
                .and(order_line::Column::Kind.ne("unsubscribe"))),
        )
        .order_by_asc(order_line::Column::CreatedAt)
        .all(db)
        .await?)
}

/// Claims a subscription row for a change decided from `status` and
/// `expires_at` (touching `updated_at`): false when it changed meanwhile.
/// On PostgreSQL this also locks the row until the transaction ends, so
/// whatever the caller reads next is not changed by a concurrent request.
pub async fn claim_subscription(
    db: &impl ConnectionTrait,
    id: &str,
    status: SubscriptionStatus,
    expires_at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> StoreResult<bool> {
    let mut q = subscription::Entity::update_many()
        .col_expr(subscription::Column::UpdatedAt, Expr::value(now))
        .filter(subscription::Column::Id.eq(id))
        .filter(subscription::Column::Status.eq(status));
    q = match expires_at {
        Some(e) => q.filter(subscription::Column::ExpiresAt.eq(e)),
        None => q.filter(subscription::Column::ExpiresAt.is_null()),
    };
    Ok(q.exec(db).await?.rows_affected == 1)
}

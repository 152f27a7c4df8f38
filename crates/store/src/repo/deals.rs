//! What placing an order reads and takes of the channel's deals: the
//! buyer's active partner binding, a private offer, an exclusive discount,
//! a coupon with its batch; taking an offer or a coupon for an order
//! (conditional updates, so of two orders racing for one exactly one wins)
//! and giving them back.
//!
//! Every finder is scoped to the buyer: another buyer's offer, discount or
//! coupon is not found.

use crate::entity::{coupon, coupon_batch, exclusive_discount, partner_binding, private_offer};
use crate::error::StoreResult;
use chrono::{DateTime, Utc};
use mercato_domain::channel::coupons::CouponStatus;
use mercato_domain::channel::offers::OfferStatus;
use mercato_domain::channel::partners::BindingStatus;
use mercato_domain::ids::{CouponId, ExclusiveDiscountId, OfferId};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};

/// The buyer's active partner binding, if any.
pub async fn active_binding(db: &impl ConnectionTrait, buyer_id: &str) -> StoreResult<Option<partner_binding::Model>> {
    Ok(partner_binding::Entity::find()
        .filter(partner_binding::Column::BuyerId.eq(buyer_id))
        .filter(partner_binding::Column::Status.eq(BindingStatus::Active))
        .one(db)
        .await?)
}

pub async fn offer_for_buyer(
    db: &impl ConnectionTrait,
    buyer_id: &str,
    id: &OfferId,
) -> StoreResult<Option<private_offer::Model>> {
    Ok(private_offer::Entity::find_by_id(id.clone())
        .filter(private_offer::Column::BuyerId.eq(buyer_id))
        .one(db)
        .await?)
}

pub async fn exclusive_discount_for_buyer(
    db: &impl ConnectionTrait,
    buyer_id: &str,
    id: &ExclusiveDiscountId,
) -> StoreResult<Option<exclusive_discount::Model>> {
    Ok(exclusive_discount::Entity::find_by_id(id.clone())
        .filter(exclusive_discount::Column::BuyerId.eq(buyer_id))
        .one(db)
        .await?)
}

/// A buyer's coupon with its batch (one query).
pub async fn coupon_for_buyer(
    db: &impl ConnectionTrait,
    buyer_id: &str,
    id: &CouponId,
) -> StoreResult<Option<(coupon::Model, coupon_batch::Model)>> {
    let found = coupon::Entity::find_by_id(id.clone())
        .filter(coupon::Column::BuyerId.eq(buyer_id))
        .find_also_related(coupon_batch::Entity)
        .one(db)
        .await?;
    Ok(found.and_then(|(c, batch)| batch.map(|b| (c, b))))
}

/// Takes an active offer for `order_id`; false when another order took it
/// first or it is no longer active.
pub async fn take_offer(
    db: &impl ConnectionTrait,
    id: &OfferId,
    order_id: &str,
    now: DateTime<Utc>,
) -> StoreResult<bool> {
    let res = private_offer::Entity::update_many()
        .col_expr(private_offer::Column::Status, Expr::value(OfferStatus::Accepted))
        .col_expr(private_offer::Column::OrderId, Expr::value(order_id))
        .col_expr(private_offer::Column::StatusSince, Expr::value(now))
        .filter(private_offer::Column::Id.eq(id.clone()))
        .filter(private_offer::Column::Status.eq(OfferStatus::Active))
        .exec(db)
        .await?;
    Ok(res.rows_affected == 1)
}

/// Uses an available coupon for `order_id`; false when it is already used.
pub async fn use_coupon(
    db: &impl ConnectionTrait,
    id: &CouponId,
    order_id: &str,
    now: DateTime<Utc>,
) -> StoreResult<bool> {
    let res = coupon::Entity::update_many()
        .col_expr(coupon::Column::Status, Expr::value(CouponStatus::Used))
        .col_expr(coupon::Column::OrderId, Expr::value(order_id))
        .col_expr(coupon::Column::UsedAt, Expr::value(now))
        .filter(coupon::Column::Id.eq(id.clone()))
        .filter(coupon::Column::Status.eq(CouponStatus::Available))
        .exec(db)
        .await?;
    Ok(res.rows_affected == 1)
}

/// Gives back what `order_id` took: its coupons become available and its
/// offer active again (an unpaid order cancelled). Returns the coupons
/// given back.
pub async fn give_back_offer_and_coupons(
    db: &impl ConnectionTrait,
    order_id: &str,
    now: DateTime<Utc>,
) -> StoreResult<u64> {
    private_offer::Entity::update_many()
        .col_expr(private_offer::Column::Status, Expr::value(OfferStatus::Active))
        .col_expr(private_offer::Column::OrderId, Expr::value(Option::<String>::None))
        .col_expr(private_offer::Column::StatusSince, Expr::value(now))
        .filter(private_offer::Column::OrderId.eq(order_id))
        .filter(private_offer::Column::Status.eq(OfferStatus::Accepted))
        .exec(db)
        .await?;
    give_back_coupons(db, order_id).await
}

/// Makes the coupons `order_id` used available again (the order was
/// cancelled unpaid or refunded in full). Returns how many.
async fn give_back_coupons(db: &impl ConnectionTrait, order_id: &str) -> StoreResult<u64> {
    let res = coupon::Entity::update_many()
        .col_expr(coupon::Column::Status, Expr::value(CouponStatus::Available))
        .col_expr(coupon::Column::OrderId, Expr::value(Option::<String>::None))
        .col_expr(coupon::Column::UsedAt, Expr::value(Option::<DateTime<Utc>>::None))
        .filter(coupon::Column::OrderId.eq(order_id))
        .filter(coupon::Column::Status.eq(CouponStatus::Used))
        .exec(db)
        .await?;
    Ok(res.rows_affected)
}

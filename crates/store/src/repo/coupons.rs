//! Coupon batches (满减代金券) as their sellers manage them, and the
//! coupons buyers claim. What an order does with a coupon (use it, give it
//! back) is in [`super::deals`].
//!
//! Every finder of batches for management takes the seller's id. A claim
//! is [`take_claim`] (a conditional increment of `claimed`, so it never
//! passes `total_count`; on PostgreSQL it also locks the batch row, which
//! queues a batch's concurrent claims) followed by [`insert_coupon`], whose
//! unique `(batch_id, buyer_id, claim_no)` refuses a second coupon with the
//! same number (`StoreError::Conflict`): two claims by one buyer that both
//! counted the same claims so far cannot both land.

use crate::entity::{coupon, coupon_batch};
use crate::error::StoreResult;
use chrono::{DateTime, Utc};
use mercato_domain::channel::coupons::{CouponBatchStatus, CouponState, CouponStatus};
use mercato_domain::ids::{CouponBatchId, CouponId};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, ExprTrait, QueryFilter, QueryOrder, QuerySelect,
    QueryTrait,
};
use std::collections::HashMap;

pub async fn insert_batch(db: &impl ConnectionTrait, b: coupon_batch::Model) -> StoreResult<()> {
    let model: coupon_batch::ActiveModel = b.into();
    coupon_batch::Entity::insert(model.reset_all()).exec_without_returning(db).await?;
    Ok(())
}

/// Any seller's batch (what a buyer claims from).
pub async fn find_batch(db: &impl ConnectionTrait, id: &CouponBatchId) -> StoreResult<Option<coupon_batch::Model>> {
    Ok(coupon_batch::Entity::find_by_id(id.clone()).one(db).await?)
}

pub async fn find_batch_for_seller(
    db: &impl ConnectionTrait,
    seller_id: &str,
    id: &CouponBatchId,
) -> StoreResult<Option<coupon_batch::Model>> {
    Ok(coupon_batch::Entity::find_by_id(id.clone())
        .filter(coupon_batch::Column::SellerId.eq(seller_id))
        .one(db)
        .await?)
}

/// The seller's batches newest first, `limit` at a time below `before`.
pub async fn list_batches_for_seller(
    db: &impl ConnectionTrait,
    seller_id: &str,
    status: Option<CouponBatchStatus>,
    before: Option<&CouponBatchId>,
    limit: u64,
) -> StoreResult<Vec<coupon_batch::Model>> {
    let mut q = coupon_batch::Entity::find().filter(coupon_batch::Column::SellerId.eq(seller_id));
    if let Some(s) = status {
        q = q.filter(coupon_batch::Column::Status.eq(s));
    }
    if let Some(b) = before {
        q = q.filter(coupon_batch::Column::Id.lt(b.clone()));
    }
    Ok(q.order_by_desc(coupon_batch::Column::Id).limit(limit).all(db).await?)
}

pub async fn batches_by_ids(db: &impl ConnectionTrait, ids: &[CouponBatchId]) -> StoreResult<Vec<coupon_batch::Model>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(coupon_batch::Entity::find().filter(coupon_batch::Column::Id.is_in(ids.iter().cloned())).all(db).await?)
}

/// The seller's batches a buyer could claim from at `now`: active, within
/// their validity, not exhausted; newest first, at most `limit`.
pub async fn claimable_batches_of_seller(
    db: &impl ConnectionTrait,
    seller_id: &str,
    now: DateTime<Utc>,
    limit: u64,
) -> StoreResult<Vec<coupon_batch::Model>> {
    Ok(coupon_batch::Entity::find()
        .filter(coupon_batch::Column::SellerId.eq(seller_id))
        .filter(coupon_batch::Column::Status.eq(CouponBatchStatus::Active))
        .filter(coupon_batch::Column::ValidFrom.lte(now))
        .filter(coupon_batch::Column::ValidUntil.gt(now))
        .filter(Expr::col(coupon_batch::Column::Claimed).lt(Expr::col(coupon_batch::Column::TotalCount)))
        .order_by_desc(coupon_batch::Column::Id)
        .limit(limit)
        .all(db)
        .await?)
}

/// Stops an active batch of the seller's; false when it is not active
/// (or not the seller's).
pub async fn stop_batch(db: &impl ConnectionTrait, seller_id: &str, id: &CouponBatchId) -> StoreResult<bool> {
    let res = coupon_batch::Entity::update_many()
        .col_expr(coupon_batch::Column::Status, Expr::value(CouponBatchStatus::Stopped))
        .filter(coupon_batch::Column::Id.eq(id.clone()))
        .filter(coupon_batch::Column::SellerId.eq(seller_id))
        .filter(coupon_batch::Column::Status.eq(CouponBatchStatus::Active))
        .exec(db)
        .await?;
    Ok(res.rows_affected == 1)
}

/// Counts one more coupon given out of the batch when it is active, valid
/// at `now` and not exhausted; false otherwise (nothing written).
pub async fn take_claim(db: &impl ConnectionTrait, id: &CouponBatchId, now: DateTime<Utc>) -> StoreResult<bool> {
    let res = coupon_batch::Entity::update_many()
        .col_expr(coupon_batch::Column::Claimed, Expr::col(coupon_batch::Column::Claimed).add(1))
        .filter(coupon_batch::Column::Id.eq(id.clone()))
        .filter(coupon_batch::Column::Status.eq(CouponBatchStatus::Active))
        .filter(coupon_batch::Column::ValidFrom.lte(now))
        .filter(coupon_batch::Column::ValidUntil.gt(now))
        .filter(Expr::col(coupon_batch::Column::Claimed).lt(Expr::col(coupon_batch::Column::TotalCount)))
        .exec(db)
        .await?;
    Ok(res.rows_affected == 1)
}

/// How many coupons of the batch the buyer holds (used or not).
pub async fn claims_by_buyer(db: &impl ConnectionTrait, batch_id: &CouponBatchId, buyer_id: &str) -> StoreResult<i64> {
    let n = coupon::Entity::find()
        .select_only()
        .column_as(Expr::cust("COUNT(*)"), "n")
        .filter(coupon::Column::BatchId.eq(batch_id.clone()))
        .filter(coupon::Column::BuyerId.eq(buyer_id))
        .into_tuple::<i64>()
        .one(db)
        .await?;
    Ok(n.unwrap_or(0))
}

/// For each of `batch_ids`, how many coupons the buyer holds (absent: none).
pub async fn claims_by_buyer_in(
    db: &impl ConnectionTrait,
    buyer_id: &str,
    batch_ids: &[CouponBatchId],
) -> StoreResult<HashMap<CouponBatchId, i64>> {
    if batch_ids.is_empty() {
        return Ok(HashMap::new());
    }
    let rows = coupon::Entity::find()
        .select_only()
        .column(coupon::Column::BatchId)
        .column_as(Expr::cust("COUNT(*)"), "n")
        .filter(coupon::Column::BuyerId.eq(buyer_id))
        .filter(coupon::Column::BatchId.is_in(batch_ids.iter().cloned()))
        .group_by(coupon::Column::BatchId)
        .into_tuple::<(CouponBatchId, i64)>()
        .all(db)
        .await?;
    Ok(rows.into_iter().collect())
}

/// For each of `batch_ids`, how many of its coupons are used (absent: none).
pub async fn used_counts(
    db: &impl ConnectionTrait,
    batch_ids: &[CouponBatchId],
) -> StoreResult<HashMap<CouponBatchId, i64>> {
    if batch_ids.is_empty() {
        return Ok(HashMap::new());
    }
    let rows = coupon::Entity::find()
        .select_only()
        .column(coupon::Column::BatchId)
        .column_as(Expr::cust("COUNT(*)"), "n")
        .filter(coupon::Column::Status.eq(CouponStatus::Used))
        .filter(coupon::Column::BatchId.is_in(batch_ids.iter().cloned()))
        .group_by(coupon::Column::BatchId)
        .into_tuple::<(CouponBatchId, i64)>()
        .all(db)
        .await?;
    Ok(rows.into_iter().collect())
}

/// Inserts a claimed coupon; a second coupon with the same (batch, buyer,
/// claim_no) is `StoreError::Conflict`.
pub async fn insert_coupon(db: &impl ConnectionTrait, c: coupon::Model) -> StoreResult<()> {
    let model: coupon::ActiveModel = c.into();
    coupon::Entity::insert(model.reset_all()).exec_without_returning(db).await?;
    Ok(())
}

/// How many coupons a batch has given out, counted row by row (tests and
/// checks compare it with the batch's `claimed`).
pub async fn count_coupons(db: &impl ConnectionTrait, batch_id: &CouponBatchId) -> StoreResult<i64> {
    let n = coupon::Entity::find()
        .select_only()
        .column_as(Expr::cust("COUNT(*)"), "n")
        .filter(coupon::Column::BatchId.eq(batch_id.clone()))
        .into_tuple::<i64>()
        .one(db)
        .await?;
    Ok(n.unwrap_or(0))
}

/// The buyer's coupons newest first, `limit` at a time below `before`,
/// optionally only those in `state` at `now`, each with its batch.
pub async fn list_for_buyer(
    db: &impl ConnectionTrait,
    buyer_id: &str,
    state: Option<CouponState>,
    now: DateTime<Utc>,
    before: Option<&CouponId>,
    limit: u64,
) -> StoreResult<Vec<(coupon::Model, coupon_batch::Model)>> {
    let mut q = coupon::Entity::find().filter(coupon::Column::BuyerId.eq(buyer_id));
    let batches = |cond: sea_orm::Condition| {
        coupon_batch::Entity::find().select_only().column(coupon_batch::Column::Id).filter(cond).as_query().to_owned()
    };
    use sea_orm::Condition;
    match state {
        None => {}
        Some(CouponState::Used) => q = q.filter(coupon::Column::Status.eq(CouponStatus::Used)),
        Some(s) => {
            let cond = match s {
                CouponState::NotStarted => Condition::all().add(coupon_batch::Column::ValidFrom.gt(now)),
                CouponState::Expired => Condition::all().add(coupon_batch::Column::ValidUntil.lte(now)),
                _ => Condition::all()
                    .add(coupon_batch::Column::ValidFrom.lte(now))
                    .add(coupon_batch::Column::ValidUntil.gt(now)),
            };
            q = q
                .filter(coupon::Column::Status.eq(CouponStatus::Available))
                .filter(coupon::Column::BatchId.in_subquery(batches(cond)));
        }
    }
    if let Some(b) = before {
        q = q.filter(coupon::Column::Id.lt(b.clone()));
    }
    let coupons = q.order_by_desc(coupon::Column::Id).limit(limit).all(db).await?;
    let mut ids: Vec<CouponBatchId> = coupons.iter().map(|c| c.batch_id.clone()).collect();
    ids.sort();
    ids.dedup();
    let by_id: HashMap<CouponBatchId, coupon_batch::Model> =
        batches_by_ids(db, &ids).await?.into_iter().map(|b| (b.id.clone(), b)).collect();
    Ok(coupons.into_iter().filter_map(|c| by_id.get(&c.batch_id).cloned().map(|b| (c, b))).collect())
}

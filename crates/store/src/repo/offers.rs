//! Private offers as their sellers manage them and their buyers read them,
//! and the one step of a customer demand an offer takes (accepted ->
//! offered). What an order does with an offer (take it, give it back) is
//! in [`super::deals`].
//!
//! Every finder takes the seller's or the buyer's id: another's offer is
//! not found.

use crate::entity::{customer_demand, private_offer};
use crate::error::StoreResult;
use chrono::{DateTime, Utc};
use mercato_domain::channel::offers::OfferStatus;
use mercato_domain::channel::partners::DemandStatus;
use mercato_domain::ids::{DemandId, OfferId};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

/// Inserts an offer. A second offer answering the same demand is refused
/// by the unique index on `demand_id` (`StoreError::Conflict`).
pub async fn insert(db: &impl ConnectionTrait, o: private_offer::Model) -> StoreResult<()> {
    let model: private_offer::ActiveModel = o.into();
    private_offer::Entity::insert(model.reset_all()).exec_without_returning(db).await?;
    Ok(())
}

/// Whose offers a query sees.
#[derive(Debug, Clone, Copy)]
pub enum Scope<'a> {
    /// The seller's (account id): the offers it made.
    Seller(&'a str),
    /// The buyer's (account id): the offers made to it.
    Buyer(&'a str),
}

fn scoped(q: sea_orm::Select<private_offer::Entity>, scope: Scope<'_>) -> sea_orm::Select<private_offer::Entity> {
    match scope {
        Scope::Seller(s) => q.filter(private_offer::Column::SellerId.eq(s)),
        Scope::Buyer(b) => q.filter(private_offer::Column::BuyerId.eq(b)),
    }
}

pub async fn find(
    db: &impl ConnectionTrait,
    scope: Scope<'_>,
    id: &OfferId,
) -> StoreResult<Option<private_offer::Model>> {
    Ok(scoped(private_offer::Entity::find_by_id(id.clone()), scope).one(db).await?)
}

/// Offers newest first, `limit` at a time below `before`.
pub async fn list(
    db: &impl ConnectionTrait,
    scope: Scope<'_>,
    status: Option<OfferStatus>,
    before: Option<&OfferId>,
    limit: u64,
) -> StoreResult<Vec<private_offer::Model>> {
    let mut q = scoped(private_offer::Entity::find(), scope);
    if let Some(s) = status {
        q = q.filter(private_offer::Column::Status.eq(s));
    }
    if let Some(b) = before {
        q = q.filter(private_offer::Column::Id.lt(b.clone()));
    }
    Ok(q.order_by_desc(private_offer::Column::Id).limit(limit).all(db).await?)
}

/// Withdraws an active offer of the seller's; false when it is not active
/// (nothing written).
pub async fn withdraw(
    db: &impl ConnectionTrait,
    seller_id: &str,
    id: &OfferId,
    now: DateTime<Utc>,
) -> StoreResult<bool> {
    let res = private_offer::Entity::update_many()
        .col_expr(private_offer::Column::Status, Expr::value(OfferStatus::Withdrawn))
        .col_expr(private_offer::Column::StatusSince, Expr::value(now))
        .filter(private_offer::Column::Id.eq(id.clone()))
        .filter(private_offer::Column::SellerId.eq(seller_id))
        .filter(private_offer::Column::Status.eq(OfferStatus::Active))
        .exec(db)
        .await?;
    Ok(res.rows_affected == 1)
}

/// A customer demand passed to this seller.
pub async fn demand_for_seller(
    db: &impl ConnectionTrait,
    seller_id: &str,
    id: &DemandId,
) -> StoreResult<Option<customer_demand::Model>> {
    Ok(customer_demand::Entity::find_by_id(id.clone())
        .filter(customer_demand::Column::SellerId.eq(seller_id))
        .one(db)
        .await?)
}

/// Moves an accepted demand to `offered`, answered by `offer_id`; false
/// when it is no longer accepted (another offer answered it first).
pub async fn mark_demand_offered(db: &impl ConnectionTrait, id: &DemandId, offer_id: &OfferId) -> StoreResult<bool> {
    let res = customer_demand::Entity::update_many()
        .col_expr(customer_demand::Column::Status, Expr::value(DemandStatus::Offered))
        .col_expr(customer_demand::Column::OfferId, Expr::value(offer_id.to_string()))
        .filter(customer_demand::Column::Id.eq(id.clone()))
        .filter(customer_demand::Column::Status.eq(DemandStatus::Accepted))
        .exec(db)
        .await?;
    Ok(res.rows_affected == 1)
}

//! What `bench orders` reads back after its load: how far fulfilment got and
//! when each order was paid and its subscription activated.

use crate::Db;
use crate::entity::{order, subscription};
use crate::error::StoreResult;
use chrono::{DateTime, Utc};
use mercato_domain::orders::SubscriptionStatus;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};

/// Subscriptions still waiting for the seller to provision them.
pub async fn provisioning_subscriptions(db: &Db) -> StoreResult<u64> {
    Ok(subscription::Entity::find()
        .filter(subscription::Column::Status.eq(SubscriptionStatus::Provisioning.as_str()))
        .count(&db.conn)
        .await?)
}

/// An order that was paid, and when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaidOrder {
    pub order_id: String,
    pub paid_at: DateTime<Utc>,
}

/// Every paid order.
pub async fn paid_orders(db: &Db) -> StoreResult<Vec<PaidOrder>> {
    let orders = order::Entity::find().filter(order::Column::PaidAt.is_not_null()).all(&db.conn).await?;
    Ok(orders.into_iter().filter_map(|o| Some(PaidOrder { order_id: o.id, paid_at: o.paid_at? })).collect())
}

/// An active subscription's order and its last change, which for a
/// subscription never changed after provisioning is its activation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Activation {
    pub order_id: String,
    pub activated_at: DateTime<Utc>,
}

/// Every active subscription, as an [`Activation`].
pub async fn activations(db: &Db) -> StoreResult<Vec<Activation>> {
    let active = subscription::Entity::find()
        .filter(subscription::Column::Status.eq(SubscriptionStatus::Active.as_str()))
        .all(&db.conn)
        .await?;
    Ok(active.into_iter().map(|s| Activation { order_id: s.order_id, activated_at: s.updated_at }).collect())
}

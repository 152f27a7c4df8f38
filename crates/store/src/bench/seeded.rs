//! Reading and adjusting what a benchmark seeded through the API.

use crate::Db;
use crate::entity::subscription;
use crate::error::StoreResult;
use chrono::{DateTime, Utc};
use mercato_domain::orders::SubscriptionStatus;
use sea_orm::{ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, QueryFilter, Statement};

/// The id of some seller account, `None` when there is none. Benchmarks seed
/// exactly one seller.
pub async fn any_seller_id(db: &Db) -> StoreResult<Option<String>> {
    let row = db
        .conn
        .query_one_raw(Statement::from_string(
            db.conn.get_database_backend(),
            "SELECT id FROM accounts WHERE role = 'seller' LIMIT 1",
        ))
        .await?;
    Ok(row.map(|r| r.try_get::<String>("", "id")).transpose()?)
}

/// A provisioned pay-per-use instance and who bought it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Instance {
    pub instance_id: String,
    pub buyer_id: String,
}

/// The instances of the active subscriptions to `sku_id` that the seller has
/// provisioned (instance id set), in no particular order.
pub async fn provisioned_instances(db: &Db, sku_id: &str) -> StoreResult<Vec<Instance>> {
    let active = subscription::Entity::find()
        .filter(subscription::Column::SkuId.eq(sku_id))
        .filter(subscription::Column::Status.eq(SubscriptionStatus::Active.as_str()))
        .filter(subscription::Column::InstanceId.is_not_null())
        .all(&db.conn)
        .await?;
    Ok(active
        .into_iter()
        .filter_map(|s| Some(Instance { instance_id: s.instance_id?, buyer_id: s.buyer_id }))
        .collect())
}

/// Moves the start of every subscription to `sku_id` to `starts_at`, in one
/// transaction, so usage records from before the purchase lie inside the
/// instances' lives as validation requires; returns the subscriptions moved.
pub async fn backdate_subscriptions(db: &Db, sku_id: &str, starts_at: DateTime<Utc>) -> StoreResult<u64> {
    let backend = db.conn.get_database_backend();
    let sql = match backend {
        DbBackend::Postgres => "UPDATE subscriptions SET starts_at = $1 WHERE sku_id = $2",
        _ => "UPDATE subscriptions SET starts_at = ? WHERE sku_id = ?",
    };
    let tx = db.write().await?;
    let moved = tx.execute_raw(Statement::from_sql_and_values(backend, sql, [starts_at.into(), sku_id.into()])).await?;
    tx.commit().await?;
    Ok(moved.rows_affected())
}

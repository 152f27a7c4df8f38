//! License codes: issued once per order line (the first answer stands),
//! looked up by the seller's code for activation and heartbeats.

use crate::entity::license;
use crate::error::StoreResult;
use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};

/// Records an issued code; false when the line already has one (kept).
pub async fn insert_issued(db: &impl ConnectionTrait, l: license::Model) -> StoreResult<bool> {
    let model: license::ActiveModel = l.into();
    let added = license::Entity::insert(model.reset_all())
        .on_conflict(OnConflict::column(license::Column::OrderLineId).do_nothing().to_owned())
        .exec_without_returning(db)
        .await?;
    Ok(added > 0)
}

pub async fn find_by_line(db: &impl ConnectionTrait, order_line_id: &str) -> StoreResult<Option<license::Model>> {
    Ok(license::Entity::find_by_id(order_line_id.to_string()).one(db).await?)
}

/// Licenses of these subscriptions.
pub async fn of_subscriptions(db: &impl ConnectionTrait, ids: &[String]) -> StoreResult<Vec<license::Model>> {
    Ok(license::Entity::find().filter(license::Column::SubscriptionId.is_in(ids.to_vec())).all(db).await?)
}

/// A code as any seller issued it (the caller checks whose it is).
pub async fn find_by_code(db: &impl ConnectionTrait, code: &str) -> StoreResult<Vec<license::Model>> {
    Ok(license::Entity::find().filter(license::Column::LicenseCode.eq(code)).all(db).await?)
}

/// Marks the first activation; false when it was activated before.
pub async fn activate(
    db: &impl ConnectionTrait,
    order_line_id: &str,
    at: DateTime<Utc>,
    effective_at: Option<DateTime<Utc>>,
) -> StoreResult<bool> {
    let res = license::Entity::update_many()
        .col_expr(license::Column::ActivatedAt, Expr::value(at))
        .col_expr(license::Column::EffectiveAt, Expr::value(effective_at))
        .filter(license::Column::OrderLineId.eq(order_line_id))
        .filter(license::Column::ActivatedAt.is_null())
        .exec(db)
        .await?;
    Ok(res.rows_affected > 0)
}

/// Records a heartbeat (the latest one is kept).
pub async fn heartbeat(
    db: &impl ConnectionTrait,
    order_line_id: &str,
    at: DateTime<Utc>,
    account: &str,
    ip: Option<&str>,
) -> StoreResult<()> {
    license::Entity::update_many()
        .col_expr(license::Column::LastHeartbeatAt, Expr::value(at))
        .col_expr(license::Column::HeartbeatAccount, Expr::value(account))
        .col_expr(license::Column::HeartbeatIp, Expr::value(ip))
        .filter(license::Column::OrderLineId.eq(order_line_id))
        .exec(db)
        .await?;
    Ok(())
}

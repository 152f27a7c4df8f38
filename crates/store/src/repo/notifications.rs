//! In-app notifications, and the interface failures counted for
//! auto-delisting.

use crate::entity::{interface_failure, notification};
use crate::error::StoreResult;
use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
};

pub async fn insert(db: &impl ConnectionTrait, n: notification::Model) -> StoreResult<()> {
    insert_many(db, vec![n]).await
}

/// Many at once (a settlement run notifies every seller it settled).
pub async fn insert_many(db: &impl ConnectionTrait, rows: Vec<notification::Model>) -> StoreResult<()> {
    for chunk in rows.chunks(500) {
        let models = chunk.iter().cloned().map(|n| notification::ActiveModel::from(n).reset_all());
        notification::Entity::insert_many(models).exec_without_returning(db).await?;
    }
    Ok(())
}

/// The account's notifications, newest first (ids sort by creation), after
/// `before` (an id).
pub async fn list(
    db: &impl ConnectionTrait,
    account_id: &str,
    before: Option<&str>,
    limit: u64,
) -> StoreResult<Vec<notification::Model>> {
    let mut q = notification::Entity::find().filter(notification::Column::AccountId.eq(account_id));
    if let Some(b) = before {
        q = q.filter(notification::Column::Id.lt(b));
    }
    Ok(q.order_by_desc(notification::Column::Id).limit(limit).all(db).await?)
}

pub async fn find(db: &impl ConnectionTrait, account_id: &str, id: &str) -> StoreResult<Option<notification::Model>> {
    Ok(notification::Entity::find_by_id(id.to_string())
        .filter(notification::Column::AccountId.eq(account_id))
        .one(db)
        .await?)
}

/// Marks the notification read (once: the first read time is kept).
pub async fn mark_read(db: &impl ConnectionTrait, account_id: &str, id: &str, now: DateTime<Utc>) -> StoreResult<()> {
    notification::Entity::update_many()
        .col_expr(notification::Column::ReadAt, Expr::value(now))
        .filter(notification::Column::Id.eq(id))
        .filter(notification::Column::AccountId.eq(account_id))
        .filter(notification::Column::ReadAt.is_null())
        .exec(db)
        .await?;
    Ok(())
}

/// Records an interface failure; false when the line was already recorded.
pub async fn insert_interface_failure(db: &impl ConnectionTrait, f: interface_failure::Model) -> StoreResult<bool> {
    let model: interface_failure::ActiveModel = f.into();
    let n = interface_failure::Entity::insert(model.reset_all())
        .on_conflict(OnConflict::column(interface_failure::Column::OrderLineId).do_nothing().to_owned())
        .exec_without_returning(db)
        .await?;
    Ok(n > 0)
}

/// The product's interface failures in `[from, to)`.
pub async fn count_interface_failures(
    db: &impl ConnectionTrait,
    product_id: &str,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> StoreResult<u64> {
    Ok(interface_failure::Entity::find()
        .filter(interface_failure::Column::ProductId.eq(product_id))
        .filter(interface_failure::Column::FailedAt.gte(from))
        .filter(interface_failure::Column::FailedAt.lt(to))
        .count(db)
        .await?)
}

/// `notification_once`: the keys of notifications sent at most once.
mod once {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "notification_once")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub once_key: String,
        pub notification_id: String,
        pub created_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// Inserts `n` unless a notification with `once_key` was sent already (also
/// by a concurrent transaction); returns whether it was inserted. Call it in
/// a write transaction so the key and the notification commit together.
pub async fn insert_once(db: &impl ConnectionTrait, once_key: &str, n: notification::Model) -> StoreResult<bool> {
    let key = once::ActiveModel {
        once_key: sea_orm::ActiveValue::Set(once_key.to_string()),
        notification_id: sea_orm::ActiveValue::Set(n.id.clone()),
        created_at: sea_orm::ActiveValue::Set(n.created_at),
    };
    let added = once::Entity::insert(key)
        .on_conflict(OnConflict::column(once::Column::OnceKey).do_nothing().to_owned())
        .exec_without_returning(db)
        .await?;
    if added == 0 {
        return Ok(false);
    }
    insert(db, n).await?;
    Ok(true)
}

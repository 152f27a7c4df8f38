//! Small named values shared by every node (e.g. the master-key check value).

use crate::entity::setting;
use crate::error::StoreResult;
use sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};

pub async fn get(db: &impl ConnectionTrait, name: &str) -> StoreResult<Option<String>> {
    Ok(setting::Entity::find_by_id(name.to_string()).one(db).await?.map(|m| m.value))
}

/// Stores `value` unless the setting exists; returns the value that is stored
/// afterwards (so two nodes racing agree on the first writer's value).
pub async fn get_or_insert(db: &impl ConnectionTrait, name: &str, value: &str) -> StoreResult<String> {
    let row = setting::ActiveModel { name: Set(name.to_string()), value: Set(value.to_string()) };
    setting::Entity::insert(row)
        .on_conflict(sea_orm::sea_query::OnConflict::column(setting::Column::Name).do_nothing().to_owned())
        .exec_without_returning(db)
        .await?;
    get(db, name).await.map(|v| v.unwrap_or_else(|| value.to_string()))
}

/// Compare-and-swap: sets `name` to `value` only while it still holds
/// `expected`; false when another writer changed it first.
pub async fn swap(db: &impl ConnectionTrait, name: &str, expected: &str, value: &str) -> StoreResult<bool> {
    let res = setting::Entity::update_many()
        .col_expr(setting::Column::Value, sea_orm::sea_query::Expr::value(value))
        .filter(setting::Column::Name.eq(name))
        .filter(setting::Column::Value.eq(expected))
        .exec(db)
        .await?;
    Ok(res.rows_affected == 1)
}

/// The partner share for new exclusive discounts and offers made from
/// demands (`domain::channel::partners::SHARE_SETTING`), or the default.
pub async fn partner_share_bp(db: &impl ConnectionTrait) -> StoreResult<i64> {
    use mercato_domain::channel::partners::{DEFAULT_SHARE_BP, SHARE_SETTING};
    Ok(get(db, SHARE_SETTING).await?.and_then(|v| v.parse().ok()).unwrap_or(DEFAULT_SHARE_BP))
}

/// Sets the partner share (0-10000 basis points, checked by the caller).
pub async fn set_partner_share_bp(db: &impl ConnectionTrait, bp: i64) -> StoreResult<()> {
    use mercato_domain::channel::partners::SHARE_SETTING;
    let row = setting::ActiveModel { name: Set(SHARE_SETTING.to_string()), value: Set(bp.to_string()) };
    setting::Entity::insert(row)
        .on_conflict(
            sea_orm::sea_query::OnConflict::column(setting::Column::Name)
                .update_column(setting::Column::Value)
                .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    Ok(())
}

//! The category tree.

use crate::entity::{category, product};
use crate::error::StoreResult;
use sea_orm::sea_query::{Expr, LikeExpr};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, ExprTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect,
};

/// Every category, ordered by position (then id) so trees build in order.
pub async fn all(db: &impl ConnectionTrait) -> StoreResult<Vec<category::Model>> {
    Ok(category::Entity::find()
        .order_by_asc(category::Column::Position)
        .order_by_asc(category::Column::Id)
        .all(db)
        .await?)
}

pub async fn find(db: &impl ConnectionTrait, id: &str) -> StoreResult<Option<category::Model>> {
    Ok(category::Entity::find_by_id(id.to_string()).one(db).await?)
}

/// Inserts a category; a taken slug is `StoreError::Conflict`.
pub async fn insert(db: &impl ConnectionTrait, c: category::Model) -> StoreResult<()> {
    let model: category::ActiveModel = c.into();
    category::Entity::insert(model.reset_all()).exec_without_returning(db).await?;
    Ok(())
}

/// Writes every column of `c`; a taken slug is `StoreError::Conflict`.
pub async fn update(db: &impl ConnectionTrait, c: category::Model) -> StoreResult<()> {
    let model: category::ActiveModel = c.into();
    model.reset_all().update(db).await?;
    Ok(())
}

pub async fn delete(db: &impl ConnectionTrait, id: &str) -> StoreResult<bool> {
    Ok(category::Entity::delete_by_id(id.to_string()).exec(db).await?.rows_affected > 0)
}

/// The position after the last sibling under `parent_id`.
pub async fn next_position(db: &impl ConnectionTrait, parent_id: Option<&str>) -> StoreResult<i64> {
    let q = category::Entity::find();
    let q = match parent_id {
        Some(p) => q.filter(category::Column::ParentId.eq(p)),
        None => q.filter(category::Column::ParentId.is_null()),
    };
    let last = q.order_by_desc(category::Column::Position).limit(1).one(db).await?;
    Ok(last.map_or(1, |c| c.position.saturating_add(1)))
}

pub async fn count_children(db: &impl ConnectionTrait, id: &str) -> StoreResult<u64> {
    Ok(category::Entity::find().filter(category::Column::ParentId.eq(id)).count(db).await?)
}

/// True when a product's working copy or listed version is in the category.
pub async fn used_by_products(db: &impl ConnectionTrait, id: &str) -> StoreResult<bool> {
    // The working copy's category lives in content_json, serialized compactly.
    let pattern = format!("%\"category_id\":\"{}\"%", super::like_escape(id));
    let n = product::Entity::find()
        .filter(
            product::Column::PubCategoryId
                .eq(id)
                .or(Expr::col(product::Column::Content).like(LikeExpr::new(pattern).escape('\\'))),
        )
        .count(db)
        .await?;
    Ok(n > 0)
}

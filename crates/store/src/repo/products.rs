//! Products and their SKUs, always scoped by the owning seller where a seller
//! asks. State changes are conditional on the state they were decided from,
//! so concurrent requests cannot both win.

use crate::entity::{product, sku};
use crate::error::StoreResult;
use mercato_domain::catalog::{ProductStatus, RevisionState, SkuStatus};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
};

pub async fn insert(db: &impl ConnectionTrait, p: product::Model) -> StoreResult<()> {
    let model: product::ActiveModel = p.into();
    product::Entity::insert(model.reset_all()).exec_without_returning(db).await?;
    Ok(())
}

pub async fn find(db: &impl ConnectionTrait, id: &str) -> StoreResult<Option<product::Model>> {
    Ok(product::Entity::find_by_id(id.to_string()).one(db).await?)
}

/// One of the seller's products; another seller's product is `None`.
pub async fn find_for_seller(
    db: &impl ConnectionTrait,
    seller_id: &str,
    id: &str,
) -> StoreResult<Option<product::Model>> {
    Ok(product::Entity::find_by_id(id.to_string()).filter(product::Column::SellerId.eq(seller_id)).one(db).await?)
}

/// The seller's products, newest first, `limit` at a time after `before` (an id).
pub async fn list_for_seller(
    db: &impl ConnectionTrait,
    seller_id: &str,
    status: Option<ProductStatus>,
    before: Option<&str>,
    limit: u64,
) -> StoreResult<Vec<product::Model>> {
    let mut q = product::Entity::find().filter(product::Column::SellerId.eq(seller_id));
    if let Some(s) = status {
        q = q.filter(product::Column::Status.eq(s));
    }
    if let Some(b) = before {
        q = q.filter(product::Column::Id.lt(b));
    }
    Ok(q.order_by_desc(product::Column::Id).limit(limit).all(db).await?)
}

/// Writes every column of `p`, but only while the stored product is still in
/// the lifecycle state (`status`, `revision_state`) the change was decided
/// from. False when it moved on meanwhile.
pub async fn save_if(
    db: &impl ConnectionTrait,
    p: product::Model,
    expected_status: ProductStatus,
    expected_revision: RevisionState,
) -> StoreResult<bool> {
    let id = p.id.clone();
    let model: product::ActiveModel = p.into();
    let res = product::Entity::update_many()
        .set(model.reset_all())
        .filter(product::Column::Id.eq(id))
        .filter(product::Column::Status.eq(expected_status))
        .filter(product::Column::RevisionState.eq(expected_revision))
        .exec(db)
        .await?;
    Ok(res.rows_affected == 1)
}

pub async fn insert_sku(db: &impl ConnectionTrait, s: sku::Model) -> StoreResult<()> {
    let model: sku::ActiveModel = s.into();
    sku::Entity::insert(model.reset_all()).exec_without_returning(db).await?;
    Ok(())
}

/// The product's SKUs, oldest first.
pub async fn skus(db: &impl ConnectionTrait, product_id: &str) -> StoreResult<Vec<sku::Model>> {
    Ok(sku::Entity::find().filter(sku::Column::ProductId.eq(product_id)).order_by_asc(sku::Column::Id).all(db).await?)
}

pub async fn count_skus(db: &impl ConnectionTrait, product_id: &str) -> StoreResult<u64> {
    Ok(sku::Entity::find().filter(sku::Column::ProductId.eq(product_id)).count(db).await?)
}

pub async fn find_sku(db: &impl ConnectionTrait, product_id: &str, sku_id: &str) -> StoreResult<Option<sku::Model>> {
    Ok(sku::Entity::find_by_id(sku_id.to_string()).filter(sku::Column::ProductId.eq(product_id)).one(db).await?)
}

/// Deletes a SKU only while it has the given status; false otherwise.
pub async fn delete_sku_if(
    db: &impl ConnectionTrait,
    product_id: &str,
    sku_id: &str,
    status: SkuStatus,
) -> StoreResult<bool> {
    let res = sku::Entity::delete_many()
        .filter(sku::Column::Id.eq(sku_id))
        .filter(sku::Column::ProductId.eq(product_id))
        .filter(sku::Column::Status.eq(status))
        .exec(db)
        .await?;
    Ok(res.rows_affected == 1)
}

/// Moves the listed SKUs of a product from `from` to `to` status.
pub async fn set_sku_status(
    db: &impl ConnectionTrait,
    product_id: &str,
    ids: &[String],
    from: SkuStatus,
    to: SkuStatus,
) -> StoreResult<u64> {
    if ids.is_empty() {
        return Ok(0);
    }
    let res = sku::Entity::update_many()
        .col_expr(sku::Column::Status, sea_orm::sea_query::Expr::value(to))
        .filter(sku::Column::ProductId.eq(product_id))
        .filter(sku::Column::Id.is_in(ids.iter().cloned()))
        .filter(sku::Column::Status.eq(from))
        .exec(db)
        .await?;
    Ok(res.rows_affected)
}

//! Uploaded files (product logos and screenshots). The bytes live on disk
//! under the media directory; rows record owner, type, size and digest.

use crate::entity::media;
use crate::error::StoreResult;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};

pub async fn insert(db: &impl ConnectionTrait, m: media::Model) -> StoreResult<()> {
    let model: media::ActiveModel = m.into();
    media::Entity::insert(model.reset_all()).exec_without_returning(db).await?;
    Ok(())
}

pub async fn find(db: &impl ConnectionTrait, id: &str) -> StoreResult<Option<media::Model>> {
    Ok(media::Entity::find_by_id(id.to_string()).one(db).await?)
}

/// A file attached to one of the seller's products.
pub async fn find_for_product(
    db: &impl ConnectionTrait,
    owner_id: &str,
    product_id: &str,
    id: &str,
) -> StoreResult<Option<media::Model>> {
    Ok(media::Entity::find_by_id(id.to_string())
        .filter(media::Column::OwnerId.eq(owner_id))
        .filter(media::Column::ProductId.eq(product_id))
        .one(db)
        .await?)
}

/// Files of one supervision, in upload order.
pub async fn of_supervision(db: &impl ConnectionTrait, supervision_id: &str) -> StoreResult<Vec<media::Model>> {
    use sea_orm::QueryOrder;
    Ok(media::Entity::find()
        .filter(media::Column::SupervisionId.eq(supervision_id))
        .order_by_asc(media::Column::Id)
        .all(db)
        .await?)
}

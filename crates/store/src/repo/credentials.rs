//! Sellers' open-API credentials (AK/SK).

use crate::entity::open_api_credential as cred;
use crate::error::StoreResult;
use chrono::{DateTime, Utc};
use sea_orm::ExprTrait;
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder};

pub async fn insert(db: &impl ConnectionTrait, c: cred::Model) -> StoreResult<()> {
    let row = cred::ActiveModel {
        access_key_id: Set(c.access_key_id),
        seller_id: Set(c.seller_id),
        secret_enc: Set(c.secret_enc),
        created_at: Set(c.created_at),
        revoked_at: Set(c.revoked_at),
        last_used_at: Set(c.last_used_at),
    };
    cred::Entity::insert(row).exec_without_returning(db).await?;
    Ok(())
}

/// The seller's credentials, newest first (revoked ones included, marked).
pub async fn list(db: &impl ConnectionTrait, seller_id: &str) -> StoreResult<Vec<cred::Model>> {
    Ok(cred::Entity::find()
        .filter(cred::Column::SellerId.eq(seller_id))
        .order_by_desc(cred::Column::CreatedAt)
        .order_by_desc(cred::Column::AccessKeyId)
        .all(db)
        .await?)
}

pub async fn count_active(db: &impl ConnectionTrait, seller_id: &str) -> StoreResult<u64> {
    Ok(cred::Entity::find()
        .filter(cred::Column::SellerId.eq(seller_id))
        .filter(cred::Column::RevokedAt.is_null())
        .count(db)
        .await?)
}

/// Looks a credential up by access key id, for request verification.
pub async fn find(db: &impl ConnectionTrait, access_key_id: &str) -> StoreResult<Option<cred::Model>> {
    Ok(cred::Entity::find_by_id(access_key_id.to_string()).one(db).await?)
}

/// Revokes one of the seller's credentials; false when the seller has no such
/// credential. Revoking twice keeps the first time.
pub async fn revoke(
    db: &impl ConnectionTrait,
    seller_id: &str,
    access_key_id: &str,
    at: DateTime<Utc>,
) -> StoreResult<bool> {
    let owned = cred::Entity::find_by_id(access_key_id.to_string())
        .filter(cred::Column::SellerId.eq(seller_id))
        .one(db)
        .await?
        .is_some();
    if owned {
        cred::Entity::update_many()
            .col_expr(cred::Column::RevokedAt, Expr::value(at))
            .filter(cred::Column::AccessKeyId.eq(access_key_id))
            .filter(cred::Column::RevokedAt.is_null())
            .exec(db)
            .await?;
    }
    Ok(owned)
}

/// Records a successful signed call with the credential.
pub async fn touch(db: &impl ConnectionTrait, access_key_id: &str, at: DateTime<Utc>) -> StoreResult<()> {
    // Kept to the minute: busy callers (usage pushes) then mostly write nothing.
    let stale = at - chrono::Duration::seconds(60);
    cred::Entity::update_many()
        .col_expr(cred::Column::LastUsedAt, Expr::value(at))
        .filter(cred::Column::AccessKeyId.eq(access_key_id))
        .filter(cred::Column::LastUsedAt.is_null().or(cred::Column::LastUsedAt.lt(stale)))
        .exec(db)
        .await?;
    Ok(())
}

//! API keys. Only a lookup handle and a keyed hash of the secret are stored;
//! the key itself is shown once, when created.

use crate::entity::api_key;
use crate::error::StoreResult;
use chrono::{DateTime, Utc};
use sea_orm::ExprTrait;
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

pub async fn insert(db: &impl ConnectionTrait, key: api_key::Model) -> StoreResult<()> {
    let model = api_key::ActiveModel {
        id: Set(key.id),
        account_id: Set(key.account_id),
        name: Set(key.name),
        lookup: Set(key.lookup),
        secret_hash: Set(key.secret_hash),
        created_at: Set(key.created_at),
        expires_at: Set(key.expires_at),
        revoked_at: Set(key.revoked_at),
        last_used_at: Set(key.last_used_at),
    };
    api_key::Entity::insert(model).exec_without_returning(db).await?;
    Ok(())
}

pub async fn find_by_lookup(db: &impl ConnectionTrait, lookup: &str) -> StoreResult<Option<api_key::Model>> {
    Ok(api_key::Entity::find().filter(api_key::Column::Lookup.eq(lookup)).one(db).await?)
}

/// The account's keys, newest first, `limit` at a time after `before` (an id).
pub async fn list(
    db: &impl ConnectionTrait,
    account_id: &str,
    before: Option<&str>,
    limit: u64,
) -> StoreResult<Vec<api_key::Model>> {
    let mut q = api_key::Entity::find().filter(api_key::Column::AccountId.eq(account_id));
    if let Some(b) = before {
        q = q.filter(api_key::Column::Id.lt(b));
    }
    Ok(q.order_by_desc(api_key::Column::Id).limit(limit).all(db).await?)
}

/// Revokes one of the account's keys; false when the account has no such key.
/// Revoking twice is harmless and keeps the first revocation time.
pub async fn revoke(db: &impl ConnectionTrait, account_id: &str, id: &str, at: DateTime<Utc>) -> StoreResult<bool> {
    let exists = api_key::Entity::find_by_id(id.to_string())
        .filter(api_key::Column::AccountId.eq(account_id))
        .one(db)
        .await?
        .is_some();
    if exists {
        api_key::Entity::update_many()
            .col_expr(api_key::Column::RevokedAt, Expr::value(at))
            .filter(api_key::Column::Id.eq(id))
            .filter(api_key::Column::RevokedAt.is_null())
            .exec(db)
            .await?;
    }
    Ok(exists)
}

/// Records use at most once a minute per key, to keep reads cheap.
pub async fn touch(db: &impl ConnectionTrait, id: &str, at: DateTime<Utc>) -> StoreResult<()> {
    let stale = at - chrono::Duration::seconds(60);
    api_key::Entity::update_many()
        .col_expr(api_key::Column::LastUsedAt, Expr::value(at))
        .filter(api_key::Column::Id.eq(id))
        .filter(api_key::Column::LastUsedAt.is_null().or(api_key::Column::LastUsedAt.lt(stale)))
        .exec(db)
        .await?;
    Ok(())
}

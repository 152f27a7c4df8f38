//! Idempotency keys: per account, the hash of the first request made with a
//! key and the response it got, so a retry can be answered from here.

use crate::entity::idempotency_key as idem;
use crate::error::StoreResult;
use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};

/// A key as stored: the hash of the first request made with it, its answer
/// once it has one, and when it was claimed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredKey {
    pub request_hash: String,
    pub status_code: Option<i64>,
    pub response_body: Option<String>,
    pub created_at: DateTime<Utc>,
}

pub async fn find(db: &impl ConnectionTrait, account_id: &str, key: &str) -> StoreResult<Option<StoredKey>> {
    let row = idem::Entity::find_by_id((account_id.to_string(), key.to_string())).one(db).await?;
    Ok(row.map(|r| StoredKey {
        request_hash: r.request_hash,
        status_code: r.status_code,
        response_body: r.response_body,
        created_at: r.created_at,
    }))
}

/// Claims a key for a request still running (no response yet). A second
/// claim of the same key fails with `StoreError::Conflict`; on PostgreSQL it
/// first waits for the transaction holding the first claim to finish.
pub async fn claim(
    db: &impl ConnectionTrait,
    account_id: &str,
    key: &str,
    request_hash: &str,
    at: DateTime<Utc>,
) -> StoreResult<()> {
    idem::Entity::insert(idem::ActiveModel {
        account_id: Set(account_id.to_string()),
        idem_key: Set(key.to_string()),
        request_hash: Set(request_hash.to_string()),
        status_code: Set(None),
        response_body: Set(None),
        created_at: Set(at),
    })
    .exec_without_returning(db)
    .await?;
    Ok(())
}

/// Records the response to a claimed key.
pub async fn complete(
    db: &impl ConnectionTrait,
    account_id: &str,
    key: &str,
    status_code: u16,
    body: &str,
) -> StoreResult<()> {
    idem::Entity::update_many()
        .col_expr(idem::Column::StatusCode, Expr::value(i64::from(status_code)))
        .col_expr(idem::Column::ResponseBody, Expr::value(body))
        .filter(idem::Column::AccountId.eq(account_id))
        .filter(idem::Column::IdemKey.eq(key))
        .exec(db)
        .await?;
    Ok(())
}

/// Forgets one key (an expired one about to be reused).
pub async fn delete(db: &impl ConnectionTrait, account_id: &str, key: &str) -> StoreResult<()> {
    idem::Entity::delete_many()
        .filter(idem::Column::AccountId.eq(account_id))
        .filter(idem::Column::IdemKey.eq(key))
        .exec(db)
        .await?;
    Ok(())
}

/// Deletes keys created before `cutoff`; returns how many.
pub async fn purge_before(db: &impl ConnectionTrait, cutoff: DateTime<Utc>) -> StoreResult<u64> {
    Ok(idem::Entity::delete_many().filter(idem::Column::CreatedAt.lt(cutoff)).exec(db).await?.rows_affected)
}

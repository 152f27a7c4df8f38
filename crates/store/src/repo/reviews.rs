//! Product reviews. A partial unique index allows one pending review per
//! product; deciding is conditional on the review still being pending.

use crate::entity::product_review;
use crate::error::StoreResult;
use chrono::{DateTime, Utc};
use mercato_domain::catalog::ReviewStatus;
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

/// Inserts a review; a second pending review of the product is `StoreError::Conflict`.
pub async fn insert(db: &impl ConnectionTrait, r: product_review::Model) -> StoreResult<()> {
    let model: product_review::ActiveModel = r.into();
    product_review::Entity::insert(model.reset_all()).exec_without_returning(db).await?;
    Ok(())
}

pub async fn find(db: &impl ConnectionTrait, id: &str) -> StoreResult<Option<product_review::Model>> {
    Ok(product_review::Entity::find_by_id(id.to_string()).one(db).await?)
}

pub async fn find_pending_for_product(
    db: &impl ConnectionTrait,
    product_id: &str,
) -> StoreResult<Option<product_review::Model>> {
    Ok(product_review::Entity::find()
        .filter(product_review::Column::ProductId.eq(product_id))
        .filter(product_review::Column::Status.eq(ReviewStatus::Pending))
        .one(db)
        .await?)
}

/// The review queue, oldest first, `limit` at a time after `after` (an id).
pub async fn list(
    db: &impl ConnectionTrait,
    status: Option<ReviewStatus>,
    after: Option<&str>,
    limit: u64,
) -> StoreResult<Vec<product_review::Model>> {
    let mut q = product_review::Entity::find();
    if let Some(s) = status {
        q = q.filter(product_review::Column::Status.eq(s));
    }
    if let Some(a) = after {
        q = q.filter(product_review::Column::Id.gt(a));
    }
    Ok(q.order_by_asc(product_review::Column::Id).limit(limit).all(db).await?)
}

/// One product's reviews, newest first, `limit` at a time after `before` (an id).
pub async fn list_for_product(
    db: &impl ConnectionTrait,
    product_id: &str,
    before: Option<&str>,
    limit: u64,
) -> StoreResult<Vec<product_review::Model>> {
    let mut q = product_review::Entity::find().filter(product_review::Column::ProductId.eq(product_id));
    if let Some(b) = before {
        q = q.filter(product_review::Column::Id.lt(b));
    }
    Ok(q.order_by_desc(product_review::Column::Id).limit(limit).all(db).await?)
}

/// Records the decision on a review that is still pending; false when it
/// was decided meanwhile.
pub async fn decide(
    db: &impl ConnectionTrait,
    id: &str,
    status: ReviewStatus,
    reason: Option<&str>,
    decided_by: &str,
    at: DateTime<Utc>,
) -> StoreResult<bool> {
    let res = product_review::Entity::update_many()
        .col_expr(product_review::Column::Status, Expr::value(status))
        .col_expr(product_review::Column::Reason, Expr::value(reason.map(str::to_string)))
        .col_expr(product_review::Column::DecidedBy, Expr::value(decided_by))
        .col_expr(product_review::Column::DecidedAt, Expr::value(at))
        .filter(product_review::Column::Id.eq(id))
        .filter(product_review::Column::Status.eq(ReviewStatus::Pending))
        .exec(db)
        .await?;
    Ok(res.rows_affected == 1)
}

//! Debug runs of SaaS products. A partial unique index allows one `running`
//! run per product; finishing is conditional on the run still running.

use crate::entity::debug_run;
use crate::error::StoreResult;
use chrono::{DateTime, Utc};
use mercato_domain::catalog::DebugRunStatus;
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

/// Inserts a run; a second `running` run of the product is `StoreError::Conflict`.
pub async fn insert(db: &impl ConnectionTrait, r: debug_run::Model) -> StoreResult<()> {
    let model: debug_run::ActiveModel = r.into();
    debug_run::Entity::insert(model.reset_all()).exec_without_returning(db).await?;
    Ok(())
}

/// Records the outcome of a run that is still running; false when it was
/// abandoned meanwhile.
pub async fn finish(
    db: &impl ConnectionTrait,
    id: &str,
    status: DebugRunStatus,
    cases_json: &str,
    at: DateTime<Utc>,
) -> StoreResult<bool> {
    let res = debug_run::Entity::update_many()
        .col_expr(debug_run::Column::Status, Expr::value(status))
        .col_expr(debug_run::Column::CasesJson, Expr::value(cases_json))
        .col_expr(debug_run::Column::FinishedAt, Expr::value(at))
        .filter(debug_run::Column::Id.eq(id))
        .filter(debug_run::Column::Status.eq(DebugRunStatus::Running))
        .exec(db)
        .await?;
    Ok(res.rows_affected == 1)
}

/// Marks the product's runs that started before `started_before` and are
/// still running as abandoned (their node died mid-run); returns how many.
pub async fn abandon_stale(
    db: &impl ConnectionTrait,
    product_id: &str,
    started_before: DateTime<Utc>,
    at: DateTime<Utc>,
) -> StoreResult<u64> {
    let res = debug_run::Entity::update_many()
        .col_expr(debug_run::Column::Status, Expr::value(DebugRunStatus::Abandoned))
        .col_expr(debug_run::Column::FinishedAt, Expr::value(at))
        .filter(debug_run::Column::ProductId.eq(product_id))
        .filter(debug_run::Column::Status.eq(DebugRunStatus::Running))
        .filter(debug_run::Column::StartedAt.lt(started_before))
        .exec(db)
        .await?;
    Ok(res.rows_affected)
}

pub async fn find(db: &impl ConnectionTrait, id: &str) -> StoreResult<Option<debug_run::Model>> {
    Ok(debug_run::Entity::find_by_id(id.to_string()).one(db).await?)
}

/// The product's most recent run that has finished (passed or failed),
/// optionally only among those finished by `finished_by`.
pub async fn latest_finished(
    db: &impl ConnectionTrait,
    product_id: &str,
    finished_by: Option<DateTime<Utc>>,
) -> StoreResult<Option<debug_run::Model>> {
    let mut q = debug_run::Entity::find()
        .filter(debug_run::Column::ProductId.eq(product_id))
        .filter(debug_run::Column::Status.is_in([DebugRunStatus::Passed, DebugRunStatus::Failed]));
    if let Some(by) = finished_by {
        q = q.filter(debug_run::Column::FinishedAt.lte(by));
    }
    Ok(q.order_by_desc(debug_run::Column::FinishedAt).order_by_desc(debug_run::Column::Id).one(db).await?)
}

/// One product's runs, newest first, `limit` at a time after `before` (an id).
pub async fn list_for_product(
    db: &impl ConnectionTrait,
    product_id: &str,
    before: Option<&str>,
    limit: u64,
) -> StoreResult<Vec<debug_run::Model>> {
    let mut q = debug_run::Entity::find().filter(debug_run::Column::ProductId.eq(product_id));
    if let Some(b) = before {
        q = q.filter(debug_run::Column::Id.lt(b));
    }
    Ok(q.order_by_desc(debug_run::Column::Id).limit(limit).all(db).await?)
}

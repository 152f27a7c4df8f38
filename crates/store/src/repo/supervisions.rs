//! Service supervisions and their timelines. Every change is conditional on
//! the version (`steps`) it was decided from, so of two concurrent actions on
//! one supervision exactly one applies and the other is told.

use crate::entity::{line_delivery, supervision, supervision_step};
use crate::error::StoreResult;
use chrono::{DateTime, Utc};
use mercato_domain::delivery::SupervisionStatus;
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

/// Opens a supervision with its first timeline step.
pub async fn insert(
    db: &impl ConnectionTrait,
    s: supervision::Model,
    first: supervision_step::Model,
) -> StoreResult<()> {
    let model: supervision::ActiveModel = s.into();
    supervision::Entity::insert(model.reset_all()).exec_without_returning(db).await?;
    insert_step(db, first).await
}

async fn insert_step(db: &impl ConnectionTrait, step: supervision_step::Model) -> StoreResult<()> {
    let model: supervision_step::ActiveModel = step.into();
    supervision_step::Entity::insert(model.reset_all()).exec_without_returning(db).await?;
    Ok(())
}

pub async fn find(db: &impl ConnectionTrait, id: &str) -> StoreResult<Option<supervision::Model>> {
    Ok(supervision::Entity::find_by_id(id.to_string()).one(db).await?)
}

pub async fn find_by_line(db: &impl ConnectionTrait, order_line_id: &str) -> StoreResult<Option<supervision::Model>> {
    Ok(supervision::Entity::find().filter(supervision::Column::OrderLineId.eq(order_line_id)).one(db).await?)
}

pub async fn find_by_subscription(
    db: &impl ConnectionTrait,
    subscription_id: &str,
) -> StoreResult<Option<supervision::Model>> {
    Ok(supervision::Entity::find().filter(supervision::Column::SubscriptionId.eq(subscription_id)).one(db).await?)
}

/// Whose supervisions a query may see.
#[derive(Debug, Clone, Copy)]
pub enum Party<'a> {
    Buyer(&'a str),
    Seller(&'a str),
    /// Operators see every supervision.
    Anyone,
}

/// One supervision, if `party` may see it.
pub async fn find_for(
    db: &impl ConnectionTrait,
    party: Party<'_>,
    id: &str,
) -> StoreResult<Option<supervision::Model>> {
    let q = scoped(supervision::Entity::find_by_id(id.to_string()), party);
    Ok(q.one(db).await?)
}

fn scoped(q: sea_orm::Select<supervision::Entity>, party: Party<'_>) -> sea_orm::Select<supervision::Entity> {
    match party {
        Party::Buyer(id) => q.filter(supervision::Column::BuyerId.eq(id)),
        Party::Seller(id) => q.filter(supervision::Column::SellerId.eq(id)),
        Party::Anyone => q,
    }
}

/// List filters; all optional.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub status: Option<SupervisionStatus>,
    pub order_id: Option<String>,
    pub product_id: Option<String>,
}

/// Newest first, ids below `before`.
pub async fn list(
    db: &impl ConnectionTrait,
    party: Party<'_>,
    filter: &Filter,
    before: Option<&str>,
    limit: u64,
) -> StoreResult<Vec<supervision::Model>> {
    let mut q = scoped(supervision::Entity::find(), party);
    if let Some(s) = filter.status {
        q = q.filter(supervision::Column::Status.eq(s));
    }
    if let Some(o) = &filter.order_id {
        q = q.filter(supervision::Column::OrderId.eq(o));
    }
    if let Some(p) = &filter.product_id {
        q = q.filter(supervision::Column::ProductId.eq(p));
    }
    if let Some(b) = before {
        q = q.filter(supervision::Column::Id.lt(b));
    }
    Ok(q.order_by_desc(supervision::Column::Id).limit(limit).all(db).await?)
}

/// The timeline, oldest first.
pub async fn steps(db: &impl ConnectionTrait, supervision_id: &str) -> StoreResult<Vec<supervision_step::Model>> {
    Ok(supervision_step::Entity::find()
        .filter(supervision_step::Column::SupervisionId.eq(supervision_id))
        .order_by_asc(supervision_step::Column::Seq)
        .all(db)
        .await?)
}

/// Applies `step` to the supervision read at version `step.seq - 1`: moves
/// it to `step.status` (stamping `completed_at` when it completes) and
/// appends the step. False when another change came first (nothing
/// written).
pub async fn advance(db: &impl ConnectionTrait, step: supervision_step::Model) -> StoreResult<bool> {
    let now: DateTime<Utc> = step.at;
    let mut update = supervision::Entity::update_many()
        .col_expr(supervision::Column::Status, Expr::value(step.status))
        .col_expr(supervision::Column::StatusSince, Expr::value(now))
        .col_expr(supervision::Column::Steps, Expr::value(step.seq))
        .col_expr(supervision::Column::UpdatedAt, Expr::value(now));
    if step.status == SupervisionStatus::Completed {
        update = update.col_expr(supervision::Column::CompletedAt, Expr::value(now));
    }
    let res = update
        .filter(supervision::Column::Id.eq(&step.supervision_id))
        .filter(supervision::Column::Steps.eq(step.seq - 1))
        .exec(db)
        .await?;
    if res.rows_affected == 0 {
        return Ok(false);
    }
    insert_step(db, step).await?;
    Ok(true)
}

/// Records when an order line's delivery completed; the first record
/// stands (false when one existed).
pub async fn record_delivery(db: &impl ConnectionTrait, d: line_delivery::Model) -> StoreResult<bool> {
    let model: line_delivery::ActiveModel = d.into();
    let added = line_delivery::Entity::insert(model.reset_all())
        .on_conflict(OnConflict::column(line_delivery::Column::OrderLineId).do_nothing().to_owned())
        .exec_without_returning(db)
        .await?;
    Ok(added > 0)
}

pub async fn delivery_of(db: &impl ConnectionTrait, order_line_id: &str) -> StoreResult<Option<line_delivery::Model>> {
    Ok(line_delivery::Entity::find_by_id(order_line_id.to_string()).one(db).await?)
}

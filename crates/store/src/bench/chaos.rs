//! What `mercato chaos` reads back after killing nodes under load: the
//! orders and purchases as the marketplace has them, the work still open,
//! and how the job attempts ended. Read-only.

use crate::Db;
use crate::entity::{job, job_attempt, order, subscription};
use crate::error::StoreResult;
use crate::repo::jobs::{DEAD, PENDING, RUNNING};
use chrono::{DateTime, Utc};
use mercato_domain::orders::{OrderStatus, SubscriptionStatus};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use std::collections::BTreeMap;

/// Every order's status, by order id.
pub async fn order_statuses(db: &Db) -> StoreResult<BTreeMap<String, OrderStatus>> {
    Ok(order::Entity::find().all(&db.conn).await?.into_iter().map(|o| (o.id, o.status)).collect())
}

/// An order that was paid and has not reached a final state (completed or
/// refunded): (order id, status).
pub async fn paid_orders_not_final(db: &Db) -> StoreResult<Vec<(String, OrderStatus)>> {
    let open = [OrderStatus::Paid, OrderStatus::Fulfilling, OrderStatus::Failed].map(|s| s.as_str());
    let orders = order::Entity::find().filter(order::Column::Status.is_in(open)).all(&db.conn).await?;
    Ok(orders.into_iter().map(|o| (o.id, o.status)).collect())
}

/// A purchase (one order line, one subscription) as the marketplace has it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Purchase {
    pub order_id: String,
    pub order_line_id: String,
    pub status: SubscriptionStatus,
    /// The seller's instance, once it answered with one.
    pub instance_id: Option<String>,
}

/// Every purchase.
pub async fn purchases(db: &Db) -> StoreResult<Vec<Purchase>> {
    let subs = subscription::Entity::find().all(&db.conn).await?;
    Ok(subs
        .into_iter()
        .map(|s| Purchase {
            order_id: s.order_id,
            order_line_id: s.order_line_id,
            status: s.status,
            instance_id: s.instance_id,
        })
        .collect())
}

/// Jobs in one of `statuses`, per kind.
async fn jobs_by_kind(db: &Db, statuses: &[&str]) -> StoreResult<BTreeMap<String, u64>> {
    let jobs = job::Entity::find().filter(job::Column::Status.is_in(statuses.iter().copied())).all(&db.conn).await?;
    let mut by_kind = BTreeMap::new();
    for j in jobs {
        *by_kind.entry(j.kind).or_insert(0) += 1;
    }
    Ok(by_kind)
}

/// Jobs pending or running, per kind: work not finished yet.
pub async fn open_jobs(db: &Db) -> StoreResult<BTreeMap<String, u64>> {
    jobs_by_kind(db, &[PENDING, RUNNING]).await
}

/// Jobs given up, per kind.
pub async fn dead_jobs(db: &Db) -> StoreResult<BTreeMap<String, u64>> {
    jobs_by_kind(db, &[DEAD]).await
}

/// A job being run now: (reference, lease owner).
pub async fn running_jobs(db: &Db, kind: &str) -> StoreResult<Vec<(String, String)>> {
    let jobs = job::Entity::find()
        .filter(job::Column::Kind.eq(kind))
        .filter(job::Column::Status.eq(RUNNING))
        .all(&db.conn)
        .await?;
    Ok(jobs.into_iter().filter_map(|j| Some((j.reference, j.lease_owner?))).collect())
}

/// Job attempts per outcome (`done`, `retry`, `dead`, `lease_expired`:
/// taken over after its worker stopped renewing, e.g. killed; `running`
/// for attempts not finished).
pub async fn attempts_by_outcome(db: &Db) -> StoreResult<BTreeMap<String, u64>> {
    let mut by_outcome = BTreeMap::new();
    let total = job_attempt::Entity::find().count(&db.conn).await?;
    for a in job_attempt::Entity::find().filter(job_attempt::Column::Outcome.is_not_null()).all(&db.conn).await? {
        *by_outcome.entry(a.outcome.unwrap_or_default()).or_insert(0) += 1;
    }
    let finished: u64 = by_outcome.values().sum();
    if total > finished {
        by_outcome.insert("running".to_string(), total - finished);
    }
    Ok(by_outcome)
}

/// The provisioned, active subscriptions to `sku_id`: (instance id, start).
pub async fn active_instances(db: &Db, sku_id: &str) -> StoreResult<Vec<(String, DateTime<Utc>)>> {
    let subs = subscription::Entity::find()
        .filter(subscription::Column::SkuId.eq(sku_id))
        .filter(subscription::Column::Status.eq(SubscriptionStatus::Active.as_str()))
        .all(&db.conn)
        .await?;
    Ok(subs.into_iter().filter_map(|s| Some((s.instance_id?, s.starts_at))).collect())
}

/// The earliest `run_at` of the pending jobs, and whether any job is running.
pub async fn next_job(db: &Db) -> StoreResult<(Option<DateTime<Utc>>, bool)> {
    let open = job::Entity::find().filter(job::Column::Status.is_in([PENDING, RUNNING])).all(&db.conn).await?;
    let running = open.iter().any(|j| j.status == RUNNING);
    Ok((open.iter().filter(|j| j.status == PENDING).map(|j| j.run_at).min(), running))
}

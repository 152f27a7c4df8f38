//! Partners (客户服务商): their bindings to customers, exclusive discounts
//! (专属优惠) and customer demands (`mercato_domain::channel::partners`).
//!
//! Every finder is scoped to its tenant (the partner, the buyer, the
//! seller): another's row is not found. Every status change is a
//! conditional update on the status read that reports whether it happened,
//! so of two writers racing exactly one wins. A buyer's second active
//! binding and a partner's second open invitation to one buyer are refused
//! by partial unique indexes (`StoreError::Conflict`), also when two
//! transactions race past the application's own check.

use crate::entity::{account, customer_demand, exclusive_discount, order, partner_binding};
use crate::error::StoreResult;
use crate::repo::orders::Before;
use chrono::{DateTime, Utc};
use mercato_domain::channel::partners::{BindingStatus, DemandStatus, ExclusiveDiscountStatus};
use mercato_domain::ids::{BindingId, DemandId, ExclusiveDiscountId};
use sea_orm::sea_query::{Condition, Expr};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use std::collections::HashMap;

// ------------------------------------------------------------------ bindings

/// Inserts an invitation. A second open invitation of the partner to the
/// buyer is refused by `partner_bindings_one_invitation`.
pub async fn insert_binding(db: &impl ConnectionTrait, b: partner_binding::Model) -> StoreResult<()> {
    let model: partner_binding::ActiveModel = b.into();
    partner_binding::Entity::insert(model.reset_all()).exec_without_returning(db).await?;
    Ok(())
}

/// Whose binding a query sees.
#[derive(Debug, Clone, Copy)]
pub enum BindingScope<'a> {
    Partner(&'a str),
    Buyer(&'a str),
}

pub async fn find_binding(
    db: &impl ConnectionTrait,
    scope: BindingScope<'_>,
    id: &BindingId,
) -> StoreResult<Option<partner_binding::Model>> {
    let q = partner_binding::Entity::find_by_id(id.clone());
    let q = match scope {
        BindingScope::Partner(p) => q.filter(partner_binding::Column::PartnerId.eq(p)),
        BindingScope::Buyer(b) => q.filter(partner_binding::Column::BuyerId.eq(b)),
    };
    Ok(q.one(db).await?)
}

/// The partner's bindings to the buyer in `status`, newest first.
pub async fn bindings_between(
    db: &impl ConnectionTrait,
    partner_id: &str,
    buyer_id: &str,
    status: Option<BindingStatus>,
) -> StoreResult<Vec<partner_binding::Model>> {
    let mut q = partner_binding::Entity::find()
        .filter(partner_binding::Column::PartnerId.eq(partner_id))
        .filter(partner_binding::Column::BuyerId.eq(buyer_id));
    if let Some(s) = status {
        q = q.filter(partner_binding::Column::Status.eq(s));
    }
    Ok(q.order_by_desc(partner_binding::Column::Id).all(db).await?)
}

/// The partner's bindings (optionally of one status) with the buyers'
/// accounts, newest first, `limit` at a time below `before`.
pub async fn list_for_partner(
    db: &impl ConnectionTrait,
    partner_id: &str,
    status: Option<BindingStatus>,
    before: Option<&BindingId>,
    limit: u64,
) -> StoreResult<Vec<(partner_binding::Model, Option<account::Model>)>> {
    let mut q = partner_binding::Entity::find().filter(partner_binding::Column::PartnerId.eq(partner_id));
    if let Some(s) = status {
        q = q.filter(partner_binding::Column::Status.eq(s));
    }
    if let Some(b) = before {
        q = q.filter(partner_binding::Column::Id.lt(b.clone()));
    }
    let rows = q.order_by_desc(partner_binding::Column::Id).limit(limit).all(db).await?;
    let mut accounts = accounts_by_id(db, rows.iter().map(|r| r.buyer_id.clone()).collect()).await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let a = accounts.remove(&r.buyer_id);
            (r, a)
        })
        .collect())
}

/// The buyer's active binding and open invitations, newest first.
pub async fn for_buyer(db: &impl ConnectionTrait, buyer_id: &str) -> StoreResult<Vec<partner_binding::Model>> {
    Ok(partner_binding::Entity::find()
        .filter(partner_binding::Column::BuyerId.eq(buyer_id))
        .filter(partner_binding::Column::Status.is_in([BindingStatus::Active, BindingStatus::Invited]))
        .order_by_desc(partner_binding::Column::Id)
        .all(db)
        .await?)
}

/// The accounts with these ids, by id.
pub async fn accounts_by_id(
    db: &impl ConnectionTrait,
    ids: Vec<String>,
) -> StoreResult<HashMap<String, account::Model>> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let rows = account::Entity::find().filter(account::Column::Id.is_in(ids)).all(db).await?;
    Ok(rows.into_iter().map(|a| (a.id.clone(), a)).collect())
}

/// What a binding's step writes besides the status.
#[derive(Debug, Clone, Default)]
pub struct BindingStep {
    pub accepted_at: Option<DateTime<Utc>>,
    pub ended_at: Option<DateTime<Utc>>,
    pub end_reason: Option<String>,
}

/// Moves the binding from `from` to `to` with `step`; false when its status
/// changed since it was read. Accepting while the buyer has another active
/// binding is refused by `partner_bindings_one_active` (`StoreError::Conflict`).
pub async fn step_binding(
    db: &impl ConnectionTrait,
    id: &BindingId,
    from: BindingStatus,
    to: BindingStatus,
    step: BindingStep,
) -> StoreResult<bool> {
    let mut q = partner_binding::Entity::update_many().col_expr(partner_binding::Column::Status, Expr::value(to));
    if let Some(at) = step.accepted_at {
        q = q.col_expr(partner_binding::Column::AcceptedAt, Expr::value(at));
    }
    if let Some(at) = step.ended_at {
        q = q.col_expr(partner_binding::Column::EndedAt, Expr::value(at));
    }
    if let Some(r) = step.end_reason {
        q = q.col_expr(partner_binding::Column::EndReason, Expr::value(r));
    }
    let res = q
        .filter(partner_binding::Column::Id.eq(id.clone()))
        .filter(partner_binding::Column::Status.eq(from))
        .exec(db)
        .await?;
    Ok(res.rows_affected == 1)
}

/// The buyer's orders placed while bound: created in one of `windows`
/// (`[accepted_at, ended_at)`, open-ended while active), newest first,
/// `limit` at a time after `before`.
pub async fn orders_in_windows(
    db: &impl ConnectionTrait,
    buyer_id: &str,
    windows: &[(DateTime<Utc>, Option<DateTime<Utc>>)],
    before: Option<Before<'_>>,
    limit: u64,
) -> StoreResult<Vec<order::Model>> {
    if windows.is_empty() {
        return Ok(Vec::new());
    }
    let mut any = Condition::any();
    for (from, to) in windows {
        let mut w = Condition::all().add(order::Column::CreatedAt.gte(*from));
        if let Some(to) = to {
            w = w.add(order::Column::CreatedAt.lt(*to));
        }
        any = any.add(w);
    }
    let mut q = order::Entity::find().filter(order::Column::BuyerId.eq(buyer_id)).filter(any);
    if let Some(b) = before {
        q = q.filter(Condition::any().add(order::Column::CreatedAt.lt(b.created_at)).add(
            Condition::all().add(order::Column::CreatedAt.eq(b.created_at)).add(order::Column::Id.lt(b.id.to_string())),
        ));
    }
    Ok(q.order_by_desc(order::Column::CreatedAt).order_by_desc(order::Column::Id).limit(limit).all(db).await?)
}

// -------------------------------------------------------- exclusive discounts

pub async fn insert_discount(db: &impl ConnectionTrait, d: exclusive_discount::Model) -> StoreResult<()> {
    let model: exclusive_discount::ActiveModel = d.into();
    exclusive_discount::Entity::insert(model.reset_all()).exec_without_returning(db).await?;
    Ok(())
}

/// A discount, seen by its partner (`Some`) or by an operator (`None`).
pub async fn find_discount(
    db: &impl ConnectionTrait,
    partner_id: Option<&str>,
    id: &ExclusiveDiscountId,
) -> StoreResult<Option<exclusive_discount::Model>> {
    let mut q = exclusive_discount::Entity::find_by_id(id.clone());
    if let Some(p) = partner_id {
        q = q.filter(exclusive_discount::Column::PartnerId.eq(p));
    }
    Ok(q.one(db).await?)
}

/// Discounts newest first, of one partner (`Some`) or all, optionally of
/// one status, `limit` at a time below `before`.
pub async fn list_discounts(
    db: &impl ConnectionTrait,
    partner_id: Option<&str>,
    status: Option<ExclusiveDiscountStatus>,
    before: Option<&ExclusiveDiscountId>,
    limit: u64,
) -> StoreResult<Vec<exclusive_discount::Model>> {
    let mut q = exclusive_discount::Entity::find();
    if let Some(p) = partner_id {
        q = q.filter(exclusive_discount::Column::PartnerId.eq(p));
    }
    if let Some(s) = status {
        q = q.filter(exclusive_discount::Column::Status.eq(s));
    }
    if let Some(b) = before {
        q = q.filter(exclusive_discount::Column::Id.lt(b.clone()));
    }
    Ok(q.order_by_desc(exclusive_discount::Column::Id).limit(limit).all(db).await?)
}

/// An open (requested or approved) discount of the buyer on the product
/// whose validity overlaps `[from, until)`, if any.
pub async fn overlapping_discount(
    db: &impl ConnectionTrait,
    buyer_id: &str,
    product_id: &str,
    from: DateTime<Utc>,
    until: DateTime<Utc>,
) -> StoreResult<Option<exclusive_discount::Model>> {
    Ok(exclusive_discount::Entity::find()
        .filter(exclusive_discount::Column::BuyerId.eq(buyer_id))
        .filter(exclusive_discount::Column::ProductId.eq(product_id))
        .filter(
            exclusive_discount::Column::Status
                .is_in([ExclusiveDiscountStatus::Requested, ExclusiveDiscountStatus::Approved]),
        )
        .filter(exclusive_discount::Column::ValidFrom.lt(until))
        .filter(exclusive_discount::Column::ValidUntil.gt(from))
        .one(db)
        .await?)
}

/// A decision on a discount (approve, reject, withdraw).
#[derive(Debug, Clone)]
pub struct DiscountStep {
    pub to: ExclusiveDiscountStatus,
    /// The partner's share, fixed on approval.
    pub share_bp: Option<i64>,
    pub decided_by: Option<String>,
    pub note: Option<String>,
    pub at: DateTime<Utc>,
}

/// Moves the discount from `from` with `step`; false when its status
/// changed since it was read.
pub async fn step_discount(
    db: &impl ConnectionTrait,
    id: &ExclusiveDiscountId,
    from: ExclusiveDiscountStatus,
    step: DiscountStep,
) -> StoreResult<bool> {
    let mut q = exclusive_discount::Entity::update_many()
        .col_expr(exclusive_discount::Column::Status, Expr::value(step.to))
        .col_expr(exclusive_discount::Column::DecidedAt, Expr::value(step.at));
    if let Some(bp) = step.share_bp {
        q = q.col_expr(exclusive_discount::Column::ShareBp, Expr::value(bp));
    }
    if let Some(by) = step.decided_by {
        q = q.col_expr(exclusive_discount::Column::DecidedBy, Expr::value(by));
    }
    if let Some(note) = step.note {
        q = q.col_expr(exclusive_discount::Column::DecisionNote, Expr::value(note));
    }
    let res = q
        .filter(exclusive_discount::Column::Id.eq(id.clone()))
        .filter(exclusive_discount::Column::Status.eq(from))
        .exec(db)
        .await?;
    Ok(res.rows_affected == 1)
}

/// The buyer's approved discounts from `partner_id` valid at `now`
/// (optionally on one product), newest first.
pub async fn usable_discounts(
    db: &impl ConnectionTrait,
    buyer_id: &str,
    partner_id: &str,
    product_id: Option<&str>,
    now: DateTime<Utc>,
) -> StoreResult<Vec<exclusive_discount::Model>> {
    let mut q = exclusive_discount::Entity::find()
        .filter(exclusive_discount::Column::BuyerId.eq(buyer_id))
        .filter(exclusive_discount::Column::PartnerId.eq(partner_id))
        .filter(exclusive_discount::Column::Status.eq(ExclusiveDiscountStatus::Approved))
        .filter(exclusive_discount::Column::ValidFrom.lte(now))
        .filter(exclusive_discount::Column::ValidUntil.gt(now));
    if let Some(p) = product_id {
        q = q.filter(exclusive_discount::Column::ProductId.eq(p));
    }
    Ok(q.order_by_desc(exclusive_discount::Column::Id).all(db).await?)
}

// ------------------------------------------------------------------ demands

pub async fn insert_demand(db: &impl ConnectionTrait, d: customer_demand::Model) -> StoreResult<()> {
    let model: customer_demand::ActiveModel = d.into();
    customer_demand::Entity::insert(model.reset_all()).exec_without_returning(db).await?;
    Ok(())
}

/// Whose demands a query sees.
#[derive(Debug, Clone, Copy)]
pub enum DemandScope<'a> {
    Partner(&'a str),
    Seller(&'a str),
}

fn demand_scoped(
    q: sea_orm::Select<customer_demand::Entity>,
    scope: DemandScope<'_>,
) -> sea_orm::Select<customer_demand::Entity> {
    match scope {
        DemandScope::Partner(p) => q.filter(customer_demand::Column::PartnerId.eq(p)),
        DemandScope::Seller(s) => q.filter(customer_demand::Column::SellerId.eq(s)),
    }
}

pub async fn find_demand(
    db: &impl ConnectionTrait,
    scope: DemandScope<'_>,
    id: &DemandId,
) -> StoreResult<Option<customer_demand::Model>> {
    Ok(demand_scoped(customer_demand::Entity::find_by_id(id.clone()), scope).one(db).await?)
}

/// Demands newest first, optionally of one status, `limit` at a time below `before`.
pub async fn list_demands(
    db: &impl ConnectionTrait,
    scope: DemandScope<'_>,
    status: Option<DemandStatus>,
    before: Option<&DemandId>,
    limit: u64,
) -> StoreResult<Vec<customer_demand::Model>> {
    let mut q = demand_scoped(customer_demand::Entity::find(), scope);
    if let Some(s) = status {
        q = q.filter(customer_demand::Column::Status.eq(s));
    }
    if let Some(b) = before {
        q = q.filter(customer_demand::Column::Id.lt(b.clone()));
    }
    Ok(q.order_by_desc(customer_demand::Column::Id).limit(limit).all(db).await?)
}

/// The seller's answer to a demand: moves it from `from` to `to` with the
/// seller's note; false when its status changed since it was read.
pub async fn decide_demand(
    db: &impl ConnectionTrait,
    seller_id: &str,
    id: &DemandId,
    from: DemandStatus,
    to: DemandStatus,
    note: Option<String>,
    at: DateTime<Utc>,
) -> StoreResult<bool> {
    let res = customer_demand::Entity::update_many()
        .col_expr(customer_demand::Column::Status, Expr::value(to))
        .col_expr(customer_demand::Column::SellerNote, Expr::value(note))
        .col_expr(customer_demand::Column::DecidedAt, Expr::value(at))
        .filter(customer_demand::Column::Id.eq(id.clone()))
        .filter(customer_demand::Column::SellerId.eq(seller_id))
        .filter(customer_demand::Column::Status.eq(from))
        .exec(db)
        .await?;
    Ok(res.rows_affected == 1)
}

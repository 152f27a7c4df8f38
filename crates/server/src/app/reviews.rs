//! Operators review products: approving publishes the reviewed version (the
//! listed snapshot and the public search columns), rejecting sends it back to
//! the seller with a reason. Every decision is kept.

use crate::app::debug_runs::{self, DebugRunView};
use crate::app::error::{AppError, AppResult};
use crate::app::page::{Page, Paging};
use crate::app::products::{lifecycle_error, lifecycle_of, set_lifecycle};
use crate::auth::Principal;
use crate::state::AppState;
use chrono::{DateTime, Utc};
use mercato_domain::catalog::{ProductAction, REASON_MAX, ReviewKind, ReviewStatus, SkuStatus};
use mercato_domain::ids::ReviewId;
use mercato_domain::validation::Checker;
use mercato_store::Executor;
use mercato_store::entity::product_review;
use mercato_store::repo::{accounts, products, reviews};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Serialize, ToSchema)]
pub struct ReviewSummary {
    pub id: String,
    pub product_id: String,
    pub product_name: String,
    pub seller_id: String,
    pub kind: ReviewKind,
    pub status: ReviewStatus,
    pub reason: Option<String>,
    pub submitted_at: DateTime<Utc>,
    pub decided_at: Option<DateTime<Utc>>,
}

/// A review with what is being reviewed.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReviewDetail {
    pub id: String,
    pub product_id: String,
    pub seller_id: String,
    pub seller_name: String,
    /// listing (first time on sale) or revision (edit of a listed product).
    pub kind: ReviewKind,
    pub status: ReviewStatus,
    pub reason: Option<String>,
    pub decided_by: Option<String>,
    pub submitted_at: DateTime<Utc>,
    pub decided_at: Option<DateTime<Utc>>,
    /// The product as submitted: content, SKUs, media ids, endpoint URL.
    #[schema(value_type = Object)]
    pub snapshot: serde_json::Value,
    /// SaaS products: the debug run the submission relied on (the product's
    /// latest run finished by the time it was submitted), with every case.
    pub debug_run: Option<DebugRunView>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RejectRequest {
    /// Shown to the seller: what to fix (1-500 characters).
    #[schema(
        pattern = r"^[^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*[^\s\u0000-\u001F\u007F-\u009F][^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*$",
        max_length = 500
    )]
    pub reason: String,
}

fn summary(r: product_review::Model) -> AppResult<ReviewSummary> {
    let snap = r.snapshot;
    Ok(ReviewSummary {
        kind: r.kind,
        status: r.status,
        id: r.id,
        product_id: r.product_id,
        product_name: snap.content.name,
        seller_id: r.seller_id,
        reason: r.reason,
        submitted_at: r.submitted_at,
        decided_at: r.decided_at,
    })
}

async fn detail(db: &impl Executor, state: &AppState, r: product_review::Model) -> AppResult<ReviewDetail> {
    let seller_name = accounts::find(db, &r.seller_id).await?.map(|a| a.name).unwrap_or_default();
    let debug_run = match products::find(db, &r.product_id).await? {
        Some(p) => debug_runs::for_review(db, state, &p, r.submitted_at).await?,
        None => None,
    };
    Ok(ReviewDetail {
        kind: r.kind,
        status: r.status,
        snapshot: serde_json::to_value(&r.snapshot).map_err(AppError::internal)?,
        id: r.id,
        product_id: r.product_id,
        seller_id: r.seller_id,
        seller_name,
        reason: r.reason,
        decided_by: r.decided_by,
        submitted_at: r.submitted_at,
        decided_at: r.decided_at,
        debug_run,
    })
}

async fn load(db: &impl Executor, id: &str) -> AppResult<product_review::Model> {
    if !ReviewId::is_valid(id) {
        return Err(AppError::not_found("review"));
    }
    reviews::find(db, id).await?.ok_or_else(|| AppError::not_found("review"))
}

fn already_decided() -> AppError {
    AppError::conflict("review_decided", "the review has already been decided")
}

pub async fn list(state: &AppState, status: Option<ReviewStatus>, paging: Paging) -> AppResult<Page<ReviewSummary>> {
    let rows = reviews::list(&state.db.conn, status, paging.cursor.as_deref(), paging.limit + 1).await?;
    let page = paging.finish(rows, |r| r.id.clone(), summary);
    Ok(Page { items: page.items.into_iter().collect::<AppResult<Vec<_>>>()?, next_cursor: page.next_cursor })
}

pub async fn get(state: &AppState, id: &str) -> AppResult<ReviewDetail> {
    let r = load(&state.db.conn, id).await?;
    detail(&state.db.conn, state, r).await
}

/// Approves a pending review: the reviewed SKUs become active and the
/// reviewed version becomes the listed one, all in one transaction.
pub async fn approve(state: &AppState, op: &Principal, id: &str) -> AppResult<ReviewDetail> {
    let tx = state.db.write().await?;
    let review = load(&tx, id).await?;
    if review.status != ReviewStatus::Pending {
        return Err(already_decided());
    }
    let mut product =
        products::find(&tx, &review.product_id).await?.ok_or_else(|| AppError::inconsistent("product missing"))?;
    let before = lifecycle_of(&product)?;
    let after = before.apply(ProductAction::Approve).map_err(lifecycle_error)?;
    let now = state.now();
    if !reviews::decide(&tx, &review.id, ReviewStatus::Approved, None, &op.account_id, now).await? {
        return Err(already_decided());
    }
    let snapshot = review.snapshot.clone();
    products::set_sku_status(&tx, &product.id, &snapshot.pending_sku_ids(), SkuStatus::Pending, SkuStatus::Active)
        .await?;
    let seller_name = accounts::find(&tx, &product.seller_id).await?.map(|a| a.name).unwrap_or_default();
    let listed = snapshot.to_listed(&product.seller_id, &seller_name);
    let cols = listed.search_columns();
    product.listed = Some(listed);
    product.pub_name = Some(cols.name);
    product.pub_search = Some(cols.search_text);
    product.pub_category_id = Some(cols.category_id);
    product.pub_price_minor = cols.price_minor;
    product.pub_currency = cols.currency;
    product.pub_modes = Some(cols.modes);
    product.listed_at = product.listed_at.or(Some(now));
    set_lifecycle(&mut product, after);
    product.updated_at = now;
    if !products::save_if(&tx, product, before.status, before.revision).await? {
        return Err(AppError::conflict("invalid_state", "the product changed state meanwhile; try again"));
    }
    let out = detail(&tx, state, load(&tx, id).await?).await?;
    tx.commit().await?;
    Ok(out)
}

/// Rejects a pending review with a reason the seller sees; the listed
/// version (if any) stays on sale unchanged.
pub async fn reject(state: &AppState, op: &Principal, id: &str, req: RejectRequest) -> AppResult<ReviewDetail> {
    let mut c = Checker::new();
    c.text("reason", &req.reason, 1, REASON_MAX);
    c.finish()?;
    let tx = state.db.write().await?;
    let review = load(&tx, id).await?;
    if review.status != ReviewStatus::Pending {
        return Err(already_decided());
    }
    let mut product =
        products::find(&tx, &review.product_id).await?.ok_or_else(|| AppError::inconsistent("product missing"))?;
    let before = lifecycle_of(&product)?;
    let after = before.apply(ProductAction::Reject).map_err(lifecycle_error)?;
    let now = state.now();
    let reason = req.reason.trim();
    if !reviews::decide(&tx, &review.id, ReviewStatus::Rejected, Some(reason), &op.account_id, now).await? {
        return Err(already_decided());
    }
    set_lifecycle(&mut product, after);
    product.updated_at = now;
    if !products::save_if(&tx, product, before.status, before.revision).await? {
        return Err(AppError::conflict("invalid_state", "the product changed state meanwhile; try again"));
    }
    let out = detail(&tx, state, load(&tx, id).await?).await?;
    tx.commit().await?;
    Ok(out)
}

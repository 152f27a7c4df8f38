//! Exclusive discounts (专属优惠): a certified partner asks for a percentage
//! off the list price for one bound customer on one listed joint-operation
//! product, valid in `[valid_from, valid_until)`; an operator approves it
//! (fixing the partner's share of the sales it is used on, which funds it)
//! or rejects it with a note; the partner may withdraw it. The buyer sees
//! the approved ones it may use now, from the partner it is bound to.
//!
//! KooGallery allows one discount per customer and product at a time: a
//! request overlapping an open (requested or approved) one is 409
//! `discount_exists`.

use super::{Paging, joint_product, out_of_order, parse_cursor, parse_status};
use crate::app::error::{AppError, AppResult};
use crate::app::page::Page;
use crate::auth::Principal;
use crate::state::AppState;
use chrono::{DateTime, Utc};
use mercato_domain::channel::partners::{
    DiscountEvent, DiscountRequest, ExclusiveDiscountStatus, check_discount_request, check_note,
};
use mercato_domain::ids::ExclusiveDiscountId;
use mercato_store::entity::exclusive_discount;
use mercato_store::repo::partners::{self as repo, DiscountStep};
use mercato_store::repo::{deals, settings};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// `POST /api/v1/partner/exclusive-discounts`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RequestExclusiveDiscount {
    /// A buyer bound to you (`acc_...`).
    pub buyer_id: String,
    /// A listed joint-operation product (`prd_...`).
    pub product_id: String,
    /// Off the list price, in basis points: 0 (the sale is only attributed
    /// to you) to 10000, and at most the partner share, which funds it.
    #[schema(minimum = 0, maximum = 10000)]
    pub percent_off_bp: i64,
    /// Why (1-500 characters), for the operator.
    #[schema(min_length = 1, max_length = 500)]
    pub reason: String,
    /// When it starts to hold; now if left out.
    #[serde(default)]
    pub valid_from: Option<DateTime<Utc>>,
    /// When it stops holding: after `valid_from`, in the future.
    pub valid_until: DateTime<Utc>,
}

/// An operator's rejection of a discount.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RejectExclusiveDiscount {
    /// Why (1-500 characters), shown to the partner.
    #[schema(schema_with = super::note_schema)]
    pub note: String,
}

/// An exclusive discount.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ExclusiveDiscountView {
    /// `xdc_...`.
    #[schema(value_type = String)]
    pub id: ExclusiveDiscountId,
    pub status: ExclusiveDiscountStatus,
    pub partner_id: String,
    pub buyer_id: String,
    pub product_id: String,
    /// Off the list price, in basis points.
    pub percent_off_bp: i64,
    /// The partner's share of the sales it is used on (basis points),
    /// fixed when approved.
    pub share_bp: Option<i64>,
    pub reason: String,
    pub valid_from: DateTime<Utc>,
    pub valid_until: DateTime<Utc>,
    pub requested_at: DateTime<Utc>,
    /// When it was approved, rejected or withdrawn.
    pub decided_at: Option<DateTime<Utc>>,
    /// The operator who decided.
    pub decided_by: Option<String>,
    /// The operator's note on a rejection.
    pub decision_note: Option<String>,
}

/// Filter and paging of exclusive discounts.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct DiscountParams {
    /// Only discounts in this status (e.g. `requested`: the review queue).
    #[serde(default)]
    #[param(value_type = Option<ExclusiveDiscountStatus>)]
    pub status: Option<String>,
    /// 1-100, default 20.
    #[serde(default, deserialize_with = "crate::extract::query_num::opt_u64")]
    #[param(value_type = Option<u64>, minimum = 1, maximum = 100, default = 20)]
    pub limit: Option<u64>,
    /// `next_cursor` from the previous page.
    #[serde(default)]
    pub cursor: Option<String>,
}

/// The buyer's filter.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct UsableDiscountParams {
    /// Only discounts on this product.
    #[serde(default)]
    pub product_id: Option<String>,
}

fn view(d: exclusive_discount::Model) -> ExclusiveDiscountView {
    ExclusiveDiscountView {
        id: d.id,
        status: d.status,
        partner_id: d.partner_id,
        buyer_id: d.buyer_id,
        product_id: d.product_id,
        percent_off_bp: d.percent_off_bp,
        share_bp: d.share_bp,
        reason: d.reason,
        valid_from: d.valid_from,
        valid_until: d.valid_until,
        requested_at: d.requested_at,
        decided_at: d.decided_at,
        decided_by: d.decided_by,
        decision_note: d.decision_note,
    }
}

/// A partner asks for an exclusive discount.
pub async fn request(
    state: &AppState,
    p: &Principal,
    req: RequestExclusiveDiscount,
) -> AppResult<ExclusiveDiscountView> {
    let now = state.now();
    let valid_from = req.valid_from.unwrap_or(now);
    let tx = state.db.write().await?;
    super::ensure_certified(&tx, &p.account_id).await?;
    let share_bp = settings::partner_share_bp(&tx).await?;
    let ask = DiscountRequest {
        percent_off_bp: req.percent_off_bp,
        reason: &req.reason,
        valid_from,
        valid_until: req.valid_until,
    };
    check_discount_request(&ask, share_bp, now)?;
    super::ensure_bound(&tx, &p.account_id, &req.buyer_id).await?;
    let product = joint_product(&tx, &req.product_id).await?;
    if let Some(other) =
        repo::overlapping_discount(&tx, &req.buyer_id, &product.id, valid_from, req.valid_until).await?
    {
        return Err(AppError::conflict(
            "discount_exists",
            format!("the customer has an exclusive discount on this product for this time ({})", other.id),
        ));
    }
    let row = exclusive_discount::Model {
        id: ExclusiveDiscountId::new(),
        partner_id: p.account_id.clone(),
        buyer_id: req.buyer_id.clone(),
        product_id: product.id,
        percent_off_bp: req.percent_off_bp,
        share_bp: None,
        status: ExclusiveDiscountStatus::Requested,
        reason: req.reason.trim().to_string(),
        valid_from,
        valid_until: req.valid_until,
        requested_at: now,
        decided_at: None,
        decided_by: None,
        decision_note: None,
    };
    repo::insert_discount(&tx, row.clone()).await?;
    tx.commit().await?;
    Ok(view(row))
}

async fn list(state: &AppState, partner_id: Option<&str>, q: DiscountParams) -> AppResult<Page<ExclusiveDiscountView>> {
    let paging = Paging::new(q.limit, q.cursor)?;
    let status = parse_status(q.status, ExclusiveDiscountStatus::parse, ExclusiveDiscountStatus::allowed)?;
    let before = parse_cursor(&paging, ExclusiveDiscountId::parse)?;
    let rows = repo::list_discounts(&state.db.conn, partner_id, status, before.as_ref(), paging.limit + 1).await?;
    Ok(paging.finish(rows, |d| d.id.to_string(), view))
}

/// The partner's discounts, newest first.
pub async fn list_for_partner(
    state: &AppState,
    p: &Principal,
    q: DiscountParams,
) -> AppResult<Page<ExclusiveDiscountView>> {
    list(state, Some(&p.account_id), q).await
}

/// Every partner's discounts (the operators' queue), newest first.
pub async fn list_for_operator(state: &AppState, q: DiscountParams) -> AppResult<Page<ExclusiveDiscountView>> {
    list(state, None, q).await
}

/// One step of the discount `id`, seen by its partner (`Some`) or an
/// operator. `check` runs in the transaction before the write and may
/// refuse or fill in the step.
async fn transition(
    state: &AppState,
    partner_id: Option<&str>,
    id: &str,
    event: DiscountEvent,
    step: DiscountStep,
    check: impl AsyncFnOnce(&mercato_store::Tx, &exclusive_discount::Model, DiscountStep) -> AppResult<DiscountStep>,
) -> AppResult<ExclusiveDiscountView> {
    let not_found = || AppError::not_found("exclusive discount");
    let id = ExclusiveDiscountId::parse(id).ok_or_else(not_found)?;
    let tx = state.db.write().await?;
    let d = repo::find_discount(&tx, partner_id, &id).await?.ok_or_else(not_found)?;
    d.status.next(event).map_err(out_of_order)?;
    let step = check(&tx, &d, step).await?;
    if !repo::step_discount(&tx, &id, d.status, step).await? {
        let now = repo::find_discount(&tx, partner_id, &id).await?.ok_or_else(not_found)?;
        return Err(super::lost_race(now.status.next(event), "discount"));
    }
    let row = repo::find_discount(&tx, partner_id, &id).await?.ok_or_else(|| AppError::internal("lost discount"))?;
    tx.commit().await?;
    Ok(view(row))
}

/// The partner withdraws a requested or approved discount.
pub async fn withdraw(state: &AppState, p: &Principal, id: &str) -> AppResult<ExclusiveDiscountView> {
    let step = DiscountStep {
        to: ExclusiveDiscountStatus::Withdrawn,
        share_bp: None,
        decided_by: None,
        note: None,
        at: state.now(),
    };
    transition(state, Some(&p.account_id), id, DiscountEvent::Withdraw, step, async |_, _, s| Ok(s)).await
}

/// An operator approves a requested discount, fixing the partner's share as
/// the setting holds it now: 409 `discount_unfunded` when the discount is
/// above it, `discount_expired` when its validity has ended, `not_bound`
/// when the customer is no longer bound to the partner.
pub async fn approve(state: &AppState, op: &Principal, id: &str) -> AppResult<ExclusiveDiscountView> {
    let now = state.now();
    let step = DiscountStep {
        to: ExclusiveDiscountStatus::Approved,
        share_bp: None,
        decided_by: Some(op.account_id.clone()),
        note: None,
        at: now,
    };
    transition(state, None, id, DiscountEvent::Approve, step, async |tx, d, step| {
        let share_bp = settings::partner_share_bp(tx).await?;
        if d.percent_off_bp > share_bp {
            return Err(AppError::conflict(
                "discount_unfunded",
                format!(
                    "the discount ({} basis points) is above the partner share now ({share_bp} basis points), which funds it",
                    d.percent_off_bp
                ),
            ));
        }
        if d.valid_until <= now {
            return Err(AppError::conflict("discount_expired", "the discount's validity has ended"));
        }
        if deals::active_binding(tx, &d.buyer_id).await?.is_none_or(|b| b.partner_id != d.partner_id) {
            return Err(AppError::conflict("not_bound", "the customer is no longer bound to the partner"));
        }
        Ok(DiscountStep { share_bp: Some(share_bp), ..step })
    })
    .await
}

/// An operator rejects a requested discount with a note.
pub async fn reject(
    state: &AppState,
    op: &Principal,
    id: &str,
    req: RejectExclusiveDiscount,
) -> AppResult<ExclusiveDiscountView> {
    check_note("note", &req.note)?;
    let step = DiscountStep {
        to: ExclusiveDiscountStatus::Rejected,
        share_bp: None,
        decided_by: Some(op.account_id.clone()),
        note: Some(req.note.trim().to_string()),
        at: state.now(),
    };
    transition(state, None, id, DiscountEvent::Reject, step, async |_, _, s| Ok(s)).await
}

/// The buyer's approved discounts usable now: valid now and from the
/// partner it is bound to (none when it is not bound).
pub async fn usable_for_buyer(
    state: &AppState,
    p: &Principal,
    q: UsableDiscountParams,
) -> AppResult<Vec<ExclusiveDiscountView>> {
    let product_id = q.product_id.as_deref().map(str::trim).filter(|s| !s.is_empty());
    let db = &state.db.conn;
    let Some(binding) = deals::active_binding(db, &p.account_id).await? else {
        return Ok(Vec::new());
    };
    let rows = repo::usable_discounts(db, &p.account_id, &binding.partner_id, product_id, state.now()).await?;
    Ok(rows.into_iter().map(view).collect())
}

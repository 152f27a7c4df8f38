//! Refunds of supervised purchases, by `delivery::refund_right`: the buyer
//! withdraws while nothing was delivered (before the seller starts, or
//! before a license code is activated); after that only an operator refunds,
//! deciding a dispute, until the delivery completes. A completed delivery is
//! not refunded here.
//!
//! One write transaction: the supervision closes (timeline step `refund`),
//! the payment entry is reversed in full (the seller's payable and the
//! commission go back to the buyer's wallet), the order becomes `refunded`,
//! the subscription `released`, both sides are notified. A license code
//! already issued is released at the seller (`releaseLicenseCode`, by the
//! lifecycle's release job).

use super::actions::{Step, apply};
use super::party_of;
use super::views::{SupervisionDetail, detail, find};
use crate::app::error::{AppError, AppResult};
use crate::app::ledger::post_reversal;
use crate::app::orders::{transition_order, transition_subscription};
use crate::app::subscriptions::lifecycle;
use crate::auth::Principal;
use crate::state::AppState;
use mercato_domain::delivery::{Actor, DeliveryMode, NOTE_MAX, RefundRight, SupervisionAction, refund_right};
use mercato_domain::orders::{OrderEvent, OrderStatus, SubscriptionEvent};
use mercato_store::repo::orders as order_repo;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Why the purchase is refunded.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefundRequest {
    /// 1-5000 characters; shown to both sides.
    #[schema(min_length = 1, max_length = 5000)]
    pub reason: String,
}

/// Refunds the supervised purchase `id` in full, as the buyer (withdrawing)
/// or an operator.
pub async fn refund(state: &AppState, p: &Principal, id: &str, req: RefundRequest) -> AppResult<SupervisionDetail> {
    let (party, actor) = party_of(p)?;
    let reason = req.reason.trim().to_string();
    if reason.is_empty() || reason.chars().count() > NOTE_MAX {
        return Err(AppError::field("reason", format!("1-{NOTE_MAX} characters")));
    }
    let now = state.now();
    let tx = state.db.write().await?;
    let s = find(&tx, party, id).await?;
    match (refund_right(s.mode, s.status), actor) {
        (RefundRight::Buyer, Actor::Buyer | Actor::Operator) | (RefundRight::Operator, Actor::Operator) => {}
        (RefundRight::Operator, _) => {
            return Err(AppError::conflict(
                "refund_needs_operator",
                format!("the supervision is {}: delivery has started, so only an operator can refund it now", s.status),
            ));
        }
        _ => {
            return Err(AppError::conflict(
                "not_refundable",
                format!("the supervision is {}: it is not refunded through the supervision", s.status),
            ));
        }
    }
    let step = Step {
        action: SupervisionAction::Refund,
        actor,
        actor_id: Some(p.account_id.clone()),
        note: reason,
        attachments: Vec::new(),
    };
    apply(&tx, &s, step, now).await?;

    let o = order_repo::find_order(&tx, &s.order_id).await?.ok_or_else(|| AppError::not_found("order"))?;
    if o.status == OrderStatus::Paid {
        transition_order(&tx, &o.id, OrderEvent::StartFulfilment, now).await?;
    }
    if let Some(entry_id) = &o.payment_entry_id {
        post_reversal(&tx, entry_id, &o.id, format!("refund of order {} (supervision {})", o.id, s.id), now).await?;
    }
    transition_order(&tx, &o.id, OrderEvent::Refund, now).await?;
    // Withdrawn before delivery: the offer and coupon go back (app::orders::deals).
    mercato_store::repo::deals::give_back_offer_and_coupons(&tx, &o.id, now).await?;
    let sub = order_repo::find_subscription(&tx, &s.subscription_id)
        .await?
        .ok_or_else(|| AppError::inconsistent("supervision without subscription"))?;
    if !sub.status.is_final() {
        transition_subscription(&tx, &sub.id, SubscriptionEvent::Release, now).await?;
    }
    if s.mode == DeliveryMode::LicenseCode && sub.instance_id.is_some() {
        let reference = format!("{}:release", sub.id);
        lifecycle::enqueue_status_call(&tx, &sub, lifecycle::RELEASE_INSTANCE, &reference, now).await?;
    }
    tx.commit().await?;
    detail(state, p, id).await
}

//! Delivery of everything but SaaS instances: service supervision (服务监管).
//!
//! The mode of a purchase is `mercato_domain::delivery::DeliveryMode`,
//! decided when it is paid from the product's type and whether the seller
//! registered an endpoint. A supervised line gets, in the paying
//! transaction, a supervision (status per mode, first timeline step
//! `opened`), its order moves to `fulfilling` (处理中), the seller is notified
//! in-app, and, when the product has an endpoint, an `orderNotify` job tells
//! the seller's server ([`notify`]). Nothing calls newInstance for it.
//!
//! Every later step ([`actions`]) is one write transaction, conditional on
//! the version read (`steps`): a 409 `out_of_order` names the current state
//! when the step does not apply, `supervision_changed` when another step won
//! the race. Completion (buyer acceptance, an operator upholding the
//! seller's appeal, a license activation) completes the order, activates the
//! subscription and records the line's settleable time
//! (`line_deliveries`). Refunds follow `delivery::refund_right` ([`refund`]).
//! Attachments are private files of the supervision ([`attachments`]).

pub mod actions;
pub mod attachments;
pub mod notify;
pub mod refund;
pub mod views;

use crate::app::error::{AppError, AppResult};
use crate::app::orders::transition_order;
use crate::app::outbox;
use crate::auth::Principal;
use crate::state::AppState;
use chrono::{DateTime, Utc};
use mercato_domain::account::Role;
use mercato_domain::delivery::{Actor, DeliveryMode, SupervisionAction};
use mercato_domain::ids::{NotificationId, SupervisionId};
use mercato_domain::orders::OrderEvent;
use mercato_store::Executor;
use mercato_store::entity::{notification, order, order_line, subscription, supervision, supervision_step};
use mercato_store::repo::notifications as notification_repo;
use mercato_store::repo::supervisions::{self as repo, Party};

pub use views::{AttachmentView, StepView, SupervisionDetail, SupervisionView};

/// Whose supervisions `p` sees, and as whom it acts.
pub fn party_of(p: &Principal) -> AppResult<(Party<'_>, Actor)> {
    match p.role {
        Role::Buyer => Ok((Party::Buyer(&p.account_id), Actor::Buyer)),
        Role::Seller => Ok((Party::Seller(&p.account_id), Actor::Seller)),
        Role::Operator => Ok((Party::Anyone, Actor::Operator)),
        Role::Partner => Err(AppError::forbidden("partners have no supervisions")),
    }
}

/// Opens the supervision of a supervised line being paid, in the paying
/// transaction (see the module documentation).
pub async fn open(
    tx: &impl Executor,
    o: &order::Model,
    line: &order_line::Model,
    sub: &subscription::Model,
    has_endpoint: bool,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let mode = sub.delivery_mode;
    let status = mode.first_status().ok_or_else(|| AppError::inconsistent("a SaaS line has no supervision"))?;
    let id = String::from(SupervisionId::new());
    let row = supervision::Model {
        id: id.clone(),
        order_id: o.id.clone(),
        order_line_id: line.id.clone(),
        subscription_id: sub.id.clone(),
        buyer_id: o.buyer_id.clone(),
        seller_id: line.seller_id.clone(),
        product_id: line.product_id.clone(),
        product_name: line.product_name.clone(),
        mode,
        status,
        status_since: now,
        steps: 1,
        created_at: now,
        updated_at: now,
        completed_at: None,
    };
    let first = supervision_step::Model {
        supervision_id: id.clone(),
        seq: 1,
        action: SupervisionAction::Opened,
        actor: Actor::Marketplace,
        actor_id: None,
        status,
        note: format!("order {} paid", o.id),
        attachments_json: "[]".into(),
        at: now,
    };
    repo::insert(tx, row.clone(), first).await?;
    transition_order(tx, &o.id, OrderEvent::StartFulfilment, now).await?;
    let payload = serde_json::json!({ "order_line_id": line.id, "supervision_id": id });
    match mode {
        DeliveryMode::LicenseCode => {
            outbox::enqueue(tx, crate::app::licenses::ISSUE_LICENSE, &line.id, &payload, now, now).await?;
        }
        _ if has_endpoint => {
            outbox::enqueue(tx, notify::ORDER_NOTIFY, &line.id, &payload, now, now).await?;
        }
        _ => {}
    }
    tell(tx, &row, SupervisionAction::Opened, Actor::Marketplace, now).await
}

/// In-app notifications of a step to the parties who did not take it.
pub(crate) async fn tell(
    tx: &impl Executor,
    s: &supervision::Model,
    action: SupervisionAction,
    by: Actor,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let (title, body) = wording(s, action);
    let mut to = Vec::new();
    if by != Actor::Buyer && action != SupervisionAction::Opened {
        to.push(&s.buyer_id);
    }
    if by != Actor::Seller {
        to.push(&s.seller_id);
    }
    for account in to {
        let n = notification::Model {
            id: NotificationId::new().into(),
            account_id: account.clone(),
            kind: format!("supervision_{action}"),
            title: title.clone(),
            body: body.clone(),
            reference: Some(s.id.clone()),
            created_at: now,
            read_at: None,
        };
        notification_repo::insert(tx, n).await?;
    }
    Ok(())
}

fn wording(s: &supervision::Model, action: SupervisionAction) -> (String, String) {
    use SupervisionAction as A;
    let name = &s.product_name;
    let what = match action {
        A::Opened => "was paid: a supervised delivery is waiting for you",
        A::SubmitRequirements => "has the buyer's requirements: start the delivery",
        A::StartDelivery => "is being delivered",
        A::CompleteDelivery => "was delivered: check the report and accept or reject it",
        A::Accept => "was accepted by the buyer: completed",
        A::Reject => "was rejected by the buyer: see the reason and deliver again",
        A::Appeal => "was appealed by the seller: an operator decides",
        A::UpholdAppeal => "was completed by an operator's decision on the appeal",
        A::DismissAppeal => "went back to the buyer's acceptance by an operator's decision",
        A::LicenseIssued => "has its license code: see your purchased services",
        A::LicenseActivated => "was activated: completed",
        A::Refund => "was refunded and closed",
    };
    (format!("{name} (order {}) {what}", s.order_id), format!("Supervision {}: {action}.", s.id))
}

/// The status names in 409s: "cannot accept while the supervision is ...".
pub(crate) fn out_of_order(e: mercato_domain::delivery::OutOfOrder) -> AppError {
    AppError::conflict("out_of_order", e.to_string())
}

/// The appeal wait configured for this node.
pub(crate) fn appeal_wait(state: &AppState) -> chrono::Duration {
    chrono::Duration::days(state.config.supervision_appeal_days.into())
}

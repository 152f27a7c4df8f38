//! The steps of a supervision taken by its parties, and what completing one
//! does. Which step applies where is `SupervisionStatus::next`; what a step
//! must carry is [`requirement`]; the seller's appeal waits
//! `supervision_appeal_days` (marketplace time) from the moment the delivery
//! began to wait for acceptance.

use super::views::{SupervisionDetail, detail, find};
use super::{appeal_wait, out_of_order, party_of, tell};
use crate::app::error::{AppError, AppResult};
use crate::app::orders::{complete_delivered, transition_subscription};
use crate::auth::Principal;
use crate::state::AppState;
use chrono::{DateTime, Utc};
use mercato_domain::delivery::{
    ATTACHMENTS_PER_STEP, Actor, AppealDecision, DeliveredBy, NOTE_MAX, SupervisionAction, SupervisionStatus,
    appeal_opens_at,
};
use mercato_domain::orders::{SubscriptionEvent, SubscriptionStatus};
use mercato_store::Executor;
use mercato_store::entity::{supervision, supervision_step};
use mercato_store::repo::{media as media_repo, orders as order_repo, supervisions as repo};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The body of a step: a note (requirements, delivery report, reason or
/// evidence; required where the step says so) and attachments uploaded to
/// this supervision by the caller.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StepInput {
    /// At most 5000 characters.
    #[serde(default)]
    #[schema(max_length = 5000)]
    pub note: Option<String>,
    /// Ids of attachments the caller uploaded to this supervision (at most 10).
    #[serde(default)]
    #[schema(max_items = 10)]
    pub attachments: Vec<String>,
}

/// An operator's decision on an appealed supervision.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DecideAppeal {
    /// `complete`: the delivery is accepted on the buyer's behalf;
    /// `send_back`: back to the buyer's acceptance.
    pub decision: AppealDecision,
    /// Why (1-5000 characters), shown to both sides.
    #[schema(min_length = 1, max_length = 5000)]
    pub reason: String,
}

/// What a step must carry: (a note, at least one attachment).
pub fn requirement(action: SupervisionAction) -> (bool, bool) {
    use SupervisionAction as A;
    match action {
        A::SubmitRequirements => (true, false),
        A::CompleteDelivery => (true, true),
        A::Reject => (true, false),
        A::Appeal => (true, true),
        A::UpholdAppeal | A::DismissAppeal | A::Refund => (true, false),
        _ => (false, false),
    }
}

fn check_input(action: SupervisionAction, input: &StepInput) -> AppResult<String> {
    let note = input.note.clone().unwrap_or_default().trim().to_string();
    let (needs_note, needs_file) = requirement(action);
    let mut c = mercato_domain::validation::Checker::new();
    c.check(!needs_note || !note.is_empty(), "note", format!("{action} needs a note"));
    c.check(note.chars().count() <= NOTE_MAX, "note", format!("at most {NOTE_MAX} characters"));
    c.check(!needs_file || !input.attachments.is_empty(), "attachments", format!("{action} needs an attachment"));
    c.check(input.attachments.len() <= ATTACHMENTS_PER_STEP, "attachments", format!("at most {ATTACHMENTS_PER_STEP}"));
    c.finish()?;
    Ok(note)
}

/// A step taken by the caller (buyer or seller) on a supervision it sees.
pub async fn act(
    state: &AppState,
    p: &Principal,
    id: &str,
    action: SupervisionAction,
    input: StepInput,
) -> AppResult<SupervisionDetail> {
    let (party, actor) = party_of(p)?;
    let now = state.now();
    let tx = state.db.write().await?;
    let s = find(&tx, party, id).await?;
    // Where it stands first (409 naming the state), then what was sent.
    if s.mode.actor_of(action) != Some(actor) {
        return Err(out_of_order(mercato_domain::delivery::OutOfOrder { status: s.status, action }));
    }
    s.status.next(s.mode, action).map_err(out_of_order)?;
    let note = check_input(action, &input)?;
    for media_id in &input.attachments {
        let owned = media_repo::find(&tx, media_id)
            .await?
            .is_some_and(|m| m.supervision_id.as_deref() == Some(&s.id) && m.owner_id == p.account_id);
        if !owned {
            return Err(AppError::field(
                "attachments",
                format!("{media_id} is not a file you attached to this supervision"),
            ));
        }
    }
    if action == SupervisionAction::Appeal && s.status == SupervisionStatus::AwaitingAcceptance {
        let opens = appeal_opens_at(s.status_since, appeal_wait(state));
        if now < opens {
            return Err(AppError::conflict(
                "appeal_too_early",
                format!("the buyer has until {} to accept or reject; appeal after that", opens.to_rfc3339()),
            ));
        }
    }
    let step = Step { action, actor, actor_id: Some(p.account_id.clone()), note, attachments: input.attachments };
    apply(&tx, &s, step, now).await?;
    tx.commit().await?;
    detail(state, p, id).await
}

/// An operator decides an appealed supervision.
pub async fn decide(state: &AppState, p: &Principal, id: &str, d: DecideAppeal) -> AppResult<SupervisionDetail> {
    let action = match d.decision {
        AppealDecision::Complete => SupervisionAction::UpholdAppeal,
        AppealDecision::SendBack => SupervisionAction::DismissAppeal,
    };
    act(state, p, id, action, StepInput { note: Some(d.reason), attachments: Vec::new() }).await
}

/// One step to record.
pub(crate) struct Step {
    pub action: SupervisionAction,
    pub actor: Actor,
    pub actor_id: Option<String>,
    pub note: String,
    pub attachments: Vec<String>,
}

/// Applies `step` to `s` (read in `tx`): the transition, the timeline row,
/// completion's effects and the notifications. 409 `out_of_order` when it
/// does not apply, `supervision_changed` when another step came first.
pub(crate) async fn apply(
    tx: &impl Executor,
    s: &supervision::Model,
    step: Step,
    now: DateTime<Utc>,
) -> AppResult<SupervisionStatus> {
    let to = s.status.next(s.mode, step.action).map_err(out_of_order)?;
    let row = supervision_step::Model {
        supervision_id: s.id.clone(),
        seq: s.steps + 1,
        action: step.action,
        actor: step.actor,
        actor_id: step.actor_id,
        status: to,
        note: step.note,
        attachments_json: serde_json::to_string(&step.attachments).map_err(AppError::internal)?,
        at: now,
    };
    if !repo::advance(tx, row).await? {
        return Err(AppError::conflict("supervision_changed", "the supervision changed meanwhile; read it again"));
    }
    if to == SupervisionStatus::Completed {
        let by = match step.action {
            SupervisionAction::UpholdAppeal => DeliveredBy::OperatorDecision,
            SupervisionAction::LicenseActivated => DeliveredBy::LicenseActivation,
            _ => DeliveredBy::BuyerAcceptance,
        };
        complete(tx, s, by, now).await?;
    }
    tell(tx, s, step.action, step.actor, now).await?;
    Ok(to)
}

/// The delivery is done: the order completes (settleable from now) and the
/// subscription becomes active.
async fn complete(tx: &impl Executor, s: &supervision::Model, by: DeliveredBy, now: DateTime<Utc>) -> AppResult<()> {
    complete_delivered(tx, &s.order_id, by, now).await?;
    let sub = order_repo::find_subscription(tx, &s.subscription_id)
        .await?
        .ok_or_else(|| AppError::inconsistent("supervision without subscription"))?;
    if sub.status == SubscriptionStatus::Provisioning {
        transition_subscription(tx, &sub.id, SubscriptionEvent::Activate, now).await?;
    }
    Ok(())
}

//! What the parties see of a supervision: the summary, what the caller may
//! do now, the timeline and the attachments.

use super::{appeal_wait, party_of};
use crate::app::error::{AppError, AppResult};
use crate::app::page::{Page, Paging};
use crate::auth::Principal;
use crate::state::AppState;
use chrono::{DateTime, Utc};
use mercato_domain::delivery::{
    Actor, DeliveryMode, RefundRight, SupervisionAction, SupervisionStatus, appeal_opens_at, refund_right,
};
use mercato_domain::ids::SupervisionId;
use mercato_store::entity::{media, supervision, supervision_step};
use mercato_store::repo::licenses;
use mercato_store::repo::media as media_repo;
use mercato_store::repo::supervisions::{self as repo, Filter, Party};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// One supervised delivery.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SupervisionView {
    /// `spv_...`.
    pub id: String,
    pub order_id: String,
    pub order_line_id: String,
    pub subscription_id: String,
    pub product_id: String,
    pub product_name: String,
    pub buyer_id: String,
    pub seller_id: String,
    pub mode: DeliveryMode,
    pub status: SupervisionStatus,
    /// When the current status began.
    pub status_since: DateTime<Utc>,
    /// Awaiting acceptance: from when the seller may appeal.
    pub appeal_opens_at: Option<DateTime<Utc>>,
    /// The steps the caller may take now.
    pub actions: Vec<SupervisionAction>,
    /// Who may refund it now: `buyer` (withdraw, full refund), `operator`
    /// (delivery started: an operator decides) or `nobody` (completed or
    /// closed).
    pub refund: RefundRight,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub completed_at: Option<DateTime<Utc>>,
}

/// A step of the timeline.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct StepView {
    /// 1-based.
    pub seq: i64,
    pub action: SupervisionAction,
    pub actor: Actor,
    /// The account that acted (absent: the marketplace).
    pub actor_id: Option<String>,
    /// The status the step led to.
    pub status: SupervisionStatus,
    /// Requirements, report, reason or evidence.
    pub note: String,
    /// Attachment ids.
    pub attachments: Vec<String>,
    pub at: DateTime<Utc>,
}

/// A file attached to the supervision.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct AttachmentView {
    /// `med_...`.
    pub id: String,
    pub content_type: String,
    pub size_bytes: i64,
    pub sha256: String,
    /// The account that uploaded it.
    pub uploaded_by: String,
    pub created_at: DateTime<Utc>,
}

/// A supervision with its timeline and attachments.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SupervisionDetail {
    pub supervision: SupervisionView,
    /// Oldest first.
    pub timeline: Vec<StepView>,
    /// In upload order.
    pub attachments: Vec<AttachmentView>,
    /// License codes: the code once issued, its activation and last
    /// heartbeat (both sides see it).
    pub license: Option<crate::app::licenses::LicenseView>,
}

/// Filters of supervision lists (all optional) and the page.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SupervisionParams {
    /// Only supervisions in this status.
    #[serde(default)]
    #[param(value_type = Option<SupervisionStatus>)]
    pub status: Option<String>,
    /// Only this order's.
    #[serde(default)]
    #[param(pattern = "^[!-~]+$", max_length = 64)]
    pub order_id: Option<String>,
    /// Only this product's.
    #[serde(default)]
    #[param(pattern = "^[!-~]+$", max_length = 64)]
    pub product_id: Option<String>,
    /// 1-100, default 20.
    #[serde(default, deserialize_with = "crate::extract::query_num::opt_u64")]
    #[param(value_type = Option<u64>, minimum = 1, maximum = 100, default = 20)]
    pub limit: Option<u64>,
    /// `next_cursor` from the previous page.
    #[serde(default)]
    pub cursor: Option<String>,
}

impl SupervisionParams {
    fn parse(self) -> AppResult<(Filter, Paging)> {
        let status = match self.status.as_deref().filter(|s| !s.is_empty()) {
            None => None,
            Some(s) => Some(SupervisionStatus::parse(s).ok_or_else(|| {
                AppError::field("status", format!("must be one of {}", SupervisionStatus::allowed()))
            })?),
        };
        let paging = Paging::new(self.limit, self.cursor)?;
        Ok((Filter { status, order_id: self.order_id, product_id: self.product_id }, paging))
    }
}

pub(crate) fn view(state: &AppState, s: supervision::Model, actor: Actor) -> SupervisionView {
    let now = state.now();
    let opens = (s.status == SupervisionStatus::AwaitingAcceptance)
        .then(|| appeal_opens_at(s.status_since, appeal_wait(state)));
    let actions = SupervisionAction::ALL
        .iter()
        .copied()
        .filter(|&a| a != SupervisionAction::Refund && s.mode.actor_of(a) == Some(actor))
        .filter(|&a| s.status.next(s.mode, a).is_ok())
        .filter(|&a| a != SupervisionAction::Appeal || opens.is_some_and(|t| now >= t))
        .collect();
    SupervisionView {
        id: s.id,
        order_id: s.order_id,
        order_line_id: s.order_line_id,
        subscription_id: s.subscription_id,
        product_id: s.product_id,
        product_name: s.product_name,
        buyer_id: s.buyer_id,
        seller_id: s.seller_id,
        mode: s.mode,
        status: s.status,
        status_since: s.status_since,
        appeal_opens_at: opens,
        actions,
        refund: refund_right(s.mode, s.status),
        created_at: s.created_at,
        updated_at: s.updated_at,
        completed_at: s.completed_at,
    }
}

fn step_view(s: supervision_step::Model) -> AppResult<StepView> {
    let attachments: Vec<String> = serde_json::from_str(&s.attachments_json)
        .map_err(|e| AppError::inconsistent(format!("step attachments: {e}")))?;
    Ok(StepView {
        seq: s.seq,
        action: s.action,
        actor: s.actor,
        actor_id: s.actor_id,
        status: s.status,
        note: s.note,
        attachments,
        at: s.at,
    })
}

pub(crate) fn attachment_view(m: media::Model) -> AttachmentView {
    AttachmentView {
        id: m.id,
        content_type: m.content_type,
        size_bytes: m.size_bytes,
        sha256: m.sha256,
        uploaded_by: m.owner_id,
        created_at: m.created_at,
    }
}

/// The caller's supervisions, newest first.
pub async fn list(state: &AppState, p: &Principal, params: SupervisionParams) -> AppResult<Page<SupervisionView>> {
    let (party, actor) = party_of(p)?;
    let (f, paging) = params.parse()?;
    if paging.cursor.as_deref().is_some_and(|c| !SupervisionId::is_valid(c)) {
        return Err(AppError::field("cursor", "is not a cursor this API returned"));
    }
    let rows = repo::list(&state.db.conn, party, &f, paging.cursor.as_deref(), paging.limit + 1).await?;
    let rows = rows.into_iter().map(|s| view(state, s, actor)).collect();
    Ok(paging.finish(rows, |s: &SupervisionView| s.id.clone(), |s| s))
}

/// One supervision the caller may see (404 otherwise).
pub async fn find(db: &impl mercato_store::Executor, party: Party<'_>, id: &str) -> AppResult<supervision::Model> {
    if !SupervisionId::is_valid(id) {
        return Err(AppError::not_found("supervision"));
    }
    repo::find_for(db, party, id).await?.ok_or_else(|| AppError::not_found("supervision"))
}

/// One supervision with its timeline and attachments.
pub async fn detail(state: &AppState, p: &Principal, id: &str) -> AppResult<SupervisionDetail> {
    let (party, actor) = party_of(p)?;
    let s = find(&state.db.conn, party, id).await?;
    let timeline = repo::steps(&state.db.conn, &s.id).await?.into_iter().map(step_view).collect::<AppResult<_>>()?;
    let attachments =
        media_repo::of_supervision(&state.db.conn, &s.id).await?.into_iter().map(attachment_view).collect();
    let license = licenses::find_by_line(&state.db.conn, &s.order_line_id).await?.map(Into::into);
    Ok(SupervisionDetail { supervision: view(state, s, actor), timeline, attachments, license })
}

/// The operators' appeal queue: appealed supervisions, newest first.
pub async fn appeals(state: &AppState, p: &Principal, paging: Paging) -> AppResult<Page<SupervisionView>> {
    let params = SupervisionParams {
        status: Some(SupervisionStatus::Appealed.as_str().to_string()),
        limit: Some(paging.limit),
        cursor: paging.cursor,
        ..SupervisionParams::default()
    };
    list(state, p, params).await
}

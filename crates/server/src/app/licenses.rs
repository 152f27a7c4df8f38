//! License codes (delivery mode `license_code`, spec §2, §6, §8).
//!
//! **Issuing.** Paying opens the line's supervision in `delivering` and
//! enqueues `issue_license` (reference: the order line). The job asks the
//! seller's license interface (`getLicenseAsync`, the fields of
//! newInstance) and stores the first code answered for the line: a retry
//! after a lost answer gets the same code from the seller (its idempotency
//! rule) and the stored one stands whatever comes later. Storing the code,
//! the instance id, the subscription becoming `active` and the supervision
//! moving to `awaiting_activation` are one transaction. Failed calls are
//! retried every 2 minutes, 60 tries ([`RetryPolicy::LICENSE`]); a refusal
//! (000100-000107) or the last failure refunds the buyer in full, fails the
//! subscription and closes the supervision, and counts as an interface
//! failure of the product.
//!
//! **Activation and heartbeat** (open API, the seller's AK/SK): `activate`
//! with a code the calling seller issued records the first activation
//! (`real_effect_time`, `yyyyMMddHHmmss` UTC, optional) and completes the
//! supervision, which completes the order and makes the line settleable; a
//! repeated activation answers success and changes nothing. `heartbeat`
//! answers the code's state from its subscription: `ALIVE` (active),
//! `EXPIRED` (frozen: expired or unpaid), `RELEASED` (released, refunded or
//! failed), with the expiry, and keeps the latest caller details. Unknown
//! codes are MKT.9001, another seller's MKT.0150, a malformed body MKT.0100
//! (unknown members MKT.0101); none of them changes anything.

use crate::app::error::{AppError, AppResult};
use crate::app::orders::{line_context, transition_subscription};
use crate::app::outbox::{JobOutcome, JobView, RetryPolicy};
use crate::app::signed_api::{OpenApiError, OpenApiResult};
use crate::app::subscriptions::fulfilment::refund_order;
use crate::app::subscriptions::lifecycle::expire_time;
use crate::app::subscriptions::seller_calls::{Endpoint, describe};
use crate::app::supervision::actions::{Step, apply};
use crate::state::AppState;
use chrono::{DateTime, NaiveDateTime, Utc};
use koo::BasicCall;
use koo::calls::GetLicenseAsync;
use koo::client::CallOutcome;
use koo::codes::CodeClass;
use koo::gateway::GatewayCode;
use mercato_domain::delivery::{Actor, SupervisionAction, SupervisionStatus};
use mercato_domain::orders::{SubscriptionEvent, SubscriptionStatus};
use mercato_store::StoreError;
use mercato_store::entity::license;
use mercato_store::repo::{licenses as repo, orders as order_repo, supervisions};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The job kind that asks the seller for a line's code.
pub const ISSUE_LICENSE: &str = "issue_license";
/// Longest license code accepted (KooGallery: 64).
pub const CODE_MAX: usize = 64;

#[derive(Deserialize)]
struct Payload {
    order_line_id: String,
}

pub async fn issue_license(state: AppState, job: JobView) -> JobOutcome {
    let p: Payload = match job.payload() {
        Ok(p) => p,
        Err(e) => return JobOutcome::Dead { error: format!("bad job payload: {e}") },
    };
    let outcome = match attempt(&state, &job, &p.order_line_id).await {
        Ok(o) => o,
        Err(e) => retry(&state, &job, format!("license error: {}", e.report())),
    };
    match outcome {
        JobOutcome::Dead { error } => give_up(&state, &p.order_line_id, error).await,
        other => other,
    }
}

fn retry(state: &AppState, job: &JobView, error: String) -> JobOutcome {
    RetryPolicy::LICENSE.outcome(job, state.now(), error)
}

async fn attempt(state: &AppState, job: &JobView, line_id: &str) -> AppResult<JobOutcome> {
    let Some(ctx) = line_context(&state.db.conn, line_id).await? else {
        return Ok(JobOutcome::Dead { error: format!("no order line {line_id}") });
    };
    let Some(sub) = &ctx.subscription else {
        return Ok(JobOutcome::Dead { error: "the line has no subscription".into() });
    };
    if sub.status != SubscriptionStatus::Provisioning || repo::find_by_line(&state.db.conn, line_id).await?.is_some() {
        // Issued (or refunded) meanwhile.
        return Ok(JobOutcome::Done);
    }
    let Some(endpoint) = Endpoint::of_product(state, &ctx.line.product_id).await? else {
        return Ok(retry(state, job, "the product has no license interface".into()));
    };
    let call = BasicCall::GetLicenseAsync(GetLicenseAsync {
        order_id: ctx.order.id.clone(),
        order_line_id: ctx.line.id.clone(),
        business_id: uuid::Uuid::new_v4().simple().to_string(),
        test_flag: None,
    });
    let sent = endpoint.send(state, &ctx, job, "getLicenseAsync", &call).await?;
    let exchange = match &sent.result {
        Ok(x) => x,
        Err(e) => return Ok(retry(state, job, e.to_string())),
    };
    match &exchange.outcome {
        CallOutcome::Answered { code, body, .. } if code.class() == CodeClass::Success => {
            let text = |name: &str| body.get(name).and_then(|v| v.as_str()).map(str::trim).filter(|s| !s.is_empty());
            match (text("instanceId"), text("license")) {
                (Some(instance), Some(code)) if code.chars().count() <= CODE_MAX => {
                    store_issued(state, line_id, instance, code).await?;
                    Ok(JobOutcome::Done)
                }
                _ => Ok(retry(state, job, "getLicenseAsync answered without instanceId and license".into())),
            }
        }
        CallOutcome::Answered { code, .. } if code.class() == CodeClass::Refused => {
            Ok(JobOutcome::Dead { error: format!("getLicenseAsync refused: {}", describe(&exchange.outcome)) })
        }
        other => Ok(retry(state, job, format!("getLicenseAsync: {}", describe(other)))),
    }
}

/// The code, the instance, the active subscription and the supervision's
/// step, in one transaction; the first code stored for the line stands.
async fn store_issued(state: &AppState, line_id: &str, instance_id: &str, code: &str) -> AppResult<()> {
    let now = state.now();
    let tx = state.db.write().await?;
    let Some(ctx) = line_context(&tx, line_id).await? else { return Ok(()) };
    let Some(sub) = ctx.subscription else { return Ok(()) };
    if sub.status != SubscriptionStatus::Provisioning {
        return Ok(());
    }
    let row = license::Model {
        order_line_id: line_id.to_string(),
        subscription_id: sub.id.clone(),
        seller_id: ctx.line.seller_id.clone(),
        instance_id: instance_id.to_string(),
        license_code: code.to_string(),
        issued_at: now,
        activated_at: None,
        effective_at: None,
        last_heartbeat_at: None,
        heartbeat_account: None,
        heartbeat_ip: None,
    };
    if !repo::insert_issued(&tx, row).await? {
        return Ok(());
    }
    order_repo::set_instance(&tx, &sub.id, instance_id, now).await?;
    transition_subscription(&tx, &sub.id, SubscriptionEvent::Activate, now).await?;
    if let Some(s) = supervisions::find_by_line(&tx, line_id).await?
        && s.status == SupervisionStatus::Delivering
    {
        let step = Step {
            action: SupervisionAction::LicenseIssued,
            actor: Actor::Marketplace,
            actor_id: None,
            note: "the seller's license interface issued the code".into(),
            attachments: Vec::new(),
        };
        apply(&tx, &s, step, now).await?;
    }
    tx.commit().await?;
    tracing::info!(line = %line_id, "license issued");
    Ok(())
}

/// No code for good: the buyer is refunded, the subscription fails, the
/// supervision closes; the product's interface failures count it.
async fn give_up(state: &AppState, line_id: &str, error: String) -> JobOutcome {
    let done = async {
        let now = state.now();
        let tx = state.db.write().await?;
        let Some(ctx) = line_context(&tx, line_id).await? else { return Ok(false) };
        let Some(sub) = &ctx.subscription else { return Ok(false) };
        if sub.status != SubscriptionStatus::Provisioning {
            return Ok(false);
        }
        transition_subscription(&tx, &sub.id, SubscriptionEvent::Fail, now).await?;
        if let Some(s) = supervisions::find_by_line(&tx, line_id).await? {
            let step = Step {
                action: SupervisionAction::Refund,
                actor: Actor::Marketplace,
                actor_id: None,
                note: format!("no license code: {error}"),
                attachments: Vec::new(),
            };
            apply(&tx, &s, step, now).await?;
        }
        refund_order(&tx, &ctx.order.id, now).await?;
        tx.commit().await?;
        Ok::<_, AppError>(true)
    }
    .await;
    match done {
        Ok(true) => {
            tracing::warn!(line = %line_id, %error, "license never issued; buyer refunded");
            crate::app::notifications::interface_failed(state, line_id).await;
            JobOutcome::Dead { error }
        }
        Ok(false) => JobOutcome::Dead { error },
        // Not refunded yet: come back rather than leave the money taken.
        Err(e) => JobOutcome::Retry {
            after: std::time::Duration::from_secs(60),
            error: format!("refunding an unissued license: {}", e.report()),
        },
    }
}

// ---------------------------------------------------------------- open API

/// `license/activate`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ActivateRequest {
    /// The license code (at most 64 characters).
    #[schema(min_length = 1, max_length = 64)]
    pub license: String,
    /// When the license took effect, `yyyyMMddHHmmss` UTC.
    #[serde(default)]
    #[schema(pattern = "^[0-9]{14}$")]
    pub real_effect_time: Option<String>,
}

/// `license/heartbeat`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HeartbeatRequest {
    /// The license code (at most 64 characters).
    #[schema(min_length = 1, max_length = 64)]
    pub license: String,
    #[serde(default, rename = "heartbeatInfo")]
    pub heartbeat_info: Option<HeartbeatInfo>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HeartbeatInfo {
    /// The user or device of the seller's software (at most 256 characters).
    #[serde(rename = "thirdPartyAccount")]
    #[schema(min_length = 1, max_length = 256)]
    pub third_party_account: String,
    /// The client's address (at most 64 characters).
    #[serde(default)]
    #[schema(max_length = 64)]
    pub ip: Option<String>,
}

mercato_domain::string_enum!(
    /// A license's state as a heartbeat answers it.
    LicenseState {
        Alive => "ALIVE",
        Expired => "EXPIRED",
        Released => "RELEASED",
    }
);

/// The answer to a heartbeat.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct HeartbeatResponse {
    /// `MKT.0000`.
    pub error_code: String,
    pub error_msg: String,
    pub status: LicenseState,
    /// The subscription's expiry, `yyyyMMddHHmmss` UTC (none for one-time purchases).
    #[serde(rename = "expireTime", skip_serializing_if = "Option::is_none")]
    pub expire_time: Option<String>,
}

fn parse<T: serde::de::DeserializeOwned>(body: &[u8]) -> OpenApiResult<T> {
    serde_json::from_slice(body).map_err(|e| {
        let code = if e.to_string().contains("unknown field") {
            GatewayCode::InvalidParameter
        } else {
            GatewayCode::InvalidInput
        };
        OpenApiError::new(code, format!("invalid body: {e}"))
    })
}

fn invalid(msg: impl Into<String>) -> OpenApiError {
    OpenApiError::new(GatewayCode::InvalidInput, msg)
}

fn check_code(code: &str) -> OpenApiResult<()> {
    if code.trim().is_empty() || code.chars().count() > CODE_MAX {
        return Err(invalid(format!("license: 1-{CODE_MAX} characters")));
    }
    Ok(())
}

/// The calling seller's license with this code.
async fn own_license(state: &AppState, seller_id: &str, code: &str) -> OpenApiResult<license::Model> {
    let found = repo::find_by_code(&state.db.conn, code).await?;
    if let Some(own) = found.iter().find(|l| l.seller_id == seller_id) {
        return Ok(own.clone());
    }
    if found.is_empty() {
        Err(OpenApiError::new(GatewayCode::NotFound, "no such license"))
    } else {
        Err(OpenApiError::new(GatewayCode::IllegalOperation, "the license belongs to another seller"))
    }
}

/// `license/activate` for the authenticated seller.
pub async fn activate(state: &AppState, seller_id: &str, body: &[u8]) -> OpenApiResult<()> {
    let req: ActivateRequest = parse(body)?;
    check_code(&req.license)?;
    let effective_at = match req.real_effect_time.as_deref() {
        None => None,
        Some(t) => Some(
            NaiveDateTime::parse_from_str(t, "%Y%m%d%H%M%S")
                .map_err(|_| invalid("real_effect_time: yyyyMMddHHmmss"))?
                .and_utc(),
        ),
    };
    let lic = own_license(state, seller_id, &req.license).await?;
    let now = state.now();
    let tx = state.db.write().await.map_err(StoreError::from)?;
    let sub = order_repo::find_subscription(&tx, &lic.subscription_id)
        .await?
        .ok_or_else(|| AppError::inconsistent("license without subscription"))?;
    if sub.status.is_final() {
        return Err(OpenApiError::new(GatewayCode::IllegalOperation, format!("the license was {}", sub.status)));
    }
    if !repo::activate(&tx, &lic.order_line_id, now, effective_at).await? {
        // Activated before: the same answer again.
        return Ok(());
    }
    if let Some(s) = supervisions::find_by_line(&tx, &lic.order_line_id).await?
        && s.status == SupervisionStatus::AwaitingActivation
    {
        let step = Step {
            action: SupervisionAction::LicenseActivated,
            actor: Actor::Seller,
            actor_id: Some(seller_id.to_string()),
            note: "the seller's software activated the license".into(),
            attachments: Vec::new(),
        };
        apply(&tx, &s, step, now).await.map_err(OpenApiError::from)?;
    }
    tx.commit().await.map_err(StoreError::from)?;
    Ok(())
}

/// `license/heartbeat` for the authenticated seller.
pub async fn heartbeat(state: &AppState, seller_id: &str, body: &[u8]) -> OpenApiResult<HeartbeatResponse> {
    let req: HeartbeatRequest = parse(body)?;
    check_code(&req.license)?;
    if let Some(info) = &req.heartbeat_info {
        if info.third_party_account.trim().is_empty() || info.third_party_account.chars().count() > 256 {
            return Err(invalid("heartbeatInfo.thirdPartyAccount: 1-256 characters"));
        }
        if info.ip.as_ref().is_some_and(|ip| ip.chars().count() > 64) {
            return Err(invalid("heartbeatInfo.ip: at most 64 characters"));
        }
    }
    let lic = own_license(state, seller_id, &req.license).await?;
    let sub = order_repo::find_subscription(&state.db.conn, &lic.subscription_id)
        .await?
        .ok_or_else(|| AppError::inconsistent("license without subscription"))?;
    if let Some(info) = &req.heartbeat_info {
        let tx = state.db.write().await.map_err(StoreError::from)?;
        repo::heartbeat(&tx, &lic.order_line_id, state.now(), &info.third_party_account, info.ip.as_deref()).await?;
        tx.commit().await.map_err(StoreError::from)?;
    }
    Ok(HeartbeatResponse {
        error_code: GatewayCode::Success.as_str().into(),
        error_msg: "success".into(),
        status: state_of(sub.status),
        expire_time: sub.expires_at.map(expire_time),
    })
}

fn state_of(status: SubscriptionStatus) -> LicenseState {
    match status {
        SubscriptionStatus::Provisioning | SubscriptionStatus::Active => LicenseState::Alive,
        SubscriptionStatus::Frozen => LicenseState::Expired,
        SubscriptionStatus::Released | SubscriptionStatus::Failed => LicenseState::Released,
    }
}

/// What the buyer sees of a license on the subscription.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct LicenseView {
    /// The code to enter in the seller's software.
    pub code: String,
    pub issued_at: DateTime<Utc>,
    /// When the seller's software first activated it.
    pub activated_at: Option<DateTime<Utc>>,
    pub last_heartbeat_at: Option<DateTime<Utc>>,
}

impl From<license::Model> for LicenseView {
    fn from(l: license::Model) -> Self {
        LicenseView {
            code: l.license_code,
            issued_at: l.issued_at,
            activated_at: l.activated_at,
            last_heartbeat_at: l.last_heartbeat_at,
        }
    }
}

//! Seller onboarding (入驻), business certification (商业信息认证) and the
//! seller agreement.

use crate::auth::Principal;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use chrono::{DateTime, Utc};
use mercato_domain::ids::{IdKind, is_id_of, new_id};
use mercato_domain::onboarding::{
    ApplicationError, ApplicationKind, ApplicationStatus, CertificationForm, Decision, EntityType, OnboardingForm,
    check_certification, check_onboarding, check_reject_reason, compact_account, mask_account,
};
use mercato_store::StoreError;
use mercato_store::entity::{account, application_decision, seller_agreement, seller_certification, seller_onboarding};
use mercato_store::repo::{accounts, sellers};
use mercato_store::sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::page::{Page, Paging};

/// The version of the seller agreement sellers accept now.
pub const AGREEMENT_VERSION: &str = "2026-11";

/// Only an approved, certified seller that accepted the current agreement may
/// submit products for review. Answers 409 `seller_not_ready` naming what is missing.
pub async fn ensure_can_sell(db: &impl ConnectionTrait, seller_id: &str) -> ApiResult<()> {
    let onboarded = seller_onboarding::Entity::find_by_id(seller_id.to_string())
        .one(db)
        .await?
        .is_some_and(|o| o.status == ApplicationStatus::Approved.as_str());
    let certified = seller_certification::Entity::find_by_id(seller_id.to_string())
        .one(db)
        .await?
        .is_some_and(|c| c.status == ApplicationStatus::Approved.as_str());
    let agreed = seller_agreement::Entity::find()
        .filter(seller_agreement::Column::SellerId.eq(seller_id))
        .filter(seller_agreement::Column::Version.eq(AGREEMENT_VERSION))
        .one(db)
        .await?
        .is_some();
    let mut missing = Vec::new();
    if !onboarded {
        missing.push("an approved onboarding application");
    }
    if !certified {
        missing.push("an approved business certification");
    }
    if !agreed {
        missing.push("acceptance of the current seller agreement");
    }
    if missing.is_empty() {
        Ok(())
    } else {
        Err(ApiError::conflict(
            "seller_not_ready",
            format!("before submitting products the seller needs {}", missing.join(", ")),
        ))
    }
}

/// The field name the bank account's ciphertext is bound to.
const BANK_ACCOUNT_FIELD: &str = "seller_certification.bank_account";

// ---------------------------------------------------------------------------
// Views

/// The seller's onboarding application as it stands.
#[derive(Debug, Serialize, ToSchema)]
pub struct OnboardingView {
    pub status: ApplicationStatus,
    pub entity_type: EntityType,
    pub legal_name: String,
    pub registration_number: String,
    pub contact_name: String,
    pub contact_phone: String,
    pub contact_email: String,
    pub address: String,
    pub support_hours: String,
    /// Why the last decision rejected the application; null if it was never
    /// rejected or was approved since.
    pub reason: Option<String>,
    pub submitted_at: Option<DateTime<Utc>>,
    pub decided_at: Option<DateTime<Utc>>,
    pub updated_at: DateTime<Utc>,
}

/// The seller's business certification as it stands. The bank account number
/// is stored encrypted and only ever shown masked.
#[derive(Debug, Serialize, ToSchema)]
pub struct CertificationView {
    pub status: ApplicationStatus,
    pub bank_name: String,
    /// The account number's last four characters, e.g. `**** 1234`.
    pub bank_account_masked: String,
    pub account_holder: String,
    /// Tax rate in basis points (600 = 6%).
    pub tax_rate_bp: i64,
    pub currency: String,
    /// Why the last decision rejected the certification; null if it was never
    /// rejected or was approved since.
    pub reason: Option<String>,
    pub submitted_at: Option<DateTime<Utc>>,
    pub decided_at: Option<DateTime<Utc>>,
    pub updated_at: DateTime<Utc>,
}

/// The seller agreement and whether (and when) the seller accepted it.
#[derive(Debug, Serialize, ToSchema)]
pub struct AgreementView {
    /// The current agreement version.
    pub version: String,
    /// When the seller accepted this version; null if not yet.
    pub accepted_at: Option<DateTime<Utc>>,
}

/// One operator decision on an application.
#[derive(Debug, Serialize, ToSchema)]
pub struct DecisionView {
    pub id: String,
    pub decision: Decision,
    /// The rejection reason (null for approvals).
    pub reason: Option<String>,
    pub operator_id: String,
    pub decided_at: DateTime<Utc>,
}

/// An onboarding application in the operators' queue.
#[derive(Debug, Serialize, ToSchema)]
pub struct OnboardingSummary {
    pub seller_id: String,
    pub seller_name: String,
    pub seller_email: String,
    pub entity_type: EntityType,
    pub legal_name: String,
    pub status: ApplicationStatus,
    pub submitted_at: Option<DateTime<Utc>>,
    pub updated_at: DateTime<Utc>,
}

/// A business certification in the operators' queue.
#[derive(Debug, Serialize, ToSchema)]
pub struct CertificationSummary {
    pub seller_id: String,
    pub seller_name: String,
    pub seller_email: String,
    /// The legal name from the seller's onboarding application, if any.
    pub legal_name: Option<String>,
    pub entity_type: Option<EntityType>,
    pub bank_name: String,
    pub bank_account_masked: String,
    pub account_holder: String,
    pub tax_rate_bp: i64,
    pub currency: String,
    pub status: ApplicationStatus,
    pub submitted_at: Option<DateTime<Utc>>,
    pub updated_at: DateTime<Utc>,
}

/// An onboarding application as an operator reviews it: the seller, the
/// application, and every decision on it (oldest first).
#[derive(Debug, Serialize, ToSchema)]
pub struct OnboardingReview {
    pub seller_id: String,
    pub seller_name: String,
    pub seller_email: String,
    #[serde(flatten)]
    pub application: OnboardingView,
    pub decisions: Vec<DecisionView>,
}

/// A business certification as an operator reviews it: the seller, the
/// certification, and every decision on it (oldest first).
#[derive(Debug, Serialize, ToSchema)]
pub struct CertificationReview {
    pub seller_id: String,
    pub seller_name: String,
    pub seller_email: String,
    /// The legal name from the seller's onboarding application, to compare
    /// with the account holder.
    pub legal_name: Option<String>,
    #[serde(flatten)]
    pub application: CertificationView,
    pub decisions: Vec<DecisionView>,
}

/// A rejection: why, so the seller can fix the application.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RejectRequest {
    /// 1 to 500 characters, shown to the seller.
    pub reason: String,
}

fn stored<T>(parsed: Option<T>, what: &str, text: &str) -> ApiResult<T> {
    parsed.ok_or_else(|| ApiError::internal(format!("stored {what} {text:?} is not known")))
}

fn status_of(text: &str) -> ApiResult<ApplicationStatus> {
    stored(ApplicationStatus::parse(text), "application status", text)
}

impl OnboardingView {
    fn from_row(r: seller_onboarding::Model) -> ApiResult<OnboardingView> {
        Ok(OnboardingView {
            status: status_of(&r.status)?,
            entity_type: stored(EntityType::parse(&r.entity_type), "entity type", &r.entity_type)?,
            legal_name: r.legal_name,
            registration_number: r.registration_number,
            contact_name: r.contact_name,
            contact_phone: r.contact_phone,
            contact_email: r.contact_email,
            address: r.address,
            support_hours: r.support_hours,
            reason: r.reason,
            submitted_at: r.submitted_at,
            decided_at: r.decided_at,
            updated_at: r.updated_at,
        })
    }
}

impl CertificationView {
    fn from_row(r: seller_certification::Model) -> ApiResult<CertificationView> {
        Ok(CertificationView {
            status: status_of(&r.status)?,
            bank_name: r.bank_name,
            bank_account_masked: r.bank_account_masked,
            account_holder: r.account_holder,
            tax_rate_bp: r.tax_rate_bp,
            currency: r.currency,
            reason: r.reason,
            submitted_at: r.submitted_at,
            decided_at: r.decided_at,
            updated_at: r.updated_at,
        })
    }
}

impl DecisionView {
    fn from_row(r: application_decision::Model) -> ApiResult<DecisionView> {
        Ok(DecisionView {
            decision: stored(Decision::parse(&r.decision), "decision", &r.decision)?,
            id: r.id,
            reason: r.reason,
            operator_id: r.operator_id,
            decided_at: r.decided_at,
        })
    }
}

fn label(kind: ApplicationKind) -> &'static str {
    match kind {
        ApplicationKind::Onboarding => "onboarding application",
        ApplicationKind::Certification => "business certification",
    }
}

/// 409 with a stable code for a move the review cycle does not allow.
fn refused(kind: ApplicationKind, e: ApplicationError) -> ApiError {
    let code = match e {
        ApplicationError::UnderReview => "under_review",
        ApplicationError::AlreadyApproved => "already_approved",
        ApplicationError::NotSubmitted => "not_submitted",
    };
    ApiError::conflict(code, format!("the {}: {e}", label(kind)))
}

/// A conditional update found the status changed since we read it: explain
/// with the status as it is now.
fn lost_race(
    kind: ApplicationKind,
    now: Option<&str>,
    step: fn(ApplicationStatus) -> Result<ApplicationStatus, ApplicationError>,
) -> ApiError {
    match now.and_then(ApplicationStatus::parse).map(step) {
        Some(Err(e)) => refused(kind, e),
        _ => ApiError::conflict(
            "concurrent_update",
            format!("the {} changed while this request ran; try again", label(kind)),
        ),
    }
}

fn trimmed(s: &str) -> String {
    s.trim().to_string()
}

// ---------------------------------------------------------------------------
// Seller: onboarding

/// Creates or edits the seller's onboarding application (draft).
pub async fn save_onboarding(state: &AppState, p: &Principal, form: OnboardingForm) -> ApiResult<OnboardingView> {
    check_onboarding(&form)?;
    const KIND: ApplicationKind = ApplicationKind::Onboarding;
    let now = state.now();
    let tx = state.db.write().await?;
    let existing = sellers::find_onboarding(&tx, &p.account_id).await?;
    let mut row = seller_onboarding::Model {
        seller_id: p.account_id.clone(),
        status: ApplicationStatus::Draft.as_str().to_string(),
        entity_type: form.entity_type.as_str().to_string(),
        legal_name: trimmed(&form.legal_name),
        registration_number: trimmed(&form.registration_number),
        contact_name: trimmed(&form.contact_name),
        contact_phone: trimmed(&form.contact_phone),
        contact_email: trimmed(&form.contact_email),
        address: trimmed(&form.address),
        support_hours: trimmed(&form.support_hours),
        reason: None,
        submitted_at: None,
        decided_at: None,
        updated_at: now,
    };
    match existing {
        None => sellers::insert_onboarding(&tx, row.clone()).await.map_err(|e| match e {
            StoreError::Conflict(_) => lost_race(KIND, None, ApplicationStatus::edit),
            other => other.into(),
        })?,
        Some(old) => {
            row.status = status_of(&old.status)?.edit().map_err(|e| refused(KIND, e))?.as_str().to_string();
            row.reason = old.reason;
            row.submitted_at = old.submitted_at;
            row.decided_at = old.decided_at;
            if !sellers::replace_onboarding(&tx, row.clone(), &old.status).await? {
                let now = sellers::find_onboarding(&tx, &p.account_id).await?;
                return Err(lost_race(KIND, now.as_ref().map(|r| r.status.as_str()), ApplicationStatus::edit));
            }
        }
    }
    tx.commit().await?;
    OnboardingView::from_row(row)
}

pub async fn get_onboarding(state: &AppState, p: &Principal) -> ApiResult<OnboardingView> {
    let row = sellers::find_onboarding(&state.db.conn, &p.account_id)
        .await?
        .ok_or_else(|| ApiError::not_found("onboarding application"))?;
    OnboardingView::from_row(row)
}

/// Submits the saved application for review.
pub async fn submit_onboarding(state: &AppState, p: &Principal) -> ApiResult<OnboardingView> {
    const KIND: ApplicationKind = ApplicationKind::Onboarding;
    let now = state.now();
    let tx = state.db.write().await?;
    let row = sellers::find_onboarding(&tx, &p.account_id).await?.ok_or_else(|| {
        ApiError::conflict("nothing_to_submit", "save the onboarding application (PUT) before submitting it")
    })?;
    let to = status_of(&row.status)?.submit().map_err(|e| refused(KIND, e))?;
    if !sellers::submit_onboarding(&tx, &p.account_id, &row.status, to.as_str(), now).await? {
        let now = sellers::find_onboarding(&tx, &p.account_id).await?;
        return Err(lost_race(KIND, now.as_ref().map(|r| r.status.as_str()), ApplicationStatus::submit));
    }
    let row = sellers::find_onboarding(&tx, &p.account_id).await?.ok_or_else(|| ApiError::internal("lost row"))?;
    tx.commit().await?;
    OnboardingView::from_row(row)
}

// ---------------------------------------------------------------------------
// Seller: business certification

/// Creates or edits the seller's business certification (draft). The bank
/// account is stored encrypted; only its masked form is ever shown.
pub async fn save_certification(
    state: &AppState,
    p: &Principal,
    form: CertificationForm,
) -> ApiResult<CertificationView> {
    check_certification(&form)?;
    const KIND: ApplicationKind = ApplicationKind::Certification;
    let account = compact_account(&form.bank_account);
    let now = state.now();
    let tx = state.db.write().await?;
    let existing = sellers::find_certification(&tx, &p.account_id).await?;
    let mut row = seller_certification::Model {
        seller_id: p.account_id.clone(),
        status: ApplicationStatus::Draft.as_str().to_string(),
        bank_name: trimmed(&form.bank_name),
        bank_account_enc: state.crypto.encrypt(BANK_ACCOUNT_FIELD, &account),
        bank_account_masked: mask_account(&account),
        account_holder: trimmed(&form.account_holder),
        tax_rate_bp: form.tax_rate_bp,
        currency: form.currency.clone(),
        reason: None,
        submitted_at: None,
        decided_at: None,
        updated_at: now,
    };
    match existing {
        None => sellers::insert_certification(&tx, row.clone()).await.map_err(|e| match e {
            StoreError::Conflict(_) => lost_race(KIND, None, ApplicationStatus::edit),
            other => other.into(),
        })?,
        Some(old) => {
            row.status = status_of(&old.status)?.edit().map_err(|e| refused(KIND, e))?.as_str().to_string();
            row.reason = old.reason;
            row.submitted_at = old.submitted_at;
            row.decided_at = old.decided_at;
            if !sellers::replace_certification(&tx, row.clone(), &old.status).await? {
                let now = sellers::find_certification(&tx, &p.account_id).await?;
                return Err(lost_race(KIND, now.as_ref().map(|r| r.status.as_str()), ApplicationStatus::edit));
            }
        }
    }
    tx.commit().await?;
    CertificationView::from_row(row)
}

pub async fn get_certification(state: &AppState, p: &Principal) -> ApiResult<CertificationView> {
    let row = sellers::find_certification(&state.db.conn, &p.account_id)
        .await?
        .ok_or_else(|| ApiError::not_found("business certification"))?;
    CertificationView::from_row(row)
}

/// Submits the saved certification for review; the onboarding application
/// must be approved first.
pub async fn submit_certification(state: &AppState, p: &Principal) -> ApiResult<CertificationView> {
    const KIND: ApplicationKind = ApplicationKind::Certification;
    let now = state.now();
    let tx = state.db.write().await?;
    let row = sellers::find_certification(&tx, &p.account_id).await?.ok_or_else(|| {
        ApiError::conflict("nothing_to_submit", "save the business certification (PUT) before submitting it")
    })?;
    let to = status_of(&row.status)?.submit().map_err(|e| refused(KIND, e))?;
    let onboarded = sellers::find_onboarding(&tx, &p.account_id)
        .await?
        .is_some_and(|o| o.status == ApplicationStatus::Approved.as_str());
    if !onboarded {
        return Err(ApiError::conflict(
            "onboarding_not_approved",
            "the business certification can be submitted once the onboarding application is approved",
        ));
    }
    if !sellers::submit_certification(&tx, &p.account_id, &row.status, to.as_str(), now).await? {
        let now = sellers::find_certification(&tx, &p.account_id).await?;
        return Err(lost_race(KIND, now.as_ref().map(|r| r.status.as_str()), ApplicationStatus::submit));
    }
    let row = sellers::find_certification(&tx, &p.account_id).await?.ok_or_else(|| ApiError::internal("lost row"))?;
    tx.commit().await?;
    CertificationView::from_row(row)
}

// ---------------------------------------------------------------------------
// Seller: agreement

pub async fn get_agreement(state: &AppState, p: &Principal) -> ApiResult<AgreementView> {
    let row = sellers::find_agreement(&state.db.conn, &p.account_id, AGREEMENT_VERSION).await?;
    Ok(AgreementView { version: AGREEMENT_VERSION.to_string(), accepted_at: row.map(|r| r.accepted_at) })
}

/// Accepts the current agreement. Accepting again changes nothing and answers
/// with the first acceptance.
pub async fn accept_agreement(state: &AppState, p: &Principal) -> ApiResult<AgreementView> {
    let tx = state.db.write().await?;
    let row = sellers::accept_agreement(&tx, &p.account_id, AGREEMENT_VERSION, state.now()).await?;
    tx.commit().await?;
    Ok(AgreementView { version: row.version, accepted_at: Some(row.accepted_at) })
}

// ---------------------------------------------------------------------------
// Operator: queues, reviews, decisions

fn seller_fields(seller_id: &str, account: Option<account::Model>) -> (String, String) {
    match account {
        Some(a) => (a.name, a.email),
        None => {
            tracing::warn!(%seller_id, "application without a seller account");
            (String::new(), String::new())
        }
    }
}

/// Onboarding applications, optionally of one status, by seller id.
pub async fn list_onboarding(
    state: &AppState,
    status: Option<ApplicationStatus>,
    paging: Paging,
) -> ApiResult<Page<OnboardingSummary>> {
    let rows = sellers::list_onboarding(
        &state.db.conn,
        status.map(ApplicationStatus::as_str),
        paging.cursor.as_deref(),
        paging.limit + 1,
    )
    .await?;
    let views = rows
        .into_iter()
        .map(|(r, a)| {
            let (seller_name, seller_email) = seller_fields(&r.seller_id, a);
            Ok(OnboardingSummary {
                status: status_of(&r.status)?,
                entity_type: stored(EntityType::parse(&r.entity_type), "entity type", &r.entity_type)?,
                seller_id: r.seller_id,
                seller_name,
                seller_email,
                legal_name: r.legal_name,
                submitted_at: r.submitted_at,
                updated_at: r.updated_at,
            })
        })
        .collect::<ApiResult<Vec<_>>>()?;
    Ok(paging.finish(views, |v| v.seller_id.clone(), |v| v))
}

/// Business certifications, optionally of one status, by seller id.
pub async fn list_certification(
    state: &AppState,
    status: Option<ApplicationStatus>,
    paging: Paging,
) -> ApiResult<Page<CertificationSummary>> {
    let rows = sellers::list_certification(
        &state.db.conn,
        status.map(ApplicationStatus::as_str),
        paging.cursor.as_deref(),
        paging.limit + 1,
    )
    .await?;
    let mut onboarding =
        sellers::onboarding_by_seller(&state.db.conn, rows.iter().map(|(r, _)| r.seller_id.clone()).collect()).await?;
    let views = rows
        .into_iter()
        .map(|(r, a)| {
            let (seller_name, seller_email) = seller_fields(&r.seller_id, a);
            let o = onboarding.remove(&r.seller_id);
            Ok(CertificationSummary {
                status: status_of(&r.status)?,
                legal_name: o.as_ref().map(|o| o.legal_name.clone()),
                entity_type: o.as_ref().and_then(|o| EntityType::parse(&o.entity_type)),
                seller_id: r.seller_id,
                seller_name,
                seller_email,
                bank_name: r.bank_name,
                bank_account_masked: r.bank_account_masked,
                account_holder: r.account_holder,
                tax_rate_bp: r.tax_rate_bp,
                currency: r.currency,
                submitted_at: r.submitted_at,
                updated_at: r.updated_at,
            })
        })
        .collect::<ApiResult<Vec<_>>>()?;
    Ok(paging.finish(views, |v| v.seller_id.clone(), |v| v))
}

async fn decision_views(
    db: &impl ConnectionTrait,
    seller_id: &str,
    kind: ApplicationKind,
) -> ApiResult<Vec<DecisionView>> {
    sellers::decisions(db, seller_id, kind.as_str()).await?.into_iter().map(DecisionView::from_row).collect()
}

/// A seller id that cannot be one is a 404 without a query.
fn check_seller_id(seller_id: &str, kind: ApplicationKind) -> ApiResult<()> {
    if is_id_of(IdKind::Account, seller_id) { Ok(()) } else { Err(ApiError::not_found(label(kind))) }
}

pub async fn onboarding_review(state: &AppState, seller_id: &str) -> ApiResult<OnboardingReview> {
    const KIND: ApplicationKind = ApplicationKind::Onboarding;
    check_seller_id(seller_id, KIND)?;
    let db = &state.db.conn;
    let row = sellers::find_onboarding(db, seller_id).await?.ok_or_else(|| ApiError::not_found(label(KIND)))?;
    let (seller_name, seller_email) = seller_fields(seller_id, accounts::find(db, seller_id).await?);
    Ok(OnboardingReview {
        seller_id: seller_id.to_string(),
        seller_name,
        seller_email,
        application: OnboardingView::from_row(row)?,
        decisions: decision_views(db, seller_id, KIND).await?,
    })
}

pub async fn certification_review(state: &AppState, seller_id: &str) -> ApiResult<CertificationReview> {
    const KIND: ApplicationKind = ApplicationKind::Certification;
    check_seller_id(seller_id, KIND)?;
    let db = &state.db.conn;
    let row = sellers::find_certification(db, seller_id).await?.ok_or_else(|| ApiError::not_found(label(KIND)))?;
    let (seller_name, seller_email) = seller_fields(seller_id, accounts::find(db, seller_id).await?);
    let legal_name = sellers::find_onboarding(db, seller_id).await?.map(|o| o.legal_name);
    Ok(CertificationReview {
        seller_id: seller_id.to_string(),
        seller_name,
        seller_email,
        legal_name,
        application: CertificationView::from_row(row)?,
        decisions: decision_views(db, seller_id, KIND).await?,
    })
}

/// Records an operator's decision on a submitted application: the status
/// change (conditional on it still being submitted) and the decision row
/// commit together in one write transaction, so of two operators deciding at
/// once exactly one wins and the other gets 409.
async fn decide(
    state: &AppState,
    operator: &Principal,
    kind: ApplicationKind,
    seller_id: &str,
    decision: Decision,
    reason: Option<&str>,
) -> ApiResult<()> {
    check_seller_id(seller_id, kind)?;
    let step = |s: ApplicationStatus| s.decide(decision.approves());
    let now = state.now();
    let tx = state.db.write().await?;
    let current = match kind {
        ApplicationKind::Onboarding => sellers::find_onboarding(&tx, seller_id).await?.map(|r| r.status),
        ApplicationKind::Certification => sellers::find_certification(&tx, seller_id).await?.map(|r| r.status),
    };
    let current = current.ok_or_else(|| ApiError::not_found(label(kind)))?;
    let to = step(status_of(&current)?).map_err(|e| refused(kind, e))?;
    let from = ApplicationStatus::Submitted.as_str();
    let done = match kind {
        ApplicationKind::Onboarding => {
            sellers::decide_onboarding(&tx, seller_id, from, to.as_str(), reason, now).await?
        }
        ApplicationKind::Certification => {
            sellers::decide_certification(&tx, seller_id, from, to.as_str(), reason, now).await?
        }
    };
    if !done {
        // Another operator decided between our read and our write.
        let now = match kind {
            ApplicationKind::Onboarding => sellers::find_onboarding(&tx, seller_id).await?.map(|r| r.status),
            ApplicationKind::Certification => sellers::find_certification(&tx, seller_id).await?.map(|r| r.status),
        };
        return Err(lost_race(kind, now.as_deref(), |s| s.decide(true)));
    }
    sellers::insert_decision(
        &tx,
        application_decision::Model {
            id: new_id(IdKind::Decision),
            seller_id: seller_id.to_string(),
            application: kind.as_str().to_string(),
            decision: decision.as_str().to_string(),
            reason: reason.map(str::to_string),
            operator_id: operator.account_id.clone(),
            decided_at: now,
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

fn reject_reason(req: &RejectRequest) -> ApiResult<String> {
    check_reject_reason(&req.reason)?;
    Ok(req.reason.trim().to_string())
}

pub async fn approve_onboarding(state: &AppState, op: &Principal, seller_id: &str) -> ApiResult<OnboardingReview> {
    decide(state, op, ApplicationKind::Onboarding, seller_id, Decision::Approved, None).await?;
    onboarding_review(state, seller_id).await
}

pub async fn reject_onboarding(
    state: &AppState,
    op: &Principal,
    seller_id: &str,
    req: RejectRequest,
) -> ApiResult<OnboardingReview> {
    let reason = reject_reason(&req)?;
    decide(state, op, ApplicationKind::Onboarding, seller_id, Decision::Rejected, Some(&reason)).await?;
    onboarding_review(state, seller_id).await
}

pub async fn approve_certification(
    state: &AppState,
    op: &Principal,
    seller_id: &str,
) -> ApiResult<CertificationReview> {
    decide(state, op, ApplicationKind::Certification, seller_id, Decision::Approved, None).await?;
    certification_review(state, seller_id).await
}

pub async fn reject_certification(
    state: &AppState,
    op: &Principal,
    seller_id: &str,
    req: RejectRequest,
) -> ApiResult<CertificationReview> {
    let reason = reject_reason(&req)?;
    decide(state, op, ApplicationKind::Certification, seller_id, Decision::Rejected, Some(&reason)).await?;
    certification_review(state, seller_id).await
}

//! The operator's side: queues, reviews and decisions.

use super::*;
use mercato_domain::account::Role;
use mercato_domain::ids::{AccountId, DecisionId};

/// The applicant's name, email and role (a seller or a partner: both go
/// through the same onboarding and certification).
fn seller_fields(seller_id: &str, account: Option<account::Model>) -> (String, String, Role) {
    match account {
        Some(a) => (a.name, a.email, a.role),
        None => {
            tracing::warn!(%seller_id, "application without an account");
            (String::new(), String::new(), Role::Seller)
        }
    }
}

/// Onboarding applications, optionally of one status, by seller id.
pub async fn list_onboarding(
    state: &AppState,
    status: Option<ApplicationStatus>,
    paging: Paging,
) -> AppResult<Page<OnboardingSummary>> {
    let rows = sellers::list_onboarding(&state.db.conn, status, paging.cursor.as_deref(), paging.limit + 1).await?;
    let views = rows
        .into_iter()
        .map(|(r, a)| {
            let (seller_name, seller_email, role) = seller_fields(&r.seller_id, a);
            Ok(OnboardingSummary {
                status: r.status,
                entity_type: r.entity_type,
                seller_id: r.seller_id,
                role,
                seller_name,
                seller_email,
                legal_name: r.legal_name,
                submitted_at: r.submitted_at,
                updated_at: r.updated_at,
            })
        })
        .collect::<AppResult<Vec<_>>>()?;
    Ok(paging.finish(views, |v| v.seller_id.clone(), |v| v))
}

/// Business certifications, optionally of one status, by seller id.
pub async fn list_certification(
    state: &AppState,
    status: Option<ApplicationStatus>,
    paging: Paging,
) -> AppResult<Page<CertificationSummary>> {
    let rows = sellers::list_certification(&state.db.conn, status, paging.cursor.as_deref(), paging.limit + 1).await?;
    let mut onboarding =
        sellers::onboarding_by_seller(&state.db.conn, rows.iter().map(|(r, _)| r.seller_id.clone()).collect()).await?;
    let views = rows
        .into_iter()
        .map(|(r, a)| {
            let (seller_name, seller_email, role) = seller_fields(&r.seller_id, a);
            let o = onboarding.remove(&r.seller_id);
            Ok(CertificationSummary {
                status: r.status,
                legal_name: o.as_ref().map(|o| o.legal_name.clone()),
                entity_type: o.as_ref().map(|o| o.entity_type),
                seller_id: r.seller_id,
                role,
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
        .collect::<AppResult<Vec<_>>>()?;
    Ok(paging.finish(views, |v| v.seller_id.clone(), |v| v))
}

async fn decision_views(db: &impl Executor, seller_id: &str, kind: ApplicationKind) -> AppResult<Vec<DecisionView>> {
    sellers::decisions(db, seller_id, kind).await?.into_iter().map(DecisionView::from_row).collect()
}

/// A seller id that cannot be one is a 404 without a query.
fn check_seller_id(seller_id: &str, kind: ApplicationKind) -> AppResult<()> {
    if AccountId::is_valid(seller_id) { Ok(()) } else { Err(AppError::not_found(label(kind))) }
}

pub async fn onboarding_review(state: &AppState, seller_id: &str) -> AppResult<OnboardingReview> {
    const KIND: ApplicationKind = ApplicationKind::Onboarding;
    check_seller_id(seller_id, KIND)?;
    let db = &state.db.conn;
    let row = sellers::find_onboarding(db, seller_id).await?.ok_or_else(|| AppError::not_found(label(KIND)))?;
    let (seller_name, seller_email, role) = seller_fields(seller_id, accounts::find(db, seller_id).await?);
    Ok(OnboardingReview {
        seller_id: seller_id.to_string(),
        role,
        seller_name,
        seller_email,
        application: OnboardingView::from_row(row)?,
        decisions: decision_views(db, seller_id, KIND).await?,
    })
}

pub async fn certification_review(state: &AppState, seller_id: &str) -> AppResult<CertificationReview> {
    const KIND: ApplicationKind = ApplicationKind::Certification;
    check_seller_id(seller_id, KIND)?;
    let db = &state.db.conn;
    let row = sellers::find_certification(db, seller_id).await?.ok_or_else(|| AppError::not_found(label(KIND)))?;
    let (seller_name, seller_email, role) = seller_fields(seller_id, accounts::find(db, seller_id).await?);
    let legal_name = sellers::find_onboarding(db, seller_id).await?.map(|o| o.legal_name);
    Ok(CertificationReview {
        seller_id: seller_id.to_string(),
        role,
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
) -> AppResult<()> {
    check_seller_id(seller_id, kind)?;
    let step = |s: ApplicationStatus| s.decide(decision.approves());
    let now = state.now();
    let tx = state.db.write().await?;
    let current = match kind {
        ApplicationKind::Onboarding => sellers::find_onboarding(&tx, seller_id).await?.map(|r| r.status),
        ApplicationKind::Certification => sellers::find_certification(&tx, seller_id).await?.map(|r| r.status),
    };
    let current = current.ok_or_else(|| AppError::not_found(label(kind)))?;
    let to = step(current).map_err(|e| refused(kind, e))?;
    let from = ApplicationStatus::Submitted;
    let done = match kind {
        ApplicationKind::Onboarding => sellers::decide_onboarding(&tx, seller_id, from, to, reason, now).await?,
        ApplicationKind::Certification => sellers::decide_certification(&tx, seller_id, from, to, reason, now).await?,
    };
    if !done {
        // Another operator decided between our read and our write.
        let now = match kind {
            ApplicationKind::Onboarding => sellers::find_onboarding(&tx, seller_id).await?.map(|r| r.status),
            ApplicationKind::Certification => sellers::find_certification(&tx, seller_id).await?.map(|r| r.status),
        };
        return Err(lost_race(kind, now, |s| s.decide(true)));
    }
    sellers::insert_decision(
        &tx,
        application_decision::Model {
            id: String::from(DecisionId::new()),
            seller_id: seller_id.to_string(),
            application: kind,
            decision,
            reason: reason.map(str::to_string),
            operator_id: operator.account_id.clone(),
            decided_at: now,
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

fn reject_reason(req: &RejectApplication) -> AppResult<String> {
    check_reject_reason(&req.reason)?;
    Ok(req.reason.trim().to_string())
}

pub async fn approve_onboarding(state: &AppState, op: &Principal, seller_id: &str) -> AppResult<OnboardingReview> {
    decide(state, op, ApplicationKind::Onboarding, seller_id, Decision::Approved, None).await?;
    onboarding_review(state, seller_id).await
}

pub async fn reject_onboarding(
    state: &AppState,
    op: &Principal,
    seller_id: &str,
    req: RejectApplication,
) -> AppResult<OnboardingReview> {
    let reason = reject_reason(&req)?;
    decide(state, op, ApplicationKind::Onboarding, seller_id, Decision::Rejected, Some(&reason)).await?;
    onboarding_review(state, seller_id).await
}

pub async fn approve_certification(
    state: &AppState,
    op: &Principal,
    seller_id: &str,
) -> AppResult<CertificationReview> {
    decide(state, op, ApplicationKind::Certification, seller_id, Decision::Approved, None).await?;
    certification_review(state, seller_id).await
}

pub async fn reject_certification(
    state: &AppState,
    op: &Principal,
    seller_id: &str,
    req: RejectApplication,
) -> AppResult<CertificationReview> {
    let reason = reject_reason(&req)?;
    decide(state, op, ApplicationKind::Certification, seller_id, Decision::Rejected, Some(&reason)).await?;
    certification_review(state, seller_id).await
}

//! The seller's side: onboarding, certification and the agreement.

use super::*;

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

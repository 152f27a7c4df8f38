//! The seller's side: onboarding, certification and the agreement.

use super::*;

/// Creates or edits the seller's onboarding application (draft).
pub async fn save_onboarding(state: &AppState, p: &Principal, form: OnboardingForm) -> AppResult<OnboardingView> {
    check_onboarding(&form)?;
    let row = seller_onboarding::Model {
        seller_id: p.account_id.clone(),
        status: ApplicationStatus::Draft,
        entity_type: form.entity_type,
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
        updated_at: state.now(),
    };
    OnboardingView::from_row(application::save(state, &p.account_id, row).await?)
}

pub async fn get_onboarding(state: &AppState, p: &Principal) -> AppResult<OnboardingView> {
    let row = sellers::find_onboarding(&state.db.conn, &p.account_id)
        .await?
        .ok_or_else(|| AppError::not_found("onboarding application"))?;
    OnboardingView::from_row(row)
}

/// Submits the saved application for review.
pub async fn submit_onboarding(state: &AppState, p: &Principal) -> AppResult<OnboardingView> {
    OnboardingView::from_row(application::submit(state, &p.account_id).await?)
}

// ---------------------------------------------------------------------------
// Seller: business certification

/// Creates or edits the seller's business certification (draft). The bank
/// account is stored encrypted; only its masked form is ever shown.
pub async fn save_certification(
    state: &AppState,
    p: &Principal,
    form: CertificationForm,
) -> AppResult<CertificationView> {
    check_certification(&form)?;
    let account = compact_account(&form.bank_account);
    let row = seller_certification::Model {
        seller_id: p.account_id.clone(),
        status: ApplicationStatus::Draft,
        bank_name: trimmed(&form.bank_name),
        bank_account_enc: state.crypto.encrypt(BANK_ACCOUNT_FIELD, &account),
        bank_account_masked: mask_account(&account),
        account_holder: trimmed(&form.account_holder),
        tax_rate_bp: form.tax_rate_bp,
        currency: form.currency.clone(),
        reason: None,
        submitted_at: None,
        decided_at: None,
        updated_at: state.now(),
    };
    CertificationView::from_row(application::save(state, &p.account_id, row).await?)
}

pub async fn get_certification(state: &AppState, p: &Principal) -> AppResult<CertificationView> {
    let row = sellers::find_certification(&state.db.conn, &p.account_id)
        .await?
        .ok_or_else(|| AppError::not_found("business certification"))?;
    CertificationView::from_row(row)
}

/// Submits the saved certification for review; the onboarding application
/// must be approved first.
pub async fn submit_certification(state: &AppState, p: &Principal) -> AppResult<CertificationView> {
    CertificationView::from_row(application::submit(state, &p.account_id).await?)
}

// ---------------------------------------------------------------------------
// Seller: agreement

pub async fn get_agreement(state: &AppState, p: &Principal) -> AppResult<AgreementView> {
    let row = sellers::find_agreement(&state.db.conn, &p.account_id, AGREEMENT_VERSION).await?;
    Ok(AgreementView { version: AGREEMENT_VERSION.to_string(), accepted_at: row.map(|r| r.accepted_at) })
}

/// Accepts the current agreement. Accepting again changes nothing and answers
/// with the first acceptance.
pub async fn accept_agreement(state: &AppState, p: &Principal) -> AppResult<AgreementView> {
    let tx = state.db.write().await?;
    let row = sellers::accept_agreement(&tx, &p.account_id, AGREEMENT_VERSION, state.now()).await?;
    tx.commit().await?;
    Ok(AgreementView { version: row.version, accepted_at: Some(row.accepted_at) })
}

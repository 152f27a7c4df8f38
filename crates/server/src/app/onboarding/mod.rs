//! Seller onboarding (入驻), business certification (商业信息认证) and the
//! seller agreement.

use crate::app::error::{AppError, AppResult};
use crate::auth::Principal;
use crate::state::AppState;
use chrono::{DateTime, Utc};

use mercato_domain::onboarding::{
    ApplicationError, ApplicationKind, ApplicationStatus, CertificationForm, Decision, EntityType, OnboardingForm,
    check_certification, check_onboarding, check_reject_reason, compact_account, mask_account,
};
use mercato_store::Executor;
use mercato_store::StoreError;
use mercato_store::entity::{account, application_decision, seller_certification, seller_onboarding};
use mercato_store::repo::{accounts, sellers};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::page::{Page, Paging};

/// The version of the seller agreement sellers accept now.
pub const AGREEMENT_VERSION: &str = "2026-11";

/// Only an approved, certified seller that accepted the current agreement may
/// submit products for review. Answers 409 `seller_not_ready` naming what is missing.
pub async fn ensure_can_sell(db: &impl Executor, seller_id: &str) -> AppResult<()> {
    let ready = sellers::readiness(db, seller_id, AGREEMENT_VERSION).await?;
    let mut missing = Vec::new();
    if !ready.onboarding_approved {
        missing.push("an approved onboarding application");
    }
    if !ready.certification_approved {
        missing.push("an approved business certification");
    }
    if !ready.agreed {
        missing.push("acceptance of the current seller agreement");
    }
    if missing.is_empty() {
        Ok(())
    } else {
        Err(AppError::conflict(
            "seller_not_ready",
            format!("before submitting products the seller needs {}", missing.join(", ")),
        ))
    }
}

/// The field name the bank account's ciphertext is bound to.
pub(crate) const BANK_ACCOUNT_FIELD: &str = "seller_certification.bank_account";

fn label(kind: ApplicationKind) -> &'static str {
    match kind {
        ApplicationKind::Onboarding => "onboarding application",
        ApplicationKind::Certification => "business certification",
    }
}

/// 409 with a stable code for a move the review cycle does not allow.
fn refused(kind: ApplicationKind, e: ApplicationError) -> AppError {
    let code = match e {
        ApplicationError::UnderReview => "under_review",
        ApplicationError::AlreadyApproved => "already_approved",
        ApplicationError::NotSubmitted => "not_submitted",
    };
    AppError::conflict(code, format!("the {}: {e}", label(kind)))
}

/// A conditional update found the status changed since we read it: explain
/// with the status as it is now.
fn lost_race(
    kind: ApplicationKind,
    now: Option<ApplicationStatus>,
    step: fn(ApplicationStatus) -> Result<ApplicationStatus, ApplicationError>,
) -> AppError {
    match now.map(step) {
        Some(Err(e)) => refused(kind, e),
        _ => AppError::conflict(
            "concurrent_update",
            format!("the {} changed while this request ran; try again", label(kind)),
        ),
    }
}

fn trimmed(s: &str) -> String {
    s.trim().to_string()
}

mod application;
mod operator;
mod seller;
mod views;

pub use operator::*;
pub use seller::*;
pub use views::*;

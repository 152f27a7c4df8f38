//! A partner's onboarding and certification: the seller flow's applications
//! (`app::onboarding`, keyed by account id) and its operator review. The
//! partner's endpoints call the same use cases; this module holds the one
//! check the partner's other use cases make.

use crate::app::error::{AppError, AppResult};
use crate::app::onboarding::AGREEMENT_VERSION;
use mercato_store::Executor;
use mercato_store::repo::sellers;

/// A partner may invite customers, ask for exclusive discounts and file
/// demands only once its onboarding application and business certification
/// are approved. Answers 409 `partner_not_certified` naming what is missing.
pub async fn ensure_certified(db: &impl Executor, partner_id: &str) -> AppResult<()> {
    let ready = sellers::readiness(db, partner_id, AGREEMENT_VERSION).await?;
    let mut missing = Vec::new();
    if !ready.onboarding_approved {
        missing.push("an approved onboarding application");
    }
    if !ready.certification_approved {
        missing.push("an approved business certification");
    }
    if missing.is_empty() {
        Ok(())
    } else {
        Err(AppError::conflict("partner_not_certified", format!("the partner needs {} first", missing.join(" and "))))
    }
}

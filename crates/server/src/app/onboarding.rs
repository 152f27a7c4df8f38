//! Seller onboarding (入驻), business certification (商业信息认证) and the
//! seller agreement.

use crate::error::{ApiError, ApiResult};
use mercato_domain::onboarding::ApplicationStatus;
use mercato_store::entity::{seller_agreement, seller_certification, seller_onboarding};
use mercato_store::sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};

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

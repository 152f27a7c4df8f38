//! The partner share (an operator's setting): the part of an attributed
//! sale a partner earns, in basis points of the gross. New exclusive
//! discounts may not exceed it; approving one fixes it on the discount.

use crate::app::error::AppResult;
use crate::state::AppState;
use mercato_domain::channel::partners::check_share_bp;
use mercato_store::repo::settings;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The partner share.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PartnerShare {
    /// Basis points of an attributed sale's gross (0-10000; 500 = 5%).
    #[schema(minimum = 0, maximum = 10000)]
    pub share_bp: i64,
}

pub async fn get(state: &AppState) -> AppResult<PartnerShare> {
    Ok(PartnerShare { share_bp: settings::partner_share_bp(&state.db.conn).await? })
}

pub async fn set(state: &AppState, req: PartnerShare) -> AppResult<PartnerShare> {
    check_share_bp(req.share_bp)?;
    let tx = state.db.write().await?;
    settings::set_partner_share_bp(&tx, req.share_bp).await?;
    tx.commit().await?;
    Ok(PartnerShare { share_bp: req.share_bp })
}

//! Private offers: a seller's prices for one buyer on one joint-operation
//! product (Private Offers exist only for 联营 products), made directly or
//! in answer to a partner's customer demand.

use super::pricing::OfferPrice;
use crate::orders::Period;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

string_enum!(
    /// A private offer: `active` (the buyer may buy with it while valid),
    /// `accepted` (an order used it), `withdrawn` by the seller.
    OfferStatus {
        Active => "active",
        Accepted => "accepted",
        Withdrawn => "withdrawn",
    }
);

/// One SKU an offer prices.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OfferSku {
    pub sku_id: String,
    pub price: OfferPrice,
}

/// What an offer holds for: its SKUs and, for period SKUs, the terms the
/// buyer must buy (a period and, optionally, a count).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OfferTerms {
    pub skus: Vec<OfferSku>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub period: Option<Period>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub period_count: Option<i64>,
}

crate::stored_as_json!(OfferTerms);

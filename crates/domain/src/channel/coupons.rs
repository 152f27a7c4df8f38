//! Coupons (满减代金券): a seller's batch of threshold coupons for named
//! products or SKUs of its on-sale products; buyers claim them and apply
//! one when ordering.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

string_enum!(
    /// A coupon batch: `active` (claimable while valid and not exhausted)
    /// or `stopped` by the seller (claimed coupons stay usable).
    CouponBatchStatus {
        Active => "active",
        Stopped => "stopped",
    }
);

string_enum!(
    /// A claimed coupon: `available`, or `used` by an order (given back
    /// when that order is cancelled unpaid or refunded in full).
    CouponStatus {
        Available => "available",
        Used => "used",
    }
);

/// What a batch applies to: any of these products, or any of these SKUs.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CouponScope {
    #[serde(default)]
    pub product_ids: Vec<String>,
    #[serde(default)]
    pub sku_ids: Vec<String>,
}

crate::stored_as_json!(CouponScope);

impl CouponScope {
    /// True when a line of `product_id` / `sku_id` is within the scope.
    pub fn covers(&self, product_id: &str, sku_id: &str) -> bool {
        self.product_ids.iter().any(|p| p == product_id) || self.sku_ids.iter().any(|s| s == sku_id)
    }
}

//! Identifiers: UUIDv7 (time-ordered, so they sort by creation) shown with a
//! short type prefix, e.g. `prd_0193...`, stored as the same text. Every
//! prefixed id is declared here, once, by [`prefixed_ids!`], and minted only
//! through its type's `new()`: no other module formats an id.
//!
//! Order and order-line ids are not here: they follow KooGallery's own format
//! (see `orders::rules::order_id`).

use serde::{Deserialize, Serialize};
use uuid::Uuid;

macro_rules! prefixed_ids {
    ($($(#[$meta:meta])* $name:ident => $prefix:literal,)+) => {
        $(
            $(#[$meta])*
            #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
            #[serde(transparent)]
            pub struct $name(String);

            impl $name {
                pub const PREFIX: &'static str = $prefix;

                /// A new id, sorting after every id minted before it.
                #[allow(clippy::new_without_default)]
                pub fn new() -> Self {
                    $name(format!("{}_{}", $prefix, Uuid::now_v7().simple()))
                }

                /// `text` as this kind of id, when it has the prefix and 32
                /// hex digits. Turns malformed path ids into 404s without
                /// touching the database.
                pub fn parse(text: &str) -> Option<Self> {
                    has_shape(text, $prefix).then(|| $name(text.to_owned()))
                }

                /// True when `text` has this kind of id's shape.
                pub fn is_valid(text: &str) -> bool {
                    has_shape(text, $prefix)
                }

                pub fn as_str(&self) -> &str {
                    &self.0
                }
            }

            impl std::fmt::Display for $name {
                fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                    f.write_str(&self.0)
                }
            }

            impl From<$name> for String {
                fn from(id: $name) -> String {
                    id.0
                }
            }

            impl AsRef<str> for $name {
                fn as_ref(&self) -> &str {
                    &self.0
                }
            }
        )+

        #[cfg(test)]
        const ALL_PREFIXES: &[&str] = &[$($prefix),+];
    };
}

prefixed_ids! {
    /// A buyer, seller or operator account.
    AccountId => "acc",
    /// An API key of an account.
    ApiKeyId => "key",
    CategoryId => "cat",
    ProductId => "prd",
    SkuId => "sku",
    /// A product review (listing or change).
    ReviewId => "rev",
    MediaId => "med",
    /// An operator's decision on a seller application.
    DecisionId => "dec",
    SubscriptionId => "sub",
    /// A ledger journal entry.
    EntryId => "jnl",
    PaymentId => "pay",
    JobId => "job",
    /// A recorded call to a seller's server.
    InterfaceMessageId => "imsg",
    NotificationId => "ntf",
    /// A specification sync of an upgraded subscription.
    SpecSyncId => "sync",
    /// A debug run against a seller's server.
    DebugRunId => "dbg",
    /// A usage charge.
    UsageChargeId => "uch",
    /// One push of usage records (their order of arrival).
    UsageBatchId => "ubt",
    /// A service supervision (服务监管) of a delivery.
    SupervisionId => "spv",
    /// A seller's settlement statement for a period and currency.
    StatementId => "stm",
    /// A buyer's invoice of an order (and its credit note, once returned).
    InvoiceId => "inv",
    /// A partner's binding to a customer (客户服务商 relationship).
    BindingId => "pbd",
    /// An exclusive discount (专属优惠) a partner asked for a customer.
    ExclusiveDiscountId => "xdc",
    /// A customer demand a partner passed to a seller.
    DemandId => "dmd",
    /// A seller's private offer to one buyer.
    OfferId => "ofr",
    /// A seller's batch of threshold coupons.
    CouponBatchId => "cpb",
    /// One coupon a buyer claimed.
    CouponId => "cpn",
    /// A partner's statement of shares for a period and currency.
    PartnerStatementId => "pst",
}

fn has_shape(text: &str, prefix: &str) -> bool {
    text.strip_prefix(prefix)
        .and_then(|rest| rest.strip_prefix('_'))
        .is_some_and(|hex| hex.len() == 32 && hex.bytes().all(|b| b.is_ascii_hexdigit()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_carry_prefix_and_sort_by_creation() {
        let a = ProductId::new();
        let b = ProductId::new();
        assert!(a.as_str().starts_with("prd_"));
        assert!(ProductId::is_valid(a.as_str()));
        assert!(!SkuId::is_valid(a.as_str()));
        assert!(a < b, "v7 ids must sort by creation: {a} {b}");
        assert_eq!(ProductId::parse(a.as_str()), Some(a));
    }

    #[test]
    fn malformed_ids_are_recognised() {
        assert!(!ProductId::is_valid("prd_xyz"));
        assert!(!ProductId::is_valid("prd0193"));
        assert!(!ProductId::is_valid(""));
        assert_eq!(ProductId::parse(&format!("prd_{}", "g".repeat(32))), None);
    }

    #[test]
    fn prefixes_are_distinct_and_none_is_a_prefix_of_another_with_underscore() {
        let mut seen = std::collections::HashSet::new();
        for p in ALL_PREFIXES {
            assert!(seen.insert(*p), "prefix {p} declared twice");
            assert!(!p.contains('_'), "prefix {p} must not contain '_'");
        }
    }

    #[test]
    fn ids_serialize_as_their_text() {
        let id = JobId::new();
        assert_eq!(serde_json::to_string(&id).unwrap(), format!("\"{id}\""));
    }
}

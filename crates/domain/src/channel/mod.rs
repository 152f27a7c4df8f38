//! The channel: partners (客户服务商) who bind customers and earn a share of
//! what those customers buy, the deals that lower a price (private offers,
//! exclusive discounts, coupons), and how a discounted sale is priced and
//! split ([`pricing`]).
//!
//! - [`partners`]: customer bindings, exclusive discounts (专属优惠) and
//!   customer demands, with their state machines.
//! - [`offers`]: a seller's private offer to one buyer (joint-operation
//!   products only).
//! - [`coupons`]: a seller's threshold coupons (满减代金券).
//! - [`partner_statements`]: a partner's statement of shares per period and
//!   its steps (invoice received before payout).
//! - [`pricing`]: the one pipeline every order line goes through: list
//!   price -> private offer or exclusive discount -> coupon -> amount due,
//!   and who bears each step in the ledger.

pub mod coupons;
pub mod offers;
pub mod partner_statements;
pub mod partners;
pub mod pricing;

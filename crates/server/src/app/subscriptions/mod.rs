//! A bought instance's life after payment: delivery through the seller's
//! server (fulfilment), renewal, expiry and release (lifecycle), upgrades and
//! spec changes (plan changes), unsubscribing with refunds, and the
//! follow-up orders and recorded seller calls they share.

pub mod follow_up;
pub mod fulfilment;
pub mod lifecycle;
pub mod plan_changes;
pub mod seller_calls;
pub mod unsubscribe;

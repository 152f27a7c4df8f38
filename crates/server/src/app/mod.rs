//! Application services: each use case validates with domain rules, runs its
//! reads and writes in one transaction through the store, and returns views.
//! HTTP handlers stay thin and call these.

pub mod accounts;
pub mod catalog;
pub mod categories;
pub mod credentials;
pub mod debug_runs;
pub mod fulfilment;
pub mod idempotency;
pub mod jobs;
pub mod ledger;
pub mod lifecycle;
pub mod media;
pub mod notifications;
pub mod onboarding;
pub mod open_api;
pub mod operator_orders;
pub mod orders;
pub mod page;
pub mod payments;
pub mod plan_changes;
pub mod products;
pub mod reviews;
pub mod seller_calls;
pub mod test_clock;
pub mod unsubscribe;
pub mod usage;
pub mod usage_rating;
pub mod usage_views;
pub mod wallet;

//! Application services: each use case validates with domain rules, runs its
//! reads and writes in one transaction through the store, and returns views.
//! HTTP handlers stay thin and call these.

pub mod accounts;
pub mod catalog;
pub mod categories;
pub mod coupons;
pub mod credentials;
pub mod csv;
pub mod debug_runs;
pub mod error;
pub mod invoices;
pub mod ledger;
pub mod licenses;
pub mod media;
pub mod notifications;
pub mod offers;
pub mod onboarding;
pub mod operator_orders;
pub mod orders;
pub mod outbox;
pub mod page;
pub mod partners;
pub mod payments;
pub mod products;
pub mod reviews;
pub mod settlement;
pub mod signed_api;
pub mod subscriptions;
pub mod supervision;
pub mod test_clock;
pub mod usage;
pub mod wallet;

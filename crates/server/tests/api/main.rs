//! Black-box HTTP tests: each test starts the real server on 127.0.0.1:0
//! against a fresh database (a temp SQLite file, or a new PostgreSQL
//! database when MERCATO_TEST_DATABASE_URL is set).

mod helpers;

mod accounts;
mod authorization;
mod catalog;
mod categories;
mod channel;
mod contract;
mod coupons;
mod credentials;
mod debug_runs;
mod failures;
mod fulfilment;
mod invoices;
mod jobs;
mod journey;
mod layers;
mod ledger;
mod licenses;
mod lifecycle;
mod notifications;
mod offers;
mod onboarding;
mod operator_orders;
mod ops;
mod orders;
mod partners;
mod plan_changes;
mod products;
mod reviews;
mod settlement;
mod signed_api;
mod supervision;
mod unsubscribe;
mod usage;
mod usage_rating;
mod usage_shop;
mod usage_validation;
mod usage_views;
mod wallet;

//! Integration tests of the store against a real database.
//!
//! They cover every repository function whose SQL differs by backend (raw
//! statements, `UNNEST` vs chunked `VALUES`, bind limits, advisory locks, the
//! migration runner, `Db::write`), the `ON CONFLICT` inserts that must report
//! a duplicate without aborting the caller's transaction, and the conditional
//! updates the server relies on for concurrency (job claims and leases,
//! periodic task slots, idempotency claims, wallet spending, usage validation
//! and rating). Races are real: tasks on a multi-threaded runtime, each in
//! its own write transaction, and the tests assert how many of them won.
//!
//! Each test gets a fresh, migrated database: a SQLite file in a temporary
//! directory by default, or a new PostgreSQL database when
//! `MERCATO_TEST_DATABASE_URL` names a server (dropped when the test ends):
//!
//! ```text
//! cargo test -p mercato-store
//! MERCATO_TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test cargo test -p mercato-store
//! ```

mod common;
mod fixtures;

mod catalog;
mod db;
mod idempotency;
mod interface_messages;
mod jobs;
mod ledger;
mod migrate;
mod notifications;
mod orders;
mod refunds;
mod sellers;
mod settings;
mod subscription_terms;
mod usage;
mod usage_rating;

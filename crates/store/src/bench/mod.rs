//! What `mercato bench` (and `mercato chaos`) asks of the database: scratch databases, reading and
//! adjusting what the benchmarks seeded over the API, the raw baselines they
//! compare against and the checks of their results. Only the benchmark
//! programs use this; the statements are the ones the figures were measured
//! with, so a change here changes the figures.
//!
//! Unlike the repositories, these functions take the [`Db`](crate::Db) and
//! open their own transactions: each is a step of a benchmark, never part of
//! a business change.

pub mod activity;
pub mod baseline;
pub mod chaos;
pub mod deals;
pub mod fulfilment;
pub mod rated;
pub mod rating_seed;
pub mod scratch;
pub mod seeded;
pub mod settlement_seed;
pub mod usage_records;

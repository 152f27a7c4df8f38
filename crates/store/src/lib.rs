//! Storage: one code path over an embedded SQLite file or a shared PostgreSQL
//! database. Entities, migrations and the repositories the application uses.
//! Every function that writes takes a connection or transaction from the
//! caller, so a business change and its side effects commit together.

pub mod bench;
pub mod db;
pub mod entity;
pub mod error;
pub mod migrate;
pub mod repo;

pub use db::{Backend, Db};
pub use error::StoreError;
pub use sea_orm;

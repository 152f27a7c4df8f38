//! Storage: one code path over an embedded SQLite file or a shared PostgreSQL
//! database. Entities, migrations and the repositories the application uses.
//! Every function that writes takes a connection or transaction from the
//! caller, so a business change and its side effects commit together.

pub mod backup;
pub mod bench;
mod data_migrations;
pub mod db;
pub mod entity;
pub mod error;
pub mod migrate;
pub mod repo;

pub use db::{Backend, Db, savepoint};
pub use error::StoreError;
pub use sea_orm;
/// What repository functions run on: the pool or a transaction. Callers name
/// it instead of the ORM's trait, so only this crate knows the ORM.
pub use sea_orm::ConnectionTrait as Executor;
/// A transaction opened by [`Db::write`]: commit or roll back.
pub use sea_orm::DatabaseTransaction as Tx;
/// The driver's error, as `Tx::commit` and [`Db::write`] return it.
pub use sea_orm::DbErr;

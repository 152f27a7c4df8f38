//! Schema migrations: plain SQL files applied in order, each recorded in
//! `schema_migrations`. The whole run holds a lock so that several nodes
//! starting at once migrate exactly once: a transaction-scoped advisory lock on
//! PostgreSQL, an IMMEDIATE transaction (the database write lock) on SQLite.
//! DDL is transactional on both, so a failed migration leaves nothing behind.

use crate::db::{Backend, Db};
use sea_orm::{ConnectionTrait, DatabaseTransaction, DbErr, Statement};
use std::future::Future;
use std::pin::Pin;

/// A migration written in Rust, run in the migration transaction.
type CodeStep = for<'a> fn(&'a DatabaseTransaction) -> Pin<Box<dyn Future<Output = Result<(), DbErr>> + Send + 'a>>;

/// One migration: SQL, or Rust for a change SQL cannot say on both backends
/// (rewriting recorded text). Both run in the migration transaction.
enum Step {
    Sql(&'static str),
    Code(CodeStep),
}

use Step::{Code, Sql};

/// (version, step) in the order they apply. Never edit one that has
/// shipped: add a new one instead.
const MIGRATIONS: &[(&str, Step)] = &[
    ("0001_foundation", Sql(include_str!("../migrations/0001_foundation.sql"))),
    ("0002_seed_categories", Sql(include_str!("../migrations/0002_seed_categories.sql"))),
    ("0003_open_api_credentials", Sql(include_str!("../migrations/0003_open_api_credentials.sql"))),
    ("0004_ledger", Sql(include_str!("../migrations/0004_ledger.sql"))),
    ("0005_jobs", Sql(include_str!("../migrations/0005_jobs.sql"))),
    ("0006_orders", Sql(include_str!("../migrations/0006_orders.sql"))),
    ("0007_debug_runs", Sql(include_str!("../migrations/0007_debug_runs.sql"))),
    ("0008_fulfilment", Sql(include_str!("../migrations/0008_fulfilment.sql"))),
    ("0009_open_api_notifications", Sql(include_str!("../migrations/0009_open_api_notifications.sql"))),
    ("0010_lifecycle", Sql(include_str!("../migrations/0010_lifecycle.sql"))),
    ("0011_line_kinds", Sql(include_str!("../migrations/0011_line_kinds.sql"))),
    ("0012_unsubscribe", Sql(include_str!("../migrations/0012_unsubscribe.sql"))),
    ("0013_plan_changes", Sql(include_str!("../migrations/0013_plan_changes.sql"))),
    ("0014_operations", Sql(include_str!("../migrations/0014_operations.sql"))),
    ("0015_balance_slots", Sql(include_str!("../migrations/0015_balance_slots.sql"))),
    ("0016_usage", Sql(include_str!("../migrations/0016_usage.sql"))),
    ("0017_usage_validation", Sql(include_str!("../migrations/0017_usage_validation.sql"))),
    ("0018_usage_rating", Sql(include_str!("../migrations/0018_usage_rating.sql"))),
    ("0019_usage_push_order", Sql(include_str!("../migrations/0019_usage_push_order.sql"))),
    ("0020_redact_interface_messages", Code(|tx| Box::pin(crate::data_migrations::redact_interface_messages(tx)))),
    ("0021_login_throttle", Sql(include_str!("../migrations/0021_login_throttle.sql"))),
    ("0022_linear_counts", Code(|tx| Box::pin(crate::data_migrations::linear_counts(tx)))),
    ("0023_supervision", Sql(include_str!("../migrations/0023_supervision.sql"))),
    ("0024_settlement", Sql(include_str!("../migrations/0024_settlement.sql"))),
    ("0025_statement_lifecycle", Sql(include_str!("../migrations/0025_statement_lifecycle.sql"))),
    ("0026_invoices", Sql(include_str!("../migrations/0026_invoices.sql"))),
    ("0027_settlement_sources", Sql(include_str!("../migrations/0027_settlement_sources.sql"))),
    ("0028_channel", Sql(include_str!("../migrations/0028_channel.sql"))),
];

/// Arbitrary constant naming Mercato's migration lock.
const PG_LOCK_KEY: i64 = 0x6d65_7263_6174_6f01;

/// Applies every pending migration; returns the versions applied now.
pub async fn run(db: &Db) -> Result<Vec<String>, DbErr> {
    let tx = db.write().await?;
    if db.backend == Backend::Postgres {
        tx.execute_raw(Statement::from_sql_and_values(
            sea_orm::DbBackend::Postgres,
            "SELECT pg_advisory_xact_lock($1)",
            [PG_LOCK_KEY.into()],
        ))
        .await?;
    }
    tx.execute_unprepared(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version TEXT PRIMARY KEY, applied_at TEXT NOT NULL)",
    )
    .await?;
    let applied: Vec<String> = tx
        .query_all_raw(Statement::from_string(tx.get_database_backend(), "SELECT version FROM schema_migrations"))
        .await?
        .iter()
        .map(|row| row.try_get::<String>("", "version"))
        .collect::<Result<_, _>>()?;
    let mut now_applied = Vec::new();
    for (version, step) in MIGRATIONS {
        if applied.iter().any(|v| v == version) {
            continue;
        }
        match step {
            Sql(sql) => {
                for statement in statements(&dialect(sql, db.backend)) {
                    tx.execute_unprepared(&statement)
                        .await
                        .map_err(|e| DbErr::Migration(format!("{version}: {e}\n{statement}")))?;
                }
            }
            Code(run) => run(&tx).await.map_err(|e| DbErr::Migration(format!("{version}: {e}")))?,
        }
        let stamp = chrono::Utc::now().to_rfc3339();
        let insert = match db.backend {
            Backend::Postgres => "INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)",
            Backend::Sqlite => "INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)",
        };
        tx.execute_raw(Statement::from_sql_and_values(
            tx.get_database_backend(),
            insert,
            [(*version).into(), stamp.into()],
        ))
        .await?;
        now_applied.push(version.to_string());
    }
    tx.commit().await?;
    Ok(now_applied)
}

/// The versions this build knows, for `/readyz` and the CLI.
pub fn known_versions() -> impl Iterator<Item = &'static str> {
    MIGRATIONS.iter().map(|(v, _)| *v)
}

/// Fills the backend-specific types into a migration.
fn dialect(sql: &str, backend: Backend) -> String {
    match backend {
        Backend::Postgres => sql.replace("%TS%", "TIMESTAMPTZ").replace("%NOW%", "CURRENT_TIMESTAMP"),
        Backend::Sqlite => sql.replace("%TS%", "TEXT").replace("%NOW%", "strftime('%Y-%m-%dT%H:%M:%S+00:00', 'now')"),
    }
}

/// Splits a migration into statements at semicolons that end a line, after
/// dropping `--` comment lines.
fn statements(sql: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    for line in sql.lines() {
        let trimmed = line.trim();
        if trimmed.starts_with("--") || trimmed.is_empty() {
            continue;
        }
        current.push_str(line);
        current.push('\n');
        if trimmed.ends_with(';') {
            out.push(std::mem::take(&mut current).trim().trim_end_matches(';').to_string());
        }
    }
    if !current.trim().is_empty() {
        out.push(current.trim().to_string());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_statements_and_skips_comments() {
        let s = statements("-- c\nCREATE TABLE a (x TEXT);\n\nCREATE INDEX i ON a(x);\n");
        assert_eq!(s, ["CREATE TABLE a (x TEXT)", "CREATE INDEX i ON a(x)"]);
    }

    #[test]
    fn every_migration_has_a_unique_ordered_version() {
        let versions: Vec<_> = known_versions().collect();
        let mut sorted = versions.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(versions, sorted);
    }
}

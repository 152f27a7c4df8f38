//! `mercato ledger check`: proves the ledger sound from the command line
//! (every entry balances, every balance equals its lines, totals are zero).

use mercato_server::{Config, runtime};
use std::process::ExitCode;

/// Runs the check against the configured database, prints the report, and
/// exits 0 when the ledger is sound, 1 on any discrepancy.
pub async fn run_check(config: Config) -> anyhow::Result<ExitCode> {
    let db = runtime::open_database(&config).await?;
    let report = mercato_server::app::ledger::check_db(&db).await;
    db.close().await;
    let report = report?;
    println!("{report}");
    Ok(if report.is_ok() { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

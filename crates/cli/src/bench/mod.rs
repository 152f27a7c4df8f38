//! `mercato bench`: benchmark programs. Each starts what it measures in
//! process (a Mercato node and a reference seller) on a scratch database and
//! drives it over real HTTP, so the figures include the whole request path.
//! Performance is measured here, never by timed tests.

use clap::Subcommand;
use std::process::ExitCode;

pub mod orders;

#[derive(Subcommand)]
pub enum BenchCommand {
    /// Place-and-pay orders over HTTP with concurrent buyers; report orders/s,
    /// latency, fulfilment lag and (on PostgreSQL) pgbench TPC-B TPS for scale.
    Orders(orders::OrdersArgs),
}

pub async fn run(command: BenchCommand) -> anyhow::Result<ExitCode> {
    match command {
        BenchCommand::Orders(args) => orders::run(args).await,
    }
}

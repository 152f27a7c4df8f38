//! `mercato chaos`: the marketplace under load while its nodes are killed
//! with SIGKILL and its seller misbehaves, then proof that nothing was lost
//! or done twice.
//!
//! Nodes are real child processes of this binary (`mercato serve
//! --test-clock`, leases of 3 s, a fixed master key so restarts decrypt),
//! killed with SIGKILL and started again on the same data and port
//! ([`node`]). The reference seller runs in this process ([`seller`]): 30 %
//! of its answers fail, a few come after the marketplace's 5 s timeout
//! (handled, answered late), and it goes down for a while mid-run; it keeps
//! its own count of instances per order line. The load ([`load`]) places,
//! pays and renews orders and pushes usage over HTTP, retrying with the
//! same `Idempotency-Key` while a node is down; the test clock moves on in
//! steps and jumps weeks for renewals ([`clock`]).
//!
//! Scenarios ([`scenarios`]):
//! - `sqlite`: one node on SQLite, killed and restarted `--kills` times
//!   under the mixed load, the clock moved for retries and renewals;
//! - `delivery`: a node killed while its seller call is in flight (during
//!   newInstance, then during queryInstance) and restarted: the purchase
//!   completes without the test clock moving;
//! - `postgres` (with `--database-url`): three nodes on one scratch
//!   PostgreSQL database under the mixed load, the killed node each time
//!   one that is delivering a purchase.
//!
//! After each, [`checks`] proves: every paid order reached a final state,
//! exactly one instance per order line at the seller, usage totals equal
//! the records pushed, `mercato ledger check` green. The exit status is 1
//! if any check failed (one line per failure).

mod checks;
mod clock;
mod load;
mod market;
mod node;
mod report;
mod scenarios;
mod seller;

use crate::bench::{Scratch, init_logging, postgres_url};
use clap::{Args, ValueEnum};
use std::process::ExitCode;
use std::time::Duration;

#[derive(Args, Clone, Debug)]
pub struct ChaosArgs {
    /// ci: about a minute (what CI runs); large: half an hour, the seller
    /// down for three minutes.
    #[arg(long, value_enum, default_value_t = Size::Ci)]
    pub size: Size,
    /// Seconds of mixed load in each of the sqlite and postgres scenarios
    /// (default: the size's).
    #[arg(long, value_parser = clap::value_parser!(u64).range(5..=7200))]
    pub seconds: Option<u64>,
    /// SIGKILLs in each of the sqlite and postgres scenarios (default: the size's).
    #[arg(long, value_parser = clap::value_parser!(u32).range(0..=1000))]
    pub kills: Option<u32>,
    /// Purchases killed mid-delivery in the delivery scenario (default: the size's).
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=100))]
    pub delivery_kills: Option<u32>,
    /// A PostgreSQL server (postgres://...): the postgres scenario runs three
    /// nodes on a scratch database created there and dropped at the end.
    /// Without it, the SQLite scenarios only.
    #[arg(long)]
    pub database_url: Option<String>,
    /// Scenarios to run, comma-separated (default: all; postgres needs --database-url).
    #[arg(long = "scenario", value_enum, value_delimiter = ',')]
    pub scenarios: Vec<Scenario>,
    /// Print one JSON object instead of the summary.
    #[arg(long)]
    pub json: bool,
    /// Keep the work directory (node logs, SQLite files) and say where it is.
    #[arg(long)]
    pub keep: bool,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Size {
    Ci,
    Large,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scenario {
    Sqlite,
    Delivery,
    Postgres,
}

/// How hard a size pushes.
#[derive(Debug, Clone)]
pub struct Plan {
    pub seconds: u64,
    pub kills: u32,
    pub delivery_kills: u32,
    pub buyers: usize,
    /// A buyer's pause between operations.
    pub pace: Duration,
    /// Between usage pushes.
    pub push_every: Duration,
    /// Between clock steps.
    pub step_every: Duration,
    /// The seller is down this long, from a third of the load on.
    pub down: Duration,
    /// Share of seller calls answered after the marketplace's timeout.
    pub timeouts: f64,
    /// Renewal jumps of the clock during the load.
    pub jumps: u32,
}

impl Plan {
    fn of(args: &ChaosArgs) -> Plan {
        let mut plan = match args.size {
            Size::Ci => Plan {
                seconds: 20,
                kills: 3,
                delivery_kills: 2,
                buyers: 3,
                pace: Duration::from_millis(150),
                push_every: Duration::from_millis(400),
                step_every: Duration::from_millis(700),
                down: Duration::from_secs(4),
                timeouts: 0.03,
                jumps: 1,
            },
            Size::Large => Plan {
                seconds: 600,
                kills: 30,
                delivery_kills: 6,
                buyers: 6,
                pace: Duration::from_millis(100),
                push_every: Duration::from_millis(250),
                step_every: Duration::from_millis(700),
                down: Duration::from_secs(180),
                timeouts: 0.03,
                jumps: 4,
            },
        };
        plan.seconds = args.seconds.unwrap_or(plan.seconds);
        plan.kills = args.kills.unwrap_or(plan.kills);
        plan.delivery_kills = args.delivery_kills.unwrap_or(plan.delivery_kills);
        plan
    }
}

pub async fn run(args: ChaosArgs) -> anyhow::Result<ExitCode> {
    init_logging();
    let admin_url = postgres_url(args.database_url.as_deref())?.map(str::to_string);
    let wanted = |s: Scenario| args.scenarios.is_empty() || args.scenarios.contains(&s);
    if !args.scenarios.is_empty() && wanted(Scenario::Postgres) && admin_url.is_none() {
        anyhow::bail!("--scenario postgres needs --database-url postgres://...");
    }
    let plan = Plan::of(&args);
    let work = tempfile::Builder::new().prefix("mercato-chaos-").tempdir()?;
    let mut reports = Vec::new();
    if wanted(Scenario::Sqlite) {
        reports.push(scenarios::sqlite(&work.path().join("sqlite"), &plan).await?);
        report::progress(&reports, args.json);
    }
    if wanted(Scenario::Delivery) {
        reports.push(scenarios::delivery(&work.path().join("delivery"), &plan).await?);
        report::progress(&reports, args.json);
    }
    let (mut skipped, mut scratch_database) = (None, None);
    match admin_url {
        Some(url) if wanted(Scenario::Postgres) => {
            let scratch = Scratch::create(&url, &[]).await?;
            scratch_database = Some(scratch.mercato.clone());
            let result = scenarios::postgres(&work.path().join("postgres"), &scratch, &plan).await;
            scratch.drop_all().await;
            reports.push(result?);
            report::progress(&reports, args.json);
        }
        Some(_) => {}
        None if wanted(Scenario::Postgres) => skipped = Some("postgres: needs --database-url".to_string()),
        None => {}
    }
    let summary = report::Summary::new(args.size, &plan, reports, skipped, scratch_database);
    if args.json {
        println!("{}", serde_json::to_string_pretty(&summary)?);
    } else {
        summary.print();
    }
    if args.keep {
        let kept = work.keep();
        eprintln!("work directory kept: {}", kept.display());
    }
    Ok(if summary.ok { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

//! `mercato bench settlement`: how long one settlement run takes for a busy
//! month (issue 13: "a period with 1,000,000 completed order lines and usage
//! charges across 10,000 sellers settles in under 60 s on PostgreSQL").
//!
//! What it does:
//! 1. a scratch database and an in-process node with a reference seller
//!    (SQLite file in a temp directory, or `mercato_bench_<random>` on the
//!    `--database-url` PostgreSQL server, dropped at the end); an operator,
//!    a certified seller with a listed product and a buyer are made through
//!    the HTTP API, then the node stops (its scheduler must not settle
//!    anything itself);
//! 2. `--sellers` - 1 more certified sellers and `--lines` settleable
//!    sources of the last closed month written by set-based SQL
//!    (`mercato_store::bench::settlement_seed` gives the formula): four in
//!    five delivered sales (order, line, delivery, balanced payment entry),
//!    one in five paid usage charges (charge, usage line, balanced charge
//!    entry). Seeding is timed apart and is not part of the figure;
//! 3. the figure: `app::settlement::settle` of that month, as the scheduler
//!    calls it, timed from the call to its answer; peak RSS is VmHWM reset
//!    just before it (the run's own peak), the whole process's shown too;
//! 4. verification from the formula (not from the database): one statement
//!    per seller with the expected gross, commission, net, tax at the
//!    seller's rate and line count, every source settled once, and the
//!    reconciliation of the statements with the ledger
//!    (`app::settlement::reconcile`); a second run of the month writes nothing.
//!
//! Exit status 1 when any verification fails.

use super::{Node, Scratch, init_logging, peak_rss_mib, postgres_url, proc_status_mib, reset_peak_rss, seed_shop};
use crate::seed;
use anyhow::Context;
use clap::Args;
use mercato_domain::settlement::{Calendar, LineAmounts, totals};
use mercato_server::AppState;
use mercato_server::app::settlement::{self, reconcile};
use mercato_store::Backend;
use mercato_store::bench::settlement_seed::{self, SettlementFormula};
use serde::Serialize;
use serde_json::json;
use std::collections::HashMap;
use std::process::ExitCode;
use std::time::Instant;

const SELLER_KEY: &str = "bench-access-key-0013";

#[derive(Args, Clone, Debug)]
pub struct SettlementArgs {
    /// A PostgreSQL server (postgres://...): a scratch database is created on
    /// it and dropped at the end. Default: a fresh SQLite file in a temp directory.
    #[arg(long)]
    pub database_url: Option<String>,
    /// Settleable sources (delivered order lines and paid usage charges) in the month.
    #[arg(long, default_value_t = 1_000_000, value_parser = clap::value_parser!(u64).range(1..=50_000_000))]
    pub lines: u64,
    /// Sellers the sources are spread over (round-robin).
    #[arg(long, default_value_t = 10_000, value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    pub sellers: u64,
    /// Print one JSON object instead of the table.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Serialize, Default)]
pub struct Report {
    pub backend: &'static str,
    /// PostgreSQL: the scratch database used (dropped at the end).
    pub scratch_database: Option<String>,
    pub lines: u64,
    pub sellers: u64,
    pub period: String,
    pub cpus: usize,
    /// Accounts, product and buyer over the API.
    pub api_secs: f64,
    /// The set-based writes of the sellers and sources.
    pub seed_secs: f64,
    pub seeded_rows: u64,
    /// The figure: one settlement run of the month.
    pub settle_secs: f64,
    pub lines_per_sec: f64,
    pub statements: i64,
    pub settled_lines: i64,
    /// VmRSS before the run, the run's own peak (VmHWM reset before it) and
    /// the whole process's peak, MiB.
    pub rss_before_mib: f64,
    pub settle_peak_rss_mib: f64,
    pub peak_rss_mib: f64,
    /// The reconciliation check over the statements written.
    pub reconcile_secs: f64,
    pub failures: Vec<String>,
    pub ok: bool,
}

pub async fn run(args: SettlementArgs) -> anyhow::Result<ExitCode> {
    init_logging();
    let scratch = match postgres_url(args.database_url.as_deref())? {
        Some(url) => Some(Scratch::create(url, &[]).await?),
        None => None,
    };
    let result = measure(&args, scratch.as_ref()).await;
    let name = scratch.as_ref().map(|s| s.mercato.clone());
    if let Some(scratch) = scratch {
        scratch.drop_all().await;
    }
    let mut report = result?;
    report.scratch_database = name;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print_table(&report);
    }
    Ok(if report.ok { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

async fn measure(args: &SettlementArgs, scratch: Option<&Scratch>) -> anyhow::Result<Report> {
    let dir = tempfile::tempdir().context("creating a temp directory")?;
    let node = Node::start(scratch, dir.path()).await?;
    let api_started = Instant::now();
    let seller_url = seed::start_reference_seller(SELLER_KEY, &dir.path().join("reference-seller.db"), 0).await;
    let seeded = match seller_url {
        Ok(url) => seed_marketplace(&node, &url).await,
        Err(e) => Err(e),
    };
    let state = node.stop().await;
    let api_secs = api_started.elapsed().as_secs_f64();
    let outcome = async {
        let (seller_id, buyer_id, product_id, sku_id) = seeded?;
        let calendar = Calendar::default();
        let period = calendar.settleable(state.now(), chrono::Duration::hours(24));
        let formula = SettlementFormula {
            sources: args.lines,
            sellers: args.sellers,
            start: period.start,
            span_secs: (period.end - period.start).num_seconds() - 1,
            seller_id,
            buyer_id,
            product_id,
            sku_id,
        };
        let seed_started = Instant::now();
        let seeded_rows = settlement_seed::seed(&state.db, &formula).await?;
        let seed_secs = seed_started.elapsed().as_secs_f64();
        if !args.json {
            eprintln!("seeded {seeded_rows} rows in {seed_secs:.1} s; settling {}", period.label);
        }

        let rss_before = proc_status_mib("VmRSS:");
        let reset = reset_peak_rss();
        let started = Instant::now();
        let (run, made) = settlement::settle(&state, &period, None)
            .await
            .map_err(|e| anyhow::anyhow!("the settlement run failed: {}", e.report()))?;
        let settle_secs = started.elapsed().as_secs_f64();
        let settle_peak = if reset { peak_rss_mib() } else { 0.0 };

        let mut report = Report {
            backend: if state.db.backend == Backend::Postgres { "postgresql" } else { "sqlite" },
            lines: args.lines,
            sellers: args.sellers,
            period: period.label.clone(),
            cpus: std::thread::available_parallelism().map_or(1, |n| n.get()),
            api_secs,
            seed_secs,
            seeded_rows,
            settle_secs,
            lines_per_sec: run.lines as f64 / settle_secs,
            statements: run.statements,
            settled_lines: run.lines,
            rss_before_mib: rss_before,
            settle_peak_rss_mib: settle_peak,
            ..Default::default()
        };
        if !made {
            report.failures.push("the run found the month settled already".into());
        }
        verify(&state, &formula, &period.label, &mut report).await?;
        let (_, again) = settlement::settle(&state, &period, None)
            .await
            .map_err(|e| anyhow::anyhow!("the second run failed: {}", e.report()))?;
        if again {
            report.failures.push("a second run of the month wrote statements again".into());
        }
        report.peak_rss_mib = peak_rss_mib();
        report.ok = report.failures.is_empty();
        anyhow::Ok(report)
    }
    .await;
    state.db.clone().close().await;
    outcome
}

/// Operator, certified seller with a listed product, and a buyer, over the API.
async fn seed_marketplace(node: &Node, seller_url: &str) -> anyhow::Result<(String, String, String, String)> {
    let product = json!({"name": "Bench Settled Service", "summary": "A product to benchmark settlement with",
        "description": "Its sales are settled by `mercato bench settlement`."});
    let sku = json!({"sku_code": "bench-settled", "name": "Once", "charging_mode": "one_time",
        "prices": {"one_time_minor": 9900}, "currency": "CNY"});
    let shop = seed_shop(&node.state, &node.base, seller_url, SELLER_KEY, product, sku).await?;
    let (buyer_id, _, _) = shop.api.signup("buyer", "Bench Buyer", "buyer@settle.bench.mercato.test").await?;
    let seller_id =
        mercato_store::bench::seeded::any_seller_id(&node.state.db).await?.context("the seller's account")?;
    let me = shop.api.get("/api/v1/seller/products?limit=1", Some(&shop.seller_key)).await?;
    let product_id = me["items"][0]["id"].as_str().context("the product id")?.to_string();
    Ok((seller_id, buyer_id, product_id, shop.sku_id))
}

/// Statements and lines against the formula; the reconciliation check.
async fn verify(state: &AppState, f: &SettlementFormula, period: &str, report: &mut Report) -> anyhow::Result<()> {
    // Expected per seller index: gross, commission, lines.
    let mut expected: HashMap<u64, (i64, i64, i64)> = HashMap::new();
    for k in 0..f.sources {
        let e = expected.entry(f.seller(k)).or_default();
        e.0 += SettlementFormula::amount(k);
        e.1 += SettlementFormula::commission(k);
        e.2 += 1;
    }
    let seller_index =
        |id: &str| -> Option<u64> { if id == f.seller_id { Some(0) } else { id.strip_prefix("acc_bs")?.parse().ok() } };
    let (written, lines) = settlement_seed::written(&state.db, period).await?;
    if written.len() != expected.len() {
        report.failures.push(format!("{} statements written, {} sellers expected", written.len(), expected.len()));
    }
    if lines != f.sources {
        report.failures.push(format!("{lines} statement lines written, {} sources seeded", f.sources));
    }
    let mut wrong = 0;
    for s in &written {
        let Some(i) = seller_index(&s.seller_id) else {
            wrong += 1;
            continue;
        };
        let Some(&(gross, commission, count)) = expected.get(&i) else {
            wrong += 1;
            continue;
        };
        let rate = SettlementFormula::tax_rate_bp(i);
        let t = totals(&[LineAmounts { gross_minor: gross, commission_minor: commission }], rate)?;
        let want = (t.gross_minor, t.commission_minor, t.net_minor, rate, t.tax_minor, count);
        let got = (s.gross_minor, s.commission_minor, s.net_minor, s.tax_rate_bp, s.tax_minor, s.lines);
        if want != got {
            wrong += 1;
            if wrong <= 3 {
                report.failures.push(format!("seller {}: expected {want:?}, written {got:?}", s.seller_id));
            }
        }
    }
    if wrong > 0 {
        report.failures.push(format!("{wrong} statements differ from the formula"));
    }
    let started = Instant::now();
    let reconciled = reconcile::reconcile(&state.db.conn).await?;
    report.reconcile_secs = started.elapsed().as_secs_f64();
    for p in reconciled.problems.iter().take(3) {
        report.failures.push(format!("reconciliation: {p}"));
    }
    if reconciled.problems.len() > 3 {
        report.failures.push(format!("reconciliation: {} problems in all", reconciled.problems.len()));
    }
    Ok(())
}

fn print_table(r: &Report) {
    println!("mercato bench settlement");
    println!("  backend                     {}", r.backend);
    println!("  period                      {}", r.period);
    println!("  sources / sellers           {} / {}", r.lines, r.sellers);
    println!("  cpus                        {}", r.cpus);
    println!();
    println!("  seeding over the API        {:.1} s", r.api_secs);
    println!("  seeding by SQL              {:.1} s ({} rows)", r.seed_secs, r.seeded_rows);
    println!();
    println!("  settlement run              {:.2} s", r.settle_secs);
    println!("  lines settled/s             {:.0}", r.lines_per_sec);
    println!("  statements / lines          {} / {}", r.statements, r.settled_lines);
    println!(
        "  RSS before / peak of run    {:.1} / {:.1} MiB (whole run peak {:.1} MiB)",
        r.rss_before_mib, r.settle_peak_rss_mib, r.peak_rss_mib
    );
    println!("  reconciliation check        {:.2} s", r.reconcile_secs);
    println!();
    if r.ok {
        println!("  verify                      OK (every statement as the formula gives it, reconciled, run once)");
    } else {
        println!("  verify                      FAILED");
        for f in &r.failures {
            println!("    - {f}");
        }
    }
}

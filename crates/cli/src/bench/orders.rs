//! `mercato bench orders`: how many orders per second one node places and
//! pays, with a reference seller provisioning every purchase.
//!
//! What it does:
//! 1. a scratch database: a fresh SQLite file in a temp directory, or with
//!    `--database-url postgres://...` a database `mercato_bench_<random>`
//!    created on that server and dropped at the end (as is pgbench's);
//! 2. in process, a reference seller (no faults) and a Mercato node built
//!    exactly as `serve` builds it (plain HTTP to the loopback seller
//!    allowed), plus `--workers - 1` extra job-worker loops;
//! 3. seeding through the HTTP API: an operator, an approved seller, a listed
//!    SaaS product (debug run passed) with a period SKU, `--concurrency`
//!    buyers each credited far more than the run can spend;
//! 4. load: one task per buyer loops `POST /buyer/orders` then
//!    `POST /buyer/orders/{id}/pay` (each with its own `Idempotency-Key`) on
//!    keep-alive connections for `--warmup-secs` (not measured) then
//!    `--seconds` (measured). A sample is one place-and-pay, measured from
//!    the first request's start to the second's answer; it counts when it
//!    started inside the measured window. Failures are counted by HTTP
//!    status (0 = transport error);
//! 5. drain: waits (at most `--drain-timeout-secs`) until no subscription is
//!    still provisioning; fulfilment lag per order is the subscription's
//!    `updated_at` (its activation) minus the order's `paid_at`, both written
//!    with the server's clock (the wall clock here), over every paid order;
//! 6. the ledger check over the whole database;
//! 7. on PostgreSQL (unless `--no-pgbench`) pgbench TPC-B on the same
//!    server, `-i -s 10` then `-c C -j 2 -T N`, after Mercato's load so the
//!    two do not compete.
//!
//! With `--deals`, a second phase as long follows the first, once the
//! first's purchases are provisioned: every other buyer is stocked (in the database, not measured) with private offers and claimed
//! coupons for the SKU, one of each per order it may place, and every order
//! names its next pair, so each goes through the whole pricing pipeline and
//! takes both. The phase is mixed: every other buyer orders with deals, the
//! others plainly, at the same time, so both meet the same database, the
//! same fulfilment backlog and the same machine; the two are compared per
//! buyer.
//!
//! Exit status 1 when the ledger is unsound or a paid order was not
//! fulfilled; request errors are reported, not fatal.

use super::{Latency, Node, Scratch, Shop, init_logging, percentile, postgres_url, seed_shop};
use crate::seed;
use anyhow::{Context, bail};
use clap::Args;
use mercato_server::workers::Worker;
use mercato_store::bench::fulfilment;
use serde::Serialize;
use serde_json::json;
use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::process::ExitCode;
use std::time::{Duration, Instant};

#[derive(Args, Clone, Debug)]
pub struct OrdersArgs {
    /// A PostgreSQL server (postgres://...): a scratch database is created on
    /// it and dropped at the end. Default: a fresh SQLite file in a temp directory.
    #[arg(long)]
    pub database_url: Option<String>,
    /// Concurrent buyers (one task each, one request at a time).
    #[arg(long, default_value_t = 16, value_parser = clap::value_parser!(u64).range(1..=1024))]
    pub concurrency: u64,
    /// Measured seconds of load (also pgbench's duration).
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub seconds: u64,
    /// Seconds of load before measuring (connections, caches).
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u64).range(0..=600))]
    pub warmup_secs: u64,
    /// Job-worker loops on the node (each runs up to MERCATO_WORKER_BATCH jobs at once).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..=64))]
    pub workers: u64,
    /// How long to wait for fulfilment after the load, in seconds.
    #[arg(long, default_value_t = 120, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub drain_timeout_secs: u64,
    /// Print one JSON object instead of the table.
    #[arg(long)]
    pub json: bool,
    /// Skip pgbench on PostgreSQL.
    #[arg(long)]
    pub no_pgbench: bool,
    /// After the plain orders, a second phase as long where every other
    /// buyer prices each order through a private offer and a coupon while
    /// the others order plainly; both groups are reported (needs 2+ buyers).
    #[arg(long)]
    pub deals: bool,
}

/// The reference seller's access key.
const SELLER_KEY: &str = "bench-access-key-0001";
/// The SKU's monthly price (CNY 1.00) and each buyer's credit, enough for
/// 10 million orders.
const PRICE_MINOR: i64 = 100;
const CREDIT_MINOR: i64 = 1_000_000_000;

#[derive(Debug, Serialize)]
pub struct Report {
    pub backend: &'static str,
    /// PostgreSQL: the scratch database used (dropped at the end).
    pub scratch_database: Option<String>,
    pub concurrency: u64,
    pub seconds: u64,
    pub warmup_secs: u64,
    pub workers: u64,
    pub cpus: usize,
    /// Place-and-pay pairs that started in the measured window and succeeded.
    pub orders: u64,
    pub orders_per_sec: f64,
    pub latency_ms: Latency,
    /// Failed place-and-pay attempts over the whole run (warm-up included).
    pub errors: u64,
    /// HTTP status (0 = transport error) -> count.
    pub errors_by_status: BTreeMap<u16, u64>,
    /// Orders paid in the whole run (warm-up included), per the database.
    pub paid_orders: u64,
    /// Of those, orders whose subscription is active.
    pub fulfilled: u64,
    pub fulfilment_lag_ms: Lag,
    /// Seconds from the end of the load until nothing was provisioning.
    pub drain_secs: f64,
    pub ledger_ok: bool,
    pub ledger: String,
    pub pgbench_tps: Option<f64>,
    /// orders_per_sec / pgbench_tps.
    pub ratio: Option<f64>,
    /// Why pgbench did not run, if it did not.
    pub pgbench_note: Option<String>,
    /// With `--deals`: the phase where every order used an offer and a coupon.
    pub deals: Option<DealsPhase>,
}

/// The second phase of `--deals`: every other buyer orders with an offer
/// and a coupon while the others order plainly, at the same time.
#[derive(Debug, Serialize)]
pub struct DealsPhase {
    /// Buyers ordering with deals.
    pub buyers: u64,
    pub orders: u64,
    pub orders_per_sec: f64,
    pub latency_ms: Latency,
    pub errors: u64,
    pub errors_by_status: BTreeMap<u16, u64>,
    /// Offers and coupons stocked per buyer (one of each per order).
    pub stocked_per_buyer: usize,
    /// Orders whose line recorded both discount steps.
    pub discounted_orders: u64,
    /// The buyers ordering plainly in the same phase, and their figures.
    pub plain_buyers: u64,
    pub plain_orders: u64,
    pub plain_orders_per_sec: f64,
    pub plain_latency_ms: Latency,
    /// Orders per second per buyer with deals / the same for plain buyers.
    pub ratio_to_plain: f64,
}

/// One measured phase of load: its plain buyers and its buyers with deals.
#[derive(Default)]
struct Phase {
    plain: Group,
    deals: Group,
    /// Most place-and-pay attempts of one buyer (warm-up included).
    max_attempts: u64,
    window_secs: f64,
}

/// The buyers of a phase that ordered alike.
#[derive(Default)]
struct Group {
    buyers: u64,
    samples_us: Vec<u64>,
    errors_by_status: BTreeMap<u16, u64>,
}

impl Group {
    fn orders_per_sec(&self, window_secs: f64) -> f64 {
        self.samples_us.len() as f64 / window_secs
    }
}

#[derive(Debug, Serialize, Default)]
pub struct Lag {
    pub p50: f64,
    pub p99: f64,
}

pub async fn run(args: OrdersArgs) -> anyhow::Result<ExitCode> {
    init_logging();
    if args.deals && args.concurrency < 2 {
        bail!("--deals compares buyers with deals and plain buyers at once: use --concurrency 2 or more");
    }
    let scratch = match postgres_url(args.database_url.as_deref())? {
        Some(url) => Some(Scratch::create(url, &["pgbench"]).await?),
        None => None,
    };
    let result = measure(&args, scratch.as_ref()).await;
    if let Some(scratch) = scratch {
        scratch.drop_all().await;
    }
    let report = result?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print_table(&report);
    }
    let sound = report.ledger_ok && report.fulfilled == report.paid_orders;
    Ok(if sound { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

/// Everything between creating the scratch databases and dropping them.
async fn measure(args: &OrdersArgs, scratch: Option<&Scratch>) -> anyhow::Result<Report> {
    let dir = tempfile::tempdir().context("creating a temp directory")?;
    let node = Node::start(scratch, dir.path()).await?;
    let extra_workers: Vec<_> = (1..args.workers)
        .map(|i| {
            let worker =
                Worker::new(node.state.clone(), node.registry.clone(), format!("{}-bench-{i}", node.state.node_id));
            tokio::spawn(worker.run_loop(node.stop_signal()))
        })
        .collect();

    let outcome = load_and_drain(args, &node.state, &node.base, dir.path()).await;

    let state = node.stop().await;
    for w in extra_workers {
        let _ = tokio::time::timeout(Duration::from_secs(10), w).await;
    }
    state.db.clone().close().await;
    let mut report = outcome?;
    report.scratch_database = scratch.map(|s| s.mercato.clone());

    // pgbench after Mercato's load, so the two do not share the machine.
    match scratch {
        None => report.pgbench_note = Some("SQLite: pgbench is for PostgreSQL".into()),
        Some(_) if args.no_pgbench => report.pgbench_note = Some("skipped (--no-pgbench)".into()),
        Some(s) => match pgbench(&s.url(&s.extra[0]), args.concurrency, args.seconds).await {
            Ok(tps) => {
                report.pgbench_tps = Some(tps);
                report.ratio = (tps > 0.0).then(|| report.orders_per_sec / tps);
            }
            Err(e) => report.pgbench_note = Some(format!("{e:#}")),
        },
    }
    Ok(report)
}

/// Seeds, loads, waits for fulfilment, reads the figures from the database.
async fn load_and_drain(
    args: &OrdersArgs,
    state: &mercato_server::AppState,
    base: &str,
    dir: &Path,
) -> anyhow::Result<Report> {
    let seller_url = seed::start_reference_seller(SELLER_KEY, &dir.join("reference-seller.db"), 0).await?;
    let (sku_id, buyers) = seed_marketplace(state, base, &seller_url, args.concurrency).await?;

    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(args.concurrency as usize)
        .timeout(Duration::from_secs(60))
        .build()?;
    let keys: Vec<String> = buyers.iter().map(|(_, key)| key.clone()).collect();
    let first = phase(args, &client, base, &sku_id, &keys, 1, Vec::new()).await?;
    let window = first.window_secs;
    let plain = first.plain;
    let deals = if args.deals {
        // The mixed phase starts as the first did: nothing left to provision.
        drain(state, Instant::now() + Duration::from_secs(args.drain_timeout_secs)).await?;
        // Every other buyer orders with deals: one offer and one coupon per
        // order it may place, half as many again as the busiest buyer placed.
        let per_buyer = (first.max_attempts as usize).saturating_mul(3) / 2 + 50;
        let with_deals: Vec<String> = buyers.iter().skip(1).step_by(2).map(|(id, _)| id.clone()).collect();
        let mut stocks = stock_deals(state, &sku_id, &with_deals, per_buyer).await?.into_iter();
        let per_buyer_stocks = (0..keys.len()).map(|i| if i % 2 == 1 { stocks.next() } else { None }).collect();
        let mixed = phase(args, &client, base, &sku_id, &keys, 2, per_buyer_stocks).await?;
        let discounted = mercato_store::bench::deals::discounted_orders(&state.db).await?;
        let w = mixed.window_secs;
        // Per buyer, so an odd number of buyers compares fairly.
        let per_buyer_rate = |g: &Group| if g.buyers == 0 { 0.0 } else { g.orders_per_sec(w) / g.buyers as f64 };
        let (deal_rate, plain_rate) = (per_buyer_rate(&mixed.deals), per_buyer_rate(&mixed.plain));
        let mut sorted = mixed.deals.samples_us.clone();
        sorted.sort_unstable();
        let mut plain_sorted = mixed.plain.samples_us.clone();
        plain_sorted.sort_unstable();
        Some(DealsPhase {
            buyers: mixed.deals.buyers,
            orders: sorted.len() as u64,
            orders_per_sec: mixed.deals.orders_per_sec(w),
            latency_ms: Latency::of_sorted_micros(&sorted),
            errors: mixed.deals.errors_by_status.values().sum(),
            errors_by_status: mixed.deals.errors_by_status,
            stocked_per_buyer: per_buyer,
            discounted_orders: discounted,
            plain_buyers: mixed.plain.buyers,
            plain_orders: plain_sorted.len() as u64,
            plain_orders_per_sec: mixed.plain.orders_per_sec(w),
            plain_latency_ms: Latency::of_sorted_micros(&plain_sorted),
            ratio_to_plain: if plain_rate > 0.0 { deal_rate / plain_rate } else { 0.0 },
        })
    } else {
        None
    };
    let mut samples = plain.samples_us.clone();
    let load_end = Instant::now();
    let errors_by_status = plain.errors_by_status.clone();

    drain(state, load_end + Duration::from_secs(args.drain_timeout_secs)).await?;
    let drain_secs = load_end.elapsed().as_secs_f64();

    // Lag per paid order, from the database.
    let paid: HashMap<String, _> =
        fulfilment::paid_orders(&state.db).await?.into_iter().map(|o| (o.order_id, o.paid_at)).collect();
    let mut lags_us: Vec<i64> = fulfilment::activations(&state.db)
        .await?
        .into_iter()
        .filter_map(|a| paid.get(&a.order_id).map(|p| (a.activated_at - *p).num_microseconds().unwrap_or(i64::MAX)))
        .collect();
    lags_us.sort_unstable();
    samples.sort_unstable();

    let ledger = mercato_server::app::ledger::check_db(&state.db).await?;
    let orders = samples.len() as u64;
    Ok(Report {
        backend: if args.database_url.is_some() { "postgresql" } else { "sqlite" },
        scratch_database: None,
        concurrency: args.concurrency,
        seconds: args.seconds,
        warmup_secs: args.warmup_secs,
        workers: args.workers,
        cpus: std::thread::available_parallelism().map_or(1, |n| n.get()),
        orders,
        orders_per_sec: orders as f64 / window,
        latency_ms: Latency::of_sorted_micros(&samples),
        errors: errors_by_status.values().sum(),
        errors_by_status,
        paid_orders: paid.len() as u64,
        fulfilled: lags_us.len() as u64,
        fulfilment_lag_ms: Lag {
            p50: percentile(&lags_us, 0.50) as f64 / 1000.0,
            p99: percentile(&lags_us, 0.99) as f64 / 1000.0,
        },
        drain_secs,
        ledger_ok: ledger.is_ok(),
        ledger: ledger.to_string(),
        pgbench_tps: None,
        ratio: None,
        pgbench_note: None,
        deals,
    })
}

/// Waits until no subscription is still provisioning, or `deadline`.
async fn drain(state: &mercato_server::AppState, deadline: Instant) -> anyhow::Result<()> {
    loop {
        let provisioning = fulfilment::provisioning_subscriptions(&state.db).await?;
        if provisioning == 0 || Instant::now() >= deadline {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// One phase: every buyer places and pays in a loop for the warm-up and
/// the measured seconds; a buyer given a stock names its next offer and
/// coupon in each order (its samples and errors are kept apart).
async fn phase(
    args: &OrdersArgs,
    client: &reqwest::Client,
    base: &str,
    sku_id: &str,
    keys: &[String],
    round: u32,
    mut stocks: Vec<Option<mercato_store::bench::deals::Stock>>,
) -> anyhow::Result<Phase> {
    let start = Instant::now();
    let measure_from = start + Duration::from_secs(args.warmup_secs);
    let end = measure_from + Duration::from_secs(args.seconds);
    stocks.resize(keys.len(), None);
    let tasks: Vec<_> = keys
        .iter()
        .zip(stocks)
        .enumerate()
        .map(|(i, (key, stock))| {
            let with_deals = stock.is_some();
            let buyer = Buyer {
                client: client.clone(),
                base: base.to_string(),
                key: key.clone(),
                sku_id: sku_id.to_string(),
                index: i,
                stock,
                round,
            };
            (with_deals, tokio::spawn(buyer.run(measure_from, end)))
        })
        .collect();
    let mut phase = Phase::default();
    for (with_deals, task) in tasks {
        let done = task.await?;
        let group = if with_deals { &mut phase.deals } else { &mut phase.plain };
        group.buyers += 1;
        group.samples_us.extend(done.samples_us);
        for (status, n) in done.errors {
            *group.errors_by_status.entry(status).or_insert(0) += n;
        }
        phase.max_attempts = phase.max_attempts.max(done.attempts);
    }
    // In-flight pairs may end a little after `end`: the window is what it took.
    phase.window_secs = Instant::now().saturating_duration_since(measure_from).as_secs_f64().max(args.seconds as f64);
    Ok(phase)
}

/// Stocks offers and coupons on the bench SKU for every buyer.
async fn stock_deals(
    state: &mercato_server::AppState,
    sku_id: &str,
    buyer_ids: &[String],
    per_buyer: usize,
) -> anyhow::Result<Vec<mercato_store::bench::deals::Stock>> {
    let db = &state.db;
    let sku = mercato_store::repo::orders::find_sku(&db.conn, sku_id).await?.context("the bench SKU")?;
    let product = mercato_store::repo::products::find(&db.conn, &sku.product_id).await?.context("the bench product")?;
    let now = state.now();
    Ok(mercato_store::bench::deals::stock(db, &product.seller_id, &product.id, sku_id, buyer_ids, per_buyer, now)
        .await?)
}

/// Operator, seller, product and `buyers` funded buyers, through the API;
/// returns the SKU id and the buyers' (account id, API key).
async fn seed_marketplace(
    state: &mercato_server::AppState,
    base: &str,
    seller_url: &str,
    buyers: u64,
) -> anyhow::Result<(String, Vec<(String, String)>)> {
    let product = json!({
        "name": "Bench Cloud DB",
        "summary": "A product to benchmark orders with",
        "description": "Bought and provisioned over and over by `mercato bench orders`.",
    });
    let sku = json!({"sku_code": "bench-month", "name": "Monthly", "charging_mode": "period",
        "prices": {"month_minor": PRICE_MINOR, "year_minor": PRICE_MINOR * 10}, "currency": "CNY"});
    let Shop { api, op, sku_id, .. } = seed_shop(state, base, seller_url, SELLER_KEY, product, sku).await?;
    let buyers = api.funded_buyer_accounts(&op, "Bench", buyers, CREDIT_MINOR).await?;
    Ok((sku_id, buyers))
}

/// One buyer's load loop.
struct Buyer {
    client: reqwest::Client,
    base: String,
    key: String,
    sku_id: String,
    index: usize,
    /// With deals: (offer id, coupon id) for each order, in turn.
    stock: Option<mercato_store::bench::deals::Stock>,
    /// Which phase: part of every idempotency key, so a later phase's
    /// orders are new orders, not replays of an earlier phase's.
    round: u32,
}

#[derive(Default)]
struct BuyerResult {
    samples_us: Vec<u64>,
    errors: BTreeMap<u16, u64>,
    attempts: u64,
}

impl Buyer {
    async fn run(self, measure_from: Instant, end: Instant) -> BuyerResult {
        let mut result = BuyerResult::default();
        let mut n = 0u64;
        loop {
            let started = Instant::now();
            if started >= end {
                break;
            }
            let mut order = json!({"sku_id": self.sku_id, "period": "month", "period_count": 1});
            if let Some(stock) = &self.stock {
                // Out of stock: this buyer is done (the stock has room to spare).
                let Some((offer, coupon)) = stock.get(n as usize) else { break };
                order["offer_id"] = json!(offer);
                order["coupon_id"] = json!(coupon);
            }
            result.attempts += 1;
            match self.place_and_pay(n, &order).await {
                Ok(()) => {
                    if started >= measure_from {
                        result.samples_us.push(started.elapsed().as_micros() as u64);
                    }
                }
                Err(status) => {
                    *result.errors.entry(status).or_insert(0) += 1;
                    // Do not spin on a node that refuses everything.
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
            }
            n += 1;
        }
        result
    }

    /// Err carries the failing HTTP status (0: no answer or an unexpected body).
    async fn place_and_pay(&self, n: u64, order: &serde_json::Value) -> Result<(), u16> {
        let placed = self
            .client
            .post(format!("{}/api/v1/buyer/orders", self.base))
            .bearer_auth(&self.key)
            .header("Idempotency-Key", format!("bench-{}-{}-{n}-place", self.round, self.index))
            .json(order)
            .send()
            .await
            .map_err(|_| 0u16)?;
        if placed.status() != reqwest::StatusCode::CREATED {
            return Err(placed.status().as_u16());
        }
        let order: serde_json::Value = placed.json().await.map_err(|_| 0u16)?;
        let id = order["id"].as_str().ok_or(0u16)?;
        let paid = self
            .client
            .post(format!("{}/api/v1/buyer/orders/{id}/pay", self.base))
            .bearer_auth(&self.key)
            .header("Idempotency-Key", format!("bench-{}-{}-{n}-pay", self.round, self.index))
            .json(&json!({}))
            .send()
            .await
            .map_err(|_| 0u16)?;
        if paid.status() != reqwest::StatusCode::OK {
            return Err(paid.status().as_u16());
        }
        // Read the body so the connection goes back to the pool.
        paid.bytes().await.map_err(|_| 0u16)?;
        Ok(())
    }
}

/// pgbench's binary: on PATH, else under /usr/lib/postgresql/*/bin.
fn find_pgbench() -> Option<std::path::PathBuf> {
    let on_path = std::env::var_os("PATH")
        .into_iter()
        .flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .map(|d| d.join("pgbench"))
        .find(|p| p.is_file());
    on_path.or_else(|| {
        let mut found: Vec<_> = std::fs::read_dir("/usr/lib/postgresql")
            .ok()?
            .filter_map(|e| e.ok())
            .map(|e| e.path().join("bin/pgbench"))
            .filter(|p| p.is_file())
            .collect();
        found.sort();
        found.pop()
    })
}

/// TPC-B on `url`: `pgbench -i -s 10 -q`, then `-c C -j 2 -T N -n`; the TPS
/// without initial connection time.
async fn pgbench(url: &str, clients: u64, seconds: u64) -> anyhow::Result<f64> {
    let bin = find_pgbench().context("pgbench not found on PATH or under /usr/lib/postgresql/*/bin; install the PostgreSQL client tools or pass --no-pgbench")?;
    let init = tokio::process::Command::new(&bin).args(["-i", "-s", "10", "-q", url]).output().await?;
    if !init.status.success() {
        bail!("pgbench -i failed: {}", String::from_utf8_lossy(&init.stderr).trim());
    }
    let clients = clients.to_string();
    let secs = seconds.to_string();
    let jobs = if clients == "1" { "1" } else { "2" };
    let run =
        tokio::process::Command::new(&bin).args(["-c", &clients, "-j", jobs, "-T", &secs, "-n", url]).output().await?;
    let out = String::from_utf8_lossy(&run.stdout);
    if !run.status.success() {
        bail!("pgbench failed: {} {}", out.trim(), String::from_utf8_lossy(&run.stderr).trim());
    }
    parse_tps(&out).with_context(|| format!("no TPS in pgbench's output:\n{out}"))
}

/// `tps = 1234.567890 (without initial connection time)`.
fn parse_tps(out: &str) -> Option<f64> {
    out.lines()
        .find(|l| l.starts_with("tps = ") && l.contains("without initial connection time"))?
        .strip_prefix("tps = ")?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

fn print_table(r: &Report) {
    println!("mercato bench orders");
    println!("  backend              {}", r.backend);
    println!("  buyers (concurrency) {}", r.concurrency);
    println!("  measured             {} s (after {} s warm-up)", r.seconds, r.warmup_secs);
    println!("  job workers          {}", r.workers);
    println!("  cpus                 {}", r.cpus);
    println!();
    println!("  orders (place + pay) {}", r.orders);
    println!("  orders/s             {:.1}", r.orders_per_sec);
    println!("  latency p50          {:.2} ms", r.latency_ms.p50);
    println!("  latency p99          {:.2} ms", r.latency_ms.p99);
    println!("  latency max          {:.2} ms", r.latency_ms.max);
    let by_status: Vec<String> = r.errors_by_status.iter().map(|(s, n)| format!("{s}: {n}")).collect();
    println!(
        "  errors               {} {}",
        r.errors,
        if by_status.is_empty() { String::new() } else { format!("({})", by_status.join(", ")) }
    );
    if let Some(d) = &r.deals {
        println!();
        println!("  mixed phase          {} buyers with offer + coupon, {} plain, at once", d.buyers, d.plain_buyers);
        println!(
            "  with deals           {} orders, {:.1}/s, p50 {:.2} ms, p99 {:.2} ms, errors {}",
            d.orders, d.orders_per_sec, d.latency_ms.p50, d.latency_ms.p99, d.errors
        );
        println!(
            "  plain                {:.1}/s, p50 {:.2} ms, p99 {:.2} ms",
            d.plain_orders_per_sec, d.plain_latency_ms.p50, d.plain_latency_ms.p99
        );
        println!("  discounted orders    {}", d.discounted_orders);
        println!("  deals vs plain       {:.3}   (orders/s per buyer)", d.ratio_to_plain);
    }
    println!();
    println!("  paid orders (all)    {}", r.paid_orders);
    println!("  fulfilled            {}", r.fulfilled);
    println!("  fulfilment lag p50   {:.1} ms", r.fulfilment_lag_ms.p50);
    println!("  fulfilment lag p99   {:.1} ms", r.fulfilment_lag_ms.p99);
    println!("  drain after load     {:.2} s", r.drain_secs);
    println!();
    match (r.pgbench_tps, r.ratio) {
        (Some(tps), Some(ratio)) => {
            println!("  pgbench TPC-B tps    {tps:.1}");
            println!("  orders/s / tps       {ratio:.2}");
        }
        _ => println!("  pgbench              {}", r.pgbench_note.as_deref().unwrap_or("not run")),
    }
    println!();
    println!("{}", r.ledger);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pgbench_tps_is_read_without_connection_time() {
        let out = "latency average = 5.1 ms\ninitial connection time = 12.3 ms\ntps = 3120.456789 (without initial connection time)\n";
        assert_eq!(parse_tps(out), Some(3120.456789));
        assert_eq!(parse_tps("tps = 1 (including connections establishing)"), None);
    }
}

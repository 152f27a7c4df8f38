//! `mercato bench rating`: how fast one node rates and charges valid usage
//! records (issue 5, item 5: "rate and charge 10 million usage records").
//!
//! What it does:
//! 1. a scratch database and an in-process node with a reference seller, as
//!    `bench usage` (SQLite file in a temp directory, or
//!    `mercato_bench_<random>` on the `--database-url` PostgreSQL server,
//!    dropped at the end);
//! 2. seeding through the HTTP API: an operator, an approved seller, a listed
//!    SaaS product with one on-demand SKU (CNY [`UNIT_PRICE`] per GB, billed
//!    hourly), `--buyers` buyers (the last `--poor-buyers` of them credited
//!    only [`POOR_CREDIT_MINOR`], so some of their charges are left in
//!    arrears; the others [`RICH_CREDIT_MINOR`]) and `--instances` pay-per-use
//!    instances, instance `n` bought by buyer `n % buyers`, paid (0) and
//!    provisioned by the reference seller. Then the node stops: its worker
//!    must not validate, rate or otherwise touch what is measured. The
//!    subscriptions' `starts_at` is moved back before the first seeded hour,
//!    so every record lies inside its instance's life as the validator
//!    requires, and the rating marks (`usage_rating_marks`), which the node's
//!    rating task moved to the present while no record existed, are deleted:
//!    the database is then as if the records had been pushed in time;
//! 3. `--records` VALID usage records written straight into `usage_records`
//!    by set-based SQL (`mercato_store::bench::rating_seed`; [`PG_CHUNK`] or
//!    [`SQLITE_CHUNK`] rows per statement and transaction),
//!    as the validator would have left them: status 'valid', billing
//!    'hourly'. With R = ceil(N / H) records per hour and S = ceil(R / I)
//!    per instance and hour, record `k` (0-based) is in hour `k / R` of the
//!    `--hours` H whole hours ending one hour before the current one (all
//!    closed: the last one closed at :15 of the current hour minus 45
//!    minutes; the first is within 21 days), for instance `k % I`
//!    (instances sorted by id), `end_time` = hour start + 60 s +
//!    `((k % R) / I) * 3539 / S` s, `begin_time` = `end_time` - 60 s,
//!    `received_at` = `end_time` + 300 s (before the close), `usage_e4` =
//!    `1 + (k * 7919) % 1_000_000` (0.0001 to 100
//!    units), `metering_sn` = `rb-<k>`. Rows go in in `k` order, which is
//!    time order, as pushes would arrive. The seeding is timed on its own and is
//!    not part of the figure; it ends with a check of the row count and usage
//!    sum, and on PostgreSQL with `VACUUM (ANALYZE)` and `CHECKPOINT` (what
//!    autovacuum would soon do after such a load; SQLite gets no `ANALYZE`,
//!    as Mercato never runs one);
//! 4. the figure: `rate_due(&state)` called until a pass rates no period,
//!    timed from the first call to the last answer: records/s, seconds,
//!    passes, periods, records, lines, charges paid and in arrears. Peak RSS
//!    is VmHWM reset (`/proc/self/clear_refs`) just before rating, so it is
//!    rating's own peak (the whole run's is shown too);
//! 5. verification, from the generating formula (not from the database):
//!    one line per (instance, hour) with the expected record count and
//!    quantity (so Σ quantity_e4 = Σ seeded usage_e4), one charge per
//!    (buyer, hour) whose lines' amounts (each rounded once per line by
//!    `mercato_domain::rating::amount_minor`) add up to more than 0, with
//!    that sum, paid + arrears = charges, arrears only for poor buyers (and
//!    at least one when a poor buyer owes more than its credit), and the
//!    ledger check (`app::ledger::check_db`).
//!
//! Exit status 1 when any verification fails.

use super::{
    Node, Scratch, Shop, init_logging, peak_rss_mib, postgres_url, proc_status_mib, reset_peak_rss, seed_shop,
};
use crate::seed;
use anyhow::Context;
use chrono::{DateTime, Duration as Span, DurationRound, Utc};
use clap::Args;
use mercato_server::AppState;
use mercato_server::app::usage::rating::{self, RatingReport};
use mercato_store::Backend;
use mercato_store::bench::rating_seed::{self, RecordFormula};
use mercato_store::bench::seeded::{self, Instance};
use mercato_store::bench::{rated, usage_records};
use serde::Serialize;
use serde_json::json;
use std::collections::{HashMap, HashSet};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

const SELLER_KEY: &str = "bench-access-key-0003";
/// The SKU's price per GB (major units, CNY).
pub const UNIT_PRICE: &str = "0.0005";
/// What a poor buyer's wallet gets: 1 CNY.
pub const POOR_CREDIT_MINOR: i64 = 100;
/// What every other buyer's wallet gets: 10,000,000 CNY, far more than any run charges.
pub const RICH_CREDIT_MINOR: i64 = 1_000_000_000;
/// Rows per insert statement (and transaction) on SQLite.
const SQLITE_CHUNK: u64 = 100_000;
/// Rows per insert statement on PostgreSQL.
const PG_CHUNK: u64 = 1_000_000;
/// Buyers signing up and buying at the same time while seeding.
const SEED_CONCURRENCY: usize = 8;

#[derive(Args, Clone, Debug)]
pub struct RatingArgs {
    /// A PostgreSQL server (postgres://...): a scratch database is created on
    /// it and dropped at the end. Default: a fresh SQLite file in a temp directory.
    #[arg(long)]
    pub database_url: Option<String>,
    /// Valid usage records seeded and rated.
    #[arg(long, default_value_t = 1_000_000, value_parser = clap::value_parser!(u64).range(1..=100_000_000))]
    pub records: u64,
    /// Pay-per-use instances the records are spread over (round-robin).
    #[arg(long, default_value_t = 200, value_parser = clap::value_parser!(u64).range(1..=10_000))]
    pub instances: u64,
    /// Buyers owning the instances (instance n belongs to buyer n % buyers).
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u64).range(1..=1_000))]
    pub buyers: u64,
    /// How many of the buyers get only 1 CNY of credit (their charges go into arrears).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u64).range(0..=1_000))]
    pub poor_buyers: u64,
    /// Closed hours the records are spread over (ending an hour before the current one).
    #[arg(long, default_value_t = 24, value_parser = clap::value_parser!(u64).range(1..=480))]
    pub hours: u64,
    /// Print one JSON object instead of the table.
    #[arg(long)]
    pub json: bool,
    /// Keep the database afterwards (PostgreSQL: the scratch database is not
    /// dropped; SQLite: the temp directory stays), to EXPLAIN rating's queries.
    #[arg(long)]
    pub keep_database: bool,
}

#[derive(Debug, Serialize)]
pub struct Report {
    pub backend: &'static str,
    /// PostgreSQL: the scratch database used (dropped at the end).
    pub scratch_database: Option<String>,
    pub records: u64,
    pub instances: u64,
    pub buyers: u64,
    pub poor_buyers: u64,
    pub hours: u64,
    pub cpus: usize,
    /// The first and last seeded hour (period starts).
    pub first_hour: DateTime<Utc>,
    pub last_hour: DateTime<Utc>,
    pub seed: Seeding,
    pub rating: Rating,
    pub verify: Verification,
    /// VmHWM of the whole run (node, seeding and rating), MiB.
    pub peak_rss_mib: f64,
    /// VmRSS just before rating, MiB: what seeding left resident (the
    /// allocator keeps freed memory, e.g. the argon2id hashes of the buyers'
    /// sign-ups).
    pub rss_before_rating_mib: f64,
    /// VmHWM reset just before rating: rating's own peak, MiB (0 when the
    /// kernel does not allow the reset). Rating needed at most this minus
    /// `rss_before_rating_mib`.
    pub rating_peak_rss_mib: f64,
    /// Every verification passed.
    pub ok: bool,
}

#[derive(Debug, Serialize, Default)]
pub struct Seeding {
    /// Accounts, product, wallets, orders and provisioning over the API.
    pub api_secs: f64,
    /// The set-based writes of the records.
    pub insert_secs: f64,
    pub insert_rows_per_sec: f64,
    /// The count/sum check, and on PostgreSQL VACUUM (ANALYZE) + CHECKPOINT.
    pub settle_secs: f64,
}

#[derive(Debug, Serialize, Default)]
pub struct Rating {
    /// From the first `rate_due` call to the last answer.
    pub seconds: f64,
    pub records_per_sec: f64,
    /// `rate_due` calls (the last one rates nothing).
    pub passes: u64,
    /// Sums of the passes' reports.
    pub periods: u64,
    pub records: u64,
    pub lines: u64,
    pub paid: u64,
    pub arrears: u64,
}

#[derive(Debug, Serialize, Default)]
pub struct Verification {
    /// Records and Σ usage_e4 in the database after seeding.
    pub seeded_rows: u64,
    pub seeded_usage_e4: i64,
    /// From the generating formula.
    pub expected_usage_e4: i64,
    pub expected_lines: u64,
    pub expected_charges: u64,
    pub expected_charged_minor: i64,
    /// What usage_lines / usage_charges hold after rating.
    pub lines: u64,
    pub lines_quantity_e4: i64,
    /// Lines whose (instance, hour) is not expected, or whose record count,
    /// quantity or amount differs from the formula's.
    pub lines_wrong: u64,
    pub charges: u64,
    pub charged_minor: i64,
    /// Charges whose (buyer, hour) is not expected or whose amount differs.
    pub charges_wrong: u64,
    pub charges_paid: u64,
    pub charges_arrears: u64,
    /// Arrears of buyers that were credited plenty.
    pub rich_arrears: u64,
    /// Poor buyers whose charges add up to more than their credit.
    pub poor_buyers_over_credit: u64,
    pub ledger_ok: bool,
    pub ledger_problems: Vec<String>,
    /// Each failed check, in words.
    pub failures: Vec<String>,
}

pub async fn run(args: RatingArgs) -> anyhow::Result<ExitCode> {
    init_logging();
    anyhow::ensure!(
        args.poor_buyers <= args.buyers,
        "--poor-buyers ({}) cannot exceed --buyers ({})",
        args.poor_buyers,
        args.buyers
    );
    let scratch = match postgres_url(args.database_url.as_deref())? {
        Some(url) => Some(Scratch::create(url, &[]).await?),
        None => None,
    };
    let result = measure(&args, scratch.as_ref()).await;
    let name = scratch.as_ref().map(|s| s.mercato.clone());
    match scratch {
        Some(scratch) if args.keep_database => eprintln!("kept the scratch database {}", scratch.mercato),
        Some(scratch) => scratch.drop_all().await,
        None => {}
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

/// The seeded marketplace: instances sorted by id with their buyers.
struct Seeded {
    /// Sorted by instance id: record k goes to `instances[k % I]`.
    instances: Vec<Instance>,
    seller_id: String,
    sku_id: String,
    poor: HashSet<String>,
}

/// Everything between creating the scratch database and dropping it.
async fn measure(args: &RatingArgs, scratch: Option<&Scratch>) -> anyhow::Result<Report> {
    let mut dir = tempfile::tempdir().context("creating a temp directory")?;
    if args.keep_database && scratch.is_none() {
        dir.disable_cleanup(true);
        eprintln!("keeping the SQLite database in {}", dir.path().display());
    }
    let node = Node::start(scratch, dir.path()).await?;
    let api_started = Instant::now();
    let seller_url = seed::start_reference_seller(SELLER_KEY, &dir.path().join("reference-seller.db"), 0).await;
    let seeded = match seller_url {
        Ok(url) => seed_marketplace(args, &node, &url).await,
        Err(e) => Err(e),
    };
    // Nothing else may run while records are written and rated: the node's
    // worker stops with it.
    let state = node.stop().await;
    let api_secs = api_started.elapsed().as_secs_f64();
    let outcome = async {
        let seeded = seeded?;
        let hours = Hours::before(Utc::now(), args.hours);
        seeded::backdate_subscriptions(&state.db, &seeded.sku_id, hours.first - Span::hours(1)).await?;
        forget_rating_marks(&state).await?;
        let mut seed = insert_records(&state, args, &seeded, &hours).await?;
        seed.api_secs = api_secs;
        let settle_started = Instant::now();
        let totals = usage_records::valid_usage_totals(&state.db).await?;
        usage_records::settle_after_bulk_load(&state.db).await?;
        seed.settle_secs = settle_started.elapsed().as_secs_f64();

        let whole_run_peak = peak_rss_mib();
        let rss_before_rating = proc_status_mib("VmRSS:");
        let reset = reset_peak_rss();
        let rating = rate(&state).await?;
        let rating_peak = if reset { peak_rss_mib() } else { 0.0 };

        let expected = Expected::of(args, &seeded)?;
        let mut verify = verify(&state, &seeded, &hours, &expected).await?;
        verify.seeded_rows = totals.rows;
        verify.seeded_usage_e4 = totals.usage_e4;
        judge(&mut verify, args, &rating);
        anyhow::Ok(Report {
            backend: if state.db.backend == Backend::Postgres { "postgresql" } else { "sqlite" },
            scratch_database: None,
            records: args.records,
            instances: args.instances,
            buyers: args.buyers,
            poor_buyers: args.poor_buyers,
            hours: args.hours,
            cpus: std::thread::available_parallelism().map_or(1, |n| n.get()),
            first_hour: hours.first,
            last_hour: hours.first + Span::hours(hours.count as i64 - 1),
            seed,
            rating,
            ok: verify.failures.is_empty(),
            verify,
            peak_rss_mib: whole_run_peak.max(peak_rss_mib()),
            rss_before_rating_mib: rss_before_rating,
            rating_peak_rss_mib: rating_peak,
        })
    }
    .await;
    state.db.clone().close().await;
    outcome
}

/// R and S of the formula in the module docs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Shape {
    /// Records per hour (the last hour may have fewer).
    per_hour: u64,
    /// Records per instance and hour, at most.
    per_line: u64,
}

impl Shape {
    fn of(args: &RatingArgs) -> Shape {
        let per_hour = args.records.div_ceil(args.hours);
        Shape { per_hour, per_line: per_hour.div_ceil(args.instances) }
    }

    /// (instance index, hour index) of record `k`.
    fn line_of(&self, k: u64, instances: u64) -> (usize, i64) {
        ((k % instances) as usize, (k / self.per_hour) as i64)
    }
}

/// The seeded hours: `count` whole UTC hours from `first`.
struct Hours {
    first: DateTime<Utc>,
    count: u64,
}

impl Hours {
    /// The `count` hours ending one hour before the one holding `now`: the
    /// last closed at :15 of the hour before `now`'s, so all are closed.
    fn before(now: DateTime<Utc>, count: u64) -> Hours {
        let current = now.duration_trunc(Span::hours(1)).unwrap_or(now);
        Hours { first: current - Span::hours(count as i64 + 1), count }
    }
}

/// Operator, seller, product, buyers with credit and provisioned instances,
/// all through the API.
async fn seed_marketplace(args: &RatingArgs, node: &Node, seller_url: &str) -> anyhow::Result<Seeded> {
    let product = json!({
        "name": "Bench Rated DB",
        "summary": "A product to benchmark usage rating with",
        "description": "Its pay-per-use instances are rated and charged by `mercato bench rating`.",
    });
    let sku = json!({"sku_code": "bench-rated", "name": "Pay as you go", "charging_mode": "on_demand",
        "currency": "CNY", "metering": {"unit": "GB", "unit_price": UNIT_PRICE, "billing": "hourly"}});
    let Shop { api, op, sku_id, .. } = seed_shop(&node.state, &node.base, seller_url, SELLER_KEY, product, sku).await?;
    let api = Arc::new(api);
    let op = Arc::new(op);
    let gate = Arc::new(tokio::sync::Semaphore::new(SEED_CONCURRENCY));
    let mut tasks = Vec::new();
    for b in 0..args.buyers {
        let (api, op, gate, sku_id) = (api.clone(), op.clone(), gate.clone(), sku_id.clone());
        let poor = b >= args.buyers - args.poor_buyers;
        // Instances b, b + B, b + 2B, ... below I.
        let owned = (args.instances + args.buyers - 1 - b) / args.buyers;
        tasks.push(tokio::spawn(async move {
            let _turn = gate.acquire().await?;
            let (id, key, _) = api
                .signup("buyer", &format!("Bench Buyer {b}"), &format!("buyer{b}@rating.bench.mercato.test"))
                .await?;
            let credit = if poor { POOR_CREDIT_MINOR } else { RICH_CREDIT_MINOR };
            api.credit(&op, &id, credit, "bench rating credit").await?;
            for _ in 0..owned {
                let paid = api.buy(&key, json!({"sku_id": sku_id})).await?;
                anyhow::ensure!(paid["amount_minor"] == 0, "a pay-per-use order costs 0: {paid}");
            }
            anyhow::Ok((id, poor))
        }));
    }
    let mut poor = HashSet::new();
    for t in tasks {
        let (id, is_poor) = t.await??;
        if is_poor {
            poor.insert(id);
        }
    }
    // The worker provisions them through the reference seller.
    let deadline = Instant::now() + Duration::from_secs(300);
    let mut instances = loop {
        let active = seeded::provisioned_instances(&node.state.db, &sku_id).await?;
        if active.len() as u64 >= args.instances {
            break active;
        }
        anyhow::ensure!(
            Instant::now() < deadline,
            "{} of {} instances provisioned after 300 s",
            active.len(),
            args.instances
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    instances.sort();
    let seller_id = seeded::any_seller_id(&node.state.db).await?.context("the seller's account")?;
    Ok(Seeded { instances, seller_id, sku_id, poor })
}

/// The node's rating task ran while the marketplace was seeded, found no
/// records and moved its marks to the present; the records written next
/// are in the past. Forgetting the marks puts the database where it would be
/// had the records been pushed in time: nothing rated yet.
async fn forget_rating_marks(state: &AppState) -> anyhow::Result<()> {
    let lines = rating_seed::clear_rating_marks(&state.db).await?;
    anyhow::ensure!(lines == 0, "{lines} usage lines exist before any record was written");
    Ok(())
}

/// Writes the records in chunks (one statement and transaction each);
/// returns the insert timing.
async fn insert_records(
    state: &AppState,
    args: &RatingArgs,
    seeded: &Seeded,
    hours: &Hours,
) -> anyhow::Result<Seeding> {
    let db = &state.db;
    let ids: Vec<&str> = seeded.instances.iter().map(|i| i.instance_id.as_str()).collect();
    rating_seed::create_instance_index(db, &ids).await?;
    let shape = Shape::of(args);
    let formula = RecordFormula {
        seller_id: &seeded.seller_id,
        instances: args.instances,
        per_hour: shape.per_hour,
        per_line: shape.per_line,
        first_hour: hours.first,
    };
    let chunk = if db.backend == Backend::Postgres { PG_CHUNK } else { SQLITE_CHUNK };
    let started = Instant::now();
    let mut from = 0;
    while from < args.records {
        let to = (from + chunk).min(args.records) - 1;
        let inserted = rating_seed::insert_formula_records(db, &formula, from, to).await?;
        anyhow::ensure!(inserted == to + 1 - from, "inserted {inserted} rows for records {from}..={to}");
        from = to + 1;
        if !args.json || from == args.records {
            eprintln!("seeded {from} of {} records ({:.1} s)", args.records, started.elapsed().as_secs_f64());
        }
    }
    let insert_secs = started.elapsed().as_secs_f64();
    rating_seed::drop_instance_index(db).await?;
    Ok(Seeding { insert_secs, insert_rows_per_sec: args.records as f64 / insert_secs, ..Default::default() })
}

/// The figure: `rate_due` until a pass rates no period.
async fn rate(state: &AppState) -> anyhow::Result<Rating> {
    let started = Instant::now();
    let mut total = RatingReport::default();
    let mut passes = 0;
    loop {
        let pass = rating::rate_due(state).await.map_err(|e| anyhow::anyhow!("rate_due failed: {}", e.report()))?;
        passes += 1;
        total.periods += pass.periods;
        total.records += pass.records;
        total.lines += pass.lines;
        total.paid += pass.paid;
        total.arrears += pass.arrears;
        if pass.periods == 0 {
            break;
        }
    }
    let seconds = started.elapsed().as_secs_f64();
    Ok(Rating {
        seconds,
        records_per_sec: total.records as f64 / seconds,
        passes,
        periods: total.periods,
        records: total.records,
        lines: total.lines,
        paid: total.paid,
        arrears: total.arrears,
    })
}

/// What rating must produce, computed from the generating formula.
struct Expected {
    usage_e4: i64,
    /// (instance index, hour index) -> (records, quantity_e4, amount_minor).
    lines: HashMap<(usize, i64), (i64, i64, i64)>,
    /// (buyer id, hour index) -> Σ line amounts, only where > 0.
    charges: HashMap<(String, i64), i64>,
    /// Per buyer, Σ of its charges.
    owed: HashMap<String, i64>,
}

impl Expected {
    fn of(args: &RatingArgs, seeded: &Seeded) -> anyhow::Result<Expected> {
        let shape = Shape::of(args);
        let mut lines: HashMap<(usize, i64), (i64, i64, i64)> = HashMap::new();
        let mut usage_e4 = 0i64;
        for k in 0..args.records {
            let usage = 1 + (k as i64 * 7919) % 1_000_000;
            let line = lines.entry(shape.line_of(k, args.instances)).or_default();
            line.0 += 1;
            line.1 += usage;
            usage_e4 += usage;
        }
        let price = mercato_domain::money::parse_positive_decimal(UNIT_PRICE, 8, i64::MAX)
            .map_err(|e| anyhow::anyhow!("the unit price: {e}"))?;
        let mut charges: HashMap<(String, i64), i64> = HashMap::new();
        for ((instance, hour), line) in lines.iter_mut() {
            line.2 = mercato_domain::rating::amount_minor(line.1, price, 2).context("a line amount")?;
            *charges.entry((seeded.instances[*instance].buyer_id.clone(), *hour)).or_default() += line.2;
        }
        charges.retain(|_, amount| *amount > 0);
        let mut owed: HashMap<String, i64> = HashMap::new();
        for ((buyer, _), amount) in &charges {
            *owed.entry(buyer.clone()).or_default() += amount;
        }
        Ok(Expected { usage_e4, lines, charges, owed })
    }
}

/// Compares usage_lines and usage_charges with [`Expected`] and checks the ledger.
async fn verify(state: &AppState, seeded: &Seeded, hours: &Hours, expected: &Expected) -> anyhow::Result<Verification> {
    let index: HashMap<&str, usize> =
        seeded.instances.iter().enumerate().map(|(i, instance)| (instance.instance_id.as_str(), i)).collect();
    let hour_of = |t: DateTime<Utc>| {
        let h = (t - hours.first).num_seconds();
        (h % 3600 == 0 && h >= 0 && h < hours.count as i64 * 3600).then_some(h / 3600)
    };
    let mut v = Verification {
        expected_usage_e4: expected.usage_e4,
        expected_lines: expected.lines.len() as u64,
        expected_charges: expected.charges.len() as u64,
        expected_charged_minor: expected.charges.values().sum(),
        ..Default::default()
    };
    for line in rated::usage_lines(&state.db).await? {
        let got = (line.records, line.quantity_e4, line.amount_minor);
        v.lines += 1;
        v.lines_quantity_e4 += got.1;
        let want = index
            .get(line.instance_id.as_str())
            .zip(hour_of(line.period_start))
            .and_then(|(i, h)| expected.lines.get(&(*i, h)));
        if want != Some(&got) {
            v.lines_wrong += 1;
        }
    }
    for charge in rated::usage_charges(&state.db).await? {
        v.charges += 1;
        v.charged_minor += charge.amount_minor;
        match charge.status.as_str() {
            "paid" => v.charges_paid += 1,
            "arrears" => {
                v.charges_arrears += 1;
                if !seeded.poor.contains(&charge.buyer_id) {
                    v.rich_arrears += 1;
                }
            }
            _ => {}
        }
        let want = hour_of(charge.period_start).and_then(|h| expected.charges.get(&(charge.buyer_id, h)));
        if want != Some(&charge.amount_minor) {
            v.charges_wrong += 1;
        }
    }
    v.poor_buyers_over_credit =
        seeded.poor.iter().filter(|b| expected.owed.get(*b).copied().unwrap_or(0) > POOR_CREDIT_MINOR).count() as u64;
    let ledger = mercato_server::app::ledger::check_db(&state.db).await?;
    v.ledger_ok = ledger.is_ok();
    v.ledger_problems = ledger.problems.into_iter().take(20).collect();
    Ok(v)
}

/// Fills `failures` with every check that does not hold.
fn judge(v: &mut Verification, args: &RatingArgs, r: &Rating) {
    let mut fail = |ok: bool, what: String| {
        if !ok {
            v.failures.push(what);
        }
    };
    fail(v.seeded_rows == args.records, format!("{} valid rows seeded, not {}", v.seeded_rows, args.records));
    fail(
        v.seeded_usage_e4 == v.expected_usage_e4,
        format!("seeded Σ usage_e4 {} differs from the formula's {}", v.seeded_usage_e4, v.expected_usage_e4),
    );
    fail(r.records == args.records, format!("rate_due reported {} records rated, not {}", r.records, args.records));
    fail(v.lines == v.expected_lines, format!("{} lines, not {} (distinct instance, hour)", v.lines, v.expected_lines));
    fail(r.lines == v.lines, format!("rate_due reported {} lines, usage_lines holds {}", r.lines, v.lines));
    fail(
        v.lines_quantity_e4 == v.seeded_usage_e4,
        format!(
            "Σ usage_lines.quantity_e4 {} differs from Σ seeded usage_e4 {}",
            v.lines_quantity_e4, v.seeded_usage_e4
        ),
    );
    fail(
        v.lines_wrong == 0,
        format!("{} lines differ from the formula (key, records, quantity or amount)", v.lines_wrong),
    );
    fail(
        v.charges == v.expected_charges,
        format!("{} charges, not {} (distinct buyer, hour with amount > 0)", v.charges, v.expected_charges),
    );
    fail(v.charges_wrong == 0, format!("{} charges differ from the sum of their lines", v.charges_wrong));
    fail(
        v.charged_minor == v.expected_charged_minor,
        format!("charged {} minor units in all, not {}", v.charged_minor, v.expected_charged_minor),
    );
    fail(
        v.charges_paid + v.charges_arrears == v.charges,
        format!("{} paid + {} arrears != {} charges", v.charges_paid, v.charges_arrears, v.charges),
    );
    fail(
        (r.paid, r.arrears) == (v.charges_paid, v.charges_arrears),
        format!(
            "rate_due reported {} paid / {} arrears, the table holds {} / {}",
            r.paid, r.arrears, v.charges_paid, v.charges_arrears
        ),
    );
    fail(v.rich_arrears == 0, format!("{} charges of well-credited buyers are in arrears", v.rich_arrears));
    fail(
        v.poor_buyers_over_credit == 0 || v.charges_arrears > 0,
        format!("{} poor buyers owe more than their credit but nothing is in arrears", v.poor_buyers_over_credit),
    );
    fail(v.ledger_ok, format!("ledger check failed: {}", v.ledger_problems.join("; ")));
}

fn print_table(r: &Report) {
    let v = &r.verify;
    let check = |ok: bool| if ok { "OK" } else { "FAILED" };
    println!("mercato bench rating");
    println!("  backend                     {}", r.backend);
    println!("  records                     {}", r.records);
    println!("  instances / buyers (poor)   {} / {} ({})", r.instances, r.buyers, r.poor_buyers);
    println!("  hours                       {} ({} .. {})", r.hours, r.first_hour, r.last_hour);
    println!("  cpus                        {}", r.cpus);
    println!();
    println!("  seeding over the API        {:.1} s", r.seed.api_secs);
    println!("  inserting records           {:.1} s ({:.0} rows/s)", r.seed.insert_secs, r.seed.insert_rows_per_sec);
    println!("  count check + settle        {:.1} s", r.seed.settle_secs);
    println!();
    println!("  rating                      {:.2} s", r.rating.seconds);
    println!("  records rated/s             {:.0}", r.rating.records_per_sec);
    println!("  passes                      {}", r.rating.passes);
    println!("  periods                     {}", r.rating.periods);
    println!("  records rated               {}", r.rating.records);
    println!("  lines                       {}", r.rating.lines);
    println!("  charges paid / arrears      {} / {}", r.rating.paid, r.rating.arrears);
    println!(
        "  RSS before / peak rating    {:.1} / {:.1} MiB (+{:.1}; whole run peak {:.1} MiB)",
        r.rss_before_rating_mib,
        r.rating_peak_rss_mib,
        (r.rating_peak_rss_mib - r.rss_before_rating_mib).max(0.0),
        r.peak_rss_mib
    );
    println!();
    println!(
        "  verify quantity             {} (Σ lines {} = Σ seeded {})",
        check(v.lines_quantity_e4 == v.seeded_usage_e4 && v.seeded_usage_e4 == v.expected_usage_e4),
        v.lines_quantity_e4,
        v.seeded_usage_e4
    );
    println!(
        "  verify lines                {} ({} = {} distinct instance-hours, {} wrong)",
        check(v.lines == v.expected_lines && v.lines_wrong == 0),
        v.lines,
        v.expected_lines,
        v.lines_wrong
    );
    println!(
        "  verify charges              {} ({} = {} distinct buyer-hours > 0, {} wrong)",
        check(v.charges == v.expected_charges && v.charges_wrong == 0),
        v.charges,
        v.expected_charges,
        v.charges_wrong
    );
    println!("  verify ledger               {}", check(v.ledger_ok));
    for f in &v.failures {
        println!("  FAILED: {f}");
    }
    println!("  verification                {}", check(r.ok));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_seeded_hours_are_closed_and_recent() {
        let now = DateTime::parse_from_rfc3339("2026-11-22T08:30:47Z").unwrap().with_timezone(&Utc);
        let h = Hours::before(now, 24);
        assert_eq!(h.first, DateTime::parse_from_rfc3339("2026-11-21T07:00:00Z").unwrap().with_timezone(&Utc));
        let last = h.first + Span::hours(23);
        assert_eq!(last, DateTime::parse_from_rfc3339("2026-11-22T06:00:00Z").unwrap().with_timezone(&Utc));
        // The last hour's latest record is received at +3599 + 300 s, before
        // both the close (+75 min) and the current hour.
        assert!(last + Span::seconds(3899) < last + Span::minutes(75));
        assert!(last + Span::minutes(75) < now);
        assert!(Hours::before(now, 480).first > now - Span::days(21));
    }

    #[test]
    fn the_formula_fills_every_hour_and_stays_inside_it() {
        for (records, instances, hours) in [(20_000, 20, 3), (10_000_000, 2_000, 24), (7, 3, 2), (1, 1, 1)] {
            let args = RatingArgs {
                database_url: None,
                records,
                instances,
                buyers: 1,
                poor_buyers: 0,
                hours,
                json: false,
                keep_database: false,
            };
            let shape = Shape::of(&args);
            let last = shape.line_of(records - 1, instances);
            assert!(last.1 < hours as i64, "the last record is in the last hour at most");
            let biggest_offset = 60 + (shape.per_hour - 1) / instances * 3539 / shape.per_line;
            assert!(biggest_offset <= 3599, "end_time stays in its hour: {biggest_offset}");
            let lines: HashSet<_> = (0..records.min(1_000_000)).map(|k| shape.line_of(k, instances)).collect();
            if records == 20_000 {
                assert_eq!(lines.len(), 60);
            }
        }
    }
}

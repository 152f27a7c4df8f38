//! `mercato bench usage`: how many usage records per second one node accepts
//! through the signed push API, against a raw multi-row insert of the same
//! rows into the same database.
//!
//! What it does:
//! 1. a scratch database, as `bench orders` (SQLite file in a temp directory,
//!    or `mercato_bench_<random>` on the `--database-url` PostgreSQL server,
//!    dropped at the end);
//! 2. in process, a reference seller (it provisions the instances) and a
//!    Mercato node built as `serve` builds it;
//! 3. seeding through the HTTP API: an operator, an approved seller, a listed
//!    SaaS product (debug run passed) with an on-demand SKU, one buyer who
//!    buys `--instances` pay-per-use subscriptions (each order costs 0) that
//!    the reference seller provisions, and the seller's AK/SK credentials;
//! 4. load: `--concurrency` tasks, each on its own keep-alive connection,
//!    push `--batch`-record batches to `POST /api/mkp-openapi-public/global/
//!    v1/isv/usage-data` for `--warmup-secs` (not measured) then `--seconds`
//!    (measured). Every record has a unique metering_sn, an instance cycling
//!    over the provisioned ones (their start moved an hour back), windows of
//!    1-19 s in the ten minutes before the load (see `Template`) and a usage
//!    value with 4 decimals. Each task builds its body once and patches the
//!    batch number into the metering_sns in place before each call, so the
//!    client's cost is a copy, the body hash and the signature, which is
//!    computed at send time (the X-Sdk-Date must be fresh). A call counts in
//!    the window when it started inside it; accepted records/s is the sum of
//!    the answers' `accepted` over those calls divided by the window;
//! 5. the node is stopped; the rows in usage_records must equal the records
//!    accepted over the whole run (warm-up included);
//! 6. baseline: `usage_baseline`, a copy of usage_records' DDL (key and
//!    indexes included) in the same database, receives as many rows of the
//!    same shape from `--concurrency` tasks, `--batch` rows per statement and
//!    one transaction per batch, with the push path's statement form
//!    (`mercato_store::bench::baseline`);
//! 7. settle: the records the node's validator had not reached are validated,
//!    then a second state on the same database with a clock two hours on
//!    (every period of the run closed) rates and charges everything; both
//!    timed; the records rated must equal the valid ones;
//! 8. peak RSS: VmHWM of this process, which holds the node AND the client.
//!
//! Exit status 1 when the rows stored differ from the records accepted, or
//! the records rated from the valid ones.

use super::{Latency, Node, Scratch, Shop, init_logging, postgres_url, seed_shop};
use crate::seed;
use anyhow::Context;
use chrono::{DateTime, Utc};
use clap::Args;
use koo::gateway;
use mercato_store::bench::baseline::{
    BaselineRow, count_baseline_rows, create_baseline_table, drop_baseline_table, insert_baseline_rows, statement_form,
};
use mercato_store::bench::{activity, seeded, usage_records};
use mercato_store::{Backend, Db};
use serde::Serialize;
use serde_json::json;
use std::collections::BTreeMap;
use std::process::ExitCode;
use std::time::{Duration, Instant};

const PUSH: &str = "/api/mkp-openapi-public/global/v1/isv/usage-data";
const SELLER_KEY: &str = "bench-access-key-0002";
/// The placeholder the batch number is written over in each metering_sn.
const SEQ_DIGITS: usize = 10;

#[derive(Args, Clone, Debug)]
pub struct UsageArgs {
    /// A PostgreSQL server (postgres://...): a scratch database is created on
    /// it and dropped at the end. Default: a fresh SQLite file in a temp directory.
    #[arg(long)]
    pub database_url: Option<String>,
    /// Concurrent connections pushing (one call at a time each); also the
    /// baseline's concurrent inserters.
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u64).range(1..=1024))]
    pub concurrency: u64,
    /// Measured seconds of load.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub seconds: u64,
    /// Seconds of load before measuring (connections, caches).
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u64).range(0..=600))]
    pub warmup_secs: u64,
    /// Records per call (the API takes at most 1000); also rows per baseline statement.
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u64).range(1..=1000))]
    pub batch: u64,
    /// Pay-per-use instances bought, provisioned and reported on.
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u64).range(1..=10_000))]
    pub instances: u64,
    /// Print one JSON object instead of the table.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Serialize)]
pub struct Report {
    pub backend: &'static str,
    /// PostgreSQL: the scratch database used (dropped at the end).
    pub scratch_database: Option<String>,
    pub concurrency: u64,
    pub seconds: u64,
    pub warmup_secs: u64,
    pub batch: u64,
    pub instances: u64,
    pub cpus: usize,
    /// Successful calls that started in the measured window.
    pub calls: u64,
    pub calls_per_sec: f64,
    /// Records accepted by those calls.
    pub accepted: u64,
    pub accepted_per_sec: f64,
    /// Per successful call in the window.
    pub latency_ms: Latency,
    /// Records accepted over the whole run (warm-up included).
    pub accepted_total: u64,
    /// Answered records already stored (must stay 0: every metering_sn is new).
    pub already_received: u64,
    /// Failed calls over the whole run.
    pub errors: u64,
    /// HTTP status (0 = transport error or unreadable answer) -> count.
    pub errors_by_status: BTreeMap<u16, u64>,
    /// The first failed call's status and answer, to tell why.
    pub first_error: Option<String>,
    /// Rows in usage_records after the load; equals accepted_total.
    pub rows: u64,
    /// VmHWM of this process (node and client together), MiB.
    pub peak_rss_mib: f64,
    /// After the load: the rest validated, then everything rated and charged.
    pub settle: Settle,
    pub baseline: Baseline,
    /// accepted_per_sec / baseline.rows_per_sec.
    pub ratio: f64,
}

#[derive(Debug, Serialize, Default)]
pub struct Settle {
    /// Records the node's validator had not decided when the load ended.
    pub validated_after: u64,
    pub validate_secs: f64,
    /// Rows per status once all are decided.
    pub statuses: BTreeMap<String, u64>,
    /// Rating and charging every period of the run, on a clock two hours on.
    pub rate_secs: f64,
    pub rated_records: u64,
    pub lines: u64,
    pub charges: u64,
}

#[derive(Debug, Serialize, Default)]
pub struct Baseline {
    /// The statement form, per `mercato_store::bench::baseline::statement_form`.
    pub statement: &'static str,
    pub rows: u64,
    pub seconds: f64,
    pub rows_per_sec: f64,
    /// PostgreSQL: seconds waited, before the baseline, for statements the
    /// node left running (its usage validator) to finish.
    pub quiet_after_secs: f64,
}

pub async fn run(args: UsageArgs) -> anyhow::Result<ExitCode> {
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
    let valid = report.settle.statuses.get("valid").copied().unwrap_or(0);
    let settled = report.settle.rated_records == valid;
    if !settled {
        eprintln!("rated {} records, but {valid} are valid", report.settle.rated_records);
    }
    Ok(if report.rows == report.accepted_total && settled { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

/// Everything between creating the scratch database and dropping it.
async fn measure(args: &UsageArgs, scratch: Option<&Scratch>) -> anyhow::Result<Report> {
    let dir = tempfile::tempdir().context("creating a temp directory")?;
    let node = Node::start(scratch, dir.path()).await?;
    let seller_url = seed::start_reference_seller(SELLER_KEY, &dir.path().join("reference-seller.db"), 0).await;
    let loaded = match seller_url {
        Ok(url) => load(args, &node, &url).await,
        Err(e) => Err(e),
    };
    // The node stops before counting and before the baseline, so nothing
    // else writes meanwhile.
    let state = node.stop().await;
    let outcome = async {
        let mut report = loaded?;
        report.rows = usage_records::count_usage_records(&state.db).await?;
        report.settle = settle(&state).await?;
        report.baseline = baseline(&state.db, args, report.accepted_total.max(args.batch)).await?;
        report.ratio = if report.baseline.rows_per_sec > 0.0 {
            report.accepted_per_sec / report.baseline.rows_per_sec
        } else {
            0.0
        };
        report.peak_rss_mib = super::peak_rss_mib();
        anyhow::Ok(report)
    }
    .await;
    state.db.clone().close().await;
    outcome
}

/// Seeds, then pushes for warm-up + measured seconds; fills the load figures.
async fn load(args: &UsageArgs, node: &Node, seller_url: &str) -> anyhow::Result<Report> {
    let (ak, sk, instances) = seed_marketplace(node, seller_url, args.instances).await?;
    let url = reqwest::Url::parse(&format!("{}{PUSH}", node.base))?;
    let host = format!("{}:{}", url.host_str().context("host")?, url.port().context("port")?);
    let now = Utc::now();
    let start = Instant::now();
    let measure_from = start + Duration::from_secs(args.warmup_secs);
    let end = measure_from + Duration::from_secs(args.seconds);
    let mut tasks = Vec::new();
    for conn in 0..args.concurrency as usize {
        let pusher = Pusher {
            // A client each: its own connection, as separate sellers' SDKs would have.
            client: reqwest::Client::builder().timeout(Duration::from_secs(120)).build()?,
            url: url.clone(),
            host: host.clone(),
            ak: ak.clone(),
            sk: sk.clone(),
            template: Template::new(conn, args.batch as usize, &instances, now),
        };
        tasks.push(tokio::spawn(pusher.run(measure_from, end)));
    }
    let mut samples = Vec::new();
    let (mut accepted, mut accepted_total, mut already_received) = (0, 0, 0);
    let mut errors_by_status = BTreeMap::new();
    let mut first_error = None;
    for task in tasks {
        let done = task.await?;
        samples.extend(done.samples_us);
        accepted += done.accepted;
        accepted_total += done.accepted_total;
        already_received += done.already_received;
        first_error = first_error.or(done.first_error);
        for (status, n) in done.errors {
            *errors_by_status.entry(status).or_insert(0) += n;
        }
    }
    // In-flight calls may end a little after `end`: the window is what it took.
    let window = Instant::now().saturating_duration_since(measure_from).as_secs_f64().max(args.seconds as f64);
    samples.sort_unstable();
    let calls = samples.len() as u64;
    Ok(Report {
        backend: if args.database_url.is_some() { "postgresql" } else { "sqlite" },
        scratch_database: None,
        concurrency: args.concurrency,
        seconds: args.seconds,
        warmup_secs: args.warmup_secs,
        batch: args.batch,
        instances: args.instances,
        cpus: std::thread::available_parallelism().map_or(1, |n| n.get()),
        calls,
        calls_per_sec: calls as f64 / window,
        accepted,
        accepted_per_sec: accepted as f64 / window,
        latency_ms: Latency::of_sorted_micros(&samples),
        accepted_total,
        already_received,
        errors: errors_by_status.values().sum(),
        errors_by_status,
        first_error,
        rows: 0,
        peak_rss_mib: 0.0,
        settle: Settle::default(),
        baseline: Baseline::default(),
        ratio: 0.0,
    })
}

/// Operator, approved seller with AK/SK, a listed SaaS product with an
/// on-demand SKU, and `instances` provisioned pay-per-use subscriptions of
/// one buyer; returns (AK, SK, instance ids).
async fn seed_marketplace(
    node: &Node,
    seller_url: &str,
    instances: u64,
) -> anyhow::Result<(String, String, Vec<String>)> {
    let product = json!({
        "name": "Bench Metered DB",
        "summary": "A product to benchmark usage ingestion with",
        "description": "Its pay-per-use instances are reported on by `mercato bench usage`.",
    });
    let sku = json!({"sku_code": "bench-payg", "name": "Pay as you go", "charging_mode": "on_demand",
        "currency": "CNY", "metering": {"unit": "GB", "unit_price": "0.05", "billing": "hourly"}});
    let Shop { api, seller_key, sku_id, .. } =
        seed_shop(&node.state, &node.base, seller_url, SELLER_KEY, product, sku).await?;

    let (_, buyer_key, _) = api.signup("buyer", "Bench Buyer", "buyer@bench.mercato.test").await?;
    for _ in 0..instances {
        let paid = api.buy(&buyer_key, json!({"sku_id": sku_id})).await?;
        anyhow::ensure!(paid["amount_minor"] == 0, "a pay-per-use order costs 0: {paid}");
    }
    // The worker provisions them through the reference seller.
    let deadline = Instant::now() + Duration::from_secs(120);
    let ids = loop {
        let active = seeded::provisioned_instances(&node.state.db, &sku_id).await?;
        if active.len() as u64 >= instances {
            break active.into_iter().map(|i| i.instance_id).collect::<Vec<_>>();
        }
        anyhow::ensure!(Instant::now() < deadline, "{} of {instances} instances provisioned after 120 s", active.len());
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    // Bought a moment ago; the records report the last ten minutes.
    seeded::backdate_subscriptions(&node.state.db, &sku_id, Utc::now() - chrono::Duration::hours(1)).await?;
    let (ak, sk) = api.open_api_credentials(&seller_key).await?;
    Ok((ak, sk, ids))
}

/// `yyyyMMdd'T'HHmmss'Z'`, the usage records' time format.
fn utc(t: DateTime<Utc>) -> String {
    t.format(gateway::DATE_FORMAT).to_string()
}

/// One connection's request body, built once: `batch` records whose
/// metering_sn `c<conn>-b<batch number>-r<i>` carries the batch number at
/// known offsets, rewritten before each call, as are the records' times:
/// windows of 1-19 s starting in the ten minutes before `now` (periods still
/// open whatever the minute), shifted per batch so that (instance, begin,
/// end) rarely repeats and most records are valid, not duplicates.
struct Template {
    body: Vec<u8>,
    seq_offsets: Vec<usize>,
    /// Per record: the offsets of record_time, begin_time and end_time.
    time_offsets: Vec<[usize; 3]>,
    /// `yyyyMMdd'T'HHmmss'Z'` of each second of the window, preformatted.
    stamps: Vec<[u8; STAMP_LEN]>,
    conn: usize,
}

/// Length of a `yyyyMMdd'T'HHmmss'Z'` time.
const STAMP_LEN: usize = 16;
/// Seconds a window may start after the template's base time.
const WINDOW_STARTS: usize = 580;

impl Template {
    fn new(conn: usize, batch: usize, instances: &[String], now: DateTime<Utc>) -> Template {
        let base = now - chrono::Duration::minutes(10);
        let stamps: Vec<[u8; STAMP_LEN]> = (0..WINDOW_STARTS as i64 + 20)
            .map(|k| {
                let text = utc(base + chrono::Duration::seconds(k));
                text.as_bytes().try_into().expect("a 16-byte time")
            })
            .collect();
        let placeholder = std::str::from_utf8(&stamps[0]).expect("ascii").to_string();
        let mut body = String::with_capacity(batch * 220 + 32);
        let mut seq_offsets = Vec::with_capacity(batch);
        let mut time_offsets = Vec::with_capacity(batch);
        body.push_str("{\"usage_records\":[");
        for i in 0..batch {
            if i > 0 {
                body.push(',');
            }
            let instance = &instances[(conn * batch + i) % instances.len()];
            body.push_str("{\"instance_id\":");
            body.push_str(&serde_json::to_string(instance).expect("a string serializes"));
            body.push_str(&format!(",\"metering_sn\":\"c{conn:04}-b"));
            seq_offsets.push(body.len());
            body.push_str(&"0".repeat(SEQ_DIGITS));
            let mut at = [0; 3];
            for (n, name) in ["record_time", "begin_time", "end_time"].iter().enumerate() {
                body.push_str(if n == 0 { "-r" } else { "\",\"" });
                if n == 0 {
                    body.push_str(&format!("{i:04}\",\""));
                }
                body.push_str(name);
                body.push_str("\":\"");
                at[n] = body.len();
                body.push_str(&placeholder);
            }
            time_offsets.push(at);
            body.push_str(&format!("\",\"usage_value\":\"{}.{:04}\"}}", i % 100 + 1, (i * 37) % 10_000));
        }
        body.push_str("]}");
        Template { body: body.into_bytes(), seq_offsets, time_offsets, stamps, conn }
    }

    /// The body of batch number `seq`.
    fn body(&mut self, seq: u64) -> Vec<u8> {
        let digits = format!("{seq:0width$}", width = SEQ_DIGITS);
        for &at in &self.seq_offsets {
            self.body[at..at + SEQ_DIGITS].copy_from_slice(digits.as_bytes());
        }
        let seq = seq as usize;
        for (i, at) in self.time_offsets.iter().enumerate() {
            // Connections at the same batch number cycle over the same
            // instances: their windows must differ too.
            let begin = (seq.wrapping_mul(7919) + i * 7 + self.conn * 131) % WINDOW_STARTS;
            let end = begin + 1 + (seq + i) % 19;
            for (n, k) in [end, begin, end].into_iter().enumerate() {
                self.body[at[n]..at[n] + STAMP_LEN].copy_from_slice(&self.stamps[k]);
            }
        }
        self.body.clone()
    }
}

struct Pusher {
    client: reqwest::Client,
    url: reqwest::Url,
    host: String,
    ak: String,
    sk: String,
    template: Template,
}

#[derive(Default)]
struct PusherResult {
    samples_us: Vec<u64>,
    accepted: u64,
    accepted_total: u64,
    already_received: u64,
    errors: BTreeMap<u16, u64>,
    first_error: Option<String>,
}

impl Pusher {
    async fn run(mut self, measure_from: Instant, end: Instant) -> PusherResult {
        let mut result = PusherResult::default();
        let mut seq = 0u64;
        loop {
            let started = Instant::now();
            if started >= end {
                break;
            }
            let body = self.template.body(seq);
            seq += 1;
            match self.push(body).await {
                Ok((accepted, already)) => {
                    result.accepted_total += accepted;
                    result.already_received += already;
                    if started >= measure_from {
                        result.samples_us.push(started.elapsed().as_micros() as u64);
                        result.accepted += accepted;
                    }
                }
                Err((status, answer)) => {
                    *result.errors.entry(status).or_insert(0) += 1;
                    result.first_error.get_or_insert_with(|| format!("{status}: {answer}"));
                    // Do not spin on a node that refuses everything.
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
            }
        }
        result
    }

    /// Signs at send time and pushes; Ok((accepted, already_received)), or
    /// the failing HTTP status (0: no answer or an unexpected body) and why.
    async fn push(&self, body: Vec<u8>) -> Result<(u64, u64), (u16, String)> {
        let date = Utc::now().format(gateway::DATE_FORMAT).to_string();
        let headers = [("host".to_string(), self.host.clone()), (gateway::DATE_HEADER.to_string(), date.clone())];
        let canonical = gateway::canonical_request("POST", PUSH, "", &headers, &body);
        let signature = gateway::signature(&self.sk, &gateway::string_to_sign(&date, &canonical));
        let res = self
            .client
            .post(self.url.clone())
            .header("Content-Type", "application/json")
            .header("X-Sdk-Date", &date)
            .header(
                "Authorization",
                format!(
                    "{} Access={}, SignedHeaders=host;x-sdk-date, Signature={signature}",
                    gateway::ALGORITHM,
                    self.ak
                ),
            )
            .body(body)
            .send()
            .await
            .map_err(|e| (0, e.to_string()))?;
        let status = res.status().as_u16();
        let bytes = res.bytes().await.map_err(|e| (0, e.to_string()))?;
        let text = || String::from_utf8_lossy(&bytes[..bytes.len().min(500)]).into_owned();
        if status != 200 {
            return Err((status, text()));
        }
        let answer: serde_json::Value = serde_json::from_slice(&bytes).map_err(|_| (0, text()))?;
        match (answer["accepted"].as_u64(), answer["already_received"].as_u64()) {
            (Some(accepted), Some(already)) => Ok((accepted, already)),
            _ => Err((0, text())),
        }
    }
}

/// Creates usage_baseline like usage_records and inserts `rows` rows from
/// `--concurrency` tasks, `--batch` per statement and transaction.
async fn baseline(db: &Db, args: &UsageArgs, rows: u64) -> anyhow::Result<Baseline> {
    let quiet_after_secs = if db.backend == Backend::Postgres { wait_for_quiet(db).await? } else { 0.0 };
    create_baseline_table(db).await?;
    // Any account satisfies the foreign key the DDL may carry.
    let seller = seeded::any_seller_id(db).await?.context("the seller's account")?;
    let batches = rows.div_ceil(args.batch);
    let next = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let started = Instant::now();
    let tasks: Vec<_> = (0..args.concurrency)
        .map(|_| {
            let (db, next, seller, batch) = (db.clone(), next.clone(), seller.clone(), args.batch);
            tokio::spawn(async move {
                let mut inserted = 0u64;
                loop {
                    let b = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    if b >= batches {
                        return anyhow::Ok(inserted);
                    }
                    let n = batch.min(rows - b * batch);
                    let now = Utc::now();
                    inserted += insert_baseline_rows(&db, &seller, now, baseline_rows(b, n, now)).await?;
                }
            })
        })
        .collect();
    let mut inserted = 0;
    for t in tasks {
        inserted += t.await??;
    }
    let seconds = started.elapsed().as_secs_f64();
    anyhow::ensure!(inserted == rows, "the baseline inserted {inserted} rows of {rows}");
    anyhow::ensure!(count_baseline_rows(db).await? == rows, "usage_baseline holds the rows inserted");
    drop_baseline_table(db).await?;
    Ok(Baseline {
        statement: statement_form(db.backend),
        rows,
        seconds,
        rows_per_sec: rows as f64 / seconds,
        quiet_after_secs,
    })
}

/// The node's background work (the usage validator's statements) may still
/// be running in PostgreSQL after the node stopped; the baseline must not
/// share the machine with it. Waits up to 120 s for no other active query in
/// this database, then cancels what is left (the database is scratch);
/// returns the seconds waited.
async fn wait_for_quiet(db: &Db) -> anyhow::Result<f64> {
    let started = Instant::now();
    loop {
        let busy = activity::other_active_statements(db).await?;
        if busy == 0 {
            break;
        }
        if started.elapsed() >= Duration::from_secs(120) {
            eprintln!("cancelling {busy} statement(s) still running before the baseline");
            activity::cancel_other_statements(db).await?;
            tokio::time::sleep(Duration::from_millis(500)).await;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Ok(started.elapsed().as_secs_f64())
}

/// Validates what the node's validator had not reached, then rates and
/// charges everything pushed, as a node two hours later would (every period
/// of the run closed); times both.
async fn settle(state: &mercato_server::AppState) -> anyhow::Result<Settle> {
    use mercato_server::app::usage::{intake, rating};
    let started = Instant::now();
    let left = intake::validate_all(state).await?;
    let validate_secs = started.elapsed().as_secs_f64();
    let later = mercato_server::clock::ManualClock::starting_at(Utc::now() + chrono::Duration::hours(2));
    let rater = mercato_server::runtime::build_state(state.config.clone(), std::sync::Arc::new(later)).await?;
    let started = Instant::now();
    let mut done = Settle { validated_after: left.total(), validate_secs, ..Settle::default() };
    loop {
        let r = rating::rate_due(&rater).await.map_err(|e| anyhow::anyhow!("rating: {}", e.report()))?;
        if r.periods == 0 {
            break;
        }
        done.rated_records += r.records;
        done.lines += r.lines;
        done.charges += r.paid + r.arrears;
    }
    done.rate_secs = started.elapsed().as_secs_f64();
    rater.db.clone().close().await;
    done.statuses = usage_records::usage_records_by_status(&state.db).await?;
    Ok(done)
}

/// Batch `b` of the baseline: `n` rows shaped like the pushed ones, their
/// windows in the hour before `now`.
fn baseline_rows(b: u64, n: u64, now: DateTime<Utc>) -> impl Iterator<Item = BaselineRow> {
    let hour_ago = now - chrono::Duration::hours(1);
    (0..n).map(move |i| {
        let begin_time = hour_ago + chrono::Duration::minutes((i % 50) as i64);
        let end_time = begin_time + chrono::Duration::seconds(299);
        BaselineRow {
            metering_sn: format!("base-b{b:010}-r{i:04}"),
            instance_id: format!("bench-instance-{:03}", i % 100),
            record_time: end_time,
            begin_time,
            end_time,
            usage_e4: i as i64 * 1_000 + 1,
        }
    })
}

fn print_table(r: &Report) {
    println!("mercato bench usage");
    println!("  backend                  {}", r.backend);
    println!("  connections              {}", r.concurrency);
    println!("  measured                 {} s (after {} s warm-up)", r.seconds, r.warmup_secs);
    println!("  records per call         {}", r.batch);
    println!("  instances                {}", r.instances);
    println!("  cpus                     {}", r.cpus);
    println!();
    println!("  calls                    {}", r.calls);
    println!("  calls/s                  {:.1}", r.calls_per_sec);
    println!("  accepted records         {}", r.accepted);
    println!("  accepted records/s       {:.0}", r.accepted_per_sec);
    println!("  latency p50              {:.2} ms", r.latency_ms.p50);
    println!("  latency p99              {:.2} ms", r.latency_ms.p99);
    println!("  latency max              {:.2} ms", r.latency_ms.max);
    let by_status: Vec<String> = r.errors_by_status.iter().map(|(s, n)| format!("{s}: {n}")).collect();
    println!(
        "  errors                   {} {}",
        r.errors,
        if by_status.is_empty() { String::new() } else { format!("({})", by_status.join(", ")) }
    );
    if let Some(e) = &r.first_error {
        println!("  first error              {e}");
    }
    println!();
    println!("  accepted (whole run)     {}", r.accepted_total);
    println!("  rows in usage_records    {}", r.rows);
    println!("  peak RSS (node+client)   {:.1} MiB", r.peak_rss_mib);
    let statuses: Vec<String> = r.settle.statuses.iter().map(|(s, n)| format!("{s}: {n}")).collect();
    println!("  validated after the load {} in {:.2} s", r.settle.validated_after, r.settle.validate_secs);
    println!("  records by status        {}", statuses.join(", "));
    println!(
        "  rated and charged        {} records, {} lines, {} charges in {:.2} s",
        r.settle.rated_records, r.settle.lines, r.settle.charges, r.settle.rate_secs
    );
    println!();
    println!("  baseline                 {} of {} rows", r.baseline.statement, r.baseline.rows);
    println!("  baseline rows/s          {:.0}", r.baseline.rows_per_sec);
    if r.baseline.quiet_after_secs >= 0.5 {
        println!("  (baseline started after  {:.1} s waiting for the node's statements)", r.baseline.quiet_after_secs);
    }
    println!("  accepted/s ÷ baseline    {:.2}", r.ratio);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_batch_has_unique_metering_sns_and_parses_as_a_valid_push() {
        let instances = vec!["ins-a".to_string(), "ins-b".to_string(), "ins-c".to_string()];
        let now = Utc::now();
        let mut t = Template::new(7, 1000, &instances, now);
        let first = t.body(0);
        let second = t.body(42);
        let parsed = mercato_domain::usage::parse_batch(&second).expect("a valid batch");
        assert_eq!(parsed.len(), 1000);
        assert_eq!(parsed[0].metering_sn, "c0007-b0000000042-r0000");
        assert_eq!(parsed[4].instance_id, "ins-c", "(7 * 1000 + 4) % 3 = 2");
        assert!(parsed.iter().all(|r| r.end_time < now && r.begin_time > now - chrono::Duration::seconds(601)));
        assert!(parsed.iter().all(|r| r.begin_time < r.end_time && r.record_time == Some(r.end_time)));
        let windows: std::collections::HashSet<_> =
            parsed.iter().map(|r| (r.instance_id.clone(), r.begin_time, r.end_time)).collect();
        assert!(windows.len() > 990, "windows rarely repeat: {}", windows.len());
        assert!(parsed.iter().all(|r| r.usage_e4 > 0));
        let sns = |b: &[u8]| {
            mercato_domain::usage::parse_batch(b).unwrap().into_iter().map(|r| r.metering_sn).collect::<Vec<_>>()
        };
        let (a, b) = (sns(&first), sns(&second));
        assert!(a.iter().all(|s| !b.contains(s)), "batches share no metering_sn");
    }
}

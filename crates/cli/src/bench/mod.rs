//! `mercato bench`: benchmark programs. Each starts what it measures in
//! process (a Mercato node and, where needed, a reference seller) on a
//! scratch database and drives it over real HTTP, so the figures include the
//! whole request path. Performance is measured here, never by timed tests.
//!
//! Shared here: the scratch databases, the in-process node, percentiles and
//! the quiet logging every bench uses.

use anyhow::Context;
use clap::Subcommand;
use mercato_server::{AppState, Config, runtime};
use mercato_store::bench::scratch::{create_database, drop_database};
use std::process::ExitCode;
use std::time::Duration;

pub mod orders;
pub mod rating;
pub mod settlement;
pub mod usage;

#[derive(Subcommand)]
pub enum BenchCommand {
    /// Place-and-pay orders over HTTP with concurrent buyers; report orders/s,
    /// latency, fulfilment lag and (on PostgreSQL) pgbench TPC-B TPS for scale.
    Orders(orders::OrdersArgs),
    /// Push signed 1000-record usage batches over HTTP with concurrent
    /// connections; report accepted records/s, latency, peak RSS and a raw
    /// multi-row insert baseline into the same database.
    Usage(usage::UsageArgs),
    /// Seed valid usage records with set-based SQL, then time `rate_due`
    /// rating and charging them all; report records/s, lines, charges, peak
    /// RSS, and verify quantities, charges and the ledger.
    Rating(rating::RatingArgs),
    /// Seed a month of delivered sales and paid usage charges across many
    /// sellers with set-based SQL, then time one settlement run of it; report
    /// seconds, lines/s, peak RSS, and verify every statement and the
    /// reconciliation with the ledger.
    Settlement(settlement::SettlementArgs),
}

pub async fn run(command: BenchCommand) -> anyhow::Result<ExitCode> {
    match command {
        BenchCommand::Orders(args) => orders::run(args).await,
        BenchCommand::Usage(args) => usage::run(args).await,
        BenchCommand::Rating(args) => rating::run(args).await,
        BenchCommand::Settlement(args) => settlement::run(args).await,
    }
}

/// The node's log lines would cost as much as the work measured: warnings
/// only, unless MERCATO_LOG says otherwise.
pub(crate) fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("MERCATO_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn,sqlx=error"));
    let _ = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).try_init();
}

/// `Some(url)` for a postgres:// URL, `None` without one (SQLite); any other
/// URL is refused.
pub(crate) fn postgres_url(database_url: Option<&str>) -> anyhow::Result<Option<&str>> {
    match database_url {
        None => Ok(None),
        Some(url) if url.starts_with("postgres://") || url.starts_with("postgresql://") => Ok(Some(url)),
        Some(_) => {
            anyhow::bail!("--database-url takes a postgres:// URL; without it the bench uses a fresh SQLite file")
        }
    }
}

/// Scratch databases on a PostgreSQL server: Mercato's `mercato_bench_<random>`
/// and `mercato_bench_<random>_<extra>` for each extra name asked for (as
/// pgbench's). All are dropped by [`Scratch::drop_all`].
pub(crate) struct Scratch {
    admin_url: String,
    pub mercato: String,
    pub extra: Vec<String>,
}

impl Scratch {
    pub async fn create(admin_url: &str, extra: &[&str]) -> anyhow::Result<Scratch> {
        let suffix = format!(
            "{:x}{:x}",
            std::process::id(),
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?.subsec_nanos()
        );
        let mercato = format!("mercato_bench_{suffix}");
        let scratch = Scratch {
            admin_url: admin_url.to_string(),
            extra: extra.iter().map(|e| format!("{mercato}_{e}")).collect(),
            mercato,
        };
        let admin = mercato_store::Db::open(admin_url).await.context("connecting to the PostgreSQL server")?;
        for name in scratch.names() {
            create_database(&admin, name).await.with_context(|| format!("creating {name}"))?;
        }
        admin.close().await;
        Ok(scratch)
    }

    fn names(&self) -> impl Iterator<Item = &String> {
        std::iter::once(&self.mercato).chain(&self.extra)
    }

    pub fn url(&self, name: &str) -> String {
        with_database(&self.admin_url, name)
    }

    /// Drops every database; a failure is reported, not fatal (the figures
    /// are still worth printing).
    pub async fn drop_all(self) {
        let admin = match mercato_store::Db::open(&self.admin_url).await {
            Ok(db) => db,
            Err(e) => {
                eprintln!("could not drop {}: {e}", self.names().cloned().collect::<Vec<_>>().join(", "));
                return;
            }
        };
        for name in self.names() {
            if let Err(e) = drop_database(&admin, name).await {
                eprintln!("could not drop {name}: {e}");
            }
        }
        admin.close().await;
    }
}

/// `url` with its database name replaced by `name` (query string kept).
pub(crate) fn with_database(url: &str, name: &str) -> String {
    let (main, query) = match url.split_once('?') {
        Some((m, q)) => (m, Some(q)),
        None => (url, None),
    };
    let scheme_end = main.find("://").map_or(0, |i| i + 3);
    let host_part = match main[scheme_end..].find('/') {
        Some(i) => &main[..scheme_end + i],
        None => main,
    };
    match query {
        Some(q) => format!("{host_part}/{name}?{q}"),
        None => format!("{host_part}/{name}"),
    }
}

/// A Mercato node started in process as `serve` starts it (plain HTTP to
/// loopback sellers allowed, the wall clock, the job worker on), on the
/// scratch PostgreSQL database or a SQLite file in `data_dir`.
pub(crate) struct Node {
    pub state: AppState,
    /// The job kinds and tasks the node's worker runs (extra workers share it).
    pub registry: std::sync::Arc<mercato_server::workers::Registry>,
    pub base: String,
    stop_tx: tokio::sync::watch::Sender<bool>,
    server: tokio::task::JoinHandle<anyhow::Result<()>>,
}

impl Node {
    pub async fn start(scratch: Option<&Scratch>, data_dir: &std::path::Path) -> anyhow::Result<Node> {
        let mut config = Config::load().map_err(|e| anyhow::anyhow!("reading configuration: {e}"))?;
        config.data_dir = data_dir.to_path_buf();
        config.database_url = scratch.map(|s| s.url(&s.mercato)).unwrap_or_default();
        config.listen = "127.0.0.1:0".parse()?;
        config.allow_insecure_endpoints = true;
        config.outbound_allow = koo::outbound::AddressPolicy::allowing_loopback();
        config.test_clock = false;
        config.worker_enabled = true;
        let state = runtime::build_default_state(config).await?;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let base = format!("http://{}", listener.local_addr()?);
        let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
        let mut server_stop = stop_rx;
        let registry = mercato_server::workers::registry();
        let server = tokio::spawn(runtime::serve(state.clone(), registry.clone(), listener, async move {
            let _ = server_stop.wait_for(|s| *s).await;
        }));
        Ok(Node { state, registry, base, stop_tx, server })
    }

    /// A receiver that turns true when the node stops (for extra worker loops).
    pub fn stop_signal(&self) -> tokio::sync::watch::Receiver<bool> {
        self.stop_tx.subscribe()
    }

    /// Stops serving (within 30 s); the database stays open for the caller.
    pub async fn stop(self) -> AppState {
        let _ = self.stop_tx.send(true);
        match tokio::time::timeout(Duration::from_secs(30), self.server).await {
            Ok(Ok(Err(e))) => eprintln!("the node stopped with an error: {e}"),
            Err(_) => eprintln!("the node did not stop within 30 s"),
            _ => {}
        }
        self.state
    }
}

/// The `p` quantile (nearest rank) of sorted values; 0 when empty.
/// A `/proc/self/status` field given in kB, in MiB; 0 where /proc is absent.
pub(crate) fn proc_status_mib(field: &str) -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with(field))?.split_whitespace().nth(1)?.parse::<f64>().ok())
        .map_or(0.0, |kib| kib / 1024.0)
}

/// VmHWM (peak resident set) of this process in MiB; 0 where /proc is absent.
pub(crate) fn peak_rss_mib() -> f64 {
    proc_status_mib("VmHWM:")
}

/// Resets VmHWM to the current RSS (Linux 4.0+); false when not allowed.
pub(crate) fn reset_peak_rss() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

pub(crate) fn percentile<T: Copy + Default>(sorted: &[T], p: f64) -> T {
    if sorted.is_empty() {
        return T::default();
    }
    let rank = (p * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// What the benchmarks (and `mercato chaos`) seed first: an operator, an
/// approved seller and one listed SaaS product behind the reference seller
/// at `seller_url`.
pub(crate) struct Shop {
    pub api: crate::seed::Api,
    /// The operator's API key.
    pub op: String,
    pub seller_key: String,
    /// The product's first SKU.
    pub sku_id: String,
    /// Every SKU of the product, in the order given.
    pub sku_ids: Vec<String>,
}

/// Seeds a [`Shop`] through the API; `product` names and describes the
/// product (the rest of the form is filled in here), `sku` is its one SKU.
pub(crate) async fn seed_shop(
    state: &AppState,
    base: &str,
    seller_url: &str,
    seller_key_at_endpoint: &str,
    product: serde_json::Value,
    sku: serde_json::Value,
) -> anyhow::Result<Shop> {
    let op = mercato_server::app::accounts::create_operator(state, "Bench Operator", "operator@bench.mercato.test")
        .await
        .map_err(|e| anyhow::anyhow!("creating the operator: {}", e.report()))?
        .api_key;
    seed_shop_as(op, base, seller_url, seller_key_at_endpoint, product, &[sku]).await
}

/// [`seed_shop`] with an operator that exists already (API key `op`) and
/// any number of SKUs.
pub(crate) async fn seed_shop_as(
    op: String,
    base: &str,
    seller_url: &str,
    seller_key_at_endpoint: &str,
    product: serde_json::Value,
    skus: &[serde_json::Value],
) -> anyhow::Result<Shop> {
    let api = crate::seed::Api::new(base);
    let seller = crate::demo::data::sellers().swap_remove(0);
    let (seller_id, seller_key, _) = api.signup("seller", "Bench Seller", "seller@bench.mercato.test").await?;
    api.approve_seller(&op, &seller_id, &seller_key, seller.onboarding, seller.certification).await?;
    let categories = api.get("/api/v1/catalog/categories", None).await?;
    let mut form = serde_json::json!({
        "type": "saas",
        "cooperation": "joint",
        "version": "1.0",
        "category_id": crate::seed::category_id(&categories, "databases").context("the databases category")?,
        "usage_guide": "Nothing to use.",
        "support_terms": "None.",
        "tags": ["bench"],
        "endpoint": {"url": seller_url, "access_key": seller_key_at_endpoint},
    });
    if let (Some(form), Some(own)) = (form.as_object_mut(), product.as_object()) {
        form.extend(own.clone());
    }
    let product_id = api.list_product(&op, &seller_key, form, skus).await?;
    let detail = api.get(&format!("/api/v1/catalog/products/{product_id}"), None).await?;
    let mut sku_ids = Vec::new();
    for sku in skus {
        let listed = detail["skus"].as_array().into_iter().flatten().find(|s| s["sku_code"] == sku["sku_code"]);
        sku_ids.push(listed.and_then(|s| s["id"].as_str()).context("the SKU id")?.to_string());
    }
    let sku_id = sku_ids.first().cloned().context("a product with no SKU")?;
    Ok(Shop { api, op, seller_key, sku_id, sku_ids })
}

/// Call latencies in milliseconds, from sorted microsecond samples.
#[derive(Debug, serde::Serialize, Default)]
pub struct Latency {
    pub p50: f64,
    pub p99: f64,
    pub max: f64,
}

impl Latency {
    pub(crate) fn of_sorted_micros(sorted: &[u64]) -> Latency {
        Latency {
            p50: percentile(sorted, 0.50) as f64 / 1000.0,
            p99: percentile(sorted, 0.99) as f64 / 1000.0,
            max: sorted.last().copied().unwrap_or(0) as f64 / 1000.0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_database_name_is_replaced_and_the_query_kept() {
        assert_eq!(
            with_database("postgres://postgres@127.0.0.1:5432/test", "x"),
            "postgres://postgres@127.0.0.1:5432/x"
        );
        assert_eq!(with_database("postgres://u:p@h/db?sslmode=disable", "x"), "postgres://u:p@h/x?sslmode=disable");
        assert_eq!(with_database("postgresql://h:5432", "x"), "postgresql://h:5432/x");
    }

    #[test]
    fn percentiles_use_the_nearest_rank() {
        let v: Vec<u64> = (1..=100).collect();
        assert_eq!(percentile(&v, 0.5), 50);
        assert_eq!(percentile(&v, 0.99), 99);
        assert_eq!(percentile(&v, 1.0), 100);
        assert_eq!(percentile::<u64>(&[], 0.5), 0);
        assert_eq!(percentile(&[7u64], 0.99), 7);
    }
}

//! `mercato bench orders` as a tool: a short run places and pays orders,
//! every paid order is fulfilled, the ledger stays sound. A smoke test of
//! the benchmark, not a performance assertion.

mod common;

use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_mercato");

/// Runs the bench briefly, on `database_url` if given, and returns its JSON
/// report (asserting it exited 0).
fn bench(database_url: Option<&str>, extra: &[&str]) -> serde_json::Value {
    let mut cmd = Command::new(BIN);
    cmd.args([
        "bench",
        "orders",
        "--seconds",
        "2",
        "--warmup-secs",
        "1",
        "--concurrency",
        "2",
        "--json",
        "--no-pgbench",
    ]);
    cmd.args(extra);
    if let Some(url) = database_url {
        cmd.args(["--database-url", url]);
    }
    let out = cmd.env_remove("MERCATO_DATABASE_URL").env("MERCATO_LOG", "warn").output().expect("run mercato");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "bench failed: {}\n{stdout}\n{}", out.status, String::from_utf8_lossy(&out.stderr));
    serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("not JSON ({e}):\n{stdout}"))
}

fn assert_sound(r: &serde_json::Value, backend: &str) {
    assert_eq!(r["backend"], backend, "{r}");
    assert_eq!(r["concurrency"], 2, "{r}");
    assert_eq!(r["seconds"], 2, "{r}");
    assert!(r["orders"].as_u64().unwrap() > 0, "orders were placed and paid: {r}");
    assert!(r["orders_per_sec"].as_f64().unwrap() > 0.0, "{r}");
    assert_eq!(r["errors"], 0, "no request failed: {r}");
    let paid = r["paid_orders"].as_u64().unwrap();
    assert!(paid >= r["orders"].as_u64().unwrap(), "the measured orders are paid: {r}");
    assert_eq!(r["fulfilled"], paid, "every paid order was fulfilled: {r}");
    let lat = &r["latency_ms"];
    assert!(lat["p50"].as_f64().unwrap() > 0.0 && lat["p50"].as_f64() <= lat["p99"].as_f64(), "{r}");
    assert!(lat["p99"].as_f64() <= lat["max"].as_f64(), "{r}");
    let lag = &r["fulfilment_lag_ms"];
    assert!(lag["p50"].as_f64().unwrap() > 0.0 && lag["p50"].as_f64() <= lag["p99"].as_f64(), "{r}");
    assert_eq!(r["ledger_ok"], true, "{r}");
    assert!(r["ledger"].as_str().unwrap().contains("OK"), "{r}");
    assert!(r["pgbench_tps"].is_null() && r["ratio"].is_null(), "pgbench did not run: {r}");
}

#[test]
fn bench_orders_places_pays_and_fulfils_on_sqlite() {
    let r = bench(None, &[]);
    assert_sound(&r, "sqlite");
    assert!(r["pgbench_note"].as_str().unwrap().contains("SQLite"), "{r}");
    assert!(r["deals"].is_null(), "no deals phase unless asked: {r}");
}

/// `--deals`: a mixed phase where one buyer's orders each take an offer
/// and a coupon while the other orders plainly.
#[test]
fn bench_orders_with_deals_prices_every_order_through_an_offer_and_a_coupon() {
    let r = bench(None, &["--deals"]);
    assert_sound(&r, "sqlite");
    let d = &r["deals"];
    assert_eq!((d["buyers"].as_u64(), d["plain_buyers"].as_u64()), (Some(1), Some(1)), "{r}");
    let orders = d["orders"].as_u64().unwrap();
    assert!(orders > 0 && d["orders_per_sec"].as_f64().unwrap() > 0.0, "{r}");
    assert!(d["plain_orders_per_sec"].as_f64().unwrap() > 0.0, "{r}");
    assert_eq!(d["errors"], 0, "no deal order failed: {r}");
    // Each phase's orders are new orders (not replays of an earlier phase's).
    let placed = r["orders"].as_u64().unwrap() + orders + d["plain_orders"].as_u64().unwrap();
    assert!(r["paid_orders"].as_u64().unwrap() >= placed, "{r}");
    // Every order with deals (warm-up included) recorded both steps.
    assert!(d["discounted_orders"].as_u64().unwrap() >= orders, "{r}");
    let ratio = d["ratio_to_plain"].as_f64().unwrap();
    let expected = d["orders_per_sec"].as_f64().unwrap() / d["plain_orders_per_sec"].as_f64().unwrap();
    assert!((ratio - expected).abs() < 1e-9, "{r}");
    let out =
        Command::new(BIN).args(["bench", "orders", "--deals", "--concurrency", "1"]).output().expect("run mercato");
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("--concurrency 2"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The CI's second pass sets MERCATO_TEST_DATABASE_URL: the bench then runs
/// on that PostgreSQL server too, in a scratch database it drops.
#[tokio::test]
async fn bench_orders_places_pays_and_fulfils_on_postgresql() {
    let Some(url) = std::env::var("MERCATO_TEST_DATABASE_URL").ok().filter(|u| !u.is_empty()) else { return };
    let r = bench(Some(&url), &[]);
    assert_sound(&r, "postgresql");
    assert!(r["pgbench_note"].as_str().unwrap().contains("--no-pgbench"), "{r}");
    // The scratch databases are gone.
    common::assert_scratch_dropped(&url, &r).await;
}

#[test]
fn bench_orders_refuses_a_non_postgres_url_and_bad_flags() {
    let out = Command::new(BIN)
        .args(["bench", "orders", "--database-url", "sqlite:///tmp/x.db", "--no-pgbench"])
        .output()
        .expect("run mercato");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("postgres://"), "{}", String::from_utf8_lossy(&out.stderr));
    let out = Command::new(BIN).args(["bench", "orders", "--concurrency", "0"]).output().expect("run mercato");
    assert_eq!(out.status.code(), Some(2), "clap refuses 0 buyers");
}

//! `mercato bench usage` as a tool: a short run pushes signed batches, every
//! accepted record is stored exactly once, the baseline runs. A smoke test
//! of the benchmark, not a performance assertion.

mod common;

use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_mercato");

/// Runs the bench briefly, on `database_url` if given, and returns its JSON
/// report (asserting it exited 0).
fn bench(database_url: Option<&str>) -> serde_json::Value {
    let mut cmd = Command::new(BIN);
    cmd.args([
        "bench",
        "usage",
        "--seconds",
        "2",
        "--warmup-secs",
        "1",
        "--concurrency",
        "2",
        "--instances",
        "3",
        "--json",
    ]);
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
    assert_eq!((r["concurrency"].as_u64(), r["seconds"].as_u64()), (Some(2), Some(2)), "{r}");
    assert_eq!((r["batch"].as_u64(), r["instances"].as_u64()), (Some(1000), Some(3)), "{r}");
    let accepted = r["accepted"].as_u64().unwrap();
    assert!(accepted > 0, "records were accepted in the window: {r}");
    assert_eq!(accepted % 1000, 0, "whole batches are accepted: {r}");
    assert_eq!(r["accepted"].as_u64(), Some(r["calls"].as_u64().unwrap() * 1000), "{r}");
    assert!(r["accepted_per_sec"].as_f64().unwrap() > 0.0 && r["calls_per_sec"].as_f64().unwrap() > 0.0, "{r}");
    assert_eq!(r["errors"], 0, "no call failed: {r}");
    assert_eq!(r["already_received"], 0, "every metering_sn is new: {r}");
    let total = r["accepted_total"].as_u64().unwrap();
    assert!(total >= accepted, "{r}");
    assert_eq!(r["rows"].as_u64(), Some(total), "rows stored == records accepted: {r}");
    let lat = &r["latency_ms"];
    assert!(lat["p50"].as_f64().unwrap() > 0.0 && lat["p50"].as_f64() <= lat["p99"].as_f64(), "{r}");
    assert!(lat["p99"].as_f64() <= lat["max"].as_f64(), "{r}");
    assert!(r["peak_rss_mib"].as_f64().unwrap() > 1.0, "{r}");
    let base = &r["baseline"];
    assert_eq!(base["rows"].as_u64(), Some(total), "the baseline inserts as many rows: {r}");
    assert!(base["rows_per_sec"].as_f64().unwrap() > 0.0, "{r}");
    assert!(r["ratio"].as_f64().unwrap() > 0.0, "{r}");
}

#[test]
fn bench_usage_pushes_and_stores_every_record_on_sqlite() {
    let r = bench(None);
    assert_sound(&r, "sqlite");
    assert_eq!(r["baseline"]["statement"], "INSERT ... VALUES", "{r}");
    assert!(r["scratch_database"].is_null(), "{r}");
}

/// With MERCATO_TEST_DATABASE_URL set the bench also runs on that
/// PostgreSQL server, in a scratch database it drops.
#[tokio::test]
async fn bench_usage_pushes_and_stores_every_record_on_postgresql() {
    let Some(url) = std::env::var("MERCATO_TEST_DATABASE_URL").ok().filter(|u| !u.is_empty()) else { return };
    let r = bench(Some(&url));
    assert_sound(&r, "postgresql");
    assert_eq!(r["baseline"]["statement"], "INSERT ... SELECT FROM UNNEST", "{r}");
    common::assert_scratch_dropped(&url, &r).await;
}

#[test]
fn bench_usage_refuses_a_non_postgres_url_and_bad_flags() {
    let out = Command::new(BIN)
        .args(["bench", "usage", "--database-url", "sqlite:///tmp/x.db"])
        .output()
        .expect("run mercato");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("postgres://"), "{}", String::from_utf8_lossy(&out.stderr));
    for bad in [["--batch", "1001"], ["--batch", "0"], ["--concurrency", "0"], ["--instances", "0"]] {
        let out = Command::new(BIN).args(["bench", "usage"]).args(bad).output().expect("run mercato");
        assert_eq!(out.status.code(), Some(2), "clap refuses {bad:?}");
    }
}

//! `mercato bench rating` as a tool: a tiny run seeds valid records, rates
//! and charges them, and its verification holds (every record in exactly one
//! line, one charge per buyer and hour, the ledger sound). A smoke test of
//! the benchmark, not a performance assertion.

mod common;

use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_mercato");
const RECORDS: u64 = 20_000;
const INSTANCES: u64 = 20;
const BUYERS: u64 = 4;
const HOURS: u64 = 3;

/// Runs the bench with tiny sizes, on `database_url` if given; returns its
/// standard output (asserting it exited 0).
fn bench(database_url: Option<&str>, json: bool) -> String {
    let mut cmd = Command::new(BIN);
    cmd.args(["bench", "rating"]);
    for (flag, value) in [("--records", RECORDS), ("--instances", INSTANCES), ("--buyers", BUYERS), ("--hours", HOURS)]
    {
        cmd.args([flag, &value.to_string()]);
    }
    cmd.args(["--poor-buyers", "1"]);
    if json {
        cmd.arg("--json");
    }
    if let Some(url) = database_url {
        cmd.args(["--database-url", url]);
    }
    let out = cmd.env_remove("MERCATO_DATABASE_URL").env("MERCATO_LOG", "warn").output().expect("run mercato");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "bench failed: {}\n{stdout}\n{}", out.status, String::from_utf8_lossy(&out.stderr));
    stdout
}

fn report(database_url: Option<&str>) -> serde_json::Value {
    let stdout = bench(database_url, true);
    serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("not JSON ({e}):\n{stdout}"))
}

/// What the generating formula gives for the sizes above: record k is
/// instance k % 20, hour (k / 20) % 3, usage 1 + (k * 7919) % 1,000,000.
fn expected_usage_e4() -> i64 {
    (0..RECORDS as i64).map(|k| 1 + (k * 7919) % 1_000_000).sum()
}

fn assert_sound(r: &serde_json::Value, backend: &str) {
    assert_eq!(r["backend"], backend, "{r}");
    assert_eq!(r["ok"], true, "every verification passed: {r}");
    let (v, rating) = (&r["verify"], &r["rating"]);
    assert_eq!(v["failures"].as_array().map(Vec::len), Some(0), "{r}");
    assert_eq!(v["seeded_rows"].as_u64(), Some(RECORDS), "{r}");
    assert_eq!(v["seeded_usage_e4"].as_i64(), Some(expected_usage_e4()), "{r}");
    assert_eq!(v["lines_quantity_e4"].as_i64(), Some(expected_usage_e4()), "Σ quantity = Σ usage: {r}");
    assert_eq!(v["lines"].as_u64(), Some(INSTANCES * HOURS), "one line per instance and hour: {r}");
    assert_eq!(v["lines_wrong"], 0, "{r}");
    // Each instance-hour holds about 333 records of 50 units on average at
    // 0.0005 CNY: every line and so every buyer-hour costs more than 0.
    assert_eq!(v["charges"].as_u64(), Some(BUYERS * HOURS), "one charge per buyer and hour: {r}");
    assert_eq!(v["charges_wrong"], 0, "{r}");
    assert_eq!(v["charged_minor"], v["expected_charged_minor"], "{r}");
    let (paid, arrears) = (v["charges_paid"].as_u64().unwrap(), v["charges_arrears"].as_u64().unwrap());
    assert_eq!(paid + arrears, BUYERS * HOURS, "{r}");
    assert!(arrears >= 1, "the poor buyer (1 CNY) owes more than it has: {r}");
    assert!(arrears <= HOURS, "only the poor buyer's charges go into arrears: {r}");
    assert_eq!(v["rich_arrears"], 0, "{r}");
    assert_eq!(v["ledger_ok"], true, "{r}");
    assert_eq!(rating["records"].as_u64(), Some(RECORDS), "{r}");
    assert_eq!(rating["lines"].as_u64(), Some(INSTANCES * HOURS), "{r}");
    assert_eq!((rating["paid"].as_u64(), rating["arrears"].as_u64()), (Some(paid), Some(arrears)), "{r}");
    assert!(rating["periods"].as_u64().unwrap() >= HOURS, "{r}");
    assert!(rating["passes"].as_u64().unwrap() >= 2, "the last pass rates nothing: {r}");
    assert!(rating["seconds"].as_f64().unwrap() > 0.0 && rating["records_per_sec"].as_f64().unwrap() > 0.0, "{r}");
    assert!(r["peak_rss_mib"].as_f64().unwrap() > 1.0, "{r}");
}

#[test]
fn bench_rating_rates_and_charges_every_seeded_record_on_sqlite() {
    let r = report(None);
    assert_sound(&r, "sqlite");
    assert!(r["scratch_database"].is_null(), "{r}");
}

#[test]
fn bench_rating_prints_its_verification_lines() {
    let stdout = bench(None, false);
    for line in ["verify quantity             OK", "verify lines                OK", "verify charges              OK"] {
        assert!(stdout.contains(line), "`{line}` in:\n{stdout}");
    }
    assert!(stdout.contains("verify ledger               OK"), "{stdout}");
    assert!(stdout.contains("verification                OK"), "{stdout}");
    assert!(!stdout.contains("FAILED"), "{stdout}");
}

/// With MERCATO_TEST_DATABASE_URL set the bench also runs on that
/// PostgreSQL server, in a scratch database it drops.
#[tokio::test]
async fn bench_rating_rates_and_charges_every_seeded_record_on_postgresql() {
    let Some(url) = std::env::var("MERCATO_TEST_DATABASE_URL").ok().filter(|u| !u.is_empty()) else { return };
    let r = tokio::task::spawn_blocking({
        let url = url.clone();
        move || report(Some(&url))
    })
    .await
    .unwrap();
    assert_sound(&r, "postgresql");
    common::assert_scratch_dropped(&url, &r).await;
}

#[test]
fn bench_rating_refuses_bad_flags() {
    let out = Command::new(BIN)
        .args(["bench", "rating", "--database-url", "sqlite:///tmp/x.db"])
        .output()
        .expect("run mercato");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("postgres://"), "{}", String::from_utf8_lossy(&out.stderr));
    let out = Command::new(BIN)
        .args(["bench", "rating", "--buyers", "2", "--poor-buyers", "3"])
        .output()
        .expect("run mercato");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--poor-buyers"), "{}", String::from_utf8_lossy(&out.stderr));
    for bad in [["--records", "0"], ["--instances", "0"], ["--buyers", "0"], ["--hours", "0"], ["--hours", "481"]] {
        let out = Command::new(BIN).args(["bench", "rating"]).args(bad).output().expect("run mercato");
        assert_eq!(out.status.code(), Some(2), "clap refuses {bad:?}");
    }
}

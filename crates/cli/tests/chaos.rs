//! `mercato chaos --size ci`: nodes killed with SIGKILL under load, the seller
//! failing, timing out and down, and afterwards every invariant holds. Also
//! the item-4 proof: kill -9 on a test-clock node during a seller call, and
//! the purchase completes without the clock moving.

mod common;

use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_mercato");

/// Runs the CI size of `scenarios` (on `database_url` if given) and returns
/// its JSON report, asserting it exited 0.
fn chaos(scenarios: &str, database_url: Option<&str>) -> serde_json::Value {
    let mut cmd = Command::new(BIN);
    cmd.args(["chaos", "--size", "ci", "--json", "--scenario", scenarios]);
    if let Some(url) = database_url {
        cmd.args(["--database-url", url]);
    }
    let out = cmd.env_remove("MERCATO_DATABASE_URL").env("MERCATO_LOG", "warn").output().expect("run mercato");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let report: serde_json::Value = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}):\n{stdout}\n{}", String::from_utf8_lossy(&out.stderr)));
    assert!(out.status.success(), "chaos failed: {}\n{:#}", out.status, report["failures"]);
    report
}

fn scenario<'a>(report: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    report["scenarios"].as_array().unwrap().iter().find(|s| s["scenario"] == name).unwrap()
}

/// Every check passed, and the figures say the chaos happened.
fn assert_mixed(s: &serde_json::Value, kills: u64) {
    for check in s["checks"].as_array().unwrap() {
        assert_eq!(check["ok"], true, "{check}");
    }
    let names: Vec<&str> = s["checks"].as_array().unwrap().iter().filter_map(|c| c["name"].as_str()).collect();
    for name in [
        "every paid order reached a final state",
        "exactly one instance per order line",
        "usage totals equal the records pushed",
        "mercato ledger check is green",
    ] {
        assert!(names.contains(&name), "{name} was checked: {names:?}");
    }
    assert_eq!(s["kills"], kills, "{s}");
    assert!(s["orders_paid"].as_u64().unwrap() > 0, "{s}");
    assert!(s["usage_records"].as_u64().unwrap() > 0, "{s}");
    assert!(s["seller"]["instances"].as_u64().unwrap() >= s["orders_paid"].as_u64().unwrap() / 2, "{s}");
    // The seller failed calls, so jobs were retried; the clock moved weeks.
    assert!(s["job_attempts"]["retry"].as_u64().unwrap() > 0, "{s}");
    assert!(s["clock_moved_secs"].as_i64().unwrap() > 86_400, "{s}");
}

#[test]
fn chaos_ci_size_on_sqlite_and_kill_during_delivery_without_moving_the_clock() {
    let report = chaos("sqlite,delivery", None);
    assert_eq!(report["ok"], true);
    assert_eq!(report["size"], "ci");
    assert_mixed(scenario(&report, "sqlite"), 3);

    // Item 4: a test-clock node killed during newInstance, then during
    // queryInstance; each purchase completed, the clock never moved.
    let d = scenario(&report, "delivery");
    for check in d["checks"].as_array().unwrap() {
        assert_eq!(check["ok"], true, "{check}");
    }
    assert_eq!(d["kills"], 2, "{d}");
    assert_eq!(d["kills_during_delivery"], 2, "{d}");
    assert_eq!(d["clock_moved_secs"], 0, "{d}");
    assert_eq!(d["orders_by_status"]["completed"], 2, "{d}");
    // Each purchase was taken over from the killed node once its lease ran out.
    assert!(d["job_attempts"]["lease_expired"].as_u64().unwrap() >= 2, "{d}");
    // The retried newInstance found the instance created before the kill.
    assert_eq!(d["seller"]["instances"], 2, "{d}");
}

/// The CI's second pass sets MERCATO_TEST_DATABASE_URL: three nodes on a
/// scratch PostgreSQL database, which is dropped afterwards.
#[tokio::test]
async fn chaos_ci_size_on_postgresql() {
    let Some(url) = std::env::var("MERCATO_TEST_DATABASE_URL").ok().filter(|u| !u.is_empty()) else { return };
    let report = tokio::task::spawn_blocking({
        let url = url.clone();
        move || chaos("postgres", Some(&url))
    })
    .await
    .unwrap();
    let s = scenario(&report, "postgres");
    assert_eq!(s["nodes"], 3, "{s}");
    assert_mixed(s, 3);
    assert!(s["kills_during_delivery"].as_u64().unwrap() >= 1, "a kill landed mid-delivery: {s}");
    common::assert_scratch_dropped(&url, &report).await;
}

#[test]
fn chaos_refuses_postgres_without_a_url_and_bad_flags() {
    let out = Command::new(BIN).args(["chaos", "--scenario", "postgres"]).output().expect("run mercato");
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("--database-url"), "{stderr}");
    assert_eq!(stderr.trim().lines().count(), 1, "one clear line: {stderr}");
    let out = Command::new(BIN).args(["chaos", "--size", "huge"]).output().expect("run mercato");
    assert_eq!(out.status.code(), Some(2), "clap refuses an unknown size");
    let out = Command::new(BIN).args(["chaos", "--database-url", "sqlite:///x.db"]).output().expect("run mercato");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("postgres://"));
}

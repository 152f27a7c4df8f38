//! `mercato bench settlement` as a tool: a tiny month settles, every
//! statement is as the formula gives it, it reconciles with the ledger and
//! a second run writes nothing. A smoke test of the benchmark, not a
//! performance assertion.

mod common;

use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_mercato");
const LINES: u64 = 5_000;
const SELLERS: u64 = 40;

fn report(database_url: Option<&str>) -> serde_json::Value {
    let mut cmd = Command::new(BIN);
    cmd.args(["bench", "settlement", "--json", "--lines", &LINES.to_string(), "--sellers", &SELLERS.to_string()]);
    if let Some(url) = database_url {
        cmd.args(["--database-url", url]);
    }
    let out = cmd.env_remove("MERCATO_DATABASE_URL").env("MERCATO_LOG", "warn").output().expect("run mercato");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "bench failed: {}\n{stdout}\n{}", out.status, String::from_utf8_lossy(&out.stderr));
    serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("not JSON ({e}):\n{stdout}"))
}

fn assert_sound(r: &serde_json::Value, backend: &str) {
    assert_eq!(r["backend"], backend, "{r}");
    assert_eq!(r["ok"], true, "every verification passed: {r}");
    assert_eq!(r["failures"], serde_json::json!([]), "{r}");
    assert_eq!((r["statements"].as_u64(), r["settled_lines"].as_u64()), (Some(SELLERS), Some(LINES)), "{r}");
    assert!(r["settle_secs"].as_f64().unwrap() > 0.0, "{r}");
}

#[test]
fn bench_settlement_settles_and_reconciles_a_month_on_sqlite() {
    let r = report(None);
    assert_sound(&r, "sqlite");
    assert!(r["scratch_database"].is_null(), "{r}");
}

/// With MERCATO_TEST_DATABASE_URL set the bench also runs on that
/// PostgreSQL server, in a scratch database it drops.
#[tokio::test]
async fn bench_settlement_settles_and_reconciles_a_month_on_postgresql() {
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
fn bench_settlement_refuses_a_database_url_that_is_not_postgres() {
    let out = Command::new(BIN)
        .args(["bench", "settlement", "--database-url", "sqlite:///tmp/x.db"])
        .output()
        .expect("run mercato");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("postgres://"), "{}", String::from_utf8_lossy(&out.stderr));
}

//! `mercato ledger check` against a real database: a sound ledger exits 0, a
//! tampered balance exits 1. The library half runs `run_check` in-process;
//! the binary half needs the command wired into main.rs.

#[path = "../src/ledger.rs"]
mod ledger;

use mercato_domain::ledger::{Entry, EntryKind, Line, buyer_wallet, platform_cash};
use mercato_server::Config;
use mercato_server::clock::{Clock, SystemClock};
use mercato_store::sea_orm::ConnectionTrait;
use std::path::Path;
use std::process::{Command, ExitCode};

const BIN: &str = env!("CARGO_BIN_EXE_mercato");

/// A fresh PostgreSQL database when MERCATO_TEST_DATABASE_URL is set, else
/// "" (SQLite in the data directory).
async fn fresh_database_url() -> String {
    match std::env::var("MERCATO_TEST_DATABASE_URL").ok().filter(|u| !u.is_empty()) {
        Some(admin_url) => {
            let name = format!("mercato_l_{}", uuid::Uuid::new_v4().simple());
            let admin = mercato_store::Db::open(&admin_url).await.unwrap();
            admin.conn.execute_unprepared(&format!("CREATE DATABASE {name}")).await.unwrap();
            admin.close().await;
            format!("{}/{name}", admin_url.rsplit_once('/').unwrap().0)
        }
        None => String::new(),
    }
}

fn config(dir: &Path, url: &str) -> Config {
    let mut c = Config::defaults();
    c.data_dir = dir.to_path_buf();
    c.database_url = url.to_string();
    c
}

fn run_binary(dir: &Path, url: &str) -> (i32, String) {
    let mut cmd = Command::new(BIN);
    cmd.args(["ledger", "check", "--data-dir"]).arg(dir);
    if !url.is_empty() {
        cmd.args(["--database-url", url]);
    }
    let out = cmd.env_remove("MERCATO_DATABASE_URL").output().expect("run mercato");
    (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stdout).into_owned())
}

#[tokio::test]
async fn ledger_check_passes_on_a_sound_ledger_and_fails_on_a_tampered_one() {
    let dir = tempfile::tempdir().unwrap();
    let url = fresh_database_url().await;
    assert_eq!(ledger::run_check(config(dir.path(), &url)).await.unwrap(), ExitCode::SUCCESS);

    let db = mercato_server::runtime::open_database(&config(dir.path(), &url)).await.unwrap();
    let entry = Entry::new(
        EntryKind::TopUp,
        "pay_test",
        "test",
        vec![Line::debit(platform_cash("manual"), "CNY", 500), Line::credit(buyer_wallet("acc_b"), "CNY", 500)],
    )
    .unwrap();
    let tx = db.write().await.unwrap();
    mercato_server::app::ledger::post_entry(&tx, &entry, SystemClock.now()).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(ledger::run_check(config(dir.path(), &url)).await.unwrap(), ExitCode::SUCCESS);
    let (code, out) = run_binary(dir.path(), &url);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("OK"), "{out}");

    db.conn
        .execute_unprepared(
            "UPDATE ledger_balance_slots SET credit_minor = credit_minor + 1 WHERE account = 'buyer_wallet:acc_b'",
        )
        .await
        .unwrap();
    db.close().await;
    assert_eq!(ledger::run_check(config(dir.path(), &url)).await.unwrap(), ExitCode::FAILURE);
    let (code, out) = run_binary(dir.path(), &url);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("buyer_wallet:acc_b CNY: stored debit 0 credit 501"), "{out}");
}

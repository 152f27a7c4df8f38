//! `mercato backup`: copies taken while a node moves money are consistent;
//! each restored copy passes `mercato ledger check` and holds the money of
//! its moment.

use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_mercato");
const MASTER_KEY: &str = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";

struct Node(Child);

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn mercato(args: &[&str], data_dir: &Path) -> Output {
    Command::new(BIN)
        .args(args)
        .arg("--data-dir")
        .arg(data_dir)
        .env("MERCATO_MASTER_KEY", MASTER_KEY)
        .env("MERCATO_LOG", "warn")
        .env_remove("MERCATO_DATABASE_URL")
        .output()
        .expect("run mercato")
}

fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

/// The entry count `mercato ledger check` reports for `data_dir`, asserting
/// that the check passed.
fn checked_entries(data_dir: &Path) -> u64 {
    let out = mercato(&["ledger", "check"], data_dir);
    let report = text(&out);
    assert!(out.status.success() && report.contains("OK: every entry balances"), "{report}");
    report
        .split_once("ledger: ")
        .and_then(|(_, rest)| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no entry count in {report}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backups_taken_under_load_restore_to_a_sound_ledger() {
    let dir = tempfile::tempdir().unwrap();
    let live = dir.path().join("live");
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let base = format!("http://127.0.0.1:{port}");
    let _node = Node(
        Command::new(BIN)
            .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
            .arg("--data-dir")
            .arg(&live)
            .env("MERCATO_MASTER_KEY", MASTER_KEY)
            .env("MERCATO_LOG", "warn")
            .env_remove("MERCATO_DATABASE_URL")
            .stdout(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let client = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    while !client.get(format!("{base}/readyz")).send().await.is_ok_and(|r| r.status() == 200) {
        assert!(Instant::now() < deadline, "the node did not start");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let made = mercato(&["admin", "create-operator", "--name", "Op", "--email", "op@example.com"], &live);
    assert!(made.status.success(), "{}", text(&made));
    let op = String::from_utf8_lossy(&made.stdout).lines().last().unwrap().trim().to_string();
    let mut buyers = Vec::new();
    for i in 0..3 {
        let created: serde_json::Value = client
            .post(format!("{base}/api/v1/accounts"))
            .json(&serde_json::json!({"role": "buyer", "name": format!("B{i}"), "email": format!("b{i}@example.com"),
                                      "password": "correct horse battery"}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        buyers.push(created["id"].as_str().unwrap().to_string());
    }

    // Credits keep landing while the backups are taken.
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut load = Vec::new();
    for buyer in buyers {
        let (client, base, op, stop) = (client.clone(), base.clone(), op.clone(), stop.clone());
        load.push(tokio::spawn(async move {
            let mut credited = 0u64;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let res = client
                    .post(format!("{base}/api/v1/operator/wallets/{buyer}/credit"))
                    .bearer_auth(&op)
                    .json(&serde_json::json!({"amount_minor": 100, "currency": "CNY", "reason": "load"}))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(res.status(), 201);
                credited += 1;
            }
            credited
        }));
    }
    let mut backups = Vec::new();
    for n in 0..3 {
        tokio::time::sleep(Duration::from_millis(400)).await;
        let file = dir.path().join(format!("backup-{n}.db"));
        let out = tokio::task::spawn_blocking({
            let (file, live) = (file.clone(), live.clone());
            move || mercato(&["backup", "--out", file.to_str().unwrap()], &live)
        })
        .await
        .unwrap();
        assert!(out.status.success(), "{}", text(&out));
        assert!(text(&out).contains("integrity ok"), "{}", text(&out));
        backups.push(file);
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let mut credited = 0;
    for l in load {
        credited += l.await.unwrap();
    }
    assert!(credited > 0);

    // Each copy, restored into a data directory of its own, is a sound
    // ledger; later copies hold more of the money than earlier ones.
    let mut counts = Vec::new();
    for (n, file) in backups.iter().enumerate() {
        let restored = dir.path().join(format!("restored-{n}"));
        std::fs::create_dir_all(&restored).unwrap();
        std::fs::copy(file, restored.join("mercato.db")).unwrap();
        counts.push(checked_entries(&restored));
    }
    assert!(counts.windows(2).all(|w| w[0] <= w[1]), "{counts:?}");
    assert!(counts[2] > 0 && counts[2] > counts[0], "the load reached the backups: {counts:?}");
    assert!(checked_entries(&live) >= counts[2]);

    // A backup never overwrites, and says so in one line.
    let again = mercato(&["backup", "--out", backups[0].to_str().unwrap()], &live);
    assert!(!again.status.success());
    let err = String::from_utf8_lossy(&again.stderr).trim().to_string();
    assert!(err.starts_with("error: ") && err.contains("already exists") && !err.contains('\n'), "{err}");
}

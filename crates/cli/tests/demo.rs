//! The README's first command: `mercato demo` seeds a marketplace a newcomer
//! can click through, and prints keys that work.

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_mercato");

#[tokio::test]
async fn demo_seeds_a_browsable_marketplace_and_prints_working_keys() {
    let dir = tempfile::tempdir().unwrap();
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut child = Command::new(BIN)
        .args(["demo", "--listen", &format!("127.0.0.1:{port}")])
        .arg("--data-dir")
        .arg(dir.path())
        .env("MERCATO_LOG", "warn")
        .env_remove("MERCATO_DATABASE_URL")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    // Read stdout until the welcome text is complete.
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut text = String::new();
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            text.push_str(&line);
            text.push('\n');
            if line.contains("Press Ctrl-C") {
                break;
            }
        }
        let _ = tx.send(text);
    });
    let deadline = Instant::now() + Duration::from_secs(120);
    let text = loop {
        if let Ok(t) = rx.try_recv() {
            break t;
        }
        if let Ok(Some(status)) = child.try_wait() {
            panic!("demo exited early: {status}");
        }
        assert!(Instant::now() < deadline, "demo did not finish seeding");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let key_of = |label: &str| {
        text.lines()
            .find(|l| l.trim_start().starts_with(label))
            .and_then(|l| l.split_whitespace().nth(1))
            .unwrap_or_else(|| panic!("no {label} key in:\n{text}"))
            .to_string()
    };
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    let catalog: serde_json::Value =
        client.get(format!("{base}/api/v1/catalog/products?limit=100")).send().await.unwrap().json().await.unwrap();
    let items = catalog["items"].as_array().unwrap();
    assert!(items.len() >= 12, "a dozen listed products: {}", items.len());
    let types: std::collections::HashSet<_> = items.iter().map(|p| p["type"].as_str().unwrap()).collect();
    assert!(types.len() >= 6, "several product types: {types:?}");
    assert!(items.iter().any(|p| p["name"].as_str().unwrap().contains("数据库")), "some products are in Chinese");

    for label in ["operator", "buyer", "seller"] {
        let me: serde_json::Value = client
            .get(format!("{base}/api/v1/me"))
            .bearer_auth(key_of(label))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(me["role"], label, "{label} key works");
    }
    let wallet: serde_json::Value = client
        .get(format!("{base}/api/v1/buyer/wallet"))
        .bearer_auth(key_of("buyer"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(wallet["balances"][0]["available_minor"], 1_000_000, "the buyer has wallet credit: {wallet}");
    assert!(text.contains("curl"), "prints ready curl lines");
    let _ = child.kill();
    let _ = child.wait();
}

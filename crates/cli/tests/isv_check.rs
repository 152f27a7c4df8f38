//! `mercato isv check` against `mercato isv serve`, both as processes: the
//! commands a seller developer types.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

const BIN: &str = env!("CARGO_BIN_EXE_mercato");

/// A `mercato isv serve` process, killed when dropped.
struct Seller {
    child: Child,
    url: String,
    _dir: tempfile::TempDir,
}

impl Drop for Seller {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts the reference seller on a free port and reads its URL from the
/// first line it prints.
fn serve(extra: &[&str]) -> Seller {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut child = Command::new(BIN)
        .args(["isv", "serve", "--port", "0", "--key", "k1", "--kit-key", "k2", "--db"])
        .arg(dir.path().join("seller.db"))
        .args(extra)
        .env("MERCATO_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn mercato isv serve");
    let stdout = child.stdout.take().expect("stdout");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut lines = BufReader::new(stdout).lines();
        let _ = tx.send(lines.next().and_then(Result::ok).unwrap_or_default());
        // Keep draining so the seller never blocks on a full pipe.
        for _ in lines {}
    });
    let line = rx.recv_timeout(Duration::from_secs(60)).expect("the seller prints its URL");
    let url = line
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .unwrap_or_else(|| panic!("no URL in {line:?}"))
        .to_owned();
    Seller { child, url, _dir: dir }
}

fn check(url: &str, args: &[&str]) -> Output {
    Command::new(BIN)
        .args(["isv", "check", "--url", url, "--allow-insecure"])
        .args(args)
        .env_remove("MERCATO_ISV_KEY")
        .env_remove("MERCATO_ISV_KIT_KEY")
        .output()
        .expect("run mercato isv check")
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn check_passes_against_the_reference_seller() {
    let seller = serve(&[]);
    let out = check(&seller.url, &["--key", "k1", "--kit-key", "k2"]);
    let text = stdout(&out);
    assert!(out.status.success(), "{text}\n{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(text.lines().last(), Some("19 passed, 0 failed"), "{text}");
    for case in ["newInstance repeated", "replayed nonce", "kit authSync add", "releaseInstance again"] {
        assert!(text.lines().any(|l| l.starts_with(case) && l.ends_with("PASS")), "{case}:\n{text}");
    }
}

#[test]
fn check_fails_with_a_table_against_a_failing_seller_and_a_wrong_key() {
    let failing = serve(&["--fail-rate", "1"]);
    let out = check(&failing.url, &["--key", "k1"]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.lines().last().is_some_and(|l| l.starts_with("0 passed, ")), "{text}");
    assert!(text.contains("injected failure"), "the details say why:\n{text}");

    let seller = serve(&[]);
    let out = check(&seller.url, &["--key", "wrong", "--json"]);
    assert_eq!(out.status.code(), Some(1));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON report");
    let first = &report["cases"][0];
    assert_eq!((first["name"].as_str(), first["got"].as_str()), (Some("newInstance"), Some("000001")));
    assert!(report["failed"].as_u64().is_some_and(|n| n > 0));
}

#[test]
fn plain_http_needs_allow_insecure() {
    let out = Command::new(BIN)
        .args(["isv", "check", "--url", "http://127.0.0.1:9/produce", "--key", "k"])
        .output()
        .expect("run mercato isv check");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--allow-insecure"));
}

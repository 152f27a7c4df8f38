//! The real binary: several `mercato serve` processes on one database, the
//! operator bootstrap command, and graceful shutdown.

use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_mercato");
/// base64 of 32 bytes, shared by the nodes of one marketplace.
const MASTER_KEY: &str = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// The database the nodes share: a fresh PostgreSQL database when
/// MERCATO_TEST_DATABASE_URL is set, else a SQLite file in `dir`.
async fn shared_database(dir: &Path) -> String {
    match std::env::var("MERCATO_TEST_DATABASE_URL").ok().filter(|u| !u.is_empty()) {
        Some(admin_url) => {
            use mercato_store::sea_orm::ConnectionTrait;
            let name = format!("mercato_n_{}", uuid::Uuid::new_v4().simple());
            let admin = mercato_store::Db::open(&admin_url).await.unwrap();
            admin.conn.execute_unprepared(&format!("CREATE DATABASE {name}")).await.unwrap();
            admin.close().await;
            format!("{}/{name}", admin_url.rsplit_once('/').unwrap().0)
        }
        None => format!("sqlite://{}", dir.join("shared.db").display()),
    }
}

struct Node {
    child: Child,
    base: String,
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(db_url: &str, data_dir: &Path, master_key: &str) -> Node {
    let port = free_port();
    let child = Command::new(BIN)
        .args(["serve", "--listen", &format!("127.0.0.1:{port}"), "--database-url", db_url])
        .arg("--data-dir")
        .arg(data_dir)
        .env("MERCATO_MASTER_KEY", master_key)
        .env("MERCATO_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start mercato serve");
    Node { child, base: format!("http://127.0.0.1:{port}") }
}

async fn wait_ready(node: &mut Node) -> bool {
    let client = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        if let Ok(Some(_)) = node.child.try_wait() {
            return false;
        }
        if let Ok(r) = client.get(format!("{}/readyz", node.base)).send().await
            && r.status() == 200
        {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    false
}

fn stderr_of(node: &mut Node) -> String {
    use std::io::Read;
    let _ = node.child.wait();
    let mut s = String::new();
    if let Some(mut e) = node.child.stderr.take() {
        let _ = e.read_to_string(&mut s);
    }
    s
}

#[tokio::test]
async fn two_nodes_start_together_migrate_once_and_serve_the_same_data() {
    let dir = tempfile::tempdir().unwrap();
    let db_url = shared_database(dir.path()).await;
    // Started at the same instant: both race to migrate.
    let mut a = start(&db_url, &dir.path().join("a"), MASTER_KEY);
    let mut b = start(&db_url, &dir.path().join("b"), MASTER_KEY);
    assert!(wait_ready(&mut a).await, "node a: {}", stderr_of(&mut a));
    assert!(wait_ready(&mut b).await, "node b: {}", stderr_of(&mut b));

    let client = reqwest::Client::new();
    let created: serde_json::Value = client
        .post(format!("{}/api/v1/accounts", a.base))
        .json(&serde_json::json!({"role": "buyer", "name": "N", "email": "n@example.com", "password": "correct horse battery"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let key = created["api_key"].as_str().expect("account created on node a");
    let me = client.get(format!("{}/api/v1/me", b.base)).bearer_auth(key).send().await.unwrap();
    assert_eq!(me.status(), 200, "node b authenticates a key created on node a");
    let me: serde_json::Value = me.json().await.unwrap();
    assert_eq!(me["id"], created["id"]);

    // Each migration is recorded exactly once.
    let db = mercato_store::Db::open(&db_url).await.unwrap();
    use mercato_store::sea_orm::{ConnectionTrait, Statement};
    let rows = db
        .conn
        .query_all_raw(Statement::from_string(
            db.conn.get_database_backend(),
            "SELECT version, COUNT(*) AS n FROM schema_migrations GROUP BY version",
        ))
        .await
        .unwrap();
    assert_eq!(rows.len(), mercato_store::migrate::known_versions().count());
    for r in rows {
        assert_eq!(r.try_get::<i64>("", "n").unwrap(), 1);
    }

    // A node with a different master key refuses to start on this database.
    let mut c = start(&db_url, &dir.path().join("c"), "ZmZmZmZmZmZmZmZmZmZmZmZmZmZmZmZmZmZmZmZmZmY=");
    assert!(!wait_ready(&mut c).await, "a node with another master key must not serve");
    assert!(stderr_of(&mut c).contains("different master key"));
}

#[tokio::test]
async fn create_operator_prints_a_working_key_last_and_serve_stops_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let db_url = shared_database(dir.path()).await;
    let out = Command::new(BIN)
        .args(["admin", "create-operator", "--name", "Olga", "--email", "olga@example.com", "--database-url", &db_url])
        .arg("--data-dir")
        .arg(dir.path())
        .env("MERCATO_MASTER_KEY", MASTER_KEY)
        .env("MERCATO_LOG", "warn")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8(out.stdout).unwrap();
    let key = stdout.lines().last().unwrap().trim().to_string();
    assert!(key.starts_with("mk_"), "{stdout}");

    let mut node = start(&db_url, dir.path(), MASTER_KEY);
    assert!(wait_ready(&mut node).await, "{}", stderr_of(&mut node));
    let me: serde_json::Value = reqwest::Client::new()
        .get(format!("{}/api/v1/me", node.base))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["role"], "operator");

    // Creating the same operator again is refused.
    let again = Command::new(BIN)
        .args(["admin", "create-operator", "--name", "Olga", "--email", "olga@example.com", "--database-url", &db_url])
        .arg("--data-dir")
        .arg(dir.path())
        .env("MERCATO_MASTER_KEY", MASTER_KEY)
        .output()
        .unwrap();
    assert!(!again.status.success());

    let pid = node.child.id().to_string();
    assert!(Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        if let Some(status) = node.child.try_wait().unwrap() {
            assert!(status.success(), "graceful shutdown exits 0, got {status}");
            break;
        }
        assert!(Instant::now() < deadline, "serve did not stop on SIGTERM");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[test]
fn migrate_creates_the_database_and_is_repeatable() {
    let dir = tempfile::tempdir().unwrap();
    for _ in 0..2 {
        let out = Command::new(BIN)
            .arg("migrate")
            .arg("--data-dir")
            .arg(dir.path())
            .env_remove("MERCATO_DATABASE_URL")
            .env("MERCATO_LOG", "warn")
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        assert!(String::from_utf8_lossy(&out.stdout).contains("up to date"));
    }
    assert!(dir.path().join("mercato.db").exists());
}

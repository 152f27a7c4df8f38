//! A fresh database per test, on the backend the environment chooses.

use chrono::{DateTime, Utc};
use mercato_store::sea_orm::{ConnectionTrait, Statement};
use mercato_store::{Backend, Db, migrate};
use std::ops::Deref;

/// Names the PostgreSQL server to test on (any database on it: each test
/// creates its own next to it). Unset or empty: SQLite.
pub const DATABASE_URL_ENV: &str = "MERCATO_TEST_DATABASE_URL";

/// A database of its own for one test. Dropped (best effort) with the value,
/// also when the test panics.
pub struct TestDb {
    db: Db,
    /// What `Db::open` takes to reach the same database again.
    url: String,
    /// PostgreSQL: (database name, URL of the server's admin database).
    pg: Option<(String, String)>,
    /// SQLite: the directory holding the file.
    _dir: tempfile::TempDir,
}

impl TestDb {
    /// A fresh database with every migration applied.
    pub async fn new() -> TestDb {
        let t = TestDb::unmigrated().await;
        migrate::run(&t.db).await.expect("migrations apply");
        t
    }

    /// A fresh, empty database.
    pub async fn unmigrated() -> TestDb {
        let dir = tempfile::tempdir().expect("temporary directory");
        let Some(admin_url) = std::env::var(DATABASE_URL_ENV).ok().filter(|u| !u.is_empty()) else {
            let path = dir.path().join("store.db");
            let db = Db::open_sqlite(&path).await.expect("open SQLite");
            return TestDb { db, url: path.display().to_string(), pg: None, _dir: dir };
        };
        let name = format!("mercato_st_{}", uuid::Uuid::new_v4().simple());
        let admin = Db::open(&admin_url).await.expect("connect to MERCATO_TEST_DATABASE_URL");
        admin.conn.execute_unprepared(&format!("CREATE DATABASE {name}")).await.expect("create test database");
        admin.close().await;
        let url = sibling_database_url(&admin_url, &name);
        let db = Db::open(&url).await.expect("connect to the test database");
        TestDb { db, url, pg: Some((name, admin_url)), _dir: dir }
    }

    /// Another pool on the same database, as a second node has.
    pub async fn connect(&self) -> Db {
        Db::open(&self.url).await.expect("second pool")
    }

    /// The URL (SQLite: the file's path) `Db::open` takes for this database.
    pub fn url(&self) -> &str {
        &self.url
    }

    pub fn is_postgres(&self) -> bool {
        self.db.backend == Backend::Postgres
    }
}

impl Deref for TestDb {
    type Target = Db;
    fn deref(&self) -> &Db {
        &self.db
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let Some((name, admin_url)) = self.pg.take() else { return };
        // Off the test's runtime, which may be shutting down or panicking.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
            rt.block_on(async {
                if let Ok(admin) = Db::open(&admin_url).await {
                    let _ =
                        admin.conn.execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).await;
                    admin.close().await;
                }
            });
        })
        .join();
    }
}

/// `url` with its database name replaced by `name` (query kept).
fn sibling_database_url(url: &str, name: &str) -> String {
    let (path, query) = match url.split_once('?') {
        Some((p, q)) => (p, format!("?{q}")),
        None => (url, String::new()),
    };
    let (server, _) = path.rsplit_once('/').expect("database URL has a path");
    format!("{server}/{name}{query}")
}

/// A UTC time from RFC 3339 text.
pub fn time(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text).expect("RFC 3339 time").with_timezone(&Utc)
}

/// The rows of `table` (counted in SQL, not through a repository).
pub async fn count(db: &impl ConnectionTrait, table: &str) -> i64 {
    let sql = format!("SELECT COUNT(*) AS n FROM {table}");
    let row = db.query_one_raw(Statement::from_string(db.get_database_backend(), sql)).await.unwrap().unwrap();
    row.try_get::<i64>("", "n").unwrap()
}

/// Advisory locks granted in this database to sessions other than `db`'s.
pub async fn advisory_locks_of_others(db: &Db) -> i64 {
    let sql = "SELECT COUNT(*) AS n FROM pg_locks WHERE locktype = 'advisory' AND granted \
               AND pid <> pg_backend_pid() \
               AND database = (SELECT oid FROM pg_database WHERE datname = current_database())";
    let row = db.conn.query_one_raw(Statement::from_string(db.conn.get_database_backend(), sql)).await.unwrap();
    row.unwrap().try_get::<i64>("", "n").unwrap()
}

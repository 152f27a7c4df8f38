//! `Db`: the backend follows the URL, `write()` takes SQLite's write lock
//! when the transaction begins (so writers queue instead of failing),
//! `snapshot()` reads one state while others commit, and a savepoint undoes
//! only its own writes.

use crate::common::{DATABASE_URL_ENV, TestDb};
use mercato_store::sea_orm::sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};
use mercato_store::sea_orm::{ConnectionTrait, DatabaseConnection, SqlxSqliteConnector, TransactionTrait};
use mercato_store::{Backend, Db, repo};
use std::time::Duration;

#[tokio::test]
async fn every_sqlite_url_form_opens_that_file() {
    let dir = tempfile::tempdir().unwrap();
    for (n, form) in ["sqlite://", "sqlite:", ""].into_iter().enumerate() {
        let path = dir.path().join(format!("{n}.db"));
        let url = format!("{form}{}", path.display());
        let db = Db::open(&url).await.unwrap();
        assert_eq!(db.backend, Backend::Sqlite, "{url}");
        db.ping().await.unwrap();
        db.close().await;
        assert!(path.exists(), "{url} opens {}", path.display());
    }
}

#[tokio::test]
async fn postgres_urls_open_postgres() {
    let t = TestDb::new().await;
    let configured = std::env::var(DATABASE_URL_ENV).is_ok_and(|u| !u.is_empty());
    assert_eq!(t.backend, if configured { Backend::Postgres } else { Backend::Sqlite });
    if !configured {
        return;
    }
    for url in [t.url().to_string(), t.url().replacen("postgres://", "postgresql://", 1)] {
        let db = Db::open(&url).await.unwrap();
        assert_eq!(db.backend, Backend::Postgres, "{url}");
        db.ping().await.unwrap();
        db.close().await;
    }
}

/// A second connection to the SQLite file that fails at once on a lock
/// instead of waiting for it.
async fn impatient(path: &str) -> DatabaseConnection {
    let options = SqliteConnectOptions::new().filename(path).busy_timeout(Duration::ZERO);
    let pool = SqlitePoolOptions::new().max_connections(1).connect_with(options).await.unwrap();
    SqlxSqliteConnector::from_sqlx_sqlite_pool(pool)
}

const PROBE: &str = "INSERT INTO settings (name, value) VALUES ('probe', 'x')";

#[tokio::test]
async fn write_holds_the_sqlite_write_lock_from_begin() {
    let t = TestDb::new().await;
    if t.is_postgres() {
        // Row locks, no database lock: a plain transaction whose writes
        // others see once it commits.
        let tx = t.write().await.unwrap();
        tx.execute_unprepared(PROBE).await.unwrap();
        let other = t.connect().await;
        assert_eq!(repo::settings::get(&other.conn, "probe").await.unwrap(), None);
        tx.commit().await.unwrap();
        assert_eq!(repo::settings::get(&other.conn, "probe").await.unwrap().as_deref(), Some("x"));
        return;
    }
    let other = impatient(t.url()).await;

    // A deferred transaction that has not written yet holds no lock...
    let deferred = t.conn.begin().await.unwrap();
    other.execute_unprepared(PROBE).await.expect("no lock held by a deferred transaction");
    deferred.rollback().await.unwrap();
    other.execute_unprepared("DELETE FROM settings WHERE name = 'probe'").await.unwrap();

    // ...while `write()` holds the write lock before its first statement.
    let tx = t.write().await.unwrap();
    let refused = other.execute_unprepared(PROBE).await.expect_err("the write lock is held");
    assert!(refused.to_string().contains("locked"), "{refused}");
    tx.rollback().await.unwrap();
    other.execute_unprepared(PROBE).await.expect("the lock is released with the transaction");
    other.close().await.unwrap();
}

#[tokio::test]
async fn a_snapshot_reads_one_state_while_others_commit() {
    let t = TestDb::new().await;
    repo::settings::get_or_insert(&t.conn, "probe", "before").await.unwrap();
    let snap = t.snapshot().await.unwrap();
    // The first read fixes the snapshot (SQLite WAL; PostgreSQL REPEATABLE READ).
    assert_eq!(repo::settings::get(&snap, "probe").await.unwrap().as_deref(), Some("before"));
    let tx = t.write().await.unwrap();
    assert!(repo::settings::swap(&tx, "probe", "before", "after").await.unwrap());
    tx.commit().await.unwrap();
    assert_eq!(repo::settings::get(&snap, "probe").await.unwrap().as_deref(), Some("before"), "still the snapshot");
    if t.is_postgres() {
        let refused = snap.execute_unprepared(PROBE).await.expect_err("a snapshot is read-only");
        assert!(refused.to_string().contains("read-only"), "{refused}");
    }
    snap.rollback().await.unwrap();
    assert_eq!(repo::settings::get(&t.conn, "probe").await.unwrap().as_deref(), Some("after"));
}

#[tokio::test]
async fn a_savepoint_undoes_only_its_own_writes() {
    let t = TestDb::new().await;
    let tx = t.write().await.unwrap();
    repo::settings::get_or_insert(&tx, "kept", "1").await.unwrap();
    let dropped = mercato_store::savepoint(&tx).await.unwrap();
    repo::settings::get_or_insert(&dropped, "undone", "1").await.unwrap();
    dropped.rollback().await.unwrap();
    let committed = mercato_store::savepoint(&tx).await.unwrap();
    repo::settings::get_or_insert(&committed, "saved", "1").await.unwrap();
    committed.commit().await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(repo::settings::get(&t.conn, "kept").await.unwrap().as_deref(), Some("1"));
    assert_eq!(repo::settings::get(&t.conn, "undone").await.unwrap(), None);
    assert_eq!(repo::settings::get(&t.conn, "saved").await.unwrap().as_deref(), Some("1"));
}

/// A write transaction whose caller gives up while BEGIN is on its way
/// (a request cancelled by a timeout or a closed connection, a lease
/// heartbeat dropped when its job ends) must not leave its connection inside
/// a transaction: the statements run next on that pooled connection would
/// then sit uncommitted, holding their row locks, and vanish with the next
/// rollback there. Found by `mercato chaos` on PostgreSQL ("there is already
/// a transaction in progress", then nodes waiting on each other's locks).
#[tokio::test]
async fn a_write_cancelled_while_it_begins_leaves_no_transaction_open() {
    let t = TestDb::new().await;
    if !t.is_postgres() {
        return;
    }
    // One connection, so every round checks the one the cancelled BEGIN used.
    let pool =
        mercato_store::sea_orm::sqlx::postgres::PgPoolOptions::new().max_connections(1).connect(t.url()).await.unwrap();
    let db = Db {
        conn: mercato_store::sea_orm::SqlxPostgresConnector::from_sqlx_postgres_pool(pool),
        backend: Backend::Postgres,
    };
    let mut leaked = 0;
    for round in 0..2000u32 {
        // Cancelled at every point of the BEGIN round trip, sooner or later.
        let writer = db.clone();
        let begun = tokio::spawn(async move { writer.write().await.map(|_| ()) });
        let until = std::time::Instant::now() + Duration::from_micros(u64::from(round % 200));
        while std::time::Instant::now() < until {
            tokio::task::yield_now().await;
        }
        begun.abort();
        let _ = begun.await;
        tokio::time::sleep(Duration::from_millis(1)).await;
        // A savepoint is refused outside a transaction block.
        if db.conn.execute_unprepared("SAVEPOINT probe").await.is_ok() {
            leaked += 1;
            // Start clean for the next round.
            db.conn.execute_unprepared("ROLLBACK").await.unwrap();
        }
    }
    assert_eq!(leaked, 0, "rounds whose cancelled BEGIN left the pooled connection inside a transaction");
}

//! The migration runner: every migration once, in one transaction, under a
//! lock that several nodes starting together share; `%TS%` and `%NOW%`
//! filled in per backend.

use crate::common::TestDb;
use mercato_domain::catalog::{Cooperation, ProductType};
use mercato_store::repo::ledger::commission;
use mercato_store::sea_orm::{ConnectionTrait, DbErr, Statement};
use mercato_store::{Db, migrate};

fn known() -> Vec<String> {
    migrate::known_versions().map(str::to_string).collect()
}

/// The versions recorded in `schema_migrations`, in order.
async fn recorded(db: &Db) -> Vec<String> {
    let sql = "SELECT version FROM schema_migrations ORDER BY version";
    let rows = db.conn.query_all_raw(Statement::from_string(db.conn.get_database_backend(), sql)).await.unwrap();
    rows.iter().map(|r| r.try_get::<String>("", "version").unwrap()).collect()
}

#[tokio::test]
async fn a_run_applies_what_is_pending_and_a_second_run_nothing() {
    let t = TestDb::unmigrated().await;
    assert_eq!(migrate::run(&t).await.unwrap(), known());
    assert_eq!(migrate::run(&t).await.unwrap(), Vec::<String>::new());
    assert_eq!(recorded(&t).await, known());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn nodes_starting_together_apply_each_migration_once() {
    let t = TestDb::unmigrated().await;
    let mut runs = Vec::new();
    for _ in 0..4 {
        let node = t.connect().await;
        runs.push(tokio::spawn(async move { migrate::run(&node).await }));
    }
    let mut applied = Vec::new();
    for run in runs {
        applied.extend(run.await.unwrap().expect("a concurrent run waits for the lock, then succeeds"));
    }
    applied.sort();
    assert_eq!(applied, known(), "each version applied by exactly one node");
    assert_eq!(recorded(&t).await, known());
}

#[tokio::test]
async fn a_failed_run_leaves_nothing_behind() {
    let t = TestDb::unmigrated().await;
    // A table in the way of the last migration fails the run near its end.
    t.conn.execute_unprepared("CREATE TABLE usage_rating_marks (x TEXT)").await.unwrap();
    let err = migrate::run(&t).await.expect_err("0018 cannot create its table");
    assert!(matches!(&err, DbErr::Migration(m) if m.starts_with("0018_usage_rating:")), "{err}");
    // The migrations before it, and the bookkeeping table, went with it.
    assert!(t.conn.execute_unprepared("SELECT 1 FROM accounts").await.is_err(), "0001 rolled back");
    assert!(t.conn.execute_unprepared("SELECT 1 FROM schema_migrations").await.is_err());

    t.conn.execute_unprepared("DROP TABLE usage_rating_marks").await.unwrap();
    assert_eq!(migrate::run(&t).await.unwrap(), known());
}

#[tokio::test]
async fn times_take_the_backend_type() {
    let t = TestDb::new().await;
    let (sql, expected) = if t.is_postgres() {
        (
            "SELECT data_type AS t FROM information_schema.columns \
             WHERE table_name = 'usage_records' AND column_name = 'received_at'",
            "timestamp with time zone",
        )
    } else {
        ("SELECT type AS t FROM pragma_table_info('usage_records') WHERE name = 'received_at'", "TEXT")
    };
    let row = t.conn.query_one_raw(Statement::from_string(t.conn.get_database_backend(), sql)).await.unwrap();
    assert_eq!(row.unwrap().try_get::<String>("", "t").unwrap(), expected);

    // `%NOW%` defaults (the seeded commission rates) read back as times.
    let rates = commission::list(&t.conn).await.unwrap();
    assert_eq!(rates.len(), 20);
    let saas =
        rates.iter().find(|r| r.product_type == ProductType::Saas && r.cooperation == Cooperation::General).unwrap();
    assert_eq!(saas.rate_bp, 1000);
    assert!(rates.iter().all(|r| r.updated_at == saas.updated_at), "one migration, one time");
}

/// 0020 rewrites interface messages recorded before redaction: the
/// secrets go, every other byte and row stays.
#[tokio::test]
async fn older_interface_messages_lose_their_secrets_in_0020() {
    use crate::common::time;
    use crate::fixtures::Market;
    use mercato_store::entity::interface_message;
    use mercato_store::repo::interface_messages;

    let t = TestDb::new().await;
    let m = Market::new(&t.conn, "a").await;
    let reply =
        |i: usize| format!(r#"{{"resultCode":"000000","appInfo":{{"userName":"u{i}","password":"secret-pw-{i}"}}}}"#);
    let tx = t.write().await.unwrap();
    // More rows than the migration reads per round.
    for i in 0..520 {
        let row = interface_message::Model {
            id: format!("imsg_{i:05}"),
            seller_id: m.seller.clone(),
            product_id: m.product.clone(),
            order_id: "CS1".into(),
            order_line_id: "CS1-1".into(),
            activity: "queryInstance".into(),
            url: "https://isv.example/produce".into(),
            request_body: if i == 7 { r#"{"token":"tok-7"}"#.into() } else { r#"{"activity":"x"}"#.into() },
            response_status: Some(200),
            response_body: if i == 9 { None } else { Some(reply(i)) },
            result_code: Some("000000".into()),
            outcome: "success".into(),
            duration_ms: 3,
            attempt: 1,
            created_at: time("2026-03-01T10:00:00Z"),
        };
        interface_messages::insert(&tx, row).await.unwrap();
    }
    tx.commit().await.unwrap();

    let forget = "DELETE FROM schema_migrations WHERE version = '0020_redact_interface_messages'";
    t.conn.execute_raw(Statement::from_string(t.conn.get_database_backend(), forget)).await.unwrap();
    assert_eq!(migrate::run(&t).await.unwrap(), ["0020_redact_interface_messages"]);

    let rows = interface_messages::list_for_line(&t.conn, "CS1-1").await.unwrap();
    assert_eq!(rows.len(), 520);
    for (i, row) in rows.iter().enumerate() {
        let body = row.response_body.as_deref();
        if i == 9 {
            assert_eq!(body, None);
        } else {
            let want = format!(r#"{{"resultCode":"000000","appInfo":{{"userName":"u{i}","password":"[redacted]"}}}}"#);
            assert_eq!(body, Some(want.as_str()), "row {i}");
        }
    }
    assert_eq!(rows[7].request_body, r#"{"token":"[redacted]"}"#);
    assert_eq!(rows[8].request_body, r#"{"activity":"x"}"#);
}

/// 0021 rewrites linear attributes stored as `{min, max, step}` into
/// `{min, step, count}` wherever a SKU specification is kept.
#[tokio::test]
async fn older_linear_ranges_become_counts_in_0021() {
    use crate::fixtures::Market;
    use mercato_store::repo::products;

    let t = TestDb::new().await;
    let m = Market::new(&t.conn, "a").await;
    let backend = t.conn.get_database_backend();
    let old = r#"{"sku_code":"u","name":"Users","charging_mode":"period","prices":{"month_minor":100},"currency":"CNY","linear":{"name":"users","unit":"user","min":5,"max":100,"step":5}}"#;
    let set = format!("UPDATE skus SET spec_json = '{old}' WHERE id = '{}'", m.sku);
    t.conn.execute_raw(Statement::from_string(backend, set)).await.unwrap();

    let forget = "DELETE FROM schema_migrations WHERE version = '0022_linear_counts'";
    t.conn.execute_raw(Statement::from_string(backend, forget)).await.unwrap();
    assert_eq!(migrate::run(&t).await.unwrap(), ["0022_linear_counts"]);

    let sku = products::skus(&t.conn, &m.product).await.unwrap().into_iter().find(|s| s.id == m.sku).unwrap();
    let linear = sku.spec.linear.expect("the linear attribute is kept");
    assert_eq!((linear.min, linear.step, linear.count, linear.max()), (5, 5, 20, Some(100)));
}

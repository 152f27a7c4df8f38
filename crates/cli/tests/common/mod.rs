//! What the benchmark smoke tests share.

use mercato_store::sea_orm::{ConnectionTrait, DatabaseBackend, Statement};

/// Asserts that the bench report `r` names its PostgreSQL scratch database
/// and that it (and any sibling it made) was dropped on the server at `url`.
pub async fn assert_scratch_dropped(url: &str, r: &serde_json::Value) {
    let name = r["scratch_database"].as_str().unwrap();
    assert!(name.starts_with("mercato_bench_"), "{r}");
    let admin = mercato_store::Db::open(url).await.unwrap();
    let rows = admin
        .conn
        .query_all_raw(Statement::from_string(
            DatabaseBackend::Postgres,
            format!("SELECT datname FROM pg_database WHERE datname LIKE '{name}%'"),
        ))
        .await
        .unwrap();
    let left: Vec<String> = rows.iter().map(|r| r.try_get::<String>("", "datname").unwrap()).collect();
    admin.close().await;
    assert!(left.is_empty(), "scratch databases dropped: {left:?}");
}

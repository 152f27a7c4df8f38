//! What the benchmark smoke tests share.

/// Asserts that the bench report `r` names its PostgreSQL scratch database
/// and that it (and any sibling it made) was dropped on the server at `url`.
pub async fn assert_scratch_dropped(url: &str, r: &serde_json::Value) {
    let name = r["scratch_database"].as_str().unwrap();
    assert!(name.starts_with("mercato_bench_"), "{r}");
    let admin = mercato_store::Db::open(url).await.unwrap();
    let left = mercato_store::bench::scratch::databases_starting_with(&admin, name).await.unwrap();
    admin.close().await;
    assert!(left.is_empty(), "scratch databases dropped: {left:?}");
}

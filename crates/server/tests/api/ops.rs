use crate::helpers::{Res, spawn_app};

#[tokio::test]
async fn health_readiness_and_metrics() {
    let app = spawn_app().await;
    assert_eq!(app.get("/healthz", None).await.expect(200)["status"], "ok");
    let ready = app.get("/readyz", None).await.expect(200);
    assert_eq!(ready["status"], "ready");
    let expected =
        if std::env::var("MERCATO_TEST_DATABASE_URL").is_ok_and(|u| !u.is_empty()) { "postgres" } else { "sqlite" };
    assert_eq!(ready["database"], expected);
    let text = app.client.get(app.url("/metrics")).send().await.unwrap().text().await.unwrap();
    assert!(text.contains("mercato_http_requests_total{method=\"GET\",route=\"/healthz\",status=\"200\"} 1"), "{text}");
}

#[tokio::test]
async fn every_response_carries_a_request_id_and_unknown_paths_are_problems() {
    let app = spawn_app().await;
    let res = app.get("/api/v1/nope", None).await;
    let id = res.headers.get("x-request-id").unwrap().to_str().unwrap().to_string();
    let body = res.problem(404, "not_found");
    assert_eq!(body["request_id"], id);
    app.call(reqwest::Method::PUT, "/healthz", None, None).await.problem(405, "method_not_allowed");
}

#[tokio::test]
async fn openapi_document_is_served_and_matches_the_committed_file() {
    let app = spawn_app().await;
    let served = app.get("/api/v1/openapi.json", None).await.expect(200);
    assert!(served["openapi"].as_str().unwrap().starts_with("3.1"));
    let committed_path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/openapi.json");
    let committed: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(committed_path).expect("docs/openapi.json is committed"))
            .unwrap();
    assert_eq!(
        served, committed,
        "docs/openapi.json is stale: run `cargo run -p mercato-cli -- openapi > docs/openapi.json`"
    );
    let _ = Res::fields;
}

use crate::helpers::spawn_app;
use serde_json::json;

#[tokio::test]
async fn sellers_manage_open_api_credentials_shown_once() {
    let app = spawn_app().await;
    let (seller_id, key) = app.signup("seller").await;
    let created = app.post("/api/v1/seller/open-api-credentials", Some(&key), json!({})).await.expect(201);
    let ak = created["access_key_id"].as_str().unwrap().to_string();
    let sk = created["secret_access_key"].as_str().unwrap().to_string();
    assert_eq!(ak.len(), 20);
    assert!(ak.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit()));
    assert_eq!(sk.len(), 40);

    let listed = app.get("/api/v1/seller/open-api-credentials", Some(&key)).await.expect(200);
    assert_eq!(listed["items"][0]["access_key_id"], ak);
    assert!(!listed.to_string().contains(&sk), "the secret is never shown again");

    // Stored encrypted, and recoverable only through the marketplace's key.
    let row = mercato_store::repo::credentials::find(&app.state.db.conn, &ak).await.unwrap().unwrap();
    assert!(!row.secret_enc.contains(&sk));
    let (owner, secret) = mercato_server::app::credentials::active_secret(&app.state, &ak).await.unwrap().unwrap();
    assert_eq!((owner.as_str(), secret.as_str()), (seller_id.as_str(), sk.as_str()));

    // Another seller can neither see nor revoke it.
    let (_, other) = app.signup("seller").await;
    let theirs = app.get("/api/v1/seller/open-api-credentials", Some(&other)).await.expect(200);
    assert_eq!(theirs["items"].as_array().unwrap().len(), 0);
    app.delete(&format!("/api/v1/seller/open-api-credentials/{ak}"), Some(&other)).await.problem(404, "not_found");
    assert!(mercato_server::app::credentials::active_secret(&app.state, &ak).await.unwrap().is_some());

    app.delete(&format!("/api/v1/seller/open-api-credentials/{ak}"), Some(&key)).await.expect(204);
    assert!(mercato_server::app::credentials::active_secret(&app.state, &ak).await.unwrap().is_none());
    let listed = app.get("/api/v1/seller/open-api-credentials", Some(&key)).await.expect(200);
    assert!(listed["items"][0]["revoked_at"].is_string());

    // At most five active at once; revoking makes room.
    for _ in 0..5 {
        app.post("/api/v1/seller/open-api-credentials", Some(&key), json!({})).await.expect(201);
    }
    app.post("/api/v1/seller/open-api-credentials", Some(&key), json!({})).await.problem(409, "too_many_credentials");

    let (_, buyer) = app.signup("buyer").await;
    app.post("/api/v1/seller/open-api-credentials", Some(&buyer), json!({})).await.problem(403, "forbidden");
}

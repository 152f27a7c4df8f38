use crate::helpers::{Res, spawn_app};
use serde_json::json;

#[tokio::test]
async fn sign_up_returns_a_working_key_shown_once() {
    let app = spawn_app().await;
    let body = app
        .post("/api/v1/accounts", None, json!({"role": "seller", "name": "ACME", "email": "Sales@ACME.example", "password": "correct horse battery"}))
        .await
        .expect(201);
    let key = body["api_key"].as_str().unwrap();
    assert!(key.starts_with("mk_"));
    let me = app.get("/api/v1/me", Some(key)).await.expect(200);
    assert_eq!(me["id"], body["id"]);
    assert_eq!(me["role"], "seller");
    assert_eq!(me["email"], "sales@acme.example");
    let keys = app.get("/api/v1/api-keys", Some(key)).await.expect(200);
    assert_eq!(keys["items"].as_array().unwrap().len(), 1);
    assert!(keys["items"][0].get("api_key").is_none(), "secrets are never listed");
    assert!(!keys.to_string().contains(&key[20..]), "the secret part never appears again");
}

#[tokio::test]
async fn duplicate_email_is_a_conflict_and_writes_nothing() {
    let app = spawn_app().await;
    let req = json!({"role": "buyer", "name": "B", "email": "b@example.com", "password": "correct horse battery"});
    app.post("/api/v1/accounts", None, req.clone()).await.expect(201);
    let mut again = req.clone();
    again["email"] = json!("B@Example.com");
    app.post("/api/v1/accounts", None, again).await.problem(409, "email_taken");
}

#[tokio::test]
async fn sign_up_lists_every_invalid_field_and_rejects_operator_role() {
    let app = spawn_app().await;
    let body = app
        .post("/api/v1/accounts", None, json!({"role": "operator", "name": "", "email": "x", "password": "short"}))
        .await
        .problem(422, "validation_failed");
    let mut fields = Res::fields(&body);
    fields.sort();
    assert_eq!(fields, ["email", "name", "password", "role"]);

    let body = app
        .post(
            "/api/v1/accounts",
            None,
            json!({"role": "wizard", "name": "n", "email": "a@b.co", "password": "correct horse battery"}),
        )
        .await
        .problem(422, "validation_failed");
    let msg = body["errors"][0]["message"].as_str().unwrap();
    assert!(msg.contains("buyer") && msg.contains("seller"), "allowed values are named: {msg}");
    assert_eq!(body["errors"][0]["field"], "role");
}

#[tokio::test]
async fn malformed_bodies_get_precise_problems() {
    let app = spawn_app().await;
    let res = app
        .client
        .post(app.url("/api/v1/accounts"))
        .header("content-type", "application/json")
        .body("{nope")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["code"], "malformed_json");

    let res = app.client.post(app.url("/api/v1/accounts")).body("role=buyer").send().await.unwrap();
    assert_eq!(res.status(), 415);

    let body = app
        .post(
            "/api/v1/accounts",
            None,
            json!({"role": "buyer", "name": 5, "email": "a@b.co", "password": "correct horse battery"}),
        )
        .await
        .problem(422, "validation_failed");
    assert_eq!(Res::fields(&body), ["name"]);

    let body = app
        .post(
            "/api/v1/accounts",
            None,
            json!({"role": "buyer", "email": "a@b.co", "password": "correct horse battery"}),
        )
        .await
        .problem(422, "validation_failed");
    assert_eq!(Res::fields(&body), ["name"]);

    let huge = "x".repeat(2 * 1024 * 1024);
    let res = app
        .post(
            "/api/v1/accounts",
            None,
            json!({"role": "buyer", "name": huge, "email": "a@b.co", "password": "correct horse battery"}),
        )
        .await;
    res.problem(413, "payload_too_large");

    let long = "名".repeat(101);
    let body = app
        .post(
            "/api/v1/accounts",
            None,
            json!({"role": "buyer", "name": long, "email": "a@b.co", "password": "correct horse battery"}),
        )
        .await
        .problem(422, "validation_failed");
    assert_eq!(Res::fields(&body), ["name"]);
    // Nothing was written by any of the rejected requests.
    let ok = app
        .post(
            "/api/v1/accounts",
            None,
            json!({"role": "buyer", "name": "n", "email": "a@b.co", "password": "correct horse battery"}),
        )
        .await;
    ok.expect(201);
}

#[tokio::test]
async fn keys_can_be_created_revoked_and_expire() {
    let app = spawn_app().await;
    let (_, key) = app.signup("buyer").await;
    let created = app.post("/api/v1/api-keys", Some(&key), json!({"name": "ci"})).await.expect(201);
    let second = created["api_key"].as_str().unwrap().to_string();
    app.get("/api/v1/me", Some(&second)).await.expect(200);
    let listed = app.get("/api/v1/api-keys?limit=1", Some(&key)).await.expect(200);
    assert_eq!(listed["items"].as_array().unwrap().len(), 1);
    assert!(listed["next_cursor"].is_string());
    let cursor = listed["next_cursor"].as_str().unwrap();
    let rest = app.get(&format!("/api/v1/api-keys?limit=1&cursor={cursor}"), Some(&key)).await.expect(200);
    assert_eq!(rest["items"].as_array().unwrap().len(), 1);
    assert!(rest["next_cursor"].is_null());

    app.delete(&format!("/api/v1/api-keys/{}", created["id"].as_str().unwrap()), Some(&key)).await.expect(204);
    app.get("/api/v1/me", Some(&second)).await.problem(401, "api_key_revoked");
    app.get("/api/v1/me", Some(&key)).await.expect(200);

    // Another account cannot see or revoke this account's keys.
    let (_, other) = app.signup("seller").await;
    let first_id =
        app.get("/api/v1/api-keys", Some(&key)).await.expect(200)["items"][1]["id"].as_str().unwrap().to_string();
    app.delete(&format!("/api/v1/api-keys/{first_id}"), Some(&other)).await.problem(404, "not_found");
    app.get("/api/v1/me", Some(&key)).await.expect(200);

    app.post("/api/v1/api-keys", Some(&key), json!({"name": "x", "expires_in_days": 0}))
        .await
        .problem(422, "validation_failed");
    app.get("/api/v1/api-keys?limit=0", Some(&key)).await.problem(422, "validation_failed");
    app.get("/api/v1/api-keys?limit=abc", Some(&key)).await.problem(422, "validation_failed");
}

#[tokio::test]
async fn missing_and_invalid_keys_are_401() {
    let app = spawn_app().await;
    app.get("/api/v1/me", None).await.problem(401, "unauthorized");
    app.get("/api/v1/me", Some("mk_nope")).await.problem(401, "invalid_api_key");
    let (_, key) = app.signup("buyer").await;
    let tampered = format!("{}0", &key[..key.len() - 1]);
    let tampered = if tampered == key { format!("{}1", &key[..key.len() - 1]) } else { tampered };
    app.get("/api/v1/me", Some(&tampered)).await.problem(401, "invalid_api_key");
}

#[tokio::test]
async fn login_exchanges_a_password_for_an_expiring_key() {
    let app = spawn_app().await;
    app.post(
        "/api/v1/accounts",
        None,
        json!({"role": "partner", "name": "P", "email": "p@example.com", "password": "correct horse battery"}),
    )
    .await
    .expect(201);
    let key = app
        .post(
            "/api/v1/auth/login",
            None,
            json!({"email": "P@example.com", "password": "correct horse battery", "key_name": "laptop"}),
        )
        .await
        .expect(201);
    assert!(key["expires_at"].is_string());
    let me = app.get("/api/v1/me", key["api_key"].as_str()).await.expect(200);
    assert_eq!(me["role"], "partner");

    let wrong_password = app
        .post("/api/v1/auth/login", None, json!({"email": "p@example.com", "password": "wrong horse battery"}))
        .await
        .problem(401, "invalid_credentials");
    let wrong_email = app
        .post("/api/v1/auth/login", None, json!({"email": "q@example.com", "password": "correct horse battery"}))
        .await
        .problem(401, "invalid_credentials");
    assert_eq!(wrong_password["detail"], wrong_email["detail"], "no hint which part was wrong");
    app.post("/api/v1/auth/login", None, json!({"email": "", "password": ""})).await.problem(422, "validation_failed");
    // Operators created from the CLI have no password and cannot log in with one.
    let op_email = format!("op-{}@example.com", uuid::Uuid::new_v4().simple());
    mercato_server::app::accounts::create_operator(&app.state, "Op", &op_email).await.unwrap();
    app.post("/api/v1/auth/login", None, json!({"email": op_email, "password": "anything at all"}))
        .await
        .problem(401, "invalid_credentials");
}

#[tokio::test]
async fn expired_keys_stop_working_when_their_time_comes() {
    use mercato_server::clock::ManualClock;
    let clock = std::sync::Arc::new(ManualClock::starting_at(chrono::Utc::now()));
    let app = crate::helpers::spawn_with_clock(clock.clone()).await;
    let (_, key) = app.signup("buyer").await;
    let short =
        app.post("/api/v1/api-keys", Some(&key), json!({"name": "short", "expires_in_days": 1})).await.expect(201);
    let short = short["api_key"].as_str().unwrap().to_string();
    app.get("/api/v1/me", Some(&short)).await.expect(200);
    clock.advance(chrono::Duration::hours(23));
    app.get("/api/v1/me", Some(&short)).await.expect(200);
    clock.advance(chrono::Duration::hours(2));
    app.get("/api/v1/me", Some(&short)).await.problem(401, "api_key_expired");
    app.get("/api/v1/me", Some(&key)).await.expect(200);
}

#[tokio::test]
async fn the_bearer_scheme_is_case_insensitive_and_other_schemes_are_refused() {
    let app = spawn_app().await;
    let body = app
        .post(
            "/api/v1/accounts",
            None,
            json!({"role": "buyer", "name": "B", "email": "b@example.com", "password": "correct horse battery"}),
        )
        .await
        .expect(201);
    let key = body["api_key"].as_str().unwrap();
    for scheme in ["Bearer", "bearer", "BEARER", "BeArEr"] {
        let res = app
            .client
            .get(app.url("/api/v1/me"))
            .header("Authorization", format!("{scheme} {key}"))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "{scheme}");
    }
    for value in [format!("Basic {key}"), format!("Bearer{key}"), key.to_string()] {
        let res = app.client.get(app.url("/api/v1/me")).header("Authorization", value.clone()).send().await.unwrap();
        assert_eq!(res.status(), 401, "{value}");
    }
}

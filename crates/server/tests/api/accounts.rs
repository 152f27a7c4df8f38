use crate::helpers::{Res, spawn_app};
use reqwest::Method;
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
    // A login key is short-lived unless asked otherwise (at most 30 days).
    let expires: chrono::DateTime<chrono::Utc> = serde_json::from_value(key["expires_at"].clone()).unwrap();
    let life = expires - chrono::Utc::now();
    assert!(life > chrono::Duration::hours(11) && life <= chrono::Duration::hours(12), "{life}");
    let me = app.get("/api/v1/me", key["api_key"].as_str()).await.expect(200);
    assert_eq!(me["role"], "partner");
    let long = json!({"email": "p@example.com", "password": "correct horse battery", "expires_in_days": 31});
    app.post("/api/v1/auth/login", None, long).await.problem(422, "validation_failed");
    let month = json!({"email": "p@example.com", "password": "correct horse battery", "expires_in_days": 30});
    app.post("/api/v1/auth/login", None, month).await.expect(201);
    // The keys it made are the account's own to list and revoke.
    let own = app.get("/api/v1/api-keys", key["api_key"].as_str()).await.expect(200);
    assert_eq!(own["items"].as_array().unwrap().len(), 3, "default, laptop and the 30-day login: {own}");

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

/// Rejections the router makes before a handler runs are problem documents
/// too: a path segment that is not UTF-8, a body that is not JSON, a path
/// that names no route.
#[tokio::test]
async fn rejections_before_any_handler_are_problem_documents() {
    let app = spawn_app().await;
    let (_, buyer) = app.signup("buyer").await;
    let body = app.get("/api/v1/catalog/products/%FF%FE", None).await.problem(400, "bad_request");
    assert!(body["detail"].as_str().is_some_and(|d| !d.is_empty()), "{body}");
    app.get("/api/v1/buyer/orders/%C3%28", Some(&buyer)).await.problem(400, "bad_request");
    app.send_bytes(Method::POST, "/api/v1/accounts", None, "application/json", b"{not json".to_vec())
        .await
        .problem(400, "malformed_json");
    app.get("/api/v1/%FF/nowhere", None).await.problem(404, "not_found");
}

/// Five wrong passwords lock the account for 15 minutes, twenty failures
/// lock the source address; a locked login is a 429 with Retry-After, even
/// with the right password, and the lock ends on its own.
#[tokio::test]
async fn failed_logins_are_throttled_per_account_and_per_source() {
    use mercato_server::clock::ManualClock;
    let clock = std::sync::Arc::new(ManualClock::starting_at(chrono::Utc::now()));
    let app = crate::helpers::spawn_with_clock(clock.clone()).await;
    let login = |email: &str, password: &str| json!({"email": email, "password": password});
    for who in ["a", "b"] {
        let form = json!({"role": "buyer", "name": who, "email": format!("{who}@example.com"),
                          "password": "correct horse battery"});
        app.post("/api/v1/accounts", None, form).await.expect(201);
    }
    for _ in 0..5 {
        app.post("/api/v1/auth/login", None, login("a@example.com", "wrong horse battery"))
            .await
            .problem(401, "invalid_credentials");
    }
    let locked = app.post("/api/v1/auth/login", None, login("A@example.com", "correct horse battery")).await;
    let retry: i64 = locked.headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=900).contains(&retry), "{retry}");
    locked.problem(429, "too_many_attempts");
    // Another account from the same source is not locked by A's failures.
    app.post("/api/v1/auth/login", None, login("b@example.com", "correct horse battery")).await.expect(201);

    // Fifteen more failures (on names that do not exist) make twenty from
    // this source: now B is refused too, here.
    for i in 0..15 {
        app.post("/api/v1/auth/login", None, login(&format!("nobody{i}@example.com"), "wrong horse battery"))
            .await
            .problem(401, "invalid_credentials");
    }
    app.post("/api/v1/auth/login", None, login("b@example.com", "correct horse battery"))
        .await
        .problem(429, "too_many_attempts");

    // Fifteen minutes later both locks are over.
    clock.advance(chrono::Duration::minutes(15));
    app.post("/api/v1/auth/login", None, login("a@example.com", "correct horse battery")).await.expect(201);
    app.post("/api/v1/auth/login", None, login("b@example.com", "correct horse battery")).await.expect(201);
}

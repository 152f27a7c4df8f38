//! Buyers' wallets and operator credits, with Idempotency-Key.

use crate::helpers::{Res, spawn_app};
use mercato_domain::money::MAX_PRICE_MINOR;
use serde_json::{Value, json};

fn credit_path(buyer: &str) -> String {
    format!("/api/v1/operator/wallets/{buyer}/credit")
}

#[tokio::test]
async fn operators_credit_wallets_and_buyers_see_them() {
    let app = spawn_app().await;
    let op = app.operator().await;
    let (buyer, buyer_key) = app.signup("buyer").await;

    let empty = app.get("/api/v1/buyer/wallet", Some(&buyer_key)).await.expect(200);
    assert_eq!(empty, json!({"balances": []}));
    let none = app.get("/api/v1/buyer/wallet/transactions", Some(&buyer_key)).await.expect(200);
    assert_eq!(none["items"], json!([]));

    let body = app
        .post(
            &credit_path(&buyer),
            Some(&op),
            json!({"amount_minor": 10_000, "currency": "CNY", "reason": "Welcome credit, ticket #42"}),
        )
        .await
        .expect(201);
    let payment = &body["payment"];
    assert!(payment["id"].as_str().unwrap().starts_with("pay_"));
    assert_eq!(payment["provider"], "manual");
    assert_eq!(payment["status"], "succeeded");
    assert_eq!(payment["buyer_id"], buyer);
    assert_eq!(payment["amount_minor"], 10_000);
    assert_eq!(payment["provider_ref"], "Welcome credit, ticket #42");
    assert_eq!(payment["reason"], "Welcome credit, ticket #42");
    assert!(body["entry_id"].as_str().unwrap().starts_with("jnl_"));
    assert_eq!(body["balance"], json!({"currency": "CNY", "available_minor": 10_000}));
    app.credit_wallet(&op, &buyer, 300, "JPY").await;

    let wallet = app.get("/api/v1/buyer/wallet", Some(&buyer_key)).await.expect(200);
    assert_eq!(
        wallet,
        json!({"balances": [{"currency": "CNY", "available_minor": 10_000}, {"currency": "JPY", "available_minor": 300}]})
    );
    let txs = app.get("/api/v1/buyer/wallet/transactions?limit=1", Some(&buyer_key)).await.expect(200);
    assert_eq!(txs["items"][0]["amount_minor"], 300);
    assert_eq!(txs["items"][0]["currency"], "JPY");
    let cursor = txs["next_cursor"].as_str().unwrap().to_string();
    let txs = app
        .get(&format!("/api/v1/buyer/wallet/transactions?limit=1&cursor={cursor}"), Some(&buyer_key))
        .await
        .expect(200);
    let t = &txs["items"][0];
    assert_eq!((t["amount_minor"].as_i64(), t["kind"].as_str()), (Some(10_000), Some("top_up")));
    assert_eq!(t["reference"], payment["id"]);
    assert_eq!(t["entry_id"], body["entry_id"]);
    assert!(txs["next_cursor"].is_null());
    app.get("/api/v1/buyer/wallet/transactions?cursor=garbage", Some(&buyer_key))
        .await
        .problem(422, "validation_failed");

    // Another buyer sees only their own (empty) wallet.
    let (_, other_key) = app.signup("buyer").await;
    assert_eq!(app.get("/api/v1/buyer/wallet", Some(&other_key)).await.expect(200), json!({"balances": []}));
    let (_, seller_key) = app.signup("seller").await;
    app.get("/api/v1/buyer/wallet", Some(&seller_key)).await.problem(403, "forbidden");
    app.get("/api/v1/buyer/wallet", None).await.problem(401, "unauthorized");
    app.assert_ledger_balanced().await;
}

async fn credit_with_key(app: &crate::helpers::TestApp, op: &str, buyer: &str, key: &str, body: Value) -> Res {
    let res = app
        .client
        .post(app.url(&credit_path(buyer)))
        .bearer_auth(op)
        .header("Idempotency-Key", key)
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = res.status();
    let headers = res.headers().clone();
    let body = serde_json::from_slice(&res.bytes().await.unwrap()).unwrap_or(Value::Null);
    Res { status, body, headers }
}

#[tokio::test]
async fn a_retried_credit_returns_the_first_response_and_credits_once() {
    let app = spawn_app().await;
    let op = app.operator().await;
    let (buyer, buyer_key) = app.signup("buyer").await;
    let body = json!({"amount_minor": 700, "currency": "EUR", "reason": "goodwill"});

    let first = credit_with_key(&app, &op, &buyer, "retry-1", body.clone()).await;
    assert!(first.headers.get("idempotent-replayed").is_none());
    let first = first.expect(201);
    let again = credit_with_key(&app, &op, &buyer, "retry-1", body.clone()).await;
    assert_eq!(again.headers.get("idempotent-replayed").map(|v| v.to_str().unwrap()), Some("true"));
    assert_eq!(again.expect(201), first, "the same status and body");
    // Key order and spacing do not make a different request.
    let reordered = json!({"reason": "goodwill", "currency": "EUR", "amount_minor": 700});
    assert_eq!(credit_with_key(&app, &op, &buyer, "retry-1", reordered).await.expect(201), first);

    let wallet = app.get("/api/v1/buyer/wallet", Some(&buyer_key)).await.expect(200);
    assert_eq!(wallet["balances"], json!([{"currency": "EUR", "available_minor": 700}]), "credited once");

    // The same key for another request is refused and changes nothing.
    let other = json!({"amount_minor": 701, "currency": "EUR", "reason": "goodwill"});
    credit_with_key(&app, &op, &buyer, "retry-1", other.clone()).await.problem(422, "idempotency_key_reused");
    let (buyer2, _) = app.signup("buyer").await;
    credit_with_key(&app, &op, &buyer2, "retry-1", body.clone()).await.problem(422, "idempotency_key_reused");

    // Keys belong to the caller: another operator's "retry-1" is a new request.
    let op2 = app.operator().await;
    let theirs = credit_with_key(&app, &op2, &buyer, "retry-1", body.clone()).await.expect(201);
    assert_ne!(theirs["payment"]["id"], first["payment"]["id"]);

    // A failed request stores nothing under its key: fixing it and retrying works.
    let bad = json!({"amount_minor": 0, "currency": "EUR", "reason": "goodwill"});
    credit_with_key(&app, &op, &buyer, "retry-2", bad).await.problem(422, "validation_failed");
    credit_with_key(&app, &op, "acc_missing", "retry-3", body.clone()).await.problem(404, "not_found");
    credit_with_key(&app, &op, &buyer, "retry-3", body.clone()).await.expect(201);

    // Malformed keys.
    for key in ["", "has space", &"k".repeat(256)] {
        let p = credit_with_key(&app, &op, &buyer, key, body.clone()).await.problem(422, "validation_failed");
        assert_eq!(Res::fields(&p), ["Idempotency-Key"], "{key:?}");
    }

    let wallet = app.get("/api/v1/buyer/wallet", Some(&buyer_key)).await.expect(200);
    assert_eq!(wallet["balances"], json!([{"currency": "EUR", "available_minor": 2100}]));
    app.assert_ledger_balanced().await;
}

#[tokio::test]
async fn concurrent_duplicates_credit_once() {
    let app = std::sync::Arc::new(spawn_app().await);
    let op = app.operator().await;
    let (buyer, buyer_key) = app.signup("buyer").await;
    let body = json!({"amount_minor": 250, "currency": "CNY", "reason": "race"});
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let (app, op, buyer, body) = (app.clone(), op.clone(), buyer.clone(), body.clone());
        tasks.push(tokio::spawn(async move { credit_with_key(&app, &op, &buyer, "same-key", body).await }));
    }
    let mut bodies = Vec::new();
    for t in tasks {
        bodies.push(t.await.unwrap().expect(201));
    }
    assert!(bodies.iter().all(|b| *b == bodies[0]), "every duplicate got the first answer");
    let wallet = app.get("/api/v1/buyer/wallet", Some(&buyer_key)).await.expect(200);
    assert_eq!(wallet["balances"], json!([{"currency": "CNY", "available_minor": 250}]));
    app.assert_ledger_balanced().await;
}

#[tokio::test]
async fn bad_credits_are_refused_and_post_nothing() {
    let app = spawn_app().await;
    let op = app.operator().await;
    let (buyer, buyer_key) = app.signup("buyer").await;
    let (seller, _) = app.signup("seller").await;
    let ok = |v: Value| {
        let mut b = json!({"amount_minor": 100, "currency": "CNY", "reason": "r"});
        for (k, x) in v.as_object().unwrap() {
            b[k] = x.clone();
        }
        b
    };
    for (body, field) in [
        (ok(json!({"amount_minor": 0})), "amount_minor"),
        (ok(json!({"amount_minor": -100})), "amount_minor"),
        (ok(json!({"amount_minor": MAX_PRICE_MINOR + 1})), "amount_minor"),
        (ok(json!({"amount_minor": 1e20})), "amount_minor"),
        (ok(json!({"amount_minor": 1.5})), "amount_minor"),
        (ok(json!({"amount_minor": "100"})), "amount_minor"),
        (ok(json!({"currency": "XXX"})), "currency"),
        (ok(json!({"currency": "cny"})), "currency"),
        (ok(json!({"reason": ""})), "reason"),
        (ok(json!({"reason": "   "})), "reason"),
        (ok(json!({"reason": "x".repeat(501)})), "reason"),
        (json!({"amount_minor": 100, "currency": "CNY"}), "reason"),
        (ok(json!({"extra": 1})), "extra"),
    ] {
        let p = app.post(&credit_path(&buyer), Some(&op), body.clone()).await.problem(422, "validation_failed");
        let fields = Res::fields(&p);
        assert!(fields.len() == 1 && fields[0].contains(field), "{body}: {p}");
    }
    let valid = ok(json!({}));
    for who in [seller.as_str(), "acc_0000", "nope"] {
        app.post(&credit_path(who), Some(&op), valid.clone()).await.problem(404, "not_found");
    }
    let op_id = app.get("/api/v1/me", Some(&op)).await.expect(200)["id"].as_str().unwrap().to_string();
    app.post(&credit_path(&op_id), Some(&op), valid.clone()).await.problem(404, "not_found");
    app.post(&credit_path(&buyer), Some(&buyer_key), valid.clone()).await.problem(403, "forbidden");
    app.post(&credit_path(&buyer), None, valid.clone()).await.problem(401, "unauthorized");

    let tb = app.get("/api/v1/operator/ledger/trial-balance", Some(&op)).await.expect(200);
    assert_eq!(tb["accounts"], json!([]), "nothing was posted");
    let entries = app.get("/api/v1/operator/ledger/entries", Some(&op)).await.expect(200);
    assert_eq!(entries["items"], json!([]));
    app.assert_ledger_balanced().await;
}

//! Sellers' products: drafts, SKUs, media, submission, tenant scoping and
//! every kind of bad input (which must change nothing).

use crate::helpers::{
    DATABASES_CATEGORY, Res, TestApp, period_sku, product_form, shared_seller, spawn_app, spawn_with, tiny_png,
};
use reqwest::Method;
use serde_json::{Value, json};

fn sku_all_modes() -> Vec<Value> {
    vec![
        json!({
            "sku_code": "std-period", "name": "Standard", "charging_mode": "period",
            "prices": {"month_minor": 1000, "year_minor": 10000}, "currency": "CNY", "trial_days": 14,
            "linear": {"name": "users", "unit": "user", "min": 5, "step": 5, "count": 100}
        }),
        json!({
            "sku_code": "perpetual", "name": "Perpetual", "charging_mode": "one_time",
            "prices": {"one_time_minor": 300000}, "currency": "CNY"
        }),
        json!({
            "sku_code": "payg", "name": "Pay as you go", "charging_mode": "on_demand", "currency": "CNY",
            "metering": {"unit": "GB", "unit_price": "0.0005", "billing": "hourly"}
        }),
        json!({
            "sku_code": "pkg-1000", "name": "1000 GB package", "charging_mode": "on_demand_pkg", "currency": "CNY",
            "package": {"quota": "1000", "period_months": 12, "price_minor": 50000}
        }),
    ]
}

async fn draft(app: &TestApp, key: &str) -> String {
    let body = app.post("/api/v1/seller/products", Some(key), product_form("云数据库 RDS")).await.expect(201);
    body["id"].as_str().unwrap().to_string()
}

/// The product as its seller sees it.
async fn product(app: &TestApp, key: &str, id: &str) -> Value {
    app.get(&format!("/api/v1/seller/products/{id}"), Some(key)).await.expect(200)
}

#[tokio::test]
async fn full_seller_path_to_a_listed_product() {
    let app = spawn_app().await;
    let (seller_id, key, op) = app.approved_seller().await;

    let created = app.post("/api/v1/seller/products", Some(&key), product_form("云数据库 RDS")).await.expect(201);
    let id = created["id"].as_str().unwrap().to_string();
    assert_eq!(created["status"], "draft");
    assert_eq!(created["revision_state"], "none");
    assert_eq!(created["type"], "saas");
    assert_eq!(created["endpoint"], json!({"url": shared_seller(), "access_key_set": true}));
    assert!(!created.to_string().contains("secret-access-key-1"), "the access key is never returned");
    assert!(created["listed"].is_null() && created["pending_review_id"].is_null());

    for sku in sku_all_modes() {
        let s = app.post(&format!("/api/v1/seller/products/{id}/skus"), Some(&key), sku.clone()).await.expect(201);
        assert_eq!(s["status"], "pending");
        assert_eq!(s["sku_code"], sku["sku_code"]);
    }
    let skus = app.get(&format!("/api/v1/seller/products/{id}/skus"), Some(&key)).await.expect(200);
    assert_eq!(skus.as_array().unwrap().len(), 4);
    assert_eq!(skus[0]["entry_price_minor"], 5000, "linear min 5 x month 1000");
    assert_eq!(skus[0]["trial_days"], 14);

    // Logo upload, then served publicly with immutable caching.
    let logo = app
        .send_bytes(Method::PUT, &format!("/api/v1/seller/products/{id}/logo"), Some(&key), "image/png", tiny_png())
        .await
        .expect(200);
    let logo_url = logo["url"].as_str().unwrap().to_string();
    let served = app.client.get(app.url(&logo_url)).send().await.unwrap();
    assert_eq!(served.status(), 200);
    assert_eq!(served.headers()["content-type"], "image/png");
    assert_eq!(served.headers()["cache-control"], "public, max-age=31536000, immutable");
    assert_eq!(served.headers()["x-content-type-options"], "nosniff");
    assert_eq!(served.bytes().await.unwrap().to_vec(), tiny_png());
    let image = app
        .send_bytes(Method::POST, &format!("/api/v1/seller/products/{id}/images"), Some(&key), "image/png", tiny_png())
        .await
        .expect(201);

    app.passing_debug_run(&key, &id).await;
    let submitted = app.post(&format!("/api/v1/seller/products/{id}/submit"), Some(&key), json!({})).await.expect(200);
    assert_eq!(submitted["status"], "in_review");
    let review_id = submitted["pending_review_id"].as_str().unwrap().to_string();

    // The operator sees the snapshot.
    let queue = app.get("/api/v1/operator/reviews?status=pending", Some(&op)).await.expect(200);
    assert!(queue["items"].as_array().unwrap().iter().any(|r| r["id"] == review_id.as_str()));
    let review = app.get(&format!("/api/v1/operator/reviews/{review_id}"), Some(&op)).await.expect(200);
    assert_eq!(review["kind"], "listing");
    assert_eq!(review["seller_id"], seller_id);
    assert_eq!(review["seller_name"], "Test seller");
    assert_eq!(review["snapshot"]["skus"].as_array().unwrap().len(), 4);
    assert!(!review.to_string().contains("secret-access-key-1"));

    let approved =
        app.post(&format!("/api/v1/operator/reviews/{review_id}/approve"), Some(&op), json!({})).await.expect(200);
    assert_eq!(approved["status"], "approved");

    let p = product(&app, &key, &id).await;
    assert_eq!(p["status"], "listed");
    assert!(p["pending_review_id"].is_null());
    assert!(p["listed_at"].is_string());
    assert!(p["skus"].as_array().unwrap().iter().all(|s| s["status"] == "active"));
    let listed = &p["listed"];
    assert_eq!(listed["content"]["name"], "云数据库 RDS");
    assert_eq!(listed["seller_name"], "Test seller");
    assert_eq!(listed["logo_url"], logo_url);
    assert_eq!(listed["images"], json!([image["url"]]));
    assert_eq!(listed["skus"].as_array().unwrap().len(), 4);

    // The public search columns are written with the snapshot.
    let row = mercato_store::repo::products::find(&app.state.db.conn, &id).await.unwrap().unwrap();
    assert_eq!(row.pub_name.as_deref(), Some("云数据库 RDS"));
    assert_eq!(row.pub_category_id.as_deref(), Some(DATABASES_CATEGORY));
    assert_eq!(row.pub_price_minor, Some(5000));
    assert_eq!(row.pub_currency.as_deref(), Some("CNY"));
    assert_eq!(row.pub_modes.as_deref(), Some(",period,one_time,on_demand,on_demand_pkg,"));
    assert!(row.pub_search.unwrap().contains("mysql"));
    let snap = row.listed.expect("a listed snapshot");
    assert_eq!(snap.seller_id, seller_id);

    // The seller sees the decision.
    let reviews = app.get(&format!("/api/v1/seller/products/{id}/reviews"), Some(&key)).await.expect(200);
    assert_eq!(reviews["items"][0]["status"], "approved");
    assert!(reviews["items"][0]["decided_at"].is_string());

    // Listing filters by status.
    let listed = app.get("/api/v1/seller/products?status=listed", Some(&key)).await.expect(200);
    assert_eq!(listed["items"].as_array().unwrap().len(), 1);
    let drafts = app.get("/api/v1/seller/products?status=draft", Some(&key)).await.expect(200);
    assert!(drafts["items"].as_array().unwrap().is_empty());
}

#[tokio::test]
async fn listed_product_helper_works() {
    let app = spawn_app().await;
    let (_, key, op) = app.approved_seller().await;
    let id = app.listed_product(&key, &op, product_form("Helper"), &[period_sku("m")]).await;
    assert_eq!(product(&app, &key, &id).await["status"], "listed");
}

#[tokio::test]
async fn delist_and_relist() {
    let app = spawn_app().await;
    let (_, key, op) = app.approved_seller().await;
    let id = app.listed_product(&key, &op, product_form("Delist me"), &[period_sku("m")]).await;
    app.post(&format!("/api/v1/seller/products/{id}/relist"), Some(&key), json!({}))
        .await
        .problem(409, "invalid_state");
    let p = app.post(&format!("/api/v1/seller/products/{id}/delist"), Some(&key), json!({})).await.expect(200);
    assert_eq!(p["status"], "delisted");
    assert!(!p["listed"].is_null(), "the approved version is kept");
    app.post(&format!("/api/v1/seller/products/{id}/delist"), Some(&key), json!({}))
        .await
        .problem(409, "invalid_state");
    let p = app.post(&format!("/api/v1/seller/products/{id}/relist"), Some(&key), json!({})).await.expect(200);
    assert_eq!(p["status"], "listed");
    // A draft cannot be delisted.
    let d = draft(&app, &key).await;
    app.post(&format!("/api/v1/seller/products/{d}/delist"), Some(&key), json!({})).await.problem(409, "invalid_state");
}

#[tokio::test]
async fn submit_needs_a_ready_seller_skus_and_an_endpoint() {
    let app = spawn_app().await;
    let (seller_id, key) = app.signup("seller").await;
    let id = draft(&app, &key).await;
    app.post(&format!("/api/v1/seller/products/{id}/skus"), Some(&key), period_sku("m")).await.expect(201);
    let before = product(&app, &key, &id).await;
    app.post(&format!("/api/v1/seller/products/{id}/submit"), Some(&key), json!({}))
        .await
        .problem(409, "seller_not_ready");
    assert_eq!(product(&app, &key, &id).await, before, "nothing changed");

    let op = app.operator().await;
    app.approve_seller(&seller_id, &key, &op).await;

    // No SKUs.
    let empty = draft(&app, &key).await;
    app.post(&format!("/api/v1/seller/products/{empty}/submit"), Some(&key), json!({})).await.problem(409, "no_skus");
    assert_eq!(product(&app, &key, &empty).await["status"], "draft");

    // SaaS without endpoint.
    let mut form = product_form("No endpoint");
    form.as_object_mut().unwrap().remove("endpoint");
    let bare = app.post("/api/v1/seller/products", Some(&key), form).await.expect(201);
    let bare_id = bare["id"].as_str().unwrap();
    assert!(bare["endpoint"].is_null());
    app.post(&format!("/api/v1/seller/products/{bare_id}/skus"), Some(&key), period_sku("m")).await.expect(201);
    app.post(&format!("/api/v1/seller/products/{bare_id}/submit"), Some(&key), json!({}))
        .await
        .problem(409, "endpoint_required");
    // A license product needs no endpoint.
    let mut form = product_form("License");
    form["type"] = json!("license");
    form.as_object_mut().unwrap().remove("endpoint");
    let lic = app.post("/api/v1/seller/products", Some(&key), form).await.expect(201);
    let lic_id = lic["id"].as_str().unwrap();
    app.post(&format!("/api/v1/seller/products/{lic_id}/skus"), Some(&key), period_sku("m")).await.expect(201);
    app.post(&format!("/api/v1/seller/products/{lic_id}/submit"), Some(&key), json!({})).await.expect(200);

    // Now the first one goes through (after its debug run); a second submit is refused.
    app.passing_debug_run(&key, &id).await;
    let p = app.post(&format!("/api/v1/seller/products/{id}/submit"), Some(&key), json!({})).await.expect(200);
    assert_eq!(p["status"], "in_review");
    app.post(&format!("/api/v1/seller/products/{id}/submit"), Some(&key), json!({})).await.problem(409, "under_review");
    // And edits wait for the decision.
    app.patch(&format!("/api/v1/seller/products/{id}"), Some(&key), json!({"name": "Changed"}))
        .await
        .problem(409, "under_review");
    app.post(&format!("/api/v1/seller/products/{id}/skus"), Some(&key), period_sku("y"))
        .await
        .problem(409, "under_review");
    app.send_bytes(Method::PUT, &format!("/api/v1/seller/products/{id}/logo"), Some(&key), "image/png", tiny_png())
        .await
        .problem(409, "under_review");
    assert_eq!(product(&app, &key, &id).await["name"], "云数据库 RDS");
}

#[tokio::test]
async fn concurrent_submits_create_exactly_one_review() {
    let app = spawn_app().await;
    let (_, key, op) = app.approved_seller().await;
    for round in 0..3 {
        let id = draft(&app, &key).await;
        app.post(&format!("/api/v1/seller/products/{id}/skus"), Some(&key), period_sku("m")).await.expect(201);
        app.passing_debug_run(&key, &id).await;
        let path = format!("/api/v1/seller/products/{id}/submit");
        let (a, b) = tokio::join!(app.post(&path, Some(&key), json!({})), app.post(&path, Some(&key), json!({})));
        let mut statuses = [a.status.as_u16(), b.status.as_u16()];
        statuses.sort();
        assert_eq!(statuses, [200, 409], "round {round}: {} / {}", a.body, b.body);
        let loser = if a.status == 409 { a } else { b };
        assert_eq!(loser.body["code"], "under_review");
        let reviews = app.get(&format!("/api/v1/seller/products/{id}/reviews"), Some(&key)).await.expect(200);
        assert_eq!(reviews["items"].as_array().unwrap().len(), 1, "round {round}");
    }
    let pending = app.get("/api/v1/operator/reviews?status=pending&limit=100", Some(&op)).await.expect(200);
    assert_eq!(pending["items"].as_array().unwrap().len(), 3);
}

#[tokio::test]
async fn another_sellers_product_is_not_found_everywhere() {
    let app = spawn_app().await;
    let (_, owner, op) = app.approved_seller().await;
    let (_, other) = app.signup("seller").await;
    let id = app.listed_product(&owner, &op, product_form("Mine"), &[period_sku("m")]).await;
    let sku_id = product(&app, &owner, &id).await["skus"][0]["id"].as_str().unwrap().to_string();
    let before = product(&app, &owner, &id).await;
    let p = format!("/api/v1/seller/products/{id}");
    app.get(&p, Some(&other)).await.problem(404, "not_found");
    app.patch(&p, Some(&other), json!({"name": "Stolen"})).await.problem(404, "not_found");
    app.get(&format!("{p}/skus"), Some(&other)).await.problem(404, "not_found");
    app.post(&format!("{p}/skus"), Some(&other), period_sku("x")).await.problem(404, "not_found");
    app.delete(&format!("{p}/skus/{sku_id}"), Some(&other)).await.problem(404, "not_found");
    app.post(&format!("{p}/submit"), Some(&other), json!({})).await.problem(404, "not_found");
    app.post(&format!("{p}/delist"), Some(&other), json!({})).await.problem(404, "not_found");
    app.post(&format!("{p}/relist"), Some(&other), json!({})).await.problem(404, "not_found");
    app.get(&format!("{p}/reviews"), Some(&other)).await.problem(404, "not_found");
    app.post(&format!("{p}/debug-run"), Some(&other), json!({})).await.problem(404, "not_found");
    app.get(&format!("{p}/debug-runs"), Some(&other)).await.problem(404, "not_found");
    app.send_bytes(Method::PUT, &format!("{p}/logo"), Some(&other), "image/png", tiny_png())
        .await
        .problem(404, "not_found");
    app.send_bytes(Method::POST, &format!("{p}/images"), Some(&other), "image/png", tiny_png())
        .await
        .problem(404, "not_found");
    app.delete(&format!("{p}/images/med_0193a0a0a0a0a0a0a0a0a0a0a0a0a0a0"), Some(&other))
        .await
        .problem(404, "not_found");
    let list = app.get("/api/v1/seller/products", Some(&other)).await.expect(200);
    assert!(list["items"].as_array().unwrap().is_empty());
    assert_eq!(product(&app, &owner, &id).await, before);
    // Wrong roles.
    let (_, buyer) = app.signup("buyer").await;
    app.get("/api/v1/seller/products", Some(&buyer)).await.problem(403, "forbidden");
    app.get("/api/v1/seller/products", None).await.problem(401, "unauthorized");
    app.get("/api/v1/operator/reviews", Some(&owner)).await.problem(403, "forbidden");
    // Malformed ids.
    app.get("/api/v1/seller/products/nope", Some(&owner)).await.problem(404, "not_found");
}

#[tokio::test]
async fn bad_product_input_is_rejected_and_writes_nothing() {
    let app = spawn_app().await;
    let (_, key) = app.signup("seller").await;
    let url = app.url("/api/v1/seller/products");
    // Malformed JSON.
    let res = app
        .client
        .post(&url)
        .bearer_auth(&key)
        .header("content-type", "application/json")
        .body("{\"name\": ")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    assert_eq!(res.json::<Value>().await.unwrap()["code"], "malformed_json");

    let bad = |patch: Value| {
        let mut f = product_form("P");
        for (k, v) in patch.as_object().unwrap() {
            if v.is_null() {
                f.as_object_mut().unwrap().remove(k);
            } else {
                f[k] = v.clone();
            }
        }
        f
    };
    // Unknown enum values name the allowed ones.
    let body = app.post("/api/v1/seller/products", Some(&key), bad(json!({"type": "spaceship"}))).await;
    let body = body.problem(422, "validation_failed");
    assert_eq!(body["errors"][0]["field"], "type");
    let msg = body["errors"][0]["message"].as_str().unwrap();
    assert!(msg.contains("saas") && msg.contains("app_orchestration"), "{msg}");
    let body = app
        .post("/api/v1/seller/products", Some(&key), bad(json!({"cooperation": "solo"})))
        .await
        .problem(422, "validation_failed");
    assert!(body["errors"][0]["message"].as_str().unwrap().contains("joint"));
    // Wrong types and missing fields.
    let body = app
        .post("/api/v1/seller/products", Some(&key), bad(json!({"name": 42})))
        .await
        .problem(422, "validation_failed");
    assert_eq!(Res::fields(&body), ["name"]);
    let body = app
        .post("/api/v1/seller/products", Some(&key), bad(json!({"summary": null})))
        .await
        .problem(422, "validation_failed");
    assert_eq!(Res::fields(&body), ["summary"]);
    // Over-long strings, bad tags and an insecure endpoint, all reported at once.
    let body = app
        .post(
            "/api/v1/seller/products",
            Some(&key),
            bad(json!({
                "name": "x".repeat(101),
                "summary": "s".repeat(301),
                "tags": ["a", " "],
                "endpoint": {"url": "http://isv.example.com/produce", "access_key": "short"}
            })),
        )
        .await
        .problem(422, "validation_failed");
    let mut fields = Res::fields(&body);
    fields.sort();
    assert_eq!(fields, ["endpoint.access_key", "endpoint.url", "name", "summary", "tags[1]"]);
    // An unknown category is a reference to nothing: 404, naming the field.
    let body = app
        .post("/api/v1/seller/products", Some(&key), bad(json!({"category_id": "cat_nope"})))
        .await
        .problem(404, "category_not_found");
    assert_eq!(Res::fields(&body), ["category_id"]);
    // Unknown field.
    app.post("/api/v1/seller/products", Some(&key), bad(json!({"price": 1}))).await.problem(422, "validation_failed");
    // Nothing was created.
    let list = app.get("/api/v1/seller/products", Some(&key)).await.expect(200);
    assert!(list["items"].as_array().unwrap().is_empty());
}

#[tokio::test]
async fn patch_rules() {
    let app = spawn_app().await;
    let (_, key) = app.signup("seller").await;
    let id = draft(&app, &key).await;
    let path = format!("/api/v1/seller/products/{id}");
    let before = product(&app, &key, &id).await;
    let body = app.patch(&path, Some(&key), json!({"type": "license"})).await.problem(422, "validation_failed");
    assert_eq!(Res::fields(&body), ["type"]);
    app.patch(&path, Some(&key), json!({"cooperation": "general", "name": "x"}))
        .await
        .problem(422, "validation_failed");
    app.patch(&path, Some(&key), json!({})).await.problem(422, "validation_failed");
    app.patch(&path, Some(&key), json!({"name": ""})).await.problem(422, "validation_failed");
    app.patch(&path, Some(&key), json!({"name": null, "tags": null})).await.problem(422, "validation_failed");
    app.patch(&path, Some(&key), json!({"category_id": "cat_00000000000000000000000000000000"}))
        .await
        .problem(404, "category_not_found");
    app.patch(&path, Some(&key), json!({"endpoint": {"url": "ftp://x", "access_key": "long-enough-key"}}))
        .await
        .problem(422, "validation_failed");
    assert_eq!(product(&app, &key, &id).await, before, "rejected edits change nothing");

    let p = app
        .patch(
            &path,
            Some(&key),
            json!({"name": "  New name ", "tags": ["x", " X ", "数据库"], "endpoint": {"url": "https://isv.example.com/p", "access_key": "another-key-2"}}),
        )
        .await
        .expect(200);
    assert_eq!(p["name"], "New name");
    assert_eq!(p["tags"], json!(["x", "数据库"]), "tags are a set: repeats are dropped");
    assert_eq!(p["summary"], before["summary"]);
    assert_eq!(p["endpoint"]["url"], "https://isv.example.com/p");
    assert_eq!(p["status"], "draft");
}

#[tokio::test]
async fn bad_skus_are_rejected_and_write_nothing() {
    let app = spawn_app().await;
    let (_, key) = app.signup("seller").await;
    let id = draft(&app, &key).await;
    let path = format!("/api/v1/seller/products/{id}/skus");
    let with = |patch: Value| {
        let mut s = period_sku("m");
        for (k, v) in patch.as_object().unwrap() {
            s[k] = v.clone();
        }
        s
    };
    // Negative and absurd prices.
    let body = app
        .post(&path, Some(&key), with(json!({"prices": {"month_minor": -1, "year_minor": 9_000_000_000_000_000i64}})))
        .await
        .problem(422, "validation_failed");
    let mut fields = Res::fields(&body);
    fields.sort();
    assert_eq!(fields, ["prices.month_minor", "prices.year_minor"]);
    // Unknown charging mode names the allowed ones.
    let body =
        app.post(&path, Some(&key), with(json!({"charging_mode": "forever"}))).await.problem(422, "validation_failed");
    let msg = body["errors"][0]["message"].as_str().unwrap();
    assert!(msg.contains("on_demand_pkg") && msg.contains("period"), "{msg}");
    // Mode-specific rules, bad trial, bad linear, unknown currency.
    app.post(&path, Some(&key), with(json!({"trial_days": 1}))).await.problem(422, "validation_failed");
    app.post(&path, Some(&key), with(json!({"currency": "XYZ"}))).await.problem(422, "validation_failed");
    let body = app
        .post(&path, Some(&key), with(json!({"linear": {"name": "u", "unit": "u", "min": 0, "step": 0, "count": 0}})))
        .await
        .problem(422, "validation_failed");
    assert_eq!(Res::fields(&body), ["linear.min", "linear.step", "linear.count"]);
    // The older range form is refused by name.
    app.post(&path, Some(&key), with(json!({"linear": {"name": "u", "unit": "u", "min": 5, "max": 10, "step": 5}})))
        .await
        .problem(422, "validation_failed");
    app.post(
        &path,
        Some(&key),
        json!({"sku_code": "od", "name": "x", "charging_mode": "on_demand", "currency": "CNY"}),
    )
    .await
    .problem(422, "validation_failed");
    app.post(&path, Some(&key), with(json!({"prices": {"month_minor": "ten"}})))
        .await
        .problem(422, "validation_failed");
    app.post(&path, Some(&key), with(json!({"sku_code": "bad code!"}))).await.problem(422, "validation_failed");
    assert!(app.get(&path, Some(&key)).await.expect(200).as_array().unwrap().is_empty(), "nothing written");

    // Duplicate code, other currency: both conflict with the product's SKUs.
    let sku = app.post(&path, Some(&key), period_sku("m")).await.expect(201);
    app.post(&path, Some(&key), period_sku("m")).await.problem(409, "sku_code_taken");
    let body = app
        .post(&path, Some(&key), with(json!({"sku_code": "usd", "currency": "USD"})))
        .await
        .problem(409, "currency_mismatch");
    assert_eq!(Res::fields(&body), ["currency"]);
    assert_eq!(app.get(&path, Some(&key)).await.expect(200).as_array().unwrap().len(), 1);

    // Pending SKUs can be deleted; unknown ones are 404.
    let sku_id = sku["id"].as_str().unwrap();
    app.delete(&format!("{path}/{sku_id}"), Some(&key)).await.expect(204);
    app.delete(&format!("{path}/{sku_id}"), Some(&key)).await.problem(404, "not_found");
}

#[tokio::test]
async fn active_skus_cannot_be_deleted() {
    let app = spawn_app().await;
    let (_, key, op) = app.approved_seller().await;
    let id = app.listed_product(&key, &op, product_form("P"), &[period_sku("m")]).await;
    let sku_id = product(&app, &key, &id).await["skus"][0]["id"].as_str().unwrap().to_string();
    app.delete(&format!("/api/v1/seller/products/{id}/skus/{sku_id}"), Some(&key)).await.problem(409, "sku_active");
    assert_eq!(product(&app, &key, &id).await["revision_state"], "none");
}

#[tokio::test]
async fn uploads_are_checked() {
    let app = spawn_with(|c| c.upload_limit_bytes = 4096).await;
    let (_, key) = app.signup("seller").await;
    let id = draft(&app, &key).await;
    let logo = format!("/api/v1/seller/products/{id}/logo");
    let images = format!("/api/v1/seller/products/{id}/images");
    let before = product(&app, &key, &id).await;
    // A PNG declared as JPEG.
    app.send_bytes(Method::PUT, &logo, Some(&key), "image/jpeg", tiny_png())
        .await
        .problem(415, "unsupported_media_type");
    // Not an image.
    app.send_bytes(Method::PUT, &logo, Some(&key), "image/png", b"<svg></svg>".to_vec())
        .await
        .problem(415, "unsupported_media_type");
    app.send_bytes(Method::PUT, &logo, Some(&key), "image/svg+xml", b"<svg></svg>".to_vec())
        .await
        .problem(415, "unsupported_media_type");
    app.send_bytes(Method::POST, &images, Some(&key), "application/json", b"{}".to_vec())
        .await
        .problem(415, "unsupported_media_type");
    // Empty.
    app.send_bytes(Method::PUT, &logo, Some(&key), "image/png", vec![]).await.problem(422, "validation_failed");
    // Oversized.
    let mut big = tiny_png();
    big.resize(5000, 0);
    app.send_bytes(Method::PUT, &logo, Some(&key), "image/png", big).await.problem(413, "payload_too_large");
    assert_eq!(product(&app, &key, &id).await, before, "nothing changed");
    let media_files = std::fs::read_dir(app.state.config.media_dir()).map(|d| d.count()).unwrap_or(0);
    assert_eq!(media_files, 0, "no file written");

    // JPEG, GIF and WebP signatures are accepted; at most 8 images.
    let jpeg = [0xff, 0xd8, 0xff, 0xe0, 0, 0x10, b'J', b'F', b'I', b'F'].to_vec();
    app.send_bytes(Method::POST, &images, Some(&key), "image/jpeg", jpeg).await.expect(201);
    app.send_bytes(Method::POST, &images, Some(&key), "image/gif", b"GIF89a\x01\x00\x01\x00".to_vec())
        .await
        .expect(201);
    app.send_bytes(Method::POST, &images, Some(&key), "image/webp", b"RIFF\x1a\0\0\0WEBPVP8 ".to_vec())
        .await
        .expect(201);
    for _ in 3..8 {
        app.send_bytes(Method::POST, &images, Some(&key), "image/png", tiny_png()).await.expect(201);
    }
    app.send_bytes(Method::POST, &images, Some(&key), "image/png", tiny_png()).await.problem(409, "too_many_images");
    let p = product(&app, &key, &id).await;
    assert_eq!(p["images"].as_array().unwrap().len(), 8);
    let first = p["images"][0]["id"].as_str().unwrap().to_string();
    let served = app.client.get(app.url(&format!("/media/{first}"))).send().await.unwrap();
    assert_eq!(served.headers()["content-type"], "image/jpeg");
    app.delete(&format!("{images}/{first}"), Some(&key)).await.expect(204);
    assert_eq!(product(&app, &key, &id).await["images"].as_array().unwrap().len(), 7);
    app.delete(&format!("{images}/{first}"), Some(&key)).await.problem(404, "not_found");

    // Unknown media.
    app.get("/media/med_0193a0a0a0a0a0a0a0a0a0a0a0a0a0a0", None).await.problem(404, "not_found");
    app.get("/media/whatever", None).await.problem(404, "not_found");
}

#[tokio::test]
async fn list_pages_with_a_cursor() {
    let app = spawn_app().await;
    let (_, key) = app.signup("seller").await;
    for _ in 0..3 {
        draft(&app, &key).await;
    }
    let first = app.get("/api/v1/seller/products?limit=2", Some(&key)).await.expect(200);
    assert_eq!(first["items"].as_array().unwrap().len(), 2);
    let cursor = first["next_cursor"].as_str().unwrap();
    let second = app.get(&format!("/api/v1/seller/products?limit=2&cursor={cursor}"), Some(&key)).await.expect(200);
    assert_eq!(second["items"].as_array().unwrap().len(), 1);
    assert!(second["next_cursor"].is_null());
    app.get("/api/v1/seller/products?status=sold", Some(&key)).await.problem(422, "validation_failed");
    app.get("/api/v1/seller/products?limit=0", Some(&key)).await.problem(422, "validation_failed");
}

#[tokio::test]
async fn uploads_may_exceed_the_json_body_limit() {
    let app = spawn_app().await;
    let (_, key) = app.signup("seller").await;
    let id = draft(&app, &key).await;
    let json_limit = app.state.config.body_limit_bytes;
    let mut big = tiny_png();
    big.resize(json_limit + 10, 0);
    let logo = app
        .send_bytes(Method::PUT, &format!("/api/v1/seller/products/{id}/logo"), Some(&key), "image/png", big)
        .await
        .expect(200);
    assert_eq!(logo["size_bytes"], json_limit as u64 + 10);
    assert_eq!(logo["sha256"].as_str().unwrap().len(), 64);
    let mut huge = tiny_png();
    huge.resize(app.state.config.upload_limit_bytes + 1, 0);
    app.send_bytes(Method::PUT, &format!("/api/v1/seller/products/{id}/logo"), Some(&key), "image/png", huge)
        .await
        .problem(413, "payload_too_large");
    assert_eq!(
        app.get(&format!("/api/v1/seller/products/{id}"), Some(&key)).await.expect(200)["logo_url"],
        logo["url"]
    );
}

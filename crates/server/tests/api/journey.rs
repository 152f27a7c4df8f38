//! The marketplace's first half, end to end over HTTP exactly as api.md
//! describes it: seller sign-up -> onboarding approved -> certification
//! approved -> agreement -> product with SKUs -> submit -> operator approves ->
//! visible and searchable in the public catalog.

use crate::helpers::{certification_form, onboarding_form, spawn_app};
use serde_json::json;

#[tokio::test]
async fn a_seller_goes_from_sign_up_to_a_searchable_listing() {
    let app = spawn_app().await;
    let op = app.operator().await;

    // Sign-up.
    let seller = app
        .post("/api/v1/accounts", None, json!({"role": "seller", "name": "云数据科技", "email": "isv@example.cn", "password": "correct horse battery"}))
        .await
        .expect(201);
    let (sid, key) = (seller["id"].as_str().unwrap(), seller["api_key"].as_str().unwrap());

    // Onboarding (入驻).
    app.put("/api/v1/seller/onboarding", Some(key), onboarding_form()).await.expect(200);
    assert_eq!(app.get("/api/v1/seller/onboarding", Some(key)).await.expect(200)["status"], "draft");
    app.post("/api/v1/seller/onboarding/submit", Some(key), json!({})).await.expect(200);
    let queue = app.get("/api/v1/operator/onboarding?status=submitted", Some(&op)).await.expect(200);
    assert!(queue["items"].as_array().unwrap().iter().any(|i| i["seller_id"] == sid));
    app.post(&format!("/api/v1/operator/onboarding/{sid}/approve"), Some(&op), json!({})).await.expect(200);
    assert_eq!(app.get("/api/v1/seller/onboarding", Some(key)).await.expect(200)["status"], "approved");

    // Business certification (商业信息认证).
    app.put("/api/v1/seller/certification", Some(key), certification_form()).await.expect(200);
    app.post("/api/v1/seller/certification/submit", Some(key), json!({})).await.expect(200);
    app.post(&format!("/api/v1/operator/certification/{sid}/approve"), Some(&op), json!({})).await.expect(200);
    let cert = app.get("/api/v1/seller/certification", Some(key)).await.expect(200);
    assert_eq!(cert["status"], "approved");
    assert_eq!(cert["bank_account_masked"], "**** 1234");

    // Agreement.
    let agreed = app.post("/api/v1/seller/agreement/accept", Some(key), json!({})).await.expect(200);
    assert!(agreed["accepted_at"].is_string());

    // Product with SKUs.
    let categories = app.get("/api/v1/catalog/categories", None).await.expect(200);
    let databases = categories["items"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|c| c["children"].as_array().unwrap().iter())
        .find(|c| c["slug"] == "databases")
        .expect("seeded databases category")["id"]
        .as_str()
        .unwrap()
        .to_string();
    // The seller's production interface: a reference seller on this machine.
    let seller_url = app.reference_seller("a-very-secret-key", Default::default()).await;
    let product = app
        .post(
            "/api/v1/seller/products",
            Some(key),
            json!({
                "type": "saas", "cooperation": "joint", "name": "云数据库 PostgreSQL 版", "version": "2.1",
                "category_id": databases, "summary": "托管的 PostgreSQL 数据库", "description": "自动备份，高可用。",
                "usage_guide": "购买后在实例页面查看连接信息。", "support_terms": "工作日 4 小时内响应",
                "tags": ["数据库", "PostgreSQL"],
                "endpoint": {"url": seller_url, "access_key": "a-very-secret-key"}
            }),
        )
        .await
        .expect(201);
    assert_eq!(product["status"], "draft");
    let pid = product["id"].as_str().unwrap();
    for sku in [
        json!({"sku_code": "pg-basic", "name": "基础版", "charging_mode": "period", "prices": {"month_minor": 19900, "year_minor": 199000}, "currency": "CNY", "trial_days": 7,
               "linear": {"name": "users", "unit": "user", "min": 1, "step": 1, "count": 1000}}),
        json!({"sku_code": "pg-payg", "name": "按需", "charging_mode": "on_demand", "currency": "CNY", "metering": {"unit": "hour", "unit_price": "0.35", "billing": "hourly"}}),
    ] {
        app.post(&format!("/api/v1/seller/products/{pid}/skus"), Some(key), sku).await.expect(201);
    }

    // Not public before review.
    app.get(&format!("/api/v1/catalog/products/{pid}"), None).await.problem(404, "not_found");

    // The debug cases must pass before review.
    app.post(&format!("/api/v1/seller/products/{pid}/submit"), Some(key), json!({}))
        .await
        .problem(409, "debug_run_required");
    let run = app.passing_debug_run(key, pid).await;
    assert_eq!(run["case_set"], "period_product");

    // Submit; the operator approves, having seen the debug run.
    let submitted = app.post(&format!("/api/v1/seller/products/{pid}/submit"), Some(key), json!({})).await.expect(200);
    assert_eq!(submitted["status"], "in_review");
    let reviews = app.get("/api/v1/operator/reviews?status=pending", Some(&op)).await.expect(200);
    let review = reviews["items"].as_array().unwrap().iter().find(|r| r["product_id"] == pid).expect("review queued");
    let detail = app.get(&format!("/api/v1/operator/reviews/{}", review["id"].as_str().unwrap()), Some(&op)).await;
    assert_eq!(detail.expect(200)["debug_run"]["id"], run["id"]);
    app.post(&format!("/api/v1/operator/reviews/{}/approve", review["id"].as_str().unwrap()), Some(&op), json!({}))
        .await
        .expect(200);
    assert_eq!(app.get(&format!("/api/v1/seller/products/{pid}"), Some(key)).await.expect(200)["status"], "listed");

    // Visible and searchable.
    for q in ["%E6%95%B0%E6%8D%AE%E5%BA%93", "postgresql", "PostgreSQL%20%E6%89%98%E7%AE%A1"] {
        let found = app.get(&format!("/api/v1/catalog/products?q={q}"), None).await.expect(200);
        assert!(found["items"].as_array().unwrap().iter().any(|p| p["id"] == pid), "search {q}: {found}");
    }
    let by_mode = app.get("/api/v1/catalog/products?charging_mode=on_demand", None).await.expect(200);
    assert!(by_mode["items"].as_array().unwrap().iter().any(|p| p["id"] == pid));
    let detail = app.get(&format!("/api/v1/catalog/products/{pid}"), None).await.expect(200);
    assert_eq!(detail["skus"].as_array().unwrap().len(), 2);
    assert!(!detail.to_string().contains("a-very-secret-key"), "the endpoint key is never public");
}

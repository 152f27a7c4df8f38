//! Authorization over every endpoint, driven by the served OpenAPI document so
//! that an endpoint added later is covered without touching this file:
//! - every operation under a role's prefix declares security;
//! - with no key, every secured operation answers 401;
//! - with a key of another role, every role-prefixed operation answers 403;
//! - a seller's product resources answer 404 to another seller on every path.

use crate::helpers::{TestApp, spawn_app};
use reqwest::Method;
use serde_json::{Value, json};

/// Public operations: (method, path template).
const PUBLIC: &[(&str, &str)] = &[
    ("get", "/healthz"),
    ("get", "/readyz"),
    ("get", "/metrics"),
    ("post", "/api/v1/accounts"),
    ("post", "/api/v1/auth/login"),
    ("get", "/api/v1/catalog/categories"),
    ("get", "/api/v1/catalog/products"),
    ("get", "/api/v1/catalog/products/{id}"),
    ("get", "/media/{media_id}"),
];

/// The role a path prefix belongs to, if any.
fn role_of(path: &str) -> Option<&'static str> {
    [
        ("/api/v1/seller/", "seller"),
        ("/api/v1/operator/", "operator"),
        ("/api/v1/buyer/", "buyer"),
        ("/api/v1/partner/", "partner"),
    ]
    .iter()
    .find(|(prefix, _)| path.starts_with(prefix))
    .map(|(_, role)| *role)
}

/// (method, path template, secured) for every operation in the document.
async fn operations(app: &TestApp) -> Vec<(String, String, bool)> {
    let spec = app.get("/api/v1/openapi.json", None).await.expect(200);
    let mut ops = Vec::new();
    for (path, item) in spec["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().unwrap() {
            if !["get", "post", "put", "patch", "delete"].contains(&method.as_str()) {
                continue;
            }
            let secured = op.get("security").and_then(Value::as_array).is_some_and(|s| !s.is_empty());
            ops.push((method.clone(), path.clone(), secured));
        }
    }
    assert!(ops.len() >= 8, "the document lists the API: {ops:?}");
    ops
}

fn fill(path: &str, value: &str) -> String {
    let mut out = String::new();
    let mut rest = path;
    while let Some(start) = rest.find('{') {
        out.push_str(&rest[..start]);
        let end = rest[start..].find('}').map(|e| start + e + 1).unwrap_or(rest.len());
        out.push_str(value);
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

fn method(m: &str) -> Method {
    Method::from_bytes(m.to_uppercase().as_bytes()).unwrap()
}

async fn call(app: &TestApp, m: &str, path: &str, key: Option<&str>) -> reqwest::StatusCode {
    let body = matches!(m, "post" | "put" | "patch").then(|| json!({}));
    app.call(method(m), path, key, body).await.status
}

#[tokio::test]
async fn every_secured_endpoint_needs_a_key_and_public_ones_are_listed() {
    let app = spawn_app().await;
    for (m, path, secured) in operations(&app).await {
        let public = PUBLIC.contains(&(m.as_str(), path.as_str()));
        assert_eq!(secured, !public, "{m} {path}: secured must be exactly the non-public operations");
        if role_of(&path).is_some() {
            assert!(secured, "{m} {path} is under a role prefix but declares no security");
        }
        if secured {
            let status = call(&app, &m, &fill(&path, "x_00000000000000000000000000000000"), None).await;
            assert_eq!(status, 401, "{m} {path} without a key");
            let status = call(&app, &m, &fill(&path, "x_00000000000000000000000000000000"), Some("mk_bogus")).await;
            assert_eq!(status, 401, "{m} {path} with a malformed key");
        }
    }
}

#[tokio::test]
async fn every_role_endpoint_refuses_other_roles() {
    let app = spawn_app().await;
    let mut keys = vec![("operator", app.operator().await)];
    for role in ["buyer", "seller", "partner"] {
        keys.push((role, app.signup(role).await.1));
    }
    let mut checked = 0;
    for (m, path, _) in operations(&app).await {
        let Some(owner) = role_of(&path) else { continue };
        for (role, key) in &keys {
            if *role == owner {
                continue;
            }
            let status = call(&app, &m, &fill(&path, "x_00000000000000000000000000000000"), Some(key)).await;
            assert_eq!(status, 403, "{m} {path} called by a {role}");
            checked += 1;
        }
    }
    assert!(checked > 0);
}

#[tokio::test]
async fn role_endpoints_answer_unknown_ids_with_404_not_500() {
    let app = spawn_app().await;
    let mut keys = std::collections::HashMap::new();
    keys.insert("operator", app.operator().await);
    for role in ["buyer", "seller", "partner"] {
        keys.insert(role, app.signup(role).await.1);
    }
    for (m, path, _) in operations(&app).await {
        let Some(owner) = role_of(&path) else { continue };
        if !path.contains('{') {
            continue;
        }
        let status = call(&app, &m, &fill(&path, "prd_00000000000000000000000000000000"), Some(&keys[owner])).await;
        assert!(
            status == 404 || status == 422 || status == 415,
            "{m} {path} with an unknown id answered {status} (expected 404, or a 4xx about the body)"
        );
    }
}

#[tokio::test]
async fn another_sellers_products_are_404_on_every_seller_product_path() {
    use crate::helpers::{period_sku, product_form, tiny_png};
    let app = spawn_app().await;
    let (_, owner, _) = app.approved_seller().await;
    let (_, intruder) = app.signup("seller").await;
    let product = app.post("/api/v1/seller/products", Some(&owner), product_form("Owned")).await.expect(201);
    let id = product["id"].as_str().unwrap().to_string();
    let sku =
        app.post(&format!("/api/v1/seller/products/{id}/skus"), Some(&owner), period_sku("own")).await.expect(201);
    let image = app
        .send_bytes(
            Method::POST,
            &format!("/api/v1/seller/products/{id}/images"),
            Some(&owner),
            "image/png",
            tiny_png(),
        )
        .await
        .expect(201);
    let media_id = image["id"].as_str().or_else(|| image["media_id"].as_str()).expect("media id").to_string();
    let before = app.get(&format!("/api/v1/seller/products/{id}"), Some(&owner)).await.expect(200);

    let mut checked = 0;
    for (m, path, _) in operations(&app).await {
        if !path.starts_with("/api/v1/seller/products/{id}") {
            continue;
        }
        let concrete =
            path.replace("{id}", &id).replace("{sku_id}", sku["id"].as_str().unwrap()).replace("{media_id}", &media_id);
        let status = if path.ends_with("/logo") || path.ends_with("/images") {
            app.send_bytes(method(&m), &concrete, Some(&intruder), "image/png", tiny_png()).await.status
        } else {
            // A valid body, so that it is the ownership check that answers.
            let body = match (m.as_str(), path.ends_with("/skus")) {
                ("post", true) => Some(period_sku("intruder")),
                ("patch", _) => Some(json!({"name": "Hijacked"})),
                ("post" | "put", _) => Some(json!({})),
                _ => None,
            };
            app.call(method(&m), &concrete, Some(&intruder), body).await.status
        };
        assert_eq!(status, 404, "{m} {path} by another seller");
        checked += 1;
    }
    assert!(checked >= 10, "covers the product sub-resources: {checked}");
    let after = app.get(&format!("/api/v1/seller/products/{id}"), Some(&owner)).await.expect(200);
    assert_eq!(before, after, "the intruder changed nothing");
}

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
    ("get", "/media/{id}"),
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

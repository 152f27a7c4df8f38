//! Operator reviews: approving, rejecting, revisions of listed products.

use crate::helpers::{TestApp, period_sku, product_form, spawn_app};
use mercato_domain::catalog::ProductStatus;
use serde_json::{Value, json};

async fn product(app: &TestApp, key: &str, id: &str) -> Value {
    app.get(&format!("/api/v1/seller/products/{id}"), Some(key)).await.expect(200)
}

#[tokio::test]
async fn revision_flow_keeps_the_listed_version_until_approved() {
    let app = spawn_app().await;
    let (_, key, op) = app.approved_seller().await;
    let id = app.listed_product(&key, &op, product_form("Version one"), &[period_sku("m")]).await;
    let listed_before = product(&app, &key, &id).await["listed"].clone();
    let listed_at = product(&app, &key, &id).await["listed_at"].clone();
    let path = format!("/api/v1/seller/products/{id}");

    // Edit the listed product: a revision opens, the listed snapshot is unchanged.
    let p = app.patch(&path, Some(&key), json!({"name": "Version two"})).await.expect(200);
    assert_eq!(p["status"], "listed");
    assert_eq!(p["revision_state"], "draft");
    assert_eq!(p["name"], "Version two");
    assert_eq!(p["listed"], listed_before);
    // A new SKU stays pending and out of the listed version.
    let sku = app.post(&format!("{path}/skus"), Some(&key), period_sku("y")).await.expect(201);
    assert_eq!(sku["status"], "pending");
    let row = mercato_store::repo::products::find(&app.state.db.conn, &id).await.unwrap().unwrap();
    assert_eq!(row.pub_name.as_deref(), Some("Version one"));
    assert_eq!(row.status, ProductStatus::Listed);

    // Submit the revision, reject it with a reason.
    let p = app.post(&format!("{path}/submit"), Some(&key), json!({})).await.expect(200);
    assert_eq!(p["revision_state"], "in_review");
    assert_eq!(p["status"], "listed");
    let review = p["pending_review_id"].as_str().unwrap().to_string();
    let detail = app.get(&format!("/api/v1/operator/reviews/{review}"), Some(&op)).await.expect(200);
    assert_eq!(detail["kind"], "revision");
    assert_eq!(detail["snapshot"]["content"]["name"], "Version two");

    // Bad reasons are refused and change nothing.
    let reject = format!("/api/v1/operator/reviews/{review}/reject");
    app.post(&reject, Some(&op), json!({"reason": ""})).await.problem(422, "validation_failed");
    app.post(&reject, Some(&op), json!({"reason": "x".repeat(501)})).await.problem(422, "validation_failed");
    app.post(&reject, Some(&op), json!({})).await.problem(422, "validation_failed");
    assert_eq!(product(&app, &key, &id).await["revision_state"], "in_review");

    let decided = app.post(&reject, Some(&op), json!({"reason": "Screenshots are missing"})).await.expect(200);
    assert_eq!(decided["status"], "rejected");
    app.post(&reject, Some(&op), json!({"reason": "again"})).await.problem(409, "review_decided");
    app.post(&format!("/api/v1/operator/reviews/{review}/approve"), Some(&op), json!({}))
        .await
        .problem(409, "review_decided");

    let p = product(&app, &key, &id).await;
    assert_eq!(p["status"], "listed");
    assert_eq!(p["revision_state"], "rejected");
    assert_eq!(p["listed"], listed_before, "rejection leaves the listed version alone");
    let reviews = app.get(&format!("{path}/reviews"), Some(&key)).await.expect(200);
    assert_eq!(reviews["items"][0]["status"], "rejected");
    assert_eq!(reviews["items"][0]["reason"], "Screenshots are missing");
    assert_eq!(reviews["items"][1]["status"], "approved");

    // Fix and resubmit; approval publishes the new version.
    app.patch(&path, Some(&key), json!({"summary": "Now with screenshots"})).await.expect(200);
    let p = app.post(&format!("{path}/submit"), Some(&key), json!({})).await.expect(200);
    let review2 = p["pending_review_id"].as_str().unwrap().to_string();
    assert_ne!(review, review2);
    app.post(&format!("/api/v1/operator/reviews/{review2}/approve"), Some(&op), json!({})).await.expect(200);
    let p = product(&app, &key, &id).await;
    assert_eq!(p["revision_state"], "none");
    assert_eq!(p["listed"]["content"]["name"], "Version two");
    assert_eq!(p["listed"]["content"]["summary"], "Now with screenshots");
    assert_eq!(p["listed"]["skus"].as_array().unwrap().len(), 2);
    assert!(p["skus"].as_array().unwrap().iter().all(|s| s["status"] == "active"));
    assert_eq!(p["listed_at"], listed_at, "listed_at keeps the first listing time");
    let row = mercato_store::repo::products::find(&app.state.db.conn, &id).await.unwrap().unwrap();
    assert_eq!(row.pub_name.as_deref(), Some("Version two"));
    assert_eq!(app.get(&format!("{path}/reviews"), Some(&key)).await.expect(200)["items"].as_array().unwrap().len(), 3);

    // Nothing to submit now.
    app.post(&format!("{path}/submit"), Some(&key), json!({})).await.problem(409, "nothing_to_submit");
}

#[tokio::test]
async fn rejecting_a_first_listing_and_resubmitting() {
    let app = spawn_app().await;
    let (_, key, op) = app.approved_seller().await;
    let id = app.post("/api/v1/seller/products", Some(&key), product_form("P")).await.expect(201)["id"]
        .as_str()
        .unwrap()
        .to_string();
    let path = format!("/api/v1/seller/products/{id}");
    app.post(&format!("{path}/skus"), Some(&key), period_sku("m")).await.expect(201);
    app.passing_debug_run(&key, &id).await;
    let review = app.post(&format!("{path}/submit"), Some(&key), json!({})).await.expect(200)["pending_review_id"]
        .as_str()
        .unwrap()
        .to_string();
    app.post(&format!("/api/v1/operator/reviews/{review}/reject"), Some(&op), json!({"reason": "Bad description"}))
        .await
        .expect(200);
    let p = product(&app, &key, &id).await;
    assert_eq!(p["status"], "rejected");
    assert!(p["listed"].is_null());
    assert_eq!(p["skus"][0]["status"], "pending");
    let row = mercato_store::repo::products::find(&app.state.db.conn, &id).await.unwrap().unwrap();
    assert!(row.listed.is_none() && row.pub_name.is_none() && row.listed_at.is_none());

    app.patch(&path, Some(&key), json!({"description": "Better"})).await.expect(200);
    let review = app.post(&format!("{path}/submit"), Some(&key), json!({})).await.expect(200)["pending_review_id"]
        .as_str()
        .unwrap()
        .to_string();
    app.post(&format!("/api/v1/operator/reviews/{review}/approve"), Some(&op), json!({})).await.expect(200);
    assert_eq!(product(&app, &key, &id).await["status"], "listed");
}

#[tokio::test]
async fn deciding_unknown_or_decided_reviews() {
    let app = spawn_app().await;
    let (_, key, op) = app.approved_seller().await;
    // A draft has no review to approve.
    let id = app.post("/api/v1/seller/products", Some(&key), product_form("Draft")).await.expect(201)["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(product(&app, &key, &id).await["pending_review_id"].is_null());
    let unknown = "rev_0193a0a0a0a0a0a0a0a0a0a0a0a0a0a0";
    app.post(&format!("/api/v1/operator/reviews/{unknown}/approve"), Some(&op), json!({}))
        .await
        .problem(404, "not_found");
    app.post(&format!("/api/v1/operator/reviews/{unknown}/reject"), Some(&op), json!({"reason": "x"}))
        .await
        .problem(404, "not_found");
    app.get(&format!("/api/v1/operator/reviews/{unknown}"), Some(&op)).await.problem(404, "not_found");
    app.post("/api/v1/operator/reviews/garbage/approve", Some(&op), json!({})).await.problem(404, "not_found");
    assert_eq!(product(&app, &key, &id).await["status"], "draft");

    // Deciding twice.
    let listed = app.listed_product(&key, &op, product_form("Listed"), &[period_sku("m")]).await;
    let reviews = app.get(&format!("/api/v1/seller/products/{listed}/reviews"), Some(&key)).await.expect(200);
    let review = reviews["items"][0]["id"].as_str().unwrap();
    app.post(&format!("/api/v1/operator/reviews/{review}/approve"), Some(&op), json!({}))
        .await
        .problem(409, "review_decided");
    app.post(&format!("/api/v1/operator/reviews/{review}/reject"), Some(&op), json!({"reason": "late"}))
        .await
        .problem(409, "review_decided");
    // Only operators decide.
    app.post(&format!("/api/v1/operator/reviews/{review}/approve"), Some(&key), json!({}))
        .await
        .problem(403, "forbidden");

    // The queue filters by status and rejects unknown statuses.
    let approved = app.get("/api/v1/operator/reviews?status=approved", Some(&op)).await.expect(200);
    assert_eq!(approved["items"].as_array().unwrap().len(), 1);
    assert_eq!(approved["items"][0]["product_name"], "Listed");
    let pending = app.get("/api/v1/operator/reviews?status=pending", Some(&op)).await.expect(200);
    assert!(pending["items"].as_array().unwrap().is_empty());
    let body = app.get("/api/v1/operator/reviews?status=maybe", Some(&op)).await.problem(422, "validation_failed");
    assert!(body["errors"][0]["message"].as_str().unwrap().contains("pending"));
}

#[tokio::test]
async fn concurrent_approvals_decide_once() {
    let app = spawn_app().await;
    let (_, key, op) = app.approved_seller().await;
    let id = app.post("/api/v1/seller/products", Some(&key), product_form("P")).await.expect(201)["id"]
        .as_str()
        .unwrap()
        .to_string();
    app.post(&format!("/api/v1/seller/products/{id}/skus"), Some(&key), period_sku("m")).await.expect(201);
    app.passing_debug_run(&key, &id).await;
    let review = app.post(&format!("/api/v1/seller/products/{id}/submit"), Some(&key), json!({})).await.expect(200)
        ["pending_review_id"]
        .as_str()
        .unwrap()
        .to_string();
    let approve = format!("/api/v1/operator/reviews/{review}/approve");
    let reject = format!("/api/v1/operator/reviews/{review}/reject");
    let (a, b) =
        tokio::join!(app.post(&approve, Some(&op), json!({})), app.post(&reject, Some(&op), json!({"reason": "no"})));
    let mut statuses = [a.status.as_u16(), b.status.as_u16()];
    statuses.sort();
    assert_eq!(statuses, [200, 409], "{} / {}", a.body, b.body);
    let p = product(&app, &key, &id).await;
    if a.status == 200 {
        assert_eq!(p["status"], "listed");
    } else {
        assert_eq!(p["status"], "rejected");
    }
}

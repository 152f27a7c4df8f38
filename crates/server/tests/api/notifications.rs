//! Auto-delisting after repeated interface failures, and the in-app
//! notifications that tell the seller.

use crate::helpers::{SHARED_SELLER_KEY, TestApp, period_sku, product_form, spawn_on_test_clock};
use chrono::{DateTime, Datelike, TimeZone, Utc};
use mercato_isv::FaultPolicy;
use mercato_store::entity::product;
use mercato_store::sea_orm::{ColumnTrait, EntityTrait, QueryFilter, sea_query::Expr};
use serde_json::{Value, json};

struct Shop {
    app: TestApp,
    op: String,
    seller_key: String,
    buyer_key: String,
    product_id: String,
    sku_id: String,
}

/// A listed SaaS product whose seller refuses every purchase, and a funded buyer.
async fn refusing_shop() -> Shop {
    let app = spawn_on_test_clock().await;
    let (_, seller_key, op) = app.approved_seller().await;
    let product_id = app.listed_product(&seller_key, &op, product_form("Flaky DB"), &[period_sku("std")]).await;
    let faults = FaultPolicy { refuse: Some("000106".into()), ..FaultPolicy::default() };
    let url = app.reference_seller(SHARED_SELLER_KEY, faults).await;
    product::Entity::update_many()
        .col_expr(product::Column::EndpointUrl, Expr::value(url))
        .filter(product::Column::Id.eq(&product_id))
        .exec(&app.state.db.conn)
        .await
        .unwrap();
    let detail = app.get(&format!("/api/v1/catalog/products/{product_id}"), None).await.expect(200);
    let sku_id = detail["skus"][0]["id"].as_str().unwrap().to_string();
    let (buyer_id, buyer_key) = app.signup("buyer").await;
    app.credit_wallet(&op, &buyer_id, 10_000_000, "CNY").await;
    Shop { app, op, seller_key, buyer_key, product_id, sku_id }
}

impl Shop {
    /// One purchase, refused by the seller and refunded.
    async fn failed_purchase(&self) {
        let order = self
            .app
            .post(
                "/api/v1/buyer/orders",
                Some(&self.buyer_key),
                json!({"sku_id": self.sku_id, "period": "month", "period_count": 1}),
            )
            .await
            .expect(201);
        let id = order["id"].as_str().unwrap();
        self.app.post(&format!("/api/v1/buyer/orders/{id}/pay"), Some(&self.buyer_key), json!({})).await.expect(200);
        self.app.worker("worker-a").run_due(10).await.unwrap();
        let order = self.app.get(&format!("/api/v1/buyer/orders/{id}"), Some(&self.buyer_key)).await.expect(200);
        assert_eq!(order["status"], "refunded", "{order}");
    }

    async fn set_clock(&self, to: DateTime<Utc>) {
        self.app.post("/api/v1/operator/test-clock", Some(&self.op), json!({"now": to})).await.expect(200);
    }

    async fn now(&self) -> DateTime<Utc> {
        let v = self.app.get("/api/v1/operator/test-clock", Some(&self.op)).await.expect(200);
        serde_json::from_value(v["now"].clone()).unwrap()
    }

    async fn status(&self) -> String {
        let p = self.app.get(&format!("/api/v1/seller/products/{}", self.product_id), Some(&self.seller_key)).await;
        p.expect(200)["status"].as_str().unwrap().to_string()
    }

    async fn notifications(&self, key: &str) -> Vec<Value> {
        let page = self.app.get("/api/v1/notifications", Some(key)).await.expect(200);
        page["items"].as_array().unwrap().clone()
    }
}

fn month_start(t: DateTime<Utc>, months_ahead: u32) -> DateTime<Utc> {
    let total = t.year() * 12 + t.month0() as i32 + months_ahead as i32;
    Utc.with_ymd_and_hms(total / 12, (total % 12) as u32 + 1, 1, 0, 0, 0).unwrap()
}

#[tokio::test]
async fn six_interface_failures_in_a_month_delist_the_product_and_notify_the_seller() {
    let s = refusing_shop().await;
    let start = s.now().await;
    // Three failures late in one month...
    s.set_clock(month_start(start, 1) + chrono::Duration::days(20)).await;
    for _ in 0..3 {
        s.failed_purchase().await;
    }
    assert_eq!(s.status().await, "listed");
    // ...do not count in the next one.
    s.set_clock(month_start(start, 2) + chrono::Duration::days(2)).await;
    for _ in 0..5 {
        s.failed_purchase().await;
    }
    assert_eq!(s.status().await, "listed", "five failures this month are tolerated");
    assert!(s.notifications(&s.seller_key).await.is_empty());
    s.app.get(&format!("/api/v1/catalog/products/{}", s.product_id), None).await.expect(200);

    s.failed_purchase().await;
    assert_eq!(s.status().await, "delisted", "the sixth failure delists");
    assert_eq!(s.app.get(&format!("/api/v1/catalog/products/{}", s.product_id), None).await.status, 404);
    let listed = s.app.get("/api/v1/catalog/products", None).await.expect(200);
    assert!(
        !listed["items"].as_array().unwrap().iter().any(|p| p["id"] == s.product_id.as_str()),
        "the catalog no longer lists it: {listed}"
    );

    let notes = s.notifications(&s.seller_key).await;
    assert_eq!(notes.len(), 1, "{notes:?}");
    assert_eq!(notes[0]["kind"], "product_auto_delisted");
    assert_eq!(notes[0]["reference"], s.product_id.as_str());
    assert!(notes[0]["title"].as_str().unwrap().contains("Flaky DB"));
    assert!(notes[0]["read_at"].is_null());
    // Only the owner sees and reads it.
    assert!(s.notifications(&s.buyer_key).await.is_empty());
    let id = notes[0]["id"].as_str().unwrap();
    s.app
        .post(&format!("/api/v1/notifications/{id}/read"), Some(&s.buyer_key), json!({}))
        .await
        .problem(404, "not_found");
    let read =
        s.app.post(&format!("/api/v1/notifications/{id}/read"), Some(&s.seller_key), json!({})).await.expect(200);
    assert!(read["read_at"].is_string(), "{read}");
    assert!(s.notifications(&s.seller_key).await[0]["read_at"].is_string());
}

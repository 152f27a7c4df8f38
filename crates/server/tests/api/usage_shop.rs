//! A pay-per-use shop on the test clock for the usage tests: a seller with
//! open-API credentials, a product with on-demand, period and package SKUs,
//! a buyer with money; signed usage pushes, the validator, the clock.

use crate::helpers::{TestApp, period_sku, product_form, spawn_on_test_clock};
use chrono::{DateTime, Duration, Utc};
use hmac::{Hmac, Mac};
use mercato_domain::orders::SubscriptionStatus;
use mercato_domain::usage::format_time;
use mercato_server::app::usage::intake::{self as app_usage, Validated};
use mercato_store::entity::{subscription, usage_record};
use mercato_store::repo::usage as usage_repo;
use mercato_store::sea_orm::EntityTrait;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::collections::HashMap;

pub const PUSH: &str = "/api/mkp-openapi-public/global/v1/isv/usage-data";
pub const ERRORS: &str = "/api/v1/seller/usage/errors";
pub const ORDERS: &str = "/api/v1/buyer/orders";

#[derive(Clone)]
pub struct Seller {
    pub id: String,
    pub key: String,
    pub ak: String,
    pub sk: String,
}

pub struct Shop {
    pub app: TestApp,
    pub op: String,
    pub seller: Seller,
    pub skus: HashMap<String, String>,
    pub buyer_id: String,
    pub buyer_key: String,
}

pub fn skus() -> Vec<Value> {
    vec![
        json!({"sku_code": "payg", "name": "Pay as you go", "charging_mode": "on_demand", "currency": "CNY",
            "metering": {"unit": "GB", "unit_price": "0.05", "billing": "hourly"}}),
        period_sku("std"),
        json!({"sku_code": "pack", "name": "Package", "charging_mode": "on_demand_pkg", "currency": "CNY",
            "package": {"quota": "1000", "period_months": 6, "price_minor": 7000}}),
        json!({"sku_code": "daily", "name": "Billed daily", "charging_mode": "on_demand", "currency": "CNY",
            "metering": {"unit": "GB", "unit_price": "0.5", "billing": "daily"}}),
    ]
}

pub async fn seller_on(app: &TestApp) -> (Seller, String) {
    let (id, key, op) = app.approved_seller().await;
    let cred = app.post("/api/v1/seller/open-api-credentials", Some(&key), json!({})).await.expect(201);
    let ak = cred["access_key_id"].as_str().unwrap().to_string();
    let sk = cred["secret_access_key"].as_str().unwrap().to_string();
    (Seller { id, key, ak, sk }, op)
}

pub async fn shop() -> Shop {
    let app = spawn_on_test_clock().await;
    let (seller, op) = seller_on(&app).await;
    let product_id = app.listed_product(&seller.key, &op, product_form("Log Insight"), &skus()).await;
    let detail = app.get(&format!("/api/v1/catalog/products/{product_id}"), None).await.expect(200);
    let skus = detail["skus"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["sku_code"].as_str().unwrap().to_string(), s["id"].as_str().unwrap().to_string()))
        .collect();
    let (buyer_id, buyer_key) = app.signup("buyer").await;
    app.credit_wallet(&op, &buyer_id, 1_000_000, "CNY").await;
    Shop { app, op, seller, skus, buyer_id, buyer_key }
}

impl Shop {
    /// Buys, pays and provisions `sku`; returns the subscription.
    pub async fn buy(&self, sku: &str) -> subscription::Model {
        self.buy_as(&self.buyer_key, sku).await
    }

    /// Buys `sku` as the buyer with API key `buyer_key`.
    pub async fn buy_as(&self, buyer_key: &str, sku: &str) -> subscription::Model {
        let mut body = json!({"sku_id": self.skus[sku]});
        if sku == "std" {
            body["period"] = json!("month");
        }
        let order = self.app.post(ORDERS, Some(buyer_key), body).await.expect(201);
        let order_id = order["id"].as_str().unwrap().to_string();
        self.app.post(&format!("{ORDERS}/{order_id}/pay"), Some(buyer_key), json!({})).await.expect(200);
        self.run_jobs().await;
        let subs = subscription::Entity::find().all(&self.app.state.db.conn).await.unwrap();
        let sub = subs.into_iter().find(|s| s.order_id == order_id).unwrap();
        assert_eq!(sub.status, SubscriptionStatus::Active, "{sub:?}");
        assert!(sub.instance_id.is_some());
        sub
    }

    pub async fn run_jobs(&self) {
        while self.app.worker("worker-uv").run_due(10).await.unwrap() > 0 {}
    }

    pub async fn advance(&self, by: Duration) {
        self.app
            .post("/api/v1/operator/test-clock", Some(&self.op), json!({"advance_secs": by.num_seconds()}))
            .await
            .expect(200);
    }

    /// Moves the test clock forward to `at` or at most a second past it
    /// (the clock moves in whole seconds).
    pub async fn advance_to(&self, at: DateTime<Utc>) {
        let ms = (at - self.now()).num_milliseconds();
        self.advance(Duration::seconds((ms + 999).div_euclid(1000))).await;
    }

    pub fn now(&self) -> DateTime<Utc> {
        self.app.state.now()
    }

    pub async fn push(&self, s: &Seller, records: Vec<Value>) -> Value {
        let (status, body) = push_as(&self.app, s, &json!({ "usage_records": records })).await;
        assert_eq!(status, 200, "{body}");
        body
    }

    pub async fn validate(&self) -> Validated {
        app_usage::validate_all(&self.app.state).await.unwrap()
    }

    pub async fn row(&self, sn: &str) -> usage_record::Model {
        let rows = usage_repo::list_for_seller(&self.app.state.db.conn, &self.seller.id).await.unwrap();
        rows.into_iter().find(|r| r.metering_sn == sn).unwrap()
    }

    pub async fn errors(&self, query: &str) -> Value {
        self.app.get(&format!("{ERRORS}{query}"), Some(&self.seller.key)).await.expect(200)
    }
}

/// A seller's signature of a usage push (see [`sign_post`]).
pub fn sign(host: &str, body: &[u8], date: &str, ak: &str, sk: &str) -> String {
    sign_post(PUSH, host, body, date, ak, sk)
}

/// A seller's signature of an open-API POST, written from the spec alone:
/// the body's SHA-256 is the last line of the canonical request.
pub fn sign_post(path: &str, host: &str, body: &[u8], date: &str, ak: &str, sk: &str) -> String {
    let canonical = format!(
        "POST\n{path}/\n\nhost:{host}\nx-sdk-date:{date}\n\nhost;x-sdk-date\n{}",
        hex::encode(Sha256::digest(body))
    );
    let to_sign = format!("SDK-HMAC-SHA256\n{date}\n{}", hex::encode(Sha256::digest(canonical.as_bytes())));
    let mut mac = Hmac::<Sha256>::new_from_slice(sk.as_bytes()).unwrap();
    mac.update(to_sign.as_bytes());
    let sig = hex::encode(mac.finalize().into_bytes());
    format!("SDK-HMAC-SHA256 Access={ak}, SignedHeaders=host;x-sdk-date, Signature={sig}")
}

pub async fn push_as(app: &TestApp, s: &Seller, body: &Value) -> (u16, Value) {
    push_with(&app.client, &app.base, s, body).await
}

/// Pushes `body` signed by seller `s` with `client` (its own connections) to the node at `base`.
pub async fn push_with(client: &reqwest::Client, base: &str, s: &Seller, body: &Value) -> (u16, Value) {
    post_signed(client, base, PUSH, &s.ak, &s.sk, body).await
}

/// POSTs `body` to the open-API `path` signed with `ak`/`sk`.
pub async fn post_signed(
    client: &reqwest::Client,
    base: &str,
    path: &str,
    ak: &str,
    sk: &str,
    body: &Value,
) -> (u16, Value) {
    let bytes = serde_json::to_vec(body).unwrap();
    let url = reqwest::Url::parse(&format!("{base}{path}")).unwrap();
    let host = format!("{}:{}", url.host_str().unwrap(), url.port().unwrap());
    // The signature date is wall-clock time, whatever the test clock says.
    let date = Utc::now().format("%Y%m%dT%H%M%SZ").to_string();
    let res = client
        .post(url)
        .header("Content-Type", "application/json")
        .header("X-Sdk-Date", &date)
        .header("Authorization", sign_post(path, &host, &bytes, &date, ak, sk))
        .body(bytes)
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

pub fn rec(instance: &str, sn: &str, begin: DateTime<Utc>, end: DateTime<Utc>, usage: &str) -> Value {
    json!({"instance_id": instance, "metering_sn": sn, "begin_time": format_time(begin),
        "end_time": format_time(end), "usage_value": usage})
}

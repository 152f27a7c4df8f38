//! The sellers' open API: order query signed with AK/SK the way a seller's
//! SDK signs (SDK-HMAC-SHA256), and its error envelope.

use crate::helpers::{TestApp, period_sku, product_form, spawn_app};
use chrono::{Duration, Utc};
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

pub const QUERY: &str = "/api/mkp-openapi-public/global/v1/order/query";

/// A seller's signing client, written from the spec alone.
fn sign(method: &str, host: &str, path: &str, query: &[(&str, &str)], date: &str, ak: &str, sk: &str) -> String {
    let enc = |s: &str| {
        s.bytes()
            .map(|b| {
                if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                    (b as char).to_string()
                } else {
                    format!("%{b:02X}")
                }
            })
            .collect::<String>()
    };
    let mut q: Vec<String> = query.iter().map(|(k, v)| format!("{}={}", enc(k), enc(v))).collect();
    q.sort();
    let canonical = format!(
        "{}\n{}/\n{}\nhost:{}\nx-sdk-date:{}\n\nhost;x-sdk-date\n{}",
        method,
        path,
        q.join("&"),
        host,
        date,
        hex::encode(Sha256::digest(b""))
    );
    let to_sign = format!("SDK-HMAC-SHA256\n{date}\n{}", hex::encode(Sha256::digest(canonical.as_bytes())));
    let mut mac = Hmac::<Sha256>::new_from_slice(sk.as_bytes()).unwrap();
    mac.update(to_sign.as_bytes());
    let sig = hex::encode(mac.finalize().into_bytes());
    format!("SDK-HMAC-SHA256 Access={ak}, SignedHeaders=host;x-sdk-date, Signature={sig}")
}

/// A GET on the sellers' open API signed with `ak`/`sk` at `date`:
/// (status, body).
pub async fn signed_get(
    app: &TestApp,
    path: &str,
    query: &[(&str, &str)],
    date: chrono::DateTime<Utc>,
    ak: &str,
    sk: &str,
) -> (u16, Value) {
    let url = reqwest::Url::parse(&app.url(path)).unwrap();
    let host = match url.port() {
        Some(p) => format!("{}:{p}", url.host_str().unwrap()),
        None => url.host_str().unwrap().to_string(),
    };
    let date = date.format("%Y%m%dT%H%M%SZ").to_string();
    let auth = sign("GET", &host, path, query, &date, ak, sk);
    let res = app
        .client
        .get(url)
        .query(query)
        .header("X-Sdk-Date", &date)
        .header("Authorization", auth)
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

struct Setup {
    app: TestApp,
    seller_key: String,
    ak: String,
    sk: String,
    order_id: String,
    line_id: String,
    buyer_id: String,
}

async fn setup() -> Setup {
    let app = spawn_app().await;
    let (_, seller_key, op) = app.approved_seller().await;
    let product_id = app.listed_product(&seller_key, &op, product_form("Cloud DB"), &[period_sku("std")]).await;
    let detail = app.get(&format!("/api/v1/catalog/products/{product_id}"), None).await.expect(200);
    let sku_id = detail["skus"][0]["id"].as_str().unwrap().to_string();
    let (buyer_id, buyer_key) = app.signup("buyer").await;
    app.credit_wallet(&op, &buyer_id, 100_000, "CNY").await;
    let order = app
        .post("/api/v1/buyer/orders", Some(&buyer_key), json!({"sku_id": sku_id, "period": "month", "period_count": 1}))
        .await
        .expect(201);
    let order_id = order["id"].as_str().unwrap().to_string();
    let line_id = order["lines"][0]["id"].as_str().unwrap().to_string();
    app.post(&format!("/api/v1/buyer/orders/{order_id}/pay"), Some(&buyer_key), json!({})).await.expect(200);
    let cred = app.post("/api/v1/seller/open-api-credentials", Some(&seller_key), json!({})).await.expect(201);
    let ak = cred["access_key_id"].as_str().unwrap().to_string();
    let sk = cred["secret_access_key"].as_str().unwrap().to_string();
    Setup { app, seller_key, ak, sk, order_id, line_id, buyer_id }
}

impl Setup {
    async fn query_with(
        &self,
        query: &[(&str, &str)],
        date: chrono::DateTime<Utc>,
        ak: &str,
        sk: &str,
    ) -> (u16, Value) {
        signed_get(&self.app, QUERY, query, date, ak, sk).await
    }

    async fn query(&self, query: &[(&str, &str)]) -> (u16, Value) {
        self.query_with(query, Utc::now(), &self.ak, &self.sk).await
    }
}

#[tokio::test]
async fn a_signed_order_query_returns_the_order_of_the_caller() {
    let s = setup().await;
    let (status, body) = s.query(&[("orderId", &s.order_id)]).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["error_code"], "MKT.0000");
    let info = &body["orderInfo"];
    assert_eq!(info["orderId"], s.order_id.as_str());
    assert_eq!(info["createTime"].as_str().unwrap().len(), 14, "{info}");
    let line = &info["orderLine"][0];
    assert_eq!(line["orderLineId"], s.line_id.as_str());
    assert_eq!(line["chargingMode"], "PERIOD");
    assert_eq!(line["periodType"], "month");
    assert_eq!(line["periodNumber"], 1);
    assert_eq!(line["currency"], "CNY");
    assert_eq!(line["productInfo"][0]["skuCode"], "std");
    assert_eq!(line["productInfo"][0]["productName"], "Cloud DB");
    assert_eq!(info["buyerInfo"]["customerId"], s.buyer_id.as_str());
    assert!(info["buyerInfo"]["email"].as_str().unwrap().contains('@'));
    let creds = s.app.get("/api/v1/seller/open-api-credentials", Some(&s.seller_key)).await.expect(200);
    assert!(creds["items"][0]["last_used_at"].is_string(), "a successful call marks the key used: {creds}");

    // Narrowed to a line; an unknown line or order is not found.
    let (status, body) = s.query(&[("orderId", &s.order_id), ("orderLineId", &s.line_id)]).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["orderInfo"]["orderLine"].as_array().unwrap().len(), 1);
    let (status, body) = s.query(&[("orderId", &s.order_id), ("orderLineId", "nope")]).await;
    assert_eq!((status, body["error_code"].as_str()), (404, Some("MKT.9001")));
    let (status, body) = s.query(&[("orderId", "ord_missing")]).await;
    assert_eq!((status, body["error_code"].as_str()), (404, Some("MKT.9001")));
}

#[tokio::test]
async fn bad_signatures_stale_dates_and_revoked_keys_are_refused() {
    let s = setup().await;
    let q = [("orderId", s.order_id.as_str())];
    let wrong_sk = "x".repeat(40);
    let (status, body) = s.query_with(&q, Utc::now(), &s.ak, &wrong_sk).await;
    assert_eq!((status, body["error_code"].as_str()), (401, Some("MKT.0102")), "{body}");
    let (status, body) = s.query_with(&q, Utc::now() - Duration::minutes(16), &s.ak, &s.sk).await;
    assert_eq!((status, body["error_code"].as_str()), (401, Some("MKT.0102")), "{body}");
    let (status, body) = s.query_with(&q, Utc::now() + Duration::minutes(16), &s.ak, &s.sk).await;
    assert_eq!((status, body["error_code"].as_str()), (401, Some("MKT.0102")), "{body}");
    // Within the window is fine.
    let (status, _) = s.query_with(&q, Utc::now() - Duration::minutes(10), &s.ak, &s.sk).await;
    assert_eq!(status, 200);
    let (status, body) = s.query_with(&q, Utc::now(), "AKUNKNOWN00000000000", &s.sk).await;
    assert_eq!((status, body["error_code"].as_str()), (401, Some("MKT.0154")), "{body}");
    // No Authorization at all.
    let res = s.app.client.get(s.app.url(&format!("{QUERY}?orderId={}", s.order_id))).send().await.unwrap();
    assert_eq!(res.status().as_u16(), 401);
    assert_eq!(res.json::<Value>().await.unwrap()["error_code"], "MKT.0102");

    s.app.delete(&format!("/api/v1/seller/open-api-credentials/{}", s.ak), Some(&s.seller_key)).await.expect(204);
    let (status, body) = s.query(&q).await;
    assert_eq!((status, body["error_code"].as_str()), (401, Some("MKT.0154")), "{body}");
}

#[tokio::test]
async fn another_sellers_order_and_a_missing_order_id_are_refused() {
    let s = setup().await;
    let (status, body) = s.query(&[]).await;
    assert_eq!((status, body["error_code"].as_str()), (400, Some("MKT.0100")), "{body}");

    let (_, other_key, _) = s.app.approved_seller().await;
    let cred = s.app.post("/api/v1/seller/open-api-credentials", Some(&other_key), json!({})).await.expect(201);
    let (ak, sk) = (cred["access_key_id"].as_str().unwrap(), cred["secret_access_key"].as_str().unwrap());
    let (status, body) = s.query_with(&[("orderId", &s.order_id)], Utc::now(), ak, sk).await;
    assert_eq!((status, body["error_code"].as_str()), (403, Some("MKT.0150")), "{body}");
}

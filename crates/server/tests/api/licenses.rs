//! License codes end to end against the reference seller: issued once under
//! retries from a flaky seller, activated by the seller's software through
//! the signed open API (which completes the supervision), heartbeats that
//! follow renewal, freeze and release, 60 tries before a refund, and the
//! open API's refusals changing nothing.

use crate::helpers::{SHARED_SELLER_KEY, period_sku, shared_seller};
use crate::supervision::{Market, market};
use crate::usage_shop::post_signed;
use chrono::{DateTime, Utc};
use mercato_domain::delivery::DeliveredBy;
use mercato_isv::FaultPolicy;
use mercato_server::app::subscriptions::lifecycle;
use mercato_store::entity::{job, product};
use mercato_store::repo::supervisions as supervision_repo;
use mercato_store::sea_orm::{ColumnTrait, EntityTrait, QueryFilter, sea_query::Expr};
use serde_json::{Value, json};

const ACTIVATE: &str = "/api/mkp-openapi-public/global/v1/license/activate";
const HEARTBEAT: &str = "/api/mkp-openapi-public/global/v1/license/heartbeat";

struct Licensed {
    m: Market,
    order: Value,
    supervision: String,
    ak: String,
    sk: String,
}

/// A monthly license product served by its own reference seller with
/// `faults`, bought and paid; the seller's open-API credentials.
async fn licensed(faults: FaultPolicy) -> Licensed {
    let m = market().await;
    // Listed with a healthy license server (its debug cases pass), then
    // served by one with `faults`.
    let sku = m.product("license", Some(shared_seller().to_string()), period_sku("lic")).await;
    let url = m.app.reference_seller(SHARED_SELLER_KEY, faults).await;
    product::Entity::update_many()
        .col_expr(product::Column::EndpointUrl, Expr::value(url))
        .filter(product::Column::ProductType.eq("license"))
        .exec(&m.app.state.db.conn)
        .await
        .unwrap();
    let order = m.buy(&sku, json!({"period": "month", "period_count": 1})).await;
    let s = m.supervision_of(order["id"].as_str().unwrap()).await;
    assert_eq!((s["mode"].as_str(), s["status"].as_str()), (Some("license_code"), Some("delivering")));
    let cred = m.app.post("/api/v1/seller/open-api-credentials", Some(&m.seller_key), json!({})).await.expect(201);
    let ak = cred["access_key_id"].as_str().unwrap().to_string();
    let sk = cred["secret_access_key"].as_str().unwrap().to_string();
    Licensed { supervision: s["id"].as_str().unwrap().to_string(), m, order, ak, sk }
}

impl Licensed {
    async fn sub(&self) -> Value {
        let page = self.m.app.get("/api/v1/buyer/subscriptions", Some(&self.m.buyer_key)).await.expect(200);
        page["items"][0].clone()
    }

    /// Runs the license job every 2 marketplace minutes until the code is
    /// out or `rounds` are used; returns the rounds run.
    async fn issue(&self, rounds: usize) -> usize {
        for round in 1..=rounds {
            self.m.run_jobs().await;
            if self.sub().await["license"].is_object() {
                return round;
            }
            self.m.advance_secs(120).await;
        }
        rounds
    }

    async fn call(&self, path: &str, body: Value) -> (u16, Value) {
        post_signed(&self.m.app.client, &self.m.app.base, path, &self.ak, &self.sk, &body).await
    }

    async fn heartbeat(&self, code: &str) -> Value {
        let (status, body) =
            self.call(HEARTBEAT, json!({"license": code, "heartbeatInfo": {"thirdPartyAccount": "dev-1"}})).await;
        assert_eq!(status, 200, "{body}");
        body
    }

    /// Successful seller calls of `activity`, as recorded.
    async fn calls(&self, activity: &str) -> Vec<Value> {
        let page = self
            .m
            .app
            .get("/api/v1/seller/interface-messages?status=all&limit=100", Some(&self.m.seller_key))
            .await
            .expect(200);
        page["items"].as_array().unwrap().iter().filter(|c| c["activity"] == activity).cloned().collect()
    }

    async fn expires_at(&self) -> DateTime<Utc> {
        serde_json::from_value(self.sub().await["expires_at"].clone()).unwrap()
    }
}

#[tokio::test]
async fn a_license_code_is_issued_once_activated_and_followed_by_heartbeats() {
    // Half the calls fail, a quarter are answered after the marketplace gave up waiting.
    let faults =
        FaultPolicy { fail_rate: 0.5, slow_rate: 0.25, slow_ms: 5_300, seed: Some(11), ..FaultPolicy::default() };
    let l = licensed(faults).await;
    let rounds = l.issue(40).await;
    let sub = l.sub().await;
    let code = sub["license"]["code"].as_str().expect("a license code").to_string();
    assert_eq!(sub["status"], "active");
    assert_eq!(sub["delivery_mode"], "license_code");
    // Every answer that carried a code carried the same one: one license per line.
    let issued = l.calls("getLicenseAsync").await;
    assert!(issued.len() >= rounds, "{rounds} rounds, {} calls", issued.len());
    for c in issued.iter().filter(|c| c["outcome"] == "success") {
        let answer: Value = serde_json::from_str(c["response_body"].as_str().unwrap()).unwrap();
        assert_eq!(answer["license"], json!(code), "{c}");
    }
    // Done: more rounds call nothing.
    let before = issued.len();
    l.m.advance_secs(600).await;
    l.m.run_jobs().await;
    assert_eq!(l.calls("getLicenseAsync").await.len(), before);
    let d = l.m.detail("buyer", &l.m.buyer_key, &l.supervision).await;
    assert_eq!(d["supervision"]["status"], "awaiting_activation");
    let seller_view = l.m.detail("seller", &l.m.seller_key, &l.supervision).await;
    assert_eq!(seller_view["license"]["code"], json!(code));
    assert!(seller_view["license"]["activated_at"].is_null());
    assert_eq!(d["supervision"]["refund"], "buyer");
    let order_id = l.order["id"].as_str().unwrap();
    assert_eq!(l.m.order_status(order_id).await, "fulfilling");

    // Refusals answer in the envelope and change nothing.
    let (status, body) = l.call(ACTIVATE, json!({"license": "no-such-code"})).await;
    assert_eq!((status, body["error_code"].as_str()), (404, Some("MKT.9001")), "{body}");
    let (status, body) = l.call(ACTIVATE, json!({"license": code, "colour": "red"})).await;
    assert_eq!((status, body["error_code"].as_str()), (400, Some("MKT.0101")), "{body}");
    let (status, body) = l.call(ACTIVATE, json!({"license": code, "real_effect_time": "tomorrow"})).await;
    assert_eq!((status, body["error_code"].as_str()), (400, Some("MKT.0100")), "{body}");
    let (status, body) = l.call(HEARTBEAT, json!({"licence": code})).await;
    assert_eq!((status, body["error_code"].as_str()), (400, Some("MKT.0101")), "{body}");
    let (_, other_key, _) = l.m.app.approved_seller().await;
    let other = l.m.app.post("/api/v1/seller/open-api-credentials", Some(&other_key), json!({})).await.expect(201);
    let (status, body) = post_signed(
        &l.m.app.client,
        &l.m.app.base,
        ACTIVATE,
        other["access_key_id"].as_str().unwrap(),
        other["secret_access_key"].as_str().unwrap(),
        &json!({"license": code}),
    )
    .await;
    assert_eq!((status, body["error_code"].as_str()), (403, Some("MKT.0150")), "{body}");
    assert_eq!(l.m.order_status(order_id).await, "fulfilling");

    // Not renewable before activation (the buyer may still withdraw it all).
    let sub_id = l.sub().await["id"].as_str().unwrap().to_string();
    l.m.app
        .post(&format!("/api/v1/buyer/subscriptions/{sub_id}/renew"), Some(&l.m.buyer_key), json!({"period": "month"}))
        .await
        .problem(409, "not_activated");

    // Activation completes the supervision and the order; again changes nothing.
    let (status, body) = l.call(ACTIVATE, json!({"license": code, "real_effect_time": "20261207120000"})).await;
    assert_eq!((status, body["error_code"].as_str()), (200, Some("MKT.0000")), "{body}");
    assert_eq!(l.m.order_status(order_id).await, "completed");
    let d = l.m.detail("buyer", &l.m.buyer_key, &l.supervision).await;
    assert_eq!(d["supervision"]["status"], "completed");
    let steps = d["timeline"].as_array().unwrap().len();
    let line_id = l.order["lines"][0]["id"].as_str().unwrap();
    let delivery = supervision_repo::delivery_of(&l.m.app.state.db.conn, line_id).await.unwrap().unwrap();
    assert_eq!(delivery.delivered_by, DeliveredBy::LicenseActivation);
    let (status, _) = l.call(ACTIVATE, json!({"license": code})).await;
    assert_eq!(status, 200);
    assert_eq!(l.m.detail("buyer", &l.m.buyer_key, &l.supervision).await["timeline"].as_array().unwrap().len(), steps);
    assert!(l.sub().await["license"]["activated_at"].is_string());
    l.m.step("buyer", &l.m.buyer_key, &l.supervision, "withdraw", json!({"reason": "no"}))
        .await
        .problem(409, "not_refundable");

    // Heartbeats follow the subscription: alive, expired when frozen, alive
    // after renewal, released after the grace period.
    let expiry = l.expires_at().await;
    let hb = l.heartbeat(&code).await;
    assert_eq!((hb["error_code"].as_str(), hb["status"].as_str()), (Some("MKT.0000"), Some("ALIVE")));
    assert_eq!(hb["expireTime"], json!(expiry.format("%Y%m%d%H%M%S").to_string()));
    assert!(l.sub().await["license"]["last_heartbeat_at"].is_string());
    l.m.advance_secs((expiry - l.m.app.state.now()).num_seconds() + 60).await;
    assert_eq!(lifecycle::expiry_scan(&l.m.app.state).await.unwrap().frozen, 1);
    assert_eq!(l.heartbeat(&code).await["status"], "EXPIRED");
    // The seller is told in license terms; a flaky seller is retried.
    for _ in 0..10 {
        l.m.run_jobs().await;
        l.m.advance_secs(120).await;
    }
    assert!(l.calls("updateLicenseCodeStatus").await.iter().any(|c| c["outcome"] == "success"));
    assert!(l.calls("updateInstanceStatus").await.is_empty());
    l.m.app
        .post(&format!("/api/v1/buyer/subscriptions/{sub_id}/renew"), Some(&l.m.buyer_key), json!({"period": "month"}))
        .await
        .expect(200);
    assert_eq!(l.heartbeat(&code).await["status"], "ALIVE");
    for _ in 0..10 {
        l.m.run_jobs().await;
        l.m.advance_secs(120).await;
    }
    assert!(l.calls("refreshLicenseCode").await.iter().any(|c| c["outcome"] == "success"));
    let expiry = l.expires_at().await;
    l.m.advance_secs((expiry - l.m.app.state.now()).num_seconds() + 16 * 86_400).await;
    lifecycle::expiry_scan(&l.m.app.state).await.unwrap();
    lifecycle::expiry_scan(&l.m.app.state).await.unwrap();
    assert_eq!(l.heartbeat(&code).await["status"], "RELEASED");
    for _ in 0..10 {
        l.m.run_jobs().await;
        l.m.advance_secs(120).await;
    }
    assert!(l.calls("releaseLicenseCode").await.iter().any(|c| c["outcome"] == "success"));
    let (status, body) = l.call(ACTIVATE, json!({"license": code})).await;
    assert_eq!((status, body["error_code"].as_str()), (403, Some("MKT.0150")), "released: {body}");
    l.m.app.assert_ledger_balanced().await;
}

#[tokio::test]
async fn a_license_never_issued_is_tried_60_times_every_2_minutes_then_refunded() {
    let l = licensed(FaultPolicy { down_for_secs: 86_400, ..FaultPolicy::default() }).await;
    let paid = l.m.wallet().await;
    assert_eq!(l.issue(70).await, 70);
    let jobs =
        job::Entity::find().filter(job::Column::Kind.eq("issue_license")).all(&l.m.app.state.db.conn).await.unwrap();
    assert_eq!(jobs.len(), 1);
    assert_eq!(jobs[0].attempts, 60, "{:?}", jobs[0]);
    assert_eq!(l.calls("getLicenseAsync").await.len(), 60);
    let order_id = l.order["id"].as_str().unwrap();
    assert_eq!(l.m.order_status(order_id).await, "refunded");
    assert!(l.m.wallet().await > paid);
    assert_eq!(l.sub().await["status"], "failed");
    assert_eq!(l.m.detail("buyer", &l.m.buyer_key, &l.supervision).await["supervision"]["status"], "closed");
    l.m.app.assert_ledger_balanced().await;
}

#[tokio::test]
async fn a_license_withdrawn_before_activation_is_released_at_the_seller() {
    let l = licensed(FaultPolicy::default()).await;
    assert_eq!(l.issue(3).await, 1);
    let code = l.sub().await["license"]["code"].as_str().unwrap().to_string();
    let before = l.m.wallet().await;
    let d =
        l.m.step("buyer", &l.m.buyer_key, &l.supervision, "withdraw", json!({"reason": "wrong edition"}))
            .await
            .expect(200);
    assert_eq!(d["supervision"]["status"], "closed");
    assert!(l.m.wallet().await > before);
    assert_eq!(l.m.order_status(l.order["id"].as_str().unwrap()).await, "refunded");
    l.m.run_jobs().await;
    assert_eq!(l.calls("releaseLicenseCode").await.len(), 1);
    assert_eq!(l.heartbeat(&code).await["status"], "RELEASED");
    let (status, body) = l.call(ACTIVATE, json!({"license": code})).await;
    assert_eq!((status, body["error_code"].as_str()), (403, Some("MKT.0150")), "{body}");
    l.m.app.assert_ledger_balanced().await;
}

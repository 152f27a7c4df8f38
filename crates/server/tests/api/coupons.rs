//! Coupons (满减代金券): sellers issue batches for products or SKUs on sale,
//! buyers claim them within the batch's limits, also when claims race.

use crate::helpers::{TestApp, period_sku, product_form, spawn_on_test_clock};
use chrono::{DateTime, Duration, Utc};
use mercato_domain::ids::CouponBatchId;
use mercato_store::repo::coupons as coupon_repo;
use serde_json::{Value, json};
use std::collections::HashSet;

pub const BATCHES: &str = "/api/v1/seller/coupons";
pub const COUPONS: &str = "/api/v1/buyer/coupons";

/// A marketplace on the test clock with a seller whose listed products are
/// a joint-operation service (a period SKU `std` and a one-time SKU
/// `setup`) and a general-cooperation one; a draft product of that seller;
/// another seller's listed product; two buyers.
pub struct Shop {
    pub app: TestApp,
    pub op: String,
    pub seller_id: String,
    pub seller_key: String,
    pub joint: String,
    pub std_sku: String,
    pub setup_sku: String,
    pub general: String,
    pub general_sku: String,
    pub draft: String,
    pub draft_sku: String,
    pub other_seller_key: String,
    pub foreign: String,
    pub foreign_sku: String,
    pub buyer_id: String,
    pub buyer_key: String,
    pub buyer_email: String,
    pub buyer2_key: String,
}

pub fn one_time_sku(code: &str, price: i64) -> Value {
    json!({"sku_code": code, "name": "Once", "charging_mode": "one_time",
        "prices": {"one_time_minor": price}, "currency": "CNY"})
}

fn service_form(name: &str, cooperation: &str) -> Value {
    let mut form = product_form(name);
    form["type"] = json!("manual_service");
    form["cooperation"] = json!(cooperation);
    form.as_object_mut().unwrap().remove("endpoint");
    form
}

/// A listed product; returns its id and its SKU ids by code.
async fn listed(app: &TestApp, key: &str, op: &str, form: Value, skus: &[Value]) -> (String, Vec<String>) {
    let id = app.listed_product(key, op, form, skus).await;
    let detail = app.get(&format!("/api/v1/catalog/products/{id}"), None).await.expect(200);
    let ids = skus
        .iter()
        .map(|s| {
            let code = &s["sku_code"];
            let sku = detail["skus"].as_array().unwrap().iter().find(|x| &x["sku_code"] == code).expect("listed sku");
            sku["id"].as_str().unwrap().to_string()
        })
        .collect();
    (id, ids)
}

pub async fn shop() -> Shop {
    let app = spawn_on_test_clock().await;
    let (seller_id, seller_key, op) = app.approved_seller().await;
    let (joint, skus) = listed(
        &app,
        &seller_key,
        &op,
        service_form("Joint service", "joint"),
        &[period_sku("std"), one_time_sku("setup", 50_000)],
    )
    .await;
    let (general, gskus) =
        listed(&app, &seller_key, &op, service_form("General service", "general"), &[one_time_sku("g", 30_000)]).await;
    let draft =
        app.post("/api/v1/seller/products", Some(&seller_key), service_form("Draft", "joint")).await.expect(201);
    let draft_id = draft["id"].as_str().unwrap().to_string();
    let draft_sku = app
        .post(&format!("/api/v1/seller/products/{draft_id}/skus"), Some(&seller_key), one_time_sku("d", 10_000))
        .await
        .expect(201)["id"]
        .as_str()
        .unwrap()
        .to_string();
    let (other_id, other_key) = app.signup("seller").await;
    app.approve_seller(&other_id, &other_key, &op).await;
    let (foreign, fskus) =
        listed(&app, &other_key, &op, service_form("Foreign service", "joint"), &[one_time_sku("f", 20_000)]).await;
    let buyer_email = format!("buyer-{}@example.com", uuid::Uuid::new_v4().simple());
    let b = app
        .post(
            "/api/v1/accounts",
            None,
            json!({"role": "buyer", "name": "Buyer", "email": buyer_email, "password": "correct horse battery"}),
        )
        .await
        .expect(201);
    let (_, buyer2_key) = app.signup("buyer").await;
    Shop {
        op,
        seller_id,
        seller_key,
        joint,
        std_sku: skus[0].clone(),
        setup_sku: skus[1].clone(),
        general,
        general_sku: gskus[0].clone(),
        draft: draft_id,
        draft_sku,
        other_seller_key: other_key,
        foreign,
        foreign_sku: fskus[0].clone(),
        buyer_id: b["id"].as_str().unwrap().to_string(),
        buyer_key: b["api_key"].as_str().unwrap().to_string(),
        buyer_email,
        buyer2_key,
        app,
    }
}

impl Shop {
    pub async fn now(&self) -> DateTime<Utc> {
        let v = self.app.get("/api/v1/operator/test-clock", Some(&self.op)).await.expect(200);
        serde_json::from_value(v["now"].clone()).unwrap()
    }

    pub async fn advance(&self, d: Duration) {
        self.app
            .post("/api/v1/operator/test-clock", Some(&self.op), json!({"advance_secs": d.num_seconds()}))
            .await
            .expect(200);
    }

    /// A valid batch body for the joint product (10 days, 5 coupons, 2 each).
    pub async fn batch_body(&self) -> Value {
        let until = self.now().await + Duration::days(10);
        json!({
            "name": "Winter sale",
            "threshold_minor": 20_000,
            "amount_off_minor": 2_000,
            "currency": "CNY",
            "scope": {"product_ids": [self.joint], "sku_ids": []},
            "valid_until": until,
            "total_count": 5,
            "per_buyer_limit": 2,
        })
    }

    pub async fn batch(&self, changes: Value) -> Value {
        let mut body = self.batch_body().await;
        body.as_object_mut().unwrap().extend(changes.as_object().cloned().unwrap());
        self.app.post(BATCHES, Some(&self.seller_key), body).await.expect(201)
    }

    pub async fn claim(&self, key: &str, batch: &Value) -> crate::helpers::Res {
        self.app.post(COUPONS, Some(key), json!({"batch_id": batch["id"]})).await
    }

    async fn batch_count(&self) -> usize {
        let page = self.app.get(&format!("{BATCHES}?limit=100"), Some(&self.seller_key)).await.expect(200);
        page["items"].as_array().unwrap().len()
    }

    async fn coupons_in_store(&self, batch: &Value) -> i64 {
        let id = CouponBatchId::parse(batch["id"].as_str().unwrap()).unwrap();
        coupon_repo::count_coupons(&self.app.state.db.conn, &id).await.unwrap()
    }
}

#[tokio::test]
async fn a_seller_issues_lists_reads_and_stops_a_batch() {
    let s = shop().await;
    let b = s.batch(json!({"scope": {"product_ids": [s.joint], "sku_ids": [s.general_sku]}})).await;
    assert!(b["id"].as_str().unwrap().starts_with("cpb_"));
    assert_eq!(b["status"], "active");
    assert_eq!(b["seller_id"], s.seller_id);
    assert_eq!((b["claimed"].as_i64(), b["used"].as_i64()), (Some(0), Some(0)));
    assert_eq!(b["claimable_now"], true);
    let id = b["id"].as_str().unwrap();

    let page = s.app.get(BATCHES, Some(&s.seller_key)).await.expect(200);
    assert_eq!(page["items"].as_array().unwrap().len(), 1);
    assert_eq!(page["items"][0]["id"], id);

    s.claim(&s.buyer_key, &b).await.expect(201);
    let got = s.app.get(&format!("{BATCHES}/{id}"), Some(&s.seller_key)).await.expect(200);
    assert_eq!((got["claimed"].as_i64(), got["used"].as_i64()), (Some(1), Some(0)));

    // Another seller sees none of it.
    s.app.get(&format!("{BATCHES}/{id}"), Some(&s.other_seller_key)).await.problem(404, "not_found");
    s.app.post(&format!("{BATCHES}/{id}/stop"), Some(&s.other_seller_key), json!({})).await.problem(404, "not_found");
    let theirs = s.app.get(BATCHES, Some(&s.other_seller_key)).await.expect(200);
    assert!(theirs["items"].as_array().unwrap().is_empty());
    // A buyer may not call seller endpoints.
    s.app.get(BATCHES, Some(&s.buyer_key)).await.problem(403, "forbidden");

    let stopped = s.app.post(&format!("{BATCHES}/{id}/stop"), Some(&s.seller_key), json!({})).await.expect(200);
    assert_eq!(stopped["status"], "stopped");
    assert_eq!(stopped["claimable_now"], false);
    s.app
        .post(&format!("{BATCHES}/{id}/stop"), Some(&s.seller_key), json!({}))
        .await
        .problem(409, "coupon_batch_stopped");
    let only_active = s.app.get(&format!("{BATCHES}?status=active"), Some(&s.seller_key)).await.expect(200);
    assert!(only_active["items"].as_array().unwrap().is_empty());
    s.app.get(&format!("{BATCHES}?status=nope"), Some(&s.seller_key)).await.problem(422, "validation_failed");

    // Claims stop; the claimed coupon stays usable.
    s.claim(&s.buyer_key, &b).await.problem(409, "coupon_batch_stopped");
    let mine = s.app.get(COUPONS, Some(&s.buyer_key)).await.expect(200);
    assert_eq!(mine["items"].as_array().unwrap().len(), 1);
    assert_eq!(mine["items"][0]["state"], "usable");
}

#[tokio::test]
async fn every_bad_batch_is_refused_naming_its_field_and_creates_nothing() {
    let s = shop().await;
    let base = s.batch_body().await;
    let now = s.now().await;
    // What the schema states is a 422; what it cannot (entries not on sale,
    // fields against each other or against now) a 409 `terms_refused`.
    let (bad, refused) = ((422, "validation_failed"), (409, "terms_refused"));
    let cases: Vec<(Value, &str, (u16, &str))> = vec![
        (json!({"scope": {"product_ids": [s.foreign]}}), "scope.product_ids[0]", refused),
        (json!({"scope": {"product_ids": [s.draft]}}), "scope.product_ids[0]", refused),
        (json!({"scope": {"product_ids": ["prd_nope"]}}), "scope.product_ids[0]", refused),
        (json!({"scope": {"sku_ids": [s.foreign_sku]}}), "scope.sku_ids[0]", refused),
        (json!({"scope": {"sku_ids": [s.draft_sku]}}), "scope.sku_ids[0]", refused),
        (json!({"scope": {"product_ids": [], "sku_ids": []}}), "scope", bad),
        (json!({"scope": {"product_ids": [s.joint, s.joint]}}), "scope.product_ids[1]", refused),
        (json!({"threshold_minor": 1_999}), "threshold_minor", refused),
        (json!({"amount_off_minor": 0}), "amount_off_minor", bad),
        (json!({"currency": "USD"}), "scope.product_ids[0]", refused),
        (json!({"currency": "XXX"}), "currency", bad),
        (json!({"valid_until": now - Duration::seconds(1)}), "valid_until", refused),
        (json!({"valid_from": now + Duration::days(20)}), "valid_until", refused),
        (json!({"total_count": 0, "per_buyer_limit": 1}), "total_count", bad),
        (json!({"total_count": 1_000_001, "per_buyer_limit": 1}), "total_count", bad),
        (json!({"per_buyer_limit": 6}), "per_buyer_limit", refused),
        (json!({"per_buyer_limit": 0}), "per_buyer_limit", refused),
        (json!({"name": ""}), "name", bad),
    ];
    for (change, field, (status, code)) in cases {
        let mut body = base.clone();
        body.as_object_mut().unwrap().extend(change.as_object().cloned().unwrap());
        let p = s.app.post(BATCHES, Some(&s.seller_key), body).await.problem(status, code);
        assert_eq!(crate::helpers::Res::fields(&p), [field], "{change}: {p}");
    }
    // Several at once: all named.
    let mut body = base.clone();
    body.as_object_mut().unwrap().extend(
        json!({"amount_off_minor": 0, "scope": {"product_ids": [s.foreign], "sku_ids": [s.general_sku, s.draft_sku]}, "per_buyer_limit": 9})
            .as_object()
            .cloned()
            .unwrap(),
    );
    let p = s.app.post(BATCHES, Some(&s.seller_key), body).await.problem(422, "validation_failed");
    assert_eq!(
        crate::helpers::Res::fields(&p),
        ["amount_off_minor", "scope.product_ids[0]", "scope.sku_ids[1]", "per_buyer_limit"]
    );
    // Unknown fields are refused too.
    let mut body = base.clone();
    body["surprise"] = json!(1);
    assert_eq!(s.app.post(BATCHES, Some(&s.seller_key), body).await.status.as_u16(), 422);
    assert_eq!(s.batch_count().await, 0, "nothing was created");

    // A SKU of the seller's general product and a product are fine together.
    s.batch(json!({"scope": {"product_ids": [s.joint], "sku_ids": [s.general_sku]}})).await;
    assert_eq!(s.batch_count().await, 1);
}

#[tokio::test]
async fn claims_follow_the_batch_rules() {
    let s = shop().await;
    let now = s.now().await;

    // Not started yet, then claimable once it starts.
    let later = s
        .batch(json!({"valid_from": now + Duration::days(1), "valid_until": now + Duration::days(3), "total_count": 3, "per_buyer_limit": 1}))
        .await;
    s.claim(&s.buyer_key, &later).await.problem(409, "coupon_not_started");

    // Per-buyer limit, then exhausted for everyone.
    let b = s.batch(json!({"total_count": 3, "per_buyer_limit": 2})).await;
    let c1 = s.claim(&s.buyer_key, &b).await.expect(201);
    assert!(c1["id"].as_str().unwrap().starts_with("cpn_"));
    assert_eq!((c1["claim_no"].as_i64(), c1["state"].as_str()), (Some(1), Some("usable")));
    assert_eq!((c1["threshold_minor"].as_i64(), c1["amount_off_minor"].as_i64()), (Some(20_000), Some(2_000)));
    assert_eq!(c1["scope"]["product_ids"][0], s.joint);
    let c2 = s.claim(&s.buyer_key, &b).await.expect(201);
    assert_eq!(c2["claim_no"], 2);
    s.claim(&s.buyer_key, &b).await.problem(409, "coupon_limit_reached");
    s.claim(&s.buyer2_key, &b).await.expect(201);
    s.claim(&s.buyer2_key, &b).await.problem(409, "coupons_exhausted");
    let got = s.app.get(&format!("{BATCHES}/{}", b["id"].as_str().unwrap()), Some(&s.seller_key)).await.expect(200);
    assert_eq!(got["claimed"], 3);
    assert_eq!(got["claimable_now"], false);

    // Unknown batches.
    s.app.post(COUPONS, Some(&s.buyer_key), json!({"batch_id": "cpb_nope"})).await.problem(404, "not_found");
    let missing = CouponBatchId::new().to_string();
    s.app.post(COUPONS, Some(&s.buyer_key), json!({"batch_id": missing})).await.problem(404, "not_found");

    // The buyer's catalog of batches for the product.
    let open = s.app.get(&format!("/api/v1/buyer/coupon-batches?product_id={}", s.joint), Some(&s.buyer_key)).await;
    let open = open.expect(200);
    let ids: Vec<&str> = open["items"].as_array().unwrap().iter().map(|b| b["id"].as_str().unwrap()).collect();
    assert!(ids.is_empty(), "the exhausted and not-started batches are not claimable: {open}");
    let sku_batch = s.batch(json!({"scope": {"sku_ids": [s.setup_sku]}})).await;
    s.claim(&s.buyer_key, &sku_batch).await.expect(201);
    let open = s
        .app
        .get(&format!("/api/v1/buyer/coupon-batches?product_id={}", s.joint), Some(&s.buyer_key))
        .await
        .expect(200);
    assert_eq!(open["items"].as_array().unwrap().len(), 1, "{open}");
    assert_eq!(open["items"][0]["id"], sku_batch["id"]);
    assert_eq!((open["items"][0]["remaining"].as_i64(), open["items"][0]["your_claims"].as_i64()), (Some(4), Some(1)));
    let none = s
        .app
        .get(&format!("/api/v1/buyer/coupon-batches?product_id={}", s.general), Some(&s.buyer_key))
        .await
        .expect(200);
    assert!(none["items"].as_array().unwrap().is_empty());
    s.app
        .get(&format!("/api/v1/buyer/coupon-batches?product_id={}", s.draft), Some(&s.buyer_key))
        .await
        .problem(404, "not_found");
    s.app.get("/api/v1/buyer/coupon-batches", Some(&s.buyer_key)).await.problem(422, "validation_failed");

    // After the start, the later batch is claimable; after the end, expired.
    s.advance(Duration::days(1)).await;
    let c = s.claim(&s.buyer_key, &later).await.expect(201);
    assert_eq!(c["state"], "usable");
    s.advance(Duration::days(9)).await;
    s.claim(&s.buyer2_key, &later).await.problem(409, "coupon_expired");

    // The buyer's coupons by state.
    let all = s.app.get(COUPONS, Some(&s.buyer_key)).await.expect(200);
    assert_eq!(all["items"].as_array().unwrap().len(), 4);
    let expired = s.app.get(&format!("{COUPONS}?status=expired"), Some(&s.buyer_key)).await.expect(200);
    assert_eq!(expired["items"].as_array().unwrap().len(), 4, "every batch has ended: {expired}");
    let usable = s.app.get(&format!("{COUPONS}?status=usable"), Some(&s.buyer_key)).await.expect(200);
    assert!(usable["items"].as_array().unwrap().is_empty());
    let used = s.app.get(&format!("{COUPONS}?status=used"), Some(&s.buyer_key)).await.expect(200);
    assert!(used["items"].as_array().unwrap().is_empty());
    s.app.get(&format!("{COUPONS}?status=bogus"), Some(&s.buyer_key)).await.problem(422, "validation_failed");
    // Paging.
    let first = s.app.get(&format!("{COUPONS}?limit=3"), Some(&s.buyer_key)).await.expect(200);
    assert_eq!(first["items"].as_array().unwrap().len(), 3);
    let cursor = first["next_cursor"].as_str().unwrap();
    let rest = s.app.get(&format!("{COUPONS}?limit=3&cursor={cursor}"), Some(&s.buyer_key)).await.expect(200);
    assert_eq!(rest["items"].as_array().unwrap().len(), 1);
    assert!(rest["next_cursor"].is_null());
    // The other buyer sees only its own.
    let theirs = s.app.get(COUPONS, Some(&s.buyer2_key)).await.expect(200);
    assert_eq!(theirs["items"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn concurrent_claims_by_one_buyer_respect_the_per_buyer_limit() {
    let s = shop().await;
    let b = s.batch(json!({"total_count": 100, "per_buyer_limit": 2})).await;
    let claims = (0..20).map(|_| s.claim(&s.buyer_key, &b));
    let results = futures_util::future::join_all(claims).await;
    let mut created = 0;
    for r in results {
        match r.status.as_u16() {
            201 => created += 1,
            409 => assert_eq!(r.body["code"], "coupon_limit_reached", "{}", r.body),
            other => panic!("unexpected {other}: {}", r.body),
        }
    }
    assert_eq!(created, 2);
    assert_eq!(s.coupons_in_store(&b).await, 2);
    let got = s.app.get(&format!("{BATCHES}/{}", b["id"].as_str().unwrap()), Some(&s.seller_key)).await.expect(200);
    assert_eq!(got["claimed"], 2, "refused claims changed nothing");
    let mine = s.app.get(COUPONS, Some(&s.buyer_key)).await.expect(200);
    let numbers: HashSet<i64> =
        mine["items"].as_array().unwrap().iter().map(|c| c["claim_no"].as_i64().unwrap()).collect();
    assert_eq!(numbers, HashSet::from([1, 2]));
}

#[tokio::test]
async fn concurrent_claims_never_exceed_the_total() {
    let s = shop().await;
    let b = s.batch(json!({"total_count": 5, "per_buyer_limit": 5})).await;
    let mut keys = Vec::new();
    for _ in 0..10 {
        keys.push(s.app.signup("buyer").await.1);
    }
    // 10 buyers, 2 concurrent claims each, on a batch of 5.
    let claims = keys.iter().flat_map(|k| [s.claim(k, &b), s.claim(k, &b)]);
    let results = futures_util::future::join_all(claims).await;
    let mut created = 0;
    for r in results {
        match r.status.as_u16() {
            201 => created += 1,
            409 => assert_eq!(r.body["code"], "coupons_exhausted", "{}", r.body),
            other => panic!("unexpected {other}: {}", r.body),
        }
    }
    assert_eq!(created, 5);
    assert_eq!(s.coupons_in_store(&b).await, 5);
    let got = s.app.get(&format!("{BATCHES}/{}", b["id"].as_str().unwrap()), Some(&s.seller_key)).await.expect(200);
    assert_eq!(got["claimed"], 5);
}

#[tokio::test]
async fn a_claim_with_an_idempotency_key_claims_once() {
    let s = shop().await;
    let b = s.batch(json!({})).await;
    let body = json!({"batch_id": b["id"]});
    let first = s.app.post_idem(COUPONS, &s.buyer_key, "claim-1", Some(body.clone())).await.expect(201);
    let again = s.app.post_idem(COUPONS, &s.buyer_key, "claim-1", Some(body)).await.expect(201);
    assert_eq!(first["id"], again["id"]);
    assert_eq!(s.coupons_in_store(&b).await, 1);
}

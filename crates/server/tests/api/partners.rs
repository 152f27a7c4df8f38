//! Partners (客户服务商, issue 14): certification, customer bindings (one
//! active partner per buyer, also when acceptances race), exclusive
//! discounts (专属优惠) with the operator's decision, customer demands the
//! seller answers, and the partner share setting.

use crate::helpers::*;
use serde_json::{Value, json};

const INVITATIONS: &str = "/api/v1/partner/invitations";
const CUSTOMERS: &str = "/api/v1/partner/customers";
const DISCOUNTS: &str = "/api/v1/partner/exclusive-discounts";
const DEMANDS: &str = "/api/v1/partner/demands";
const BUYER_PARTNER: &str = "/api/v1/buyer/partner";

/// A buyer signed up with a known email: (id, key, email).
async fn buyer(app: &TestApp) -> (String, String, String) {
    let email = format!("buyer-{}@example.com", uuid::Uuid::new_v4().simple());
    let body = app
        .post(
            "/api/v1/accounts",
            None,
            json!({"role": "buyer", "name": "Customer Co", "email": email, "password": "correct horse battery"}),
        )
        .await
        .expect(201);
    (body["id"].as_str().unwrap().to_string(), body["api_key"].as_str().unwrap().to_string(), email)
}

/// Onboards and certifies a partner through the partner endpoints and the
/// operators' review; returns (id, key).
async fn certified_partner(app: &TestApp, op: &str) -> (String, String) {
    let (id, key) = app.signup("partner").await;
    certify(app, &id, &key, op).await;
    (id, key)
}

async fn certify(app: &TestApp, id: &str, key: &str, op: &str) {
    app.put("/api/v1/partner/onboarding", Some(key), onboarding_form()).await.expect(200);
    app.post("/api/v1/partner/onboarding/submit", Some(key), json!({})).await.expect(200);
    app.post(&format!("/api/v1/operator/onboarding/{id}/approve"), Some(op), json!({})).await.expect(200);
    app.put("/api/v1/partner/certification", Some(key), certification_form()).await.expect(200);
    app.post("/api/v1/partner/certification/submit", Some(key), json!({})).await.expect(200);
    app.post(&format!("/api/v1/operator/certification/{id}/approve"), Some(op), json!({})).await.expect(200);
}

/// Invites the buyer and has it accept; returns the binding.
async fn bind(app: &TestApp, partner_key: &str, buyer_email: &str, buyer_key: &str) -> Value {
    let inv = app.post(INVITATIONS, Some(partner_key), json!({"buyer_email": buyer_email})).await.expect(201);
    let id = inv["id"].as_str().unwrap();
    app.post(&format!("/api/v1/buyer/partner-invitations/{id}/accept"), Some(buyer_key), json!({})).await.expect(200)
}

fn ids(page: &Value) -> Vec<String> {
    page["items"].as_array().unwrap().iter().map(|i| i["id"].as_str().unwrap().to_string()).collect()
}

#[tokio::test]
async fn a_partner_is_onboarded_and_certified_before_it_works_with_customers() {
    let app = spawn_app().await;
    let op = app.operator().await;
    let (id, key) = app.signup("partner").await;
    let (_, _, email) = buyer(&app).await;

    // Nothing before certification.
    let invite = json!({"buyer_email": email});
    let p = app.post(INVITATIONS, Some(&key), invite.clone()).await.problem(409, "partner_not_certified");
    assert!(p["detail"].as_str().unwrap().contains("onboarding"), "{p}");
    let discount = json!({"buyer_id": "acc_0", "product_id": "prd_0", "percent_off_bp": 0, "reason": "r", "valid_until": "2099-01-01T00:00:00Z"});
    app.post(DISCOUNTS, Some(&key), discount).await.problem(409, "partner_not_certified");
    let demand = json!({"buyer_id": "acc_0", "product_id": "prd_0", "needs": "more seats"});
    app.post(DEMANDS, Some(&key), demand).await.problem(409, "partner_not_certified");

    // The seller flow's applications and the operators' queues, with the role shown.
    app.get("/api/v1/partner/onboarding", Some(&key)).await.problem(404, "not_found");
    app.put("/api/v1/partner/onboarding", Some(&key), onboarding_form()).await.expect(200);
    let submitted = app.post("/api/v1/partner/onboarding/submit", Some(&key), json!({})).await.expect(200);
    assert_eq!(submitted["status"], "submitted");
    let queue = app.get("/api/v1/operator/onboarding?status=submitted", Some(&op)).await.expect(200);
    let mine = queue["items"].as_array().unwrap().iter().find(|i| i["seller_id"] == id.as_str()).expect("queued");
    assert_eq!(mine["role"], "partner");
    app.post(&format!("/api/v1/operator/onboarding/{id}/approve"), Some(&op), json!({})).await.expect(200);
    // Onboarded but not certified: still refused.
    let p = app.post(INVITATIONS, Some(&key), invite.clone()).await.problem(409, "partner_not_certified");
    assert!(p["detail"].as_str().unwrap().contains("certification"), "{p}");

    app.put("/api/v1/partner/certification", Some(&key), certification_form()).await.expect(200);
    app.post("/api/v1/partner/certification/submit", Some(&key), json!({})).await.expect(200);
    let review = app.get(&format!("/api/v1/operator/certification/{id}"), Some(&op)).await.expect(200);
    assert_eq!(review["role"], "partner");
    let rejected = app
        .post(
            &format!("/api/v1/operator/certification/{id}/reject"),
            Some(&op),
            json!({"reason": "bank account unreadable"}),
        )
        .await
        .expect(200);
    assert_eq!(rejected["status"], "rejected");
    app.post(INVITATIONS, Some(&key), invite.clone()).await.problem(409, "partner_not_certified");
    app.put("/api/v1/partner/certification", Some(&key), certification_form()).await.expect(200);
    app.post("/api/v1/partner/certification/submit", Some(&key), json!({})).await.expect(200);
    app.post(&format!("/api/v1/operator/certification/{id}/approve"), Some(&op), json!({})).await.expect(200);
    let cert = app.get("/api/v1/partner/certification", Some(&key)).await.expect(200);
    assert_eq!(cert["status"], "approved");
    app.post(INVITATIONS, Some(&key), invite).await.expect(201);

    // Sellers' accounts keep their role in the queue; roles are guarded.
    let (seller_key_id, seller_key) = app.signup("seller").await;
    app.put("/api/v1/seller/onboarding", Some(&seller_key), onboarding_form()).await.expect(200);
    app.post("/api/v1/seller/onboarding/submit", Some(&seller_key), json!({})).await.expect(200);
    let queue = app.get("/api/v1/operator/onboarding?status=submitted", Some(&op)).await.expect(200);
    let theirs = queue["items"].as_array().unwrap().iter().find(|i| i["seller_id"] == seller_key_id.as_str()).unwrap();
    assert_eq!(theirs["role"], "seller");
    app.get("/api/v1/partner/onboarding", Some(&seller_key)).await.problem(403, "forbidden");
    app.get(CUSTOMERS, Some(&seller_key)).await.problem(403, "forbidden");
}

#[tokio::test]
async fn invite_accept_list_and_end_with_an_end_time() {
    let app = spawn_app().await;
    let op = app.operator().await;
    let (partner_id, pkey) = certified_partner(&app, &op).await;
    let (buyer_id, bkey, email) = buyer(&app).await;

    // Bad input and unknown buyers change nothing.
    let p = app
        .post(INVITATIONS, Some(&pkey), json!({"buyer_email": "not an email"}))
        .await
        .problem(422, "validation_failed");
    assert_eq!(Res::fields(&p), ["buyer_email"]);
    let p = app
        .post(INVITATIONS, Some(&pkey), json!({"buyer_email": "nobody@example.com"}))
        .await
        .problem(404, "not_found");
    assert_eq!(Res::fields(&p), ["buyer_email"]);
    let (_, seller_key) = app.signup("seller").await;
    let seller_email =
        app.get("/api/v1/me", Some(&seller_key)).await.expect(200)["email"].as_str().unwrap().to_string();
    app.post(INVITATIONS, Some(&pkey), json!({"buyer_email": seller_email})).await.problem(404, "not_found");
    assert!(ids(&app.get(CUSTOMERS, Some(&pkey)).await.expect(200)).is_empty());

    let inv = app
        .post(INVITATIONS, Some(&pkey), json!({"buyer_email": email.to_uppercase(), "message": "We resell Cloud DB"}))
        .await
        .expect(201);
    assert_eq!(inv["status"], "invited");
    assert_eq!(inv["buyer_id"], buyer_id.as_str());
    assert_eq!(inv["partner_id"], partner_id.as_str());
    assert_eq!(inv["buyer_email"], email.as_str());
    let inv_id = inv["id"].as_str().unwrap().to_string();
    assert!(inv_id.starts_with("pbd_"));
    app.post(INVITATIONS, Some(&pkey), json!({"buyer_email": email})).await.problem(409, "already_invited");

    let mine = app.get(BUYER_PARTNER, Some(&bkey)).await.expect(200);
    assert!(mine["active"].is_null());
    assert_eq!(mine["invitations"][0]["id"], inv_id.as_str());
    assert_eq!(mine["invitations"][0]["message"], "We resell Cloud DB");
    assert_eq!(mine["invitations"][0]["partner_name"], "Test partner");

    let active = app
        .post(&format!("/api/v1/buyer/partner-invitations/{inv_id}/accept"), Some(&bkey), json!({}))
        .await
        .expect(200);
    assert_eq!(active["status"], "active");
    assert!(active["accepted_at"].is_string());
    app.post(INVITATIONS, Some(&pkey), json!({"buyer_email": email})).await.problem(409, "already_bound");
    app.post(&format!("/api/v1/buyer/partner-invitations/{inv_id}/accept"), Some(&bkey), json!({}))
        .await
        .problem(409, "out_of_order");

    let list = app.get(&format!("{CUSTOMERS}?status=active"), Some(&pkey)).await.expect(200);
    assert_eq!(ids(&list), [inv_id.as_str()]);
    assert_eq!(list["items"][0]["buyer_name"], "Customer Co");
    assert_eq!(list["items"][0]["buyer_email"], email.as_str());
    assert!(ids(&app.get(&format!("{CUSTOMERS}?status=invited"), Some(&pkey)).await.expect(200)).is_empty());
    app.get(&format!("{CUSTOMERS}?status=bogus"), Some(&pkey)).await.problem(422, "validation_failed");
    let mine = app.get(BUYER_PARTNER, Some(&bkey)).await.expect(200);
    assert_eq!(mine["active"]["id"], inv_id.as_str());
    assert_eq!(mine["invitations"], json!([]));

    // The partner ends it, with a reason; a too long one changes nothing.
    let end = format!("{CUSTOMERS}/{inv_id}/end");
    app.post(&end, Some(&pkey), json!({"reason": "x".repeat(501)})).await.problem(422, "validation_failed");
    let ended = app.post(&end, Some(&pkey), json!({"reason": "contract over"})).await.expect(200);
    assert_eq!(ended["status"], "ended");
    assert_eq!(ended["end_reason"], "contract over");
    let (accepted_at, ended_at) = (ended["accepted_at"].as_str().unwrap(), ended["ended_at"].as_str().unwrap());
    assert!(ended_at >= accepted_at, "{ended}");
    app.post(&end, Some(&pkey), json!({})).await.problem(409, "out_of_order");
    assert!(app.get(BUYER_PARTNER, Some(&bkey)).await.expect(200)["active"].is_null());
    app.post("/api/v1/buyer/partner/end", Some(&bkey), json!({})).await.problem(409, "not_bound");

    // Bound again; this time the buyer ends it (no body at all).
    let again = bind(&app, &pkey, &email, &bkey).await;
    let res = app.call(reqwest::Method::POST, "/api/v1/buyer/partner/end", Some(&bkey), None).await;
    let ended = res.expect(200);
    assert_eq!(ended["id"], again["id"]);
    assert_eq!(ended["status"], "ended");
    assert!(ended["ended_at"].is_string() && ended["end_reason"].is_null());
    let all = app.get(&format!("{CUSTOMERS}?status=ended&limit=1"), Some(&pkey)).await.expect(200);
    assert_eq!(ids(&all), [again["id"].as_str().unwrap().to_string()]);
    let cursor = all["next_cursor"].as_str().unwrap();
    let next = app.get(&format!("{CUSTOMERS}?status=ended&limit=1&cursor={cursor}"), Some(&pkey)).await.expect(200);
    assert_eq!(ids(&next), [inv_id]);
    assert!(next["next_cursor"].is_null());
}

#[tokio::test]
async fn a_buyer_has_one_active_partner_also_when_acceptances_race() {
    let app = spawn_app().await;
    let op = app.operator().await;
    let (_, first) = certified_partner(&app, &op).await;
    let (_, second) = certified_partner(&app, &op).await;

    for _ in 0..3 {
        let (_, bkey, email) = buyer(&app).await;
        let a = app.post(INVITATIONS, Some(&first), json!({"buyer_email": email})).await.expect(201);
        let b = app.post(INVITATIONS, Some(&second), json!({"buyer_email": email})).await.expect(201);
        let accept = |id: &Value| format!("/api/v1/buyer/partner-invitations/{}/accept", id.as_str().unwrap());
        let (pa, pb) = (accept(&a["id"]), accept(&b["id"]));
        let (ra, rb) = tokio::join!(app.post(&pa, Some(&bkey), json!({})), app.post(&pb, Some(&bkey), json!({})));
        let mut statuses = [ra.status.as_u16(), rb.status.as_u16()];
        statuses.sort();
        assert_eq!(statuses, [200, 409], "{} / {}", ra.body, rb.body);
        let loser = if ra.status.as_u16() == 409 { ra } else { rb };
        loser.problem(409, "already_bound");
        let mine = app.get(BUYER_PARTNER, Some(&bkey)).await.expect(200);
        assert_eq!(mine["active"]["status"], "active");
        // The loser's invitation is still open, and still refused.
        assert_eq!(mine["invitations"].as_array().unwrap().len(), 1);
        let open = mine["invitations"][0]["id"].clone();
        app.post(&accept(&open), Some(&bkey), json!({})).await.problem(409, "already_bound");
        // Once the binding ends, the other partner's invitation can be accepted.
        app.post("/api/v1/buyer/partner/end", Some(&bkey), json!({"reason": "switching"})).await.expect(200);
        app.post(&accept(&open), Some(&bkey), json!({})).await.expect(200);
    }
}

#[tokio::test]
async fn decline_withdraw_and_other_tenants_resources() {
    let app = spawn_app().await;
    let op = app.operator().await;
    let (_, pkey) = certified_partner(&app, &op).await;
    let (_, other_partner) = certified_partner(&app, &op).await;
    let (buyer_id, bkey, email) = buyer(&app).await;
    let (_, other_buyer, _) = buyer(&app).await;

    let inv = app.post(INVITATIONS, Some(&pkey), json!({"buyer_email": email})).await.expect(201);
    let id = inv["id"].as_str().unwrap();
    // Another buyer, another partner, a malformed id: 404.
    app.post(&format!("/api/v1/buyer/partner-invitations/{id}/accept"), Some(&other_buyer), json!({}))
        .await
        .problem(404, "not_found");
    app.post(&format!("{INVITATIONS}/{id}/withdraw"), Some(&other_partner), json!({})).await.problem(404, "not_found");
    app.post(&format!("{INVITATIONS}/pbd_nope/withdraw"), Some(&pkey), json!({})).await.problem(404, "not_found");
    assert!(ids(&app.get(CUSTOMERS, Some(&other_partner)).await.expect(200)).is_empty());

    let declined =
        app.post(&format!("/api/v1/buyer/partner-invitations/{id}/decline"), Some(&bkey), json!({})).await.expect(200);
    assert_eq!(declined["status"], "declined");
    app.post(&format!("/api/v1/buyer/partner-invitations/{id}/accept"), Some(&bkey), json!({}))
        .await
        .problem(409, "out_of_order");
    app.post(&format!("{INVITATIONS}/{id}/withdraw"), Some(&pkey), json!({})).await.problem(409, "out_of_order");

    // A declined invitation does not block a new one; this one is withdrawn.
    let inv = app.post(INVITATIONS, Some(&pkey), json!({"buyer_email": email})).await.expect(201);
    let id = inv["id"].as_str().unwrap();
    let withdrawn = app.call(reqwest::Method::POST, &format!("{INVITATIONS}/{id}/withdraw"), Some(&pkey), None).await;
    assert_eq!(withdrawn.expect(200)["status"], "withdrawn");
    app.post(&format!("/api/v1/buyer/partner-invitations/{id}/accept"), Some(&bkey), json!({}))
        .await
        .problem(409, "out_of_order");
    let mine = app.get(BUYER_PARTNER, Some(&bkey)).await.expect(200);
    assert!(mine["active"].is_null() && mine["invitations"] == json!([]), "{mine}");

    // Bound: the other partner cannot end it nor see the customer's orders.
    let binding = bind(&app, &pkey, &email, &bkey).await;
    let bid = binding["id"].as_str().unwrap();
    app.post(&format!("{CUSTOMERS}/{bid}/end"), Some(&other_partner), json!({})).await.problem(404, "not_found");
    app.get(&format!("{CUSTOMERS}/{buyer_id}/orders"), Some(&other_partner)).await.problem(404, "not_found");
    app.get(&format!("{CUSTOMERS}/{buyer_id}/orders"), Some(&pkey)).await.expect(200);
    app.get(&format!("{CUSTOMERS}/acc_nope/orders"), Some(&pkey)).await.problem(404, "not_found");
    // Buyers cannot call partner endpoints, nor partners buyer ones.
    app.get(CUSTOMERS, Some(&bkey)).await.problem(403, "forbidden");
    app.get(BUYER_PARTNER, Some(&pkey)).await.problem(403, "forbidden");
}

/// A seller with a listed joint-operation product and a general-cooperation
/// one, a certified partner and a bound customer.
struct Channel {
    app: TestApp,
    op: String,
    seller_key: String,
    joint: String,
    joint_sku: String,
    general: String,
    partner_key: String,
    buyer_id: String,
    buyer_key: String,
}

async fn channel(app: TestApp) -> Channel {
    let (_, seller_key, op) = app.approved_seller().await;
    let joint = app.listed_product(&seller_key, &op, product_form("Joint DB"), &[period_sku("std")]).await;
    let mut general_form = product_form("General DB");
    general_form["cooperation"] = json!("general");
    let general = app.listed_product(&seller_key, &op, general_form, &[period_sku("std")]).await;
    let detail = app.get(&format!("/api/v1/catalog/products/{joint}"), None).await.expect(200);
    let joint_sku = detail["skus"][0]["id"].as_str().unwrap().to_string();
    let (_, partner_key) = certified_partner(&app, &op).await;
    let (buyer_id, buyer_key, email) = buyer(&app).await;
    bind(&app, &partner_key, &email, &buyer_key).await;
    Channel { app, op, seller_key, joint, joint_sku, general, partner_key, buyer_id, buyer_key }
}

fn days(n: i64) -> String {
    (chrono::Utc::now() + chrono::Duration::days(n)).to_rfc3339()
}

impl Channel {
    fn discount(&self, percent_off_bp: i64, from_days: i64, until_days: i64) -> Value {
        json!({
            "buyer_id": self.buyer_id,
            "product_id": self.joint,
            "percent_off_bp": percent_off_bp,
            "reason": "a key account",
            "valid_from": days(from_days),
            "valid_until": days(until_days),
        })
    }

    async fn usable(&self, query: &str) -> Vec<String> {
        let list = self.app.get(&format!("/api/v1/buyer/exclusive-discounts{query}"), Some(&self.buyer_key)).await;
        list.expect(200).as_array().unwrap().iter().map(|d| d["id"].as_str().unwrap().to_string()).collect()
    }
}

#[tokio::test]
async fn exclusive_discounts_are_checked_decided_and_listed_for_the_bound_buyer() {
    let c = channel(spawn_on_test_clock().await).await;
    let (app, pkey) = (&c.app, c.partner_key.as_str());

    // Every bad input has its code, and nothing is created.
    let (stranger, _, _) = buyer(app).await;
    let cases: Vec<(Value, u16, &str, &str)> = vec![
        (
            {
                let mut d = c.discount(100, 0, 30);
                d["buyer_id"] = json!(stranger);
                d
            },
            409,
            "not_bound",
            "buyer_id",
        ),
        (
            {
                let mut d = c.discount(100, 0, 30);
                d["buyer_id"] = json!("acc_nope");
                d
            },
            409,
            "not_bound",
            "buyer_id",
        ),
        (
            {
                let mut d = c.discount(100, 0, 30);
                d["product_id"] = json!(c.general);
                d
            },
            409,
            "not_joint_operation",
            "product_id",
        ),
        (
            {
                let mut d = c.discount(100, 0, 30);
                d["product_id"] = json!("prd_0193aaaabbbbccccddddeeeeffff0000");
                d
            },
            404,
            "not_found",
            "product_id",
        ),
        (c.discount(10_001, 0, 30), 422, "validation_failed", "percent_off_bp"),
        (c.discount(-1, 0, 30), 422, "validation_failed", "percent_off_bp"),
        (c.discount(501, 0, 30), 422, "validation_failed", "percent_off_bp"),
        (c.discount(100, 10, 5), 422, "validation_failed", "valid_until"),
        (c.discount(100, -10, -1), 422, "validation_failed", "valid_until"),
        (
            {
                let mut d = c.discount(100, 0, 30);
                d["reason"] = json!(" ");
                d
            },
            422,
            "validation_failed",
            "reason",
        ),
    ];
    for (body, status, code, field) in cases {
        let p = app.post(DISCOUNTS, Some(pkey), body.clone()).await.problem(status, code);
        assert_eq!(Res::fields(&p), [field], "{body}: {p}");
    }
    let p = app.post(DISCOUNTS, Some(pkey), c.discount(501, 0, 30)).await.problem(422, "validation_failed");
    assert!(p["errors"][0]["message"].as_str().unwrap().contains("above your share of the sale"), "{p}");
    assert!(ids(&app.get(DISCOUNTS, Some(pkey)).await.expect(200)).is_empty());
    assert!(ids(&app.get("/api/v1/operator/exclusive-discounts", Some(&c.op)).await.expect(200)).is_empty());

    // Requested, then approved: the share is fixed on it.
    let mut body = c.discount(500, 0, 30);
    body.as_object_mut().unwrap().remove("valid_from");
    let d = app.post(DISCOUNTS, Some(pkey), body).await.expect(201);
    assert_eq!(d["status"], "requested");
    assert!(d["share_bp"].is_null());
    let id = d["id"].as_str().unwrap().to_string();
    assert!(id.starts_with("xdc_"));
    // One open discount per customer and product at a time.
    app.post(DISCOUNTS, Some(pkey), c.discount(0, 1, 40)).await.problem(409, "discount_exists");
    let queue = app.get("/api/v1/operator/exclusive-discounts?status=requested", Some(&c.op)).await.expect(200);
    assert_eq!(ids(&queue), [id.as_str()]);
    assert!(c.usable("").await.is_empty(), "not approved yet");
    app.post(&format!("/api/v1/operator/exclusive-discounts/{id}/approve"), Some(pkey), json!({}))
        .await
        .problem(403, "forbidden");
    let approved = app
        .post(&format!("/api/v1/operator/exclusive-discounts/{id}/approve"), Some(&c.op), json!({}))
        .await
        .expect(200);
    assert_eq!(approved["status"], "approved");
    assert_eq!(approved["share_bp"], 500);
    assert!(approved["decided_by"].is_string() && approved["decided_at"].is_string());
    app.post(&format!("/api/v1/operator/exclusive-discounts/{id}/approve"), Some(&c.op), json!({}))
        .await
        .problem(409, "out_of_order");
    assert_eq!(c.usable("").await, [id.as_str()]);
    assert_eq!(c.usable(&format!("?product_id={}", c.joint)).await, [id.as_str()]);
    assert!(c.usable(&format!("?product_id={}", c.general)).await.is_empty());

    // A later one is rejected with a note (required) and never listed.
    let later = app.post(DISCOUNTS, Some(pkey), c.discount(0, 31, 40)).await.expect(201);
    let later_id = later["id"].as_str().unwrap();
    let reject = format!("/api/v1/operator/exclusive-discounts/{later_id}/reject");
    app.post(&reject, Some(&c.op), json!({"note": ""})).await.problem(422, "validation_failed");
    let rejected = app.post(&reject, Some(&c.op), json!({"note": "not a key account"})).await.expect(200);
    assert_eq!(rejected["status"], "rejected");
    assert_eq!(rejected["decision_note"], "not a key account");
    assert!(rejected["share_bp"].is_null());
    app.post(&format!("{DISCOUNTS}/{later_id}/withdraw"), Some(pkey), json!({})).await.problem(409, "out_of_order");

    // The share setting moved below a request: approving it is refused.
    let third = app.post(DISCOUNTS, Some(pkey), c.discount(400, 41, 50)).await.expect(201);
    let third_id = third["id"].as_str().unwrap();
    app.put("/api/v1/operator/partner-share", Some(&c.op), json!({"share_bp": 300})).await.expect(200);
    app.post(&format!("/api/v1/operator/exclusive-discounts/{third_id}/approve"), Some(&c.op), json!({}))
        .await
        .problem(409, "discount_unfunded");
    app.post(DISCOUNTS, Some(pkey), c.discount(301, 51, 60)).await.problem(422, "validation_failed");
    let withdrawn = app.post(&format!("{DISCOUNTS}/{third_id}/withdraw"), Some(pkey), json!({})).await.expect(200);
    assert_eq!(withdrawn["status"], "withdrawn");
    let (_, other_partner) = certified_partner(app, &c.op).await;
    app.post(&format!("{DISCOUNTS}/{id}/withdraw"), Some(&other_partner), json!({})).await.problem(404, "not_found");
    assert!(ids(&app.get(DISCOUNTS, Some(&other_partner)).await.expect(200)).is_empty());
    let all = app.get(DISCOUNTS, Some(pkey)).await.expect(200);
    assert_eq!(all["items"].as_array().unwrap().len(), 3);
    let approved_only = app.get(&format!("{DISCOUNTS}?status=approved"), Some(pkey)).await.expect(200);
    assert_eq!(ids(&approved_only), [id.as_str()]);

    // Expired: not listed.
    app.post("/api/v1/operator/test-clock", Some(&c.op), json!({"advance_secs": 31 * 86_400})).await.expect(200);
    assert!(c.usable("").await.is_empty(), "expired");
}

#[tokio::test]
async fn an_approved_discount_is_not_listed_once_the_buyer_is_unbound() {
    let c = channel(spawn_app().await).await;
    let d = c.app.post(DISCOUNTS, Some(&c.partner_key), c.discount(0, 0, 30)).await.expect(201);
    let id = d["id"].as_str().unwrap().to_string();
    // Attribution only (0%) is a valid discount.
    c.app.post(&format!("/api/v1/operator/exclusive-discounts/{id}/approve"), Some(&c.op), json!({})).await.expect(200);
    assert_eq!(c.usable("").await, [id]);
    c.app.post("/api/v1/buyer/partner/end", Some(&c.buyer_key), json!({})).await.expect(200);
    assert!(c.usable("").await.is_empty());
    // Nor can a new one be asked for.
    c.app.post(DISCOUNTS, Some(&c.partner_key), c.discount(0, 31, 40)).await.problem(409, "not_bound");
}

#[tokio::test]
async fn demands_go_to_the_products_seller_who_accepts_or_declines() {
    let c = channel(spawn_app().await).await;
    let (app, pkey) = (&c.app, c.partner_key.as_str());
    let demand = |needs: &str| json!({"buyer_id": c.buyer_id, "product_id": c.joint, "needs": needs, "target_price_minor": 500_000, "currency": "CNY"});

    let (stranger, _, _) = buyer(app).await;
    let cases: Vec<(Value, u16, &str, Vec<&str>)> = vec![
        (
            {
                let mut d = demand("x");
                d["buyer_id"] = json!(stranger);
                d
            },
            409,
            "not_bound",
            vec!["buyer_id"],
        ),
        (
            {
                let mut d = demand("x");
                d["product_id"] = json!(c.general);
                d
            },
            409,
            "not_joint_operation",
            vec!["product_id"],
        ),
        (
            json!({"buyer_id": c.buyer_id, "product_id": c.joint, "needs": "", "target_price_minor": 0, "currency": "ZZZ"}),
            422,
            "validation_failed",
            vec!["needs", "target_price_minor", "currency"],
        ),
    ];
    for (body, status, code, fields) in cases {
        let p = app.post(DEMANDS, Some(pkey), body.clone()).await.problem(status, code);
        assert_eq!(Res::fields(&p), fields, "{body}: {p}");
    }
    assert!(ids(&app.get(DEMANDS, Some(pkey)).await.expect(200)).is_empty());
    assert!(ids(&app.get("/api/v1/seller/demands", Some(&c.seller_key)).await.expect(200)).is_empty());

    let first = app.post(DEMANDS, Some(pkey), demand("200 seats with SSO")).await.expect(201);
    assert_eq!(first["status"], "submitted");
    let first_id = first["id"].as_str().unwrap().to_string();
    assert!(first_id.starts_with("dmd_"));
    let second = app
        .post(DEMANDS, Some(pkey), json!({"buyer_id": c.buyer_id, "product_id": c.joint, "needs": "a yearly plan"}))
        .await
        .expect(201);
    assert_eq!(second["currency"], "CNY", "the product's currency");
    assert!(second["target_price_minor"].is_null());
    let second_id = second["id"].as_str().unwrap().to_string();

    let inbox = app.get("/api/v1/seller/demands?status=submitted", Some(&c.seller_key)).await.expect(200);
    assert_eq!(ids(&inbox), [second_id.clone(), first_id.clone()]);
    let one = app.get(&format!("/api/v1/seller/demands/{first_id}"), Some(&c.seller_key)).await.expect(200);
    assert_eq!(one["needs"], "200 seats with SSO");
    assert_eq!(one["buyer_id"], c.buyer_id.as_str());

    // Another seller sees none of it.
    let (_, other_seller, _) = app.approved_seller().await;
    assert!(ids(&app.get("/api/v1/seller/demands", Some(&other_seller)).await.expect(200)).is_empty());
    app.get(&format!("/api/v1/seller/demands/{first_id}"), Some(&other_seller)).await.problem(404, "not_found");
    app.post(&format!("/api/v1/seller/demands/{first_id}/accept"), Some(&other_seller), json!({}))
        .await
        .problem(404, "not_found");
    app.get("/api/v1/seller/demands/dmd_nope", Some(&c.seller_key)).await.problem(404, "not_found");

    let accepted = app
        .post(&format!("/api/v1/seller/demands/{first_id}/accept"), Some(&c.seller_key), json!({}))
        .await
        .expect(200);
    assert_eq!(accepted["status"], "accepted");
    assert!(accepted["decided_at"].is_string());
    app.post(&format!("/api/v1/seller/demands/{first_id}/accept"), Some(&c.seller_key), json!({}))
        .await
        .problem(409, "out_of_order");
    let decline = format!("/api/v1/seller/demands/{second_id}/decline");
    app.post(&decline, Some(&c.seller_key), json!({"note": " "})).await.problem(422, "validation_failed");
    let declined = app.post(&decline, Some(&c.seller_key), json!({"note": "no yearly plans"})).await.expect(200);
    assert_eq!(declined["status"], "declined");
    assert_eq!(declined["seller_note"], "no yearly plans");
    app.post(&format!("/api/v1/seller/demands/{first_id}/decline"), Some(&c.seller_key), json!({"note": "n"}))
        .await
        .problem(409, "out_of_order");

    let mine = app.get(DEMANDS, Some(pkey)).await.expect(200);
    let statuses: Vec<&str> = mine["items"].as_array().unwrap().iter().map(|d| d["status"].as_str().unwrap()).collect();
    assert_eq!(statuses, ["declined", "accepted"]);
    let accepted_only = app.get(&format!("{DEMANDS}?status=accepted"), Some(pkey)).await.expect(200);
    assert_eq!(ids(&accepted_only), [first_id]);
}

#[tokio::test]
async fn the_partner_sees_orders_placed_while_the_customer_was_bound() {
    let c = channel(spawn_app().await).await;
    let app = &c.app;
    let (_, bkey, email) = buyer(app).await;
    let (buyer_id, _) = (c.buyer_id.clone(), ());
    let order = |key: &str| {
        let key = key.to_string();
        let sku = c.joint_sku.clone();
        async move {
            app.post("/api/v1/buyer/orders", Some(&key), json!({"sku_id": sku, "period": "month"})).await.expect(201)
        }
    };
    // The channel's buyer is bound: its order shows.
    let during = order(&c.buyer_key).await;
    // A second buyer: an order before binding, one while bound, one after.
    let before = order(&bkey).await;
    let binding = bind(app, &c.partner_key, &email, &bkey).await;
    let other_id = binding["buyer_id"].as_str().unwrap().to_string();
    let bound = order(&bkey).await;
    app.post("/api/v1/buyer/partner/end", Some(&bkey), json!({})).await.expect(200);
    let after = order(&bkey).await;
    assert_ne!(before["id"], after["id"]);

    let seen = app.get(&format!("{CUSTOMERS}/{other_id}/orders"), Some(&c.partner_key)).await.expect(200);
    assert_eq!(ids(&seen), [bound["id"].as_str().unwrap().to_string()]);
    assert_eq!(seen["items"][0]["lines"][0]["product_id"], c.joint.as_str());
    let seen = app.get(&format!("{CUSTOMERS}/{buyer_id}/orders?limit=1"), Some(&c.partner_key)).await.expect(200);
    assert_eq!(ids(&seen), [during["id"].as_str().unwrap().to_string()]);
    assert!(seen["next_cursor"].is_null());
}

#[tokio::test]
async fn operators_set_the_partner_share() {
    let app = spawn_app().await;
    let op = app.operator().await;
    let share = "/api/v1/operator/partner-share";
    assert_eq!(app.get(share, Some(&op)).await.expect(200)["share_bp"], 500);
    for bad in [json!({"share_bp": 10_001}), json!({"share_bp": -1})] {
        let p = app.put(share, Some(&op), bad).await.problem(422, "validation_failed");
        assert_eq!(Res::fields(&p), ["share_bp"]);
    }
    assert_eq!(app.get(share, Some(&op)).await.expect(200)["share_bp"], 500);
    assert_eq!(app.put(share, Some(&op), json!({"share_bp": 800})).await.expect(200)["share_bp"], 800);
    assert_eq!(app.get(share, Some(&op)).await.expect(200)["share_bp"], 800);
    assert_eq!(app.put(share, Some(&op), json!({"share_bp": 0})).await.expect(200)["share_bp"], 0);
    let (_, pkey) = app.signup("partner").await;
    app.get(share, Some(&pkey)).await.problem(403, "forbidden");
    app.put(share, Some(&pkey), json!({"share_bp": 10_000})).await.problem(403, "forbidden");
}

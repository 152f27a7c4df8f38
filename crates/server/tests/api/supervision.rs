//! Service supervision (服务监管) end to end on the test clock: a manual
//! service from requirements to acceptance, offline goods that no endpoint
//! call ever refunds, rejection, appeals decided both ways, refunds per
//! state, attachments kept private, and every out-of-order step refused.

use crate::helpers::{Res, TestApp, period_sku, product_form, spawn_on_test_clock, tiny_png};
use mercato_domain::delivery::DeliveredBy;
use mercato_store::repo::supervisions as supervision_repo;
use reqwest::Method;
use serde_json::{Value, json};

pub const PDF: &[u8] = b"%PDF-1.4\n% delivery acceptance report\n";
const PRICE: i64 = 50_000;

pub struct Market {
    pub app: TestApp,
    pub op: String,
    pub seller_key: String,
    pub buyer_key: String,
}

pub fn one_time_sku(code: &str) -> Value {
    json!({"sku_code": code, "name": "Once", "charging_mode": "one_time",
        "prices": {"one_time_minor": PRICE}, "currency": "CNY"})
}

/// An approved seller and a buyer holding 5 x PRICE, on the test clock.
pub async fn market() -> Market {
    let app = spawn_on_test_clock().await;
    let (_, seller_key, op) = app.approved_seller().await;
    let (buyer_id, buyer_key) = app.signup("buyer").await;
    app.credit_wallet(&op, &buyer_id, 5 * PRICE, "CNY").await;
    Market { app, op, seller_key, buyer_key }
}

impl Market {
    /// A listed product of `kind` (with the shared reference seller as its
    /// endpoint when `endpoint`); returns its first SKU's id.
    pub async fn product(&self, kind: &str, endpoint: Option<String>, sku: Value) -> String {
        let mut form = product_form(&format!("A {kind}"));
        form["type"] = json!(kind);
        match endpoint {
            Some(url) => form["endpoint"]["url"] = json!(url),
            None => {
                form.as_object_mut().unwrap().remove("endpoint");
            }
        }
        let id = self.app.listed_product(&self.seller_key, &self.op, form, &[sku]).await;
        let detail = self.app.get(&format!("/api/v1/catalog/products/{id}"), None).await.expect(200);
        detail["skus"][0]["id"].as_str().unwrap().to_string()
    }

    /// Buys and pays `sku_id` once; returns the paid order.
    pub async fn buy(&self, sku_id: &str, extra: Value) -> Value {
        let mut body = json!({"sku_id": sku_id});
        body.as_object_mut().unwrap().extend(extra.as_object().cloned().unwrap_or_default());
        let order = self.app.post("/api/v1/buyer/orders", Some(&self.buyer_key), body).await.expect(201);
        let id = order["id"].as_str().unwrap();
        self.app.post(&format!("/api/v1/buyer/orders/{id}/pay"), Some(&self.buyer_key), json!({})).await.expect(200)
    }

    /// The buyer's supervision of `order_id`.
    pub async fn supervision_of(&self, order_id: &str) -> Value {
        let page = self.app.get("/api/v1/buyer/supervisions", Some(&self.buyer_key)).await.expect(200);
        page["items"].as_array().unwrap().iter().find(|s| s["order_id"] == order_id).cloned().expect("a supervision")
    }

    pub async fn detail(&self, role: &str, key: &str, id: &str) -> Value {
        self.app.get(&format!("/api/v1/{role}/supervisions/{id}"), Some(key)).await.expect(200)
    }

    pub async fn step(&self, role: &str, key: &str, id: &str, action: &str, body: Value) -> Res {
        self.app.post(&format!("/api/v1/{role}/supervisions/{id}/{action}"), Some(key), body).await
    }

    pub async fn attach(&self, role: &str, key: &str, id: &str, content_type: &str, bytes: &[u8]) -> String {
        let path = format!("/api/v1/{role}/supervisions/{id}/attachments");
        let a = self.app.send_bytes(Method::POST, &path, Some(key), content_type, bytes.to_vec()).await.expect(200);
        a["id"].as_str().unwrap().to_string()
    }

    pub async fn order_status(&self, order_id: &str) -> Value {
        self.app.get(&format!("/api/v1/buyer/orders/{order_id}"), Some(&self.buyer_key)).await.expect(200)["status"]
            .clone()
    }

    pub async fn wallet(&self) -> i64 {
        self.app.wallet_available(&self.buyer_key, "CNY").await
    }

    pub async fn advance_secs(&self, secs: i64) {
        self.app.post("/api/v1/operator/test-clock", Some(&self.op), json!({"advance_secs": secs})).await.expect(200);
    }

    pub async fn run_jobs(&self) -> usize {
        self.app.worker("worker-a").run_due(10).await.unwrap()
    }

    /// The seller delivers: starts, attaches a report, completes.
    pub async fn deliver(&self, id: &str) {
        self.step("seller", &self.seller_key, id, "start-delivery", json!({})).await.expect(200);
        self.complete(id).await;
    }

    pub async fn complete(&self, id: &str) -> Value {
        let report = self.attach("seller", &self.seller_key, id, "application/pdf", PDF).await;
        self.step(
            "seller",
            &self.seller_key,
            id,
            "complete-delivery",
            json!({"note": "installed and configured", "attachments": [report]}),
        )
        .await
        .expect(200)
    }

    pub async fn notifications(&self, key: &str) -> Vec<String> {
        let page = self.app.get("/api/v1/notifications?limit=100", Some(key)).await.expect(200);
        page["items"].as_array().unwrap().iter().map(|n| n["kind"].as_str().unwrap().to_string()).collect()
    }
}

fn actions(s: &Value) -> Vec<&str> {
    s["actions"].as_array().unwrap().iter().map(|a| a.as_str().unwrap()).collect()
}

#[tokio::test]
async fn a_manual_service_goes_from_requirements_to_acceptance() {
    let m = market().await;
    let sku = m.product("manual_service", None, one_time_sku("setup")).await;
    let order = m.buy(&sku, json!({})).await;
    let order_id = order["id"].as_str().unwrap();
    // In progress (处理中) until acceptance; no SaaS call was queued.
    assert_eq!(order["status"], "fulfilling");
    assert_eq!(m.run_jobs().await, 0);
    let s = m.supervision_of(order_id).await;
    let id = s["id"].as_str().unwrap().to_string();
    assert_eq!((s["mode"].as_str(), s["status"].as_str()), (Some("supervised_manual"), Some("awaiting_requirements")));
    assert_eq!(actions(&s), ["submit_requirements"]);
    assert_eq!(s["refund"], "buyer");
    let sub = m.app.get("/api/v1/buyer/subscriptions", Some(&m.buyer_key)).await.expect(200);
    assert_eq!(sub["items"][0]["delivery_mode"], "supervised_manual");
    assert_eq!(sub["items"][0]["status"], "provisioning");

    // Out of order: nothing changes, and the 409 names the state.
    let p = m.step("seller", &m.seller_key, &id, "start-delivery", json!({})).await.problem(409, "out_of_order");
    assert!(p["detail"].as_str().unwrap().contains("awaiting_requirements"), "{p}");
    m.step("buyer", &m.buyer_key, &id, "accept", json!({})).await.problem(409, "out_of_order");
    m.step("buyer", &m.buyer_key, &id, "submit-requirements", json!({})).await.problem(422, "validation_failed");

    // Requirements with a document.
    let doc = m.attach("buyer", &m.buyer_key, &id, "application/pdf", PDF).await;
    let d = m
        .step("buyer", &m.buyer_key, &id, "submit-requirements", json!({"note": "3 servers", "attachments": [doc]}))
        .await
        .expect(200);
    assert_eq!(d["supervision"]["status"], "awaiting_delivery");
    m.step("buyer", &m.buyer_key, &id, "submit-requirements", json!({"note": "again"}))
        .await
        .problem(409, "out_of_order");

    // The seller starts (once) and completes with a report (required).
    let d = m.step("seller", &m.seller_key, &id, "start-delivery", json!({})).await.expect(200);
    assert_eq!(d["supervision"]["status"], "delivering");
    assert_eq!(actions(&d["supervision"]), ["complete_delivery"]);
    m.step("seller", &m.seller_key, &id, "start-delivery", json!({})).await.problem(409, "out_of_order");
    let no_report = m.step("seller", &m.seller_key, &id, "complete-delivery", json!({"note": "done"})).await;
    assert_eq!(crate::helpers::Res::fields(&no_report.problem(422, "validation_failed")), ["attachments"]);
    // The buyer's file is not the seller's to use.
    m.step("seller", &m.seller_key, &id, "complete-delivery", json!({"note": "done", "attachments": [doc]}))
        .await
        .problem(422, "validation_failed");
    let d = m.complete(&id).await;
    assert_eq!(d["supervision"]["status"], "awaiting_acceptance");
    assert!(d["supervision"]["appeal_opens_at"].is_string());
    assert_eq!(m.order_status(order_id).await, "fulfilling");

    // The buyer accepts: the order completes and the line is settleable.
    let d = m.step("buyer", &m.buyer_key, &id, "accept", json!({"note": "works"})).await.expect(200);
    assert_eq!(d["supervision"]["status"], "completed");
    assert!(d["supervision"]["completed_at"].is_string());
    assert_eq!(d["supervision"]["refund"], "nobody");
    assert_eq!(m.order_status(order_id).await, "completed");
    let sub = m.app.get("/api/v1/buyer/subscriptions", Some(&m.buyer_key)).await.expect(200);
    assert_eq!(sub["items"][0]["status"], "active");
    let line_id = order["lines"][0]["id"].as_str().unwrap();
    let delivery = supervision_repo::delivery_of(&m.app.state.db.conn, line_id).await.unwrap().unwrap();
    assert_eq!(delivery.delivered_by, DeliveredBy::BuyerAcceptance);
    m.step("buyer", &m.buyer_key, &id, "accept", json!({})).await.problem(409, "out_of_order");

    // The timeline: who did what, in order, seen the same by both sides.
    let timeline: Vec<(String, String)> = d["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["action"].as_str().unwrap().into(), s["actor"].as_str().unwrap().into()))
        .collect();
    let expected = [
        ("opened", "marketplace"),
        ("submit_requirements", "buyer"),
        ("start_delivery", "seller"),
        ("complete_delivery", "seller"),
        ("accept", "buyer"),
    ];
    assert_eq!(timeline, expected.map(|(a, b)| (a.to_string(), b.to_string())));
    let seller_view = m.detail("seller", &m.seller_key, &id).await;
    assert_eq!(seller_view["timeline"], d["timeline"]);
    assert_eq!(d["timeline"][1]["attachments"], json!([doc]));
    assert_eq!(d["attachments"].as_array().unwrap().len(), 2);

    // Each side was told of the other's steps.
    let seller_news = m.notifications(&m.seller_key).await;
    for kind in ["supervision_opened", "supervision_submit_requirements", "supervision_accept"] {
        assert!(seller_news.contains(&kind.to_string()), "{kind}: {seller_news:?}");
    }
    let buyer_news = m.notifications(&m.buyer_key).await;
    for kind in ["supervision_start_delivery", "supervision_complete_delivery"] {
        assert!(buyer_news.contains(&kind.to_string()), "{kind}: {buyer_news:?}");
    }
    assert!(!buyer_news.contains(&"supervision_accept".to_string()), "{buyer_news:?}");
    m.app.assert_ledger_balanced().await;
}

#[tokio::test]
async fn attachments_are_private_checked_and_limited() {
    let m = market().await;
    let sku = m.product("manual_service", None, one_time_sku("setup")).await;
    let order = m.buy(&sku, json!({})).await;
    let id = m.supervision_of(order["id"].as_str().unwrap()).await["id"].as_str().unwrap().to_string();
    let doc = m.attach("buyer", &m.buyer_key, &id, "application/pdf", PDF).await;

    // Both parties and operators read it; the public media path does not serve it.
    for (role, key) in [("buyer", &m.buyer_key), ("seller", &m.seller_key), ("operator", &m.op)] {
        let res = m.app.get(&format!("/api/v1/{role}/supervisions/{id}/attachments/{doc}"), Some(key)).await;
        assert_eq!(res.status.as_u16(), 200, "{role}");
    }
    let raw = m
        .app
        .client
        .get(m.app.url(&format!("/api/v1/buyer/supervisions/{id}/attachments/{doc}")))
        .bearer_auth(&m.buyer_key)
        .send()
        .await
        .unwrap();
    assert_eq!(raw.headers()["content-type"], "application/pdf");
    assert_eq!(raw.bytes().await.unwrap().as_ref(), PDF);
    m.app.get(&format!("/media/{doc}"), None).await.problem(404, "not_found");

    // Another buyer sees neither the supervision nor its files.
    let (_, other) = m.app.signup("buyer").await;
    m.app.get(&format!("/api/v1/buyer/supervisions/{id}"), Some(&other)).await.problem(404, "not_found");
    m.app
        .get(&format!("/api/v1/buyer/supervisions/{id}/attachments/{doc}"), Some(&other))
        .await
        .problem(404, "not_found");
    let page = m.app.get("/api/v1/buyer/supervisions", Some(&other)).await.expect(200);
    assert_eq!(page["items"], json!([]));
    let (_, other_seller, _) = m.app.approved_seller().await;
    m.app.get(&format!("/api/v1/seller/supervisions/{id}"), Some(&other_seller)).await.problem(404, "not_found");
    m.step("seller", &other_seller, &id, "start-delivery", json!({})).await.problem(404, "not_found");

    // Declared type must match the bytes; only the listed types; not empty.
    let path = format!("/api/v1/buyer/supervisions/{id}/attachments");
    let k = Some(m.buyer_key.as_str());
    m.app
        .send_bytes(Method::POST, &path, k, "application/pdf", tiny_png())
        .await
        .problem(415, "unsupported_media_type");
    m.app.send_bytes(Method::POST, &path, k, "text/html", b"<p>".to_vec()).await.problem(415, "unsupported_media_type");
    m.app.send_bytes(Method::POST, &path, k, "text/plain", vec![0, 1, 2]).await.problem(415, "unsupported_media_type");
    m.app.send_bytes(Method::POST, &path, k, "image/png", vec![]).await.problem(422, "validation_failed");
    m.app.send_bytes(Method::POST, &path, k, "image/png", tiny_png()).await.expect(200);
    m.app.send_bytes(Method::POST, &path, k, "text/plain", "需求说明".as_bytes().to_vec()).await.expect(200);
    let big = vec![b'a'; m.app.state.config.upload_limit_bytes + 1];
    m.app.send_bytes(Method::POST, &path, k, "text/plain", big).await.problem(413, "payload_too_large");
    let d = m.detail("buyer", &m.buyer_key, &id).await;
    assert_eq!(d["attachments"].as_array().unwrap().len(), 3);
    // A step naming an unknown id changes nothing.
    m.step("buyer", &m.buyer_key, &id, "submit-requirements", json!({"note": "x", "attachments": ["med_nope"]}))
        .await
        .problem(422, "validation_failed");
    assert_eq!(m.detail("buyer", &m.buyer_key, &id).await["supervision"]["status"], "awaiting_requirements");
}

#[tokio::test]
async fn offline_goods_are_never_refunded_for_lack_of_an_endpoint() {
    let m = market().await;
    let image = m.product("image", None, one_time_sku("img")).await;
    let order = m.buy(&image, json!({})).await;
    let order_id = order["id"].as_str().unwrap();
    let s = m.supervision_of(order_id).await;
    assert_eq!((s["mode"].as_str(), s["status"].as_str()), (Some("supervised_offline"), Some("awaiting_delivery")));
    let paid = m.wallet().await;

    // Four hours pass with every worker and periodic task running.
    for _ in 0..16 {
        m.advance_secs(15 * 60).await;
        m.app.worker("worker-a").run_scheduled().await.unwrap();
        m.run_jobs().await;
    }
    assert_eq!(m.order_status(order_id).await, "fulfilling");
    assert_eq!(m.wallet().await, paid);
    assert_eq!(m.supervision_of(order_id).await["status"], "awaiting_delivery");
    let msgs =
        m.app.get("/api/v1/seller/interface-messages?status=all&limit=100", Some(&m.seller_key)).await.expect(200);
    assert_eq!(msgs["items"], json!([]), "no seller call for a product without an endpoint");

    // With an endpoint, the seller's server hears of the order (orderNotify), once.
    let with_endpoint =
        m.product("container", Some(crate::helpers::shared_seller().to_string()), one_time_sku("c")).await;
    let order = m.buy(&with_endpoint, json!({})).await;
    assert_eq!(m.run_jobs().await, 1);
    let msgs =
        m.app.get("/api/v1/seller/interface-messages?status=all&limit=100", Some(&m.seller_key)).await.expect(200);
    let calls: Vec<&Value> = msgs["items"].as_array().unwrap().iter().collect();
    assert_eq!(calls.len(), 1, "{calls:?}");
    assert_eq!((calls[0]["activity"].as_str(), calls[0]["outcome"].as_str()), (Some("orderNotify"), Some("success")));
    assert_eq!(calls[0]["order_id"], order["id"]);
    assert_eq!(m.supervision_of(order["id"].as_str().unwrap()).await["status"], "awaiting_delivery");

    // Delivered and accepted like any supervision.
    let id = m.supervision_of(order_id).await["id"].as_str().unwrap().to_string();
    m.deliver(&id).await;
    m.step("buyer", &m.buyer_key, &id, "accept", json!({})).await.expect(200);
    assert_eq!(m.order_status(order_id).await, "completed");

    // Offline goods refund like every supervised delivery: the buyer before
    // the seller starts, an operator after.
    let before = m.wallet().await;
    let order = m.buy(&image, json!({})).await;
    let id = m.supervision_of(order["id"].as_str().unwrap()).await["id"].as_str().unwrap().to_string();
    m.step("seller", &m.seller_key, &id, "start-delivery", json!({})).await.expect(200);
    m.step("buyer", &m.buyer_key, &id, "withdraw", json!({"reason": "x"})).await.problem(409, "refund_needs_operator");
    m.app
        .post(&format!("/api/v1/operator/supervisions/{id}/refund"), Some(&m.op), json!({"reason": "never shipped"}))
        .await
        .expect(200);
    assert_eq!(m.wallet().await, before);
    m.app.assert_ledger_balanced().await;
}

#[tokio::test]
async fn a_rejection_goes_back_to_the_seller_and_appeals_are_decided_both_ways() {
    let m = market().await;
    let sku = m.product("app_orchestration", None, one_time_sku("orch")).await;
    let order = m.buy(&sku, json!({})).await;
    let order_id = order["id"].as_str().unwrap();
    let id = m.supervision_of(order_id).await["id"].as_str().unwrap().to_string();
    m.deliver(&id).await;

    // Rejected with a reason (required): back to the seller.
    m.step("buyer", &m.buyer_key, &id, "reject", json!({})).await.problem(422, "validation_failed");
    let d = m.step("buyer", &m.buyer_key, &id, "reject", json!({"note": "the report is empty"})).await.expect(200);
    assert_eq!(d["supervision"]["status"], "delivering");
    let d = m.complete(&id).await;
    assert_eq!(d["supervision"]["status"], "awaiting_acceptance");

    // The buyer goes quiet; an appeal must wait 7 days on the marketplace clock.
    let evidence = m.attach("seller", &m.seller_key, &id, "image/png", &tiny_png()).await;
    let appeal = json!({"note": "delivered twice, no answer", "attachments": [evidence]});
    let p = m.step("seller", &m.seller_key, &id, "appeal", appeal.clone()).await.problem(409, "appeal_too_early");
    assert!(p["detail"].as_str().unwrap().contains("until"), "{p}");
    m.advance_secs(7 * 86_400 - 60).await;
    m.step("seller", &m.seller_key, &id, "appeal", appeal.clone()).await.problem(409, "appeal_too_early");
    m.advance_secs(60).await;
    assert!(actions(&m.detail("seller", &m.seller_key, &id).await["supervision"]).contains(&"appeal"));
    m.step("seller", &m.seller_key, &id, "appeal", json!({"note": "no evidence"}))
        .await
        .problem(422, "validation_failed");
    let d = m.step("seller", &m.seller_key, &id, "appeal", appeal.clone()).await.expect(200);
    assert_eq!(d["supervision"]["status"], "appealed");

    // The operators' queue; sending it back restarts the buyer's wait.
    let queue = m.app.get("/api/v1/operator/supervision-appeals", Some(&m.op)).await.expect(200);
    assert_eq!(queue["items"].as_array().unwrap().len(), 1);
    assert_eq!(queue["items"][0]["id"], json!(id));
    m.app
        .post(
            &format!("/api/v1/operator/supervisions/{id}/decide"),
            Some(&m.op),
            json!({"decision": "maybe", "reason": "x"}),
        )
        .await
        .problem(422, "validation_failed");
    let d = m
        .app
        .post(
            &format!("/api/v1/operator/supervisions/{id}/decide"),
            Some(&m.op),
            json!({"decision": "send_back", "reason": "the buyer answered the operator; they will test"}),
        )
        .await
        .expect(200);
    assert_eq!(d["supervision"]["status"], "awaiting_acceptance");
    let queue = m.app.get("/api/v1/operator/supervision-appeals", Some(&m.op)).await.expect(200);
    assert_eq!(queue["items"], json!([]));
    m.step("seller", &m.seller_key, &id, "appeal", appeal.clone()).await.problem(409, "appeal_too_early");
    assert!(m.notifications(&m.buyer_key).await.contains(&"supervision_dismiss_appeal".to_string()));
    assert!(m.notifications(&m.seller_key).await.contains(&"supervision_dismiss_appeal".to_string()));
    m.app
        .post(
            &format!("/api/v1/operator/supervisions/{id}/decide"),
            Some(&m.op),
            json!({"decision": "complete", "reason": "r"}),
        )
        .await
        .problem(409, "out_of_order");

    // A week later, appealed again and completed by the operator.
    m.advance_secs(7 * 86_400).await;
    m.step("seller", &m.seller_key, &id, "appeal", appeal).await.expect(200);
    let d = m
        .app
        .post(
            &format!("/api/v1/operator/supervisions/{id}/decide"),
            Some(&m.op),
            json!({"decision": "complete", "reason": "the delivery report shows the work was done"}),
        )
        .await
        .expect(200);
    assert_eq!(d["supervision"]["status"], "completed");
    assert_eq!(m.order_status(order_id).await, "completed");
    let line_id = order["lines"][0]["id"].as_str().unwrap();
    let delivery = supervision_repo::delivery_of(&m.app.state.db.conn, line_id).await.unwrap().unwrap();
    assert_eq!(delivery.delivered_by, DeliveredBy::OperatorDecision);
    let actors: Vec<&str> = d["timeline"].as_array().unwrap().iter().map(|s| s["actor"].as_str().unwrap()).collect();
    assert_eq!(actors.iter().filter(|a| **a == "operator").count(), 2);
    assert!(m.notifications(&m.buyer_key).await.contains(&"supervision_uphold_appeal".to_string()));
    m.app.assert_ledger_balanced().await;
}

#[tokio::test]
async fn refunds_follow_how_far_delivery_went() {
    let m = market().await;
    let sku = m.product("manual_service", None, period_sku("care")).await;
    let full = m.wallet().await;

    // Before delivery starts the buyer withdraws: everything comes back.
    let order = m.buy(&sku, json!({"period": "month", "period_count": 1})).await;
    let order_id = order["id"].as_str().unwrap();
    assert!(m.wallet().await < full);
    let id = m.supervision_of(order_id).await["id"].as_str().unwrap().to_string();
    m.step("buyer", &m.buyer_key, &id, "withdraw", json!({})).await.problem(422, "validation_failed");
    let d = m.step("buyer", &m.buyer_key, &id, "withdraw", json!({"reason": "bought by mistake"})).await.expect(200);
    assert_eq!(d["supervision"]["status"], "closed");
    assert_eq!(m.wallet().await, full);
    assert_eq!(m.order_status(order_id).await, "refunded");
    let sub = m.app.get("/api/v1/buyer/subscriptions", Some(&m.buyer_key)).await.expect(200);
    assert_eq!(sub["items"][0]["status"], "released");
    m.step("buyer", &m.buyer_key, &id, "withdraw", json!({"reason": "again"})).await.problem(409, "not_refundable");
    assert_eq!(m.wallet().await, full);

    // Once delivery started only an operator refunds.
    let order = m.buy(&sku, json!({"period": "month", "period_count": 1})).await;
    let order_id = order["id"].as_str().unwrap();
    let id = m.supervision_of(order_id).await["id"].as_str().unwrap().to_string();
    m.step("buyer", &m.buyer_key, &id, "submit-requirements", json!({"note": "two sites"})).await.expect(200);
    m.step("seller", &m.seller_key, &id, "start-delivery", json!({})).await.expect(200);
    let paid = m.wallet().await;
    m.step("buyer", &m.buyer_key, &id, "withdraw", json!({"reason": "too slow"}))
        .await
        .problem(409, "refund_needs_operator");
    assert_eq!(m.wallet().await, paid);
    assert_eq!(m.detail("buyer", &m.buyer_key, &id).await["supervision"]["refund"], "operator");
    let d = m
        .app
        .post(&format!("/api/v1/operator/supervisions/{id}/refund"), Some(&m.op), json!({"reason": "dispute: no show"}))
        .await
        .expect(200);
    assert_eq!(d["supervision"]["status"], "closed");
    assert_eq!(m.wallet().await, full);
    assert_eq!(m.order_status(order_id).await, "refunded");
    m.step("seller", &m.seller_key, &id, "complete-delivery", json!({"note": "late"}))
        .await
        .problem(409, "out_of_order");

    // A completed delivery is refunded by nobody through the supervision.
    let order = m.buy(&sku, json!({"period": "month", "period_count": 1})).await;
    let order_id = order["id"].as_str().unwrap();
    let id = m.supervision_of(order_id).await["id"].as_str().unwrap().to_string();
    m.step("buyer", &m.buyer_key, &id, "submit-requirements", json!({"note": "one site"})).await.expect(200);
    m.deliver(&id).await;
    m.step("buyer", &m.buyer_key, &id, "accept", json!({})).await.expect(200);
    let paid = m.wallet().await;
    m.step("buyer", &m.buyer_key, &id, "withdraw", json!({"reason": "changed my mind"}))
        .await
        .problem(409, "not_refundable");
    m.app
        .post(&format!("/api/v1/operator/supervisions/{id}/refund"), Some(&m.op), json!({"reason": "no"}))
        .await
        .problem(409, "not_refundable");
    assert_eq!(m.wallet().await, paid);

    // Renewing a supervised period service needs no seller call: in force at once.
    let sub_id =
        m.detail("buyer", &m.buyer_key, &id).await["supervision"]["subscription_id"].as_str().unwrap().to_string();
    let renewal = m
        .app
        .post(&format!("/api/v1/buyer/subscriptions/{sub_id}/renew"), Some(&m.buyer_key), json!({"period": "month"}))
        .await
        .expect(200);
    assert_eq!(m.order_status(renewal["order_id"].as_str().unwrap()).await, "completed");
    assert_eq!(m.run_jobs().await, 0);
    // Specification changes are for SaaS instances only.
    m.app
        .post(&format!("/api/v1/buyer/subscriptions/{sub_id}/upgrade"), Some(&m.buyer_key), json!({"sku_id": sku}))
        .await
        .problem(409, "not_upgradable");
    m.app.assert_ledger_balanced().await;
}

#[tokio::test]
async fn a_license_without_a_server_is_a_package_deployment_under_supervision() {
    let m = market().await;
    let sku = m.product("license", None, one_time_sku("pkg")).await;
    let full = m.wallet().await;

    // Withdrawn before the seller starts: everything back, nothing called.
    let order = m.buy(&sku, json!({})).await;
    let s = m.supervision_of(order["id"].as_str().unwrap()).await;
    assert_eq!((s["mode"].as_str(), s["status"].as_str()), (Some("supervised_package"), Some("awaiting_delivery")));
    assert_eq!(actions(&s), Vec::<&str>::new(), "the buyer waits for the seller");
    let id = s["id"].as_str().unwrap();
    m.step("buyer", &m.buyer_key, id, "withdraw", json!({"reason": "wrong edition"})).await.expect(200);
    assert_eq!(m.wallet().await, full);
    assert_eq!(m.order_status(order["id"].as_str().unwrap()).await, "refunded");

    // Deployed by the seller and accepted by the buyer.
    let order = m.buy(&sku, json!({})).await;
    let order_id = order["id"].as_str().unwrap();
    let id = m.supervision_of(order_id).await["id"].as_str().unwrap().to_string();
    m.step("buyer", &m.buyer_key, &id, "submit-requirements", json!({"note": "n/a"}))
        .await
        .problem(409, "out_of_order");
    m.deliver(&id).await;
    m.step("buyer", &m.buyer_key, &id, "withdraw", json!({"reason": "late"}))
        .await
        .problem(409, "refund_needs_operator");
    m.step("buyer", &m.buyer_key, &id, "accept", json!({})).await.expect(200);
    assert_eq!(m.order_status(order_id).await, "completed");
    assert_eq!(m.wallet().await, full - PRICE);
    assert_eq!(m.run_jobs().await, 0);
    m.app.assert_ledger_balanced().await;
}

//! Plan changes on the test clock against a reference seller of the test's
//! own (whose state the test reads): upgrade mid-term (exact price
//! difference, upgradeInstance, next renewal at the new SKU), non-upgrades,
//! too little money, an upgrade the seller refuses (refunded, spec
//! restored), a downgrade at renewal allowed or refused by
//! changeInstanceCheck, and trial -> formal (active or ended trial).

use crate::helpers::{Res, SHARED_SELLER_KEY, TestApp, product_form, spawn_on_test_clock};
use chrono::{DateTime, Months, Utc};
use koo::ResultCode;
use koo::calls::{InstanceInfo, NewInstance, QueryInstance, ReleaseInstance, UpgradeInstance};
use koo::seller::{ProductionInterface, Provisioned, Refusal, Reply, SellerConfig};
use mercato_isv::{FaultPolicy, SellerStore};
use mercato_server::app::subscriptions::lifecycle;
use mercato_store::entity::{job, product};
use mercato_store::sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, sea_query::Expr};
use serde_json::{Value, json};
use std::sync::Arc;

const ORDERS: &str = "/api/v1/buyer/orders";
const BASIC: i64 = 9900;
const PRO: i64 = 19900;
const LITE: i64 = 4900;

fn sku(code: &str, month: i64) -> Value {
    json!({
        "sku_code": code,
        "name": format!("{code} plan"),
        "charging_mode": "period",
        "prices": {"month_minor": month, "year_minor": month * 10},
        "currency": "CNY",
        "trial_days": 7
    })
}

struct Env {
    app: TestApp,
    op: String,
    seller_key: String,
    buyer_id: String,
    buyer_key: String,
    product_id: String,
    basic: String,
    pro: String,
    lite: String,
    /// The reference seller's own state.
    seller: SellerStore,
    /// Set by `buy`.
    sub: String,
}

/// A listed product (basic, pro, lite) served by a reference seller of this
/// test with `faults`; a buyer with `wallet` in CNY.
async fn env(faults: FaultPolicy, wallet: i64) -> Env {
    let app = spawn_on_test_clock().await;
    let db = app.dir.path().join(format!("seller-{}.db", uuid::Uuid::new_v4().simple()));
    let mut config = mercato_isv::ReferenceSellerConfig::new(SHARED_SELLER_KEY, db.clone());
    config.faults = faults;
    let (listener, addr) = mercato_isv::bind(0).await.unwrap();
    tokio::spawn(mercato_isv::serve_on(listener, config, std::future::pending()));
    let (_, seller_key, op) = app.approved_seller().await;
    let mut form = product_form("Cloud DB");
    form["endpoint"]["url"] = json!(format!("http://{addr}/produce"));
    let product_id =
        app.listed_product(&seller_key, &op, form, &[sku("basic", BASIC), sku("pro", PRO), sku("lite", LITE)]).await;
    let detail = app.get(&format!("/api/v1/catalog/products/{product_id}"), None).await.expect(200);
    let id_of = |code: &str| {
        detail["skus"].as_array().unwrap().iter().find(|s| s["sku_code"] == code).unwrap()["id"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let (basic, pro, lite) = (id_of("basic"), id_of("pro"), id_of("lite"));
    let (buyer_id, buyer_key) = app.signup("buyer").await;
    if wallet > 0 {
        app.credit_wallet(&op, &buyer_id, wallet, "CNY").await;
    }
    let seller = SellerStore::open(&db, Arc::new(mercato_isv::SystemClock)).await.unwrap();
    Env { app, op, seller_key, buyer_id, buyer_key, product_id, basic, pro, lite, seller, sub: String::new() }
}

fn ts(v: &Value) -> DateTime<Utc> {
    serde_json::from_value(v.clone()).unwrap()
}

fn stamp(t: DateTime<Utc>) -> String {
    t.format("%Y%m%d%H%M%S").to_string()
}

impl Env {
    /// Buys `order` (an order body), pays, provisions; remembers the subscription.
    async fn buy(&mut self, order: Value) {
        let o = self.app.post(ORDERS, Some(&self.buyer_key), order).await.expect(201);
        let id = o["id"].as_str().unwrap();
        self.app.post(&format!("{ORDERS}/{id}/pay"), Some(&self.buyer_key), json!({})).await.expect(200);
        let subs = self.app.get("/api/v1/buyer/subscriptions", Some(&self.buyer_key)).await.expect(200);
        self.sub = subs["items"][0]["id"].as_str().unwrap().to_string();
        self.run_jobs().await;
        assert_eq!(self.subscription().await["status"], "active");
    }

    async fn run_jobs(&self) -> usize {
        self.app.worker("worker-a").run_due(10).await.unwrap()
    }

    async fn now(&self) -> DateTime<Utc> {
        ts(&self.app.get("/api/v1/operator/test-clock", Some(&self.op)).await.expect(200)["now"])
    }

    async fn advance(&self, secs: i64) {
        self.app.post("/api/v1/operator/test-clock", Some(&self.op), json!({"advance_secs": secs})).await.expect(200);
    }

    async fn subscription(&self) -> Value {
        self.app.get(&format!("/api/v1/buyer/subscriptions/{}", self.sub), Some(&self.buyer_key)).await.expect(200)
    }

    async fn wallet(&self) -> i64 {
        self.app.wallet_available(&self.buyer_key, "CNY").await
    }

    async fn order_count(&self) -> usize {
        let page = self.app.get(&format!("{ORDERS}?limit=100"), Some(&self.buyer_key)).await.expect(200);
        page["items"].as_array().unwrap().len()
    }

    async fn order(&self, id: &Value) -> Value {
        self.app.get(&format!("{ORDERS}/{}", id.as_str().unwrap()), Some(&self.buyer_key)).await.expect(200)
    }

    async fn jobs(&self) -> u64 {
        job::Entity::find().count(&self.app.state.db.conn).await.unwrap()
    }

    async fn post(&self, action: &str, idem: &str, body: Value) -> Res {
        self.app
            .post_idem(&format!("/api/v1/buyer/subscriptions/{}/{action}", self.sub), &self.buyer_key, idem, Some(body))
            .await
    }

    /// Calls of `activity` the seller got, oldest first: (outcome, request body).
    async fn calls(&self, activity: &str) -> Vec<(String, Value)> {
        let page = self
            .app
            .get("/api/v1/seller/interface-messages?status=all&limit=100", Some(&self.seller_key))
            .await
            .expect(200);
        let mut v: Vec<(String, Value)> = page["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|m| m["activity"] == activity)
            .map(|m| {
                (
                    m["outcome"].as_str().unwrap().to_string(),
                    serde_json::from_str(m["request_body"].as_str().unwrap()).unwrap(),
                )
            })
            .collect();
        v.reverse();
        v
    }

    async fn instance_id(&self) -> String {
        self.subscription().await["instance_id"].as_str().unwrap().to_string()
    }

    /// The seller's record of the instance.
    async fn seller_instance(&self) -> mercato_isv::store::Instance {
        self.seller.instance(&self.instance_id().await).await.unwrap().unwrap()
    }

    /// The orders the seller recorded against the instance: (kind, orderId, orderLineId).
    async fn seller_orders(&self) -> Vec<(String, String, String)> {
        self.seller.instance_orders(&self.instance_id().await).await.unwrap()
    }
}

/// The price difference for the time left, computed independently of the
/// server: whole months counted back from the expiry plus the fraction of
/// the month holding `now`, rounded up.
fn expected_upgrade(diff: i64, now: DateTime<Utc>, expiry: DateTime<Utc>) -> i64 {
    let mut whole = 0u32;
    while expiry.checked_sub_months(Months::new(whole + 1)).unwrap() >= now {
        whole += 1;
    }
    let end = expiry.checked_sub_months(Months::new(whole)).unwrap();
    let start = expiry.checked_sub_months(Months::new(whole + 1)).unwrap();
    let part = i128::from((end - now).num_seconds());
    let period = i128::from((end - start).num_seconds());
    let frac = (i128::from(diff) * part + period - 1) / period;
    i64::try_from(i128::from(diff) * i128::from(whole) + frac).unwrap()
}

#[tokio::test]
async fn upgrade_mid_term_charges_the_difference_for_the_time_left() {
    let mut e = env(FaultPolicy::default(), 10 * PRO).await;
    e.buy(json!({"sku_id": e.basic, "period": "month", "period_count": 2})).await;
    let expiry = ts(&e.subscription().await["expires_at"]);
    e.advance(10 * 86_400 + 3_601).await;
    let now = e.now().await;
    let expected = expected_upgrade(PRO - BASIC, now, expiry);
    assert!(expected > PRO - BASIC && expected < 2 * (PRO - BASIC), "{expected}");
    let before = e.wallet().await;

    let up = e.post("upgrade", "up-1", json!({"sku_id": e.pro})).await.expect(200);
    assert_eq!(up["amount_minor"], expected, "{up}");
    assert_eq!(up["sku_id"], e.pro.as_str());
    assert_eq!(ts(&up["expires_at"]), expiry);
    assert_eq!(e.wallet().await, before - expected);
    let sub = e.subscription().await;
    assert_eq!(sub["sku_id"], e.pro.as_str());
    assert_eq!(ts(&sub["expires_at"]), expiry);
    // A replay answers the same and charges nothing more.
    assert_eq!(e.post("upgrade", "up-1", json!({"sku_id": e.pro})).await.expect(200), up);
    assert_eq!(e.wallet().await, before - expected);
    // While the seller has not confirmed, no other change or renewal.
    e.post("upgrade", "up-2", json!({"sku_id": e.pro, "quantity": 1})).await.problem(409, "change_in_progress");
    e.post("renew", "renew-0", json!({"period": "month"})).await.problem(409, "change_in_progress");
    let order = e.order(&up["order_id"]).await;
    assert_eq!(order["status"], "paid", "{order}");
    assert_eq!(order["lines"][0]["kind"], "upgrade");
    assert_eq!(order["lines"][0]["renews_subscription_id"], e.sub.as_str());

    // The job sends upgradeInstance with the upgrade order; 000000 completes it.
    assert_eq!(e.run_jobs().await, 1);
    let calls = e.calls("upgradeInstance").await;
    assert_eq!(calls.len(), 1, "{calls:?}");
    assert_eq!(calls[0].0, "success");
    assert_eq!(calls[0].1["orderId"], up["order_id"]);
    assert_eq!(calls[0].1["orderLineId"], up["order_line_id"]);
    assert_eq!(calls[0].1["instanceId"], e.instance_id().await.as_str());
    assert_eq!(e.order(&up["order_id"]).await["status"], "completed");
    let recorded = e.seller_orders().await;
    assert!(
        recorded.iter().any(|(k, o, l)| k == "upgrade"
            && o == up["order_id"].as_str().unwrap()
            && l == up["order_line_id"].as_str().unwrap()),
        "{recorded:?}"
    );

    // Now pro is current: the same SKU again is not an upgrade, and the
    // next renewal is priced at pro.
    e.post("upgrade", "up-3", json!({"sku_id": e.pro})).await.problem(409, "not_an_upgrade");
    let before = e.wallet().await;
    let renewal = e.post("renew", "renew-1", json!({"period": "month"})).await.expect(200);
    assert_eq!(renewal["amount_minor"], PRO, "{renewal}");
    assert_eq!(renewal["sku_id"], e.pro.as_str());
    assert_eq!(e.wallet().await, before - PRO);
    assert_eq!(ts(&renewal["expires_at"]), expiry.checked_add_months(Months::new(1)).unwrap());
    assert_eq!(e.run_jobs().await, 1);
    let refresh = e.calls("refreshInstance").await;
    assert_eq!(refresh.last().unwrap().1["scene"], "RENEWAL");
    e.app.assert_ledger_balanced().await;
}

#[tokio::test]
async fn cheaper_equal_and_invalid_targets_change_nothing() {
    let mut e = env(FaultPolicy::default(), 10 * PRO).await;
    e.buy(json!({"sku_id": e.basic, "period": "month"})).await;
    e.advance(86_400).await;
    let (wallet, orders, jobs, sub) = (e.wallet().await, e.order_count().await, e.jobs().await, e.subscription().await);

    let cheaper = e.post("upgrade", "a", json!({"sku_id": e.lite})).await.problem(409, "not_an_upgrade");
    assert!(cheaper["detail"].as_str().unwrap().contains("renewal"), "{cheaper}");
    e.post("upgrade", "b", json!({"sku_id": e.basic})).await.problem(409, "not_an_upgrade");
    e.post("upgrade", "c", json!({"sku_id": "sku_nope"})).await.problem(404, "not_found");
    let p = e.post("upgrade", "d", json!({"sku_id": e.pro, "quantity": 3})).await.problem(409, "not_offered");
    assert_eq!(Res::fields(&p), ["quantity"]);
    e.post("upgrade", "d2", json!({"sku_id": e.pro, "quantity": 0})).await.problem(422, "validation_failed");
    e.post("upgrade", "e", json!({"sku_id": e.pro, "colour": "red"})).await.problem(422, "validation_failed");
    e.post("upgrade", "f", json!({})).await.problem(422, "validation_failed");
    // Another product's SKU.
    let other = e.app.listed_product(&e.seller_key, &e.op, product_form("Other DB"), &[sku("x", 99_999)]).await;
    let detail = e.app.get(&format!("/api/v1/catalog/products/{other}"), None).await.expect(200);
    let other_sku = detail["skus"][0]["id"].as_str().unwrap();
    let p = e.post("upgrade", "g", json!({"sku_id": other_sku})).await.problem(409, "not_offered");
    assert_eq!(Res::fields(&p), vec!["sku_id".to_string()]);
    // Nor is it offered as a renewal; a count no period allows is invalid.
    let p = e.post("renew", "g2", json!({"period": "month", "sku_id": other_sku})).await.problem(409, "not_offered");
    assert_eq!(Res::fields(&p), vec!["sku_id".to_string()]);
    e.post("renew", "g3", json!({"period": "month", "period_count": 12})).await.problem(422, "validation_failed");
    // Another buyer's subscription is not found.
    let (_, stranger) = e.app.signup("buyer").await;
    e.app
        .post(&format!("/api/v1/buyer/subscriptions/{}/upgrade", e.sub), Some(&stranger), json!({"sku_id": e.pro}))
        .await
        .problem(404, "not_found");
    // A paid subscription is not a trial.
    e.post("convert", "h", json!({"period": "month"})).await.problem(409, "not_a_trial");

    assert_eq!(e.wallet().await, wallet);
    assert_eq!(e.order_count().await, orders);
    assert_eq!(e.jobs().await, jobs);
    assert_eq!(e.subscription().await, sub);
    assert_eq!(e.run_jobs().await, 0);
    e.app.assert_ledger_balanced().await;
}

#[tokio::test]
async fn an_upgrade_without_enough_money_changes_nothing() {
    let mut e = env(FaultPolicy::default(), BASIC + 100).await;
    e.buy(json!({"sku_id": e.basic, "period": "month"})).await;
    e.advance(86_400).await;
    let (orders, sub) = (e.order_count().await, e.subscription().await);
    e.post("upgrade", "poor", json!({"sku_id": e.pro})).await.problem(402, "insufficient_funds");
    assert_eq!(e.wallet().await, 100);
    assert_eq!(e.order_count().await, orders);
    assert_eq!(e.subscription().await, sub);
    assert_eq!(e.run_jobs().await, 0);
    assert!(e.calls("upgradeInstance").await.is_empty());
    e.app.assert_ledger_balanced().await;
}

/// A seller that provisions nothing and refuses every upgrade (000104).
struct RefusesUpgrades;

impl ProductionInterface for RefusesUpgrades {
    async fn new_instance(&self, call: NewInstance) -> Reply<Provisioned> {
        Ok(Provisioned::Ready { instance_id: call.business_id })
    }
    async fn query_instance(&self, _call: QueryInstance) -> Reply<Vec<InstanceInfo>> {
        Ok(Vec::new())
    }
    async fn release_instance(&self, _call: ReleaseInstance) -> Reply<()> {
        Ok(())
    }
    async fn upgrade_instance(&self, _call: UpgradeInstance) -> Reply<()> {
        Err(Refusal::new(ResultCode::ProductServiceError))
    }
}

#[tokio::test]
async fn an_upgrade_the_seller_refuses_is_refunded_and_the_spec_restored() {
    let mut e = env(FaultPolicy::default(), 10 * PRO).await;
    e.buy(json!({"sku_id": e.basic, "period": "month", "auto_renew": true})).await;
    let expiry = ts(&e.subscription().await["expires_at"]);
    // The seller's server now refuses upgrades.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let router = koo::seller::router(Arc::new(RefusesUpgrades), SellerConfig::new(SHARED_SELLER_KEY));
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    product::Entity::update_many()
        .col_expr(product::Column::EndpointUrl, Expr::value(format!("http://{addr}/produce")))
        .filter(product::Column::Id.eq(&e.product_id))
        .exec(&e.app.state.db.conn)
        .await
        .unwrap();

    e.advance(5 * 86_400).await;
    let before = e.wallet().await;
    let up = e.post("upgrade", "up", json!({"sku_id": e.pro})).await.expect(200);
    let charge = up["amount_minor"].as_i64().unwrap();
    assert_eq!(charge, expected_upgrade(PRO - BASIC, e.now().await, expiry));
    assert_eq!(e.wallet().await, before - charge);
    assert_eq!(e.subscription().await["sku_id"], e.pro.as_str());

    // Refused: refunded in full, the basic spec back, the buyer told.
    assert_eq!(e.run_jobs().await, 1);
    let calls = e.calls("upgradeInstance").await;
    assert_eq!(calls.len(), 1, "{calls:?}");
    assert_eq!(calls[0].0, "refused");
    assert_eq!(e.wallet().await, before);
    let order = e.order(&up["order_id"]).await;
    assert_eq!(order["status"], "refunded", "{order}");
    let sub = e.subscription().await;
    assert_eq!(sub["sku_id"], e.basic.as_str());
    assert_eq!(ts(&sub["expires_at"]), expiry);
    let notes = e.app.get("/api/v1/notifications", Some(&e.buyer_key)).await.expect(200);
    let notes: Vec<&Value> =
        notes["items"].as_array().unwrap().iter().filter(|n| n["kind"] == "upgrade_refunded").collect();
    assert_eq!(notes.len(), 1, "{notes:?}");
    assert_eq!(notes[0]["reference"], e.sub.as_str());
    // Nothing more to do; the job does not run again.
    assert_eq!(e.run_jobs().await, 0);
    assert_eq!(e.wallet().await, before);

    // Auto-renewal prices at the restored basic spec.
    let days_left = (expiry - e.now().await).num_seconds() - 6 * 86_400;
    e.advance(days_left).await;
    assert_eq!(lifecycle::auto_renew_scan(&e.app.state).await.unwrap().renewed, 1);
    assert_eq!(e.wallet().await, before - BASIC);
    e.app.assert_ledger_balanced().await;
}

#[tokio::test]
async fn a_downgrade_at_renewal_asks_the_seller_and_renews_at_the_cheaper_sku() {
    let mut e = env(FaultPolicy::default(), 10 * PRO).await;
    e.buy(json!({"sku_id": e.pro, "period": "month"})).await;
    let expiry = ts(&e.subscription().await["expires_at"]);
    e.advance(20 * 86_400).await;
    let before = e.wallet().await;

    let renewal = e.post("renew", "down", json!({"period": "month", "sku_id": e.lite})).await.expect(200);
    let new_expiry = expiry.checked_add_months(Months::new(1)).unwrap();
    assert_eq!(renewal["amount_minor"], LITE, "{renewal}");
    assert_eq!(renewal["sku_id"], e.lite.as_str());
    assert_eq!(ts(&renewal["expires_at"]), new_expiry);
    assert_eq!(e.wallet().await, before - LITE);
    assert_eq!(e.subscription().await["sku_id"], e.lite.as_str());
    let checks = e.calls("changeInstanceCheck").await;
    assert_eq!(checks.len(), 1, "{checks:?}");
    assert_eq!(checks[0].0, "success");
    let info: Value = serde_json::from_str(checks[0].1["productInfo"].as_str().unwrap()).unwrap();
    assert_eq!(info["skuCode"], "lite");
    assert_eq!(info["productId"], e.product_id.as_str());
    // A replay answers the same without asking the seller again.
    assert_eq!(e.post("renew", "down", json!({"period": "month", "sku_id": e.lite})).await.expect(200), renewal);
    assert_eq!(e.calls("changeInstanceCheck").await.len(), 1);
    assert_eq!(e.wallet().await, before - LITE);

    // RENEWAL_CHANGE with productId and the new expiry; the seller has it.
    assert_eq!(e.run_jobs().await, 1);
    let refresh = e.calls("refreshInstance").await;
    assert_eq!(refresh.len(), 1, "{refresh:?}");
    assert_eq!(refresh[0].0, "success");
    assert_eq!(refresh[0].1["scene"], "RENEWAL_CHANGE");
    assert_eq!(refresh[0].1["productId"], e.product_id.as_str());
    assert_eq!(refresh[0].1["expireTime"], stamp(new_expiry));
    assert_eq!(refresh[0].1["orderLineId"], renewal["order_line_id"]);
    let inst = e.seller_instance().await;
    assert_eq!(inst.expire_time.as_deref(), Some(stamp(new_expiry).as_str()));
    assert_eq!(inst.product_id.as_deref(), Some(e.product_id.as_str()));
    assert!(e.seller_orders().await.iter().any(|(k, _, _)| k == "refresh:RENEWAL_CHANGE"));
    assert_eq!(e.order(&renewal["order_id"]).await["status"], "completed");

    // The next plain renewal is priced at lite and sends RENEWAL.
    let before = e.wallet().await;
    let again = e.post("renew", "plain", json!({"period": "month"})).await.expect(200);
    assert_eq!(again["amount_minor"], LITE);
    assert_eq!(e.wallet().await, before - LITE);
    assert_eq!(e.calls("changeInstanceCheck").await.len(), 1);
    e.run_jobs().await;
    assert_eq!(e.calls("refreshInstance").await.last().unwrap().1["scene"], "RENEWAL");
    e.app.assert_ledger_balanced().await;
}

#[tokio::test]
async fn a_change_at_renewal_the_seller_refuses_charges_nothing() {
    let mut e = env(FaultPolicy { refuse_change: Some("000104".into()), ..FaultPolicy::default() }, 10 * PRO).await;
    e.buy(json!({"sku_id": e.pro, "period": "month"})).await;
    let (wallet, orders, jobs, sub) = (e.wallet().await, e.order_count().await, e.jobs().await, e.subscription().await);

    let p = e.post("renew", "down", json!({"period": "month", "sku_id": e.lite})).await.problem(409, "change_refused");
    assert!(p["detail"].as_str().unwrap().contains("000104"), "{p}");
    let checks = e.calls("changeInstanceCheck").await;
    assert_eq!(checks.len(), 1, "{checks:?}");
    assert_eq!(checks[0].0, "refused");
    // Bad input is refused before the seller is asked.
    e.post("renew", "bad", json!({"period": "month", "sku_id": e.lite, "quantity": 0}))
        .await
        .problem(422, "validation_failed");
    e.post("renew", "none", json!({"period": "month", "sku_id": "sku_nope"})).await.problem(404, "not_found");
    assert_eq!(e.calls("changeInstanceCheck").await.len(), 1);

    assert_eq!(e.wallet().await, wallet);
    assert_eq!(e.order_count().await, orders);
    assert_eq!(e.jobs().await, jobs);
    assert_eq!(e.subscription().await, sub);
    assert_eq!(e.run_jobs().await, 0);
    // A renewal without a change still works (no check needed).
    e.post("renew", "same", json!({"period": "month", "sku_id": e.pro})).await.expect(200);
    assert_eq!(e.wallet().await, wallet - PRO);
    assert_eq!(e.calls("changeInstanceCheck").await.len(), 1);
    e.app.assert_ledger_balanced().await;
}

#[tokio::test]
async fn a_trial_converts_to_formal_and_tells_the_seller() {
    let mut e = env(FaultPolicy::default(), 3 * BASIC).await;
    e.buy(json!({"sku_id": e.basic, "trial": true})).await;
    assert_eq!(e.subscription().await["trial"], true);
    e.advance(2 * 86_400).await;
    let now = e.now().await;
    // Bad input changes nothing.
    e.post("convert", "bad", json!({"period": "month", "period_count": 12})).await.problem(422, "validation_failed");
    e.post("convert", "bad2", json!({"period": "fortnight"})).await.problem(422, "validation_failed");
    assert_eq!(e.wallet().await, 3 * BASIC);

    let conv =
        e.post("convert", "c", json!({"period": "month", "period_count": 2, "auto_renew": true})).await.expect(200);
    let expiry = now.checked_add_months(Months::new(2)).unwrap();
    assert_eq!(conv["amount_minor"], 2 * BASIC, "{conv}");
    assert_eq!(ts(&conv["expires_at"]), expiry);
    assert_eq!(e.wallet().await, BASIC);
    let sub = e.subscription().await;
    assert_eq!(sub["trial"], false);
    assert_eq!(sub["period"], "month");
    assert_eq!(sub["auto_renew"], true);
    assert_eq!(sub["status"], "active");
    assert_eq!(ts(&sub["expires_at"]), expiry);
    assert_eq!(
        e.post("convert", "c", json!({"period": "month", "period_count": 2, "auto_renew": true})).await.expect(200),
        conv
    );
    e.post("convert", "c2", json!({"period": "month"})).await.problem(409, "not_a_trial");
    assert_eq!(e.wallet().await, BASIC);
    let order = e.order(&conv["order_id"]).await;
    assert_eq!(order["lines"][0]["kind"], "trial_conversion", "{order}");

    assert_eq!(e.run_jobs().await, 1);
    let refresh = e.calls("refreshInstance").await;
    assert_eq!(refresh.len(), 1, "{refresh:?}");
    assert_eq!(refresh[0].1["scene"], "TRIAL_TO_FORMAL");
    assert_eq!(refresh[0].1["expireTime"], stamp(expiry));
    assert_eq!(refresh[0].1["orderId"], conv["order_id"]);
    assert!(e.calls("updateInstanceStatus").await.is_empty());
    assert_eq!(e.seller_instance().await.expire_time.as_deref(), Some(stamp(expiry).as_str()));
    assert_eq!(e.order(&conv["order_id"]).await["status"], "completed");

    // It renews like any paid subscription now (auto-renew for 2 months).
    e.advance((expiry - e.now().await).num_seconds() - 6 * 86_400).await;
    assert_eq!(lifecycle::auto_renew_scan(&e.app.state).await.unwrap().renewed, 0, "wallet too poor for 2 months");
    e.app.credit_wallet(&e.op, &e.buyer_id, BASIC, "CNY").await;
    assert_eq!(lifecycle::auto_renew_scan(&e.app.state).await.unwrap().renewed, 1);
    assert_eq!(e.wallet().await, 0);
    e.app.assert_ledger_balanced().await;
}

#[tokio::test]
async fn an_ended_trial_converts_after_unfreezing() {
    let mut e = env(FaultPolicy::default(), BASIC).await;
    e.buy(json!({"sku_id": e.basic, "trial": true})).await;
    e.advance(7 * 86_400 + 60).await;
    assert_eq!(lifecycle::expiry_scan(&e.app.state).await.unwrap().frozen, 1);
    e.run_jobs().await;
    assert_eq!(e.subscription().await["status"], "frozen");
    assert_eq!(e.seller_instance().await.status, mercato_isv::store::InstanceStatus::Frozen);

    let now = e.now().await;
    let conv = e.post("convert", "c", json!({"period": "month"})).await.expect(200);
    let expiry = now.checked_add_months(Months::new(1)).unwrap();
    assert_eq!(conv["amount_minor"], BASIC);
    assert_eq!(e.wallet().await, 0);
    assert_eq!(e.subscription().await["status"], "active");
    assert_eq!(e.run_jobs().await, 1);
    let status = e.calls("updateInstanceStatus").await;
    assert_eq!(status.last().unwrap().1["status"], "UNFREEZE", "{status:?}");
    let refresh = e.calls("refreshInstance").await;
    assert_eq!(refresh[0].1["scene"], "TRIAL_TO_FORMAL");
    let inst = e.seller_instance().await;
    assert_eq!(inst.status, mercato_isv::store::InstanceStatus::Active);
    assert_eq!(inst.expire_time.as_deref(), Some(stamp(expiry).as_str()));
    e.app.assert_ledger_balanced().await;
}

#[tokio::test]
async fn an_upgrade_the_seller_never_confirms_is_refunded_after_three_hours() {
    let mut e = env(FaultPolicy::default(), 10 * PRO).await;
    e.buy(json!({"sku_id": e.basic, "period": "month"})).await;
    // The seller's server goes down for good.
    let down = e
        .app
        .reference_seller(SHARED_SELLER_KEY, FaultPolicy { down_for_secs: 86_400, ..FaultPolicy::default() })
        .await;
    product::Entity::update_many()
        .col_expr(product::Column::EndpointUrl, Expr::value(down))
        .filter(product::Column::Id.eq(&e.product_id))
        .exec(&e.app.state.db.conn)
        .await
        .unwrap();
    e.advance(86_400).await;
    let before = e.wallet().await;
    let up = e.post("upgrade", "up", json!({"sku_id": e.pro})).await.expect(200);
    assert!(up["amount_minor"].as_i64().unwrap() > 0);

    // Retried for 3 hours (still charged, still pro meanwhile), then refunded.
    e.run_jobs().await;
    e.advance(2 * 3600).await;
    e.run_jobs().await;
    assert_eq!(e.order(&up["order_id"]).await["status"], "paid");
    assert_eq!(e.subscription().await["sku_id"], e.pro.as_str());
    for _ in 0..8 {
        e.advance(1800).await;
        e.run_jobs().await;
    }
    let j = job::Entity::find()
        .filter(job::Column::Kind.eq(mercato_server::app::subscriptions::plan_changes::UPGRADE_INSTANCE))
        .one(&e.app.state.db.conn)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(j.status, mercato_store::repo::jobs::DEAD, "{j:?}");
    assert!(j.attempts >= 3, "{j:?}");
    assert_eq!(e.order(&up["order_id"]).await["status"], "refunded");
    assert_eq!(e.subscription().await["sku_id"], e.basic.as_str());
    assert_eq!(e.wallet().await, before);
    let failed = e.calls("upgradeInstance").await;
    assert!(failed.len() >= 3 && failed.iter().all(|(o, _)| o != "success"), "{failed:?}");
    e.app.assert_ledger_balanced().await;
}

#[tokio::test]
async fn two_concurrent_upgrades_charge_once() {
    let mut e = env(FaultPolicy::default(), 10 * PRO).await;
    e.buy(json!({"sku_id": e.basic, "period": "month"})).await;
    e.advance(86_400).await;
    let before = e.wallet().await;
    let (a, b) = tokio::join!(
        e.post("upgrade", "one", json!({"sku_id": e.pro})),
        e.post("upgrade", "two", json!({"sku_id": e.pro})),
    );
    let mut statuses = [a.status.as_u16(), b.status.as_u16()];
    statuses.sort();
    assert_eq!(statuses, [200, 409], "{a:?} {b:?}");
    let won = if a.status == 200 { a.body } else { b.body };
    assert_eq!(e.wallet().await, before - won["amount_minor"].as_i64().unwrap());
    assert_eq!(e.subscription().await["sku_id"], e.pro.as_str());
    assert_eq!(e.run_jobs().await, 1);
    assert_eq!(e.calls("upgradeInstance").await.len(), 1);
    e.app.assert_ledger_balanced().await;
}

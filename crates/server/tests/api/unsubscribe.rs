//! Unsubscribe with refunds on the test clock against the shared reference
//! seller: the five-day full refund and its yearly limit, pro-rata refunds,
//! refunding unstarted renewal periods, trials, wrong states, concurrency
//! and idempotent retries. Amounts are computed here independently.

use crate::helpers::{TestApp, period_sku, product_form, spawn_on_test_clock};
use chrono::{DateTime, Duration, Months, Utc};
use mercato_server::app::subscriptions::lifecycle;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};

const ORDERS: &str = "/api/v1/buyer/orders";
const MONTH: i64 = 9_900;
const YEAR: i64 = 99_000;
/// Joint operation: 20% commission.
const RATE_BP: i64 = 2_000;

struct Shop {
    app: TestApp,
    op: String,
    seller_id: String,
    seller_key: String,
    sku_id: String,
}

struct Buyer {
    key: String,
}

fn ts(v: &Value) -> DateTime<Utc> {
    serde_json::from_value(v.clone()).unwrap()
}

fn stamp(t: DateTime<Utc>) -> String {
    t.format("%Y%m%d%H%M%S").to_string()
}

async fn shop() -> Shop {
    shop_with(product_form("Cloud DB"), period_sku("std")).await
}

async fn shop_with(product: Value, sku: Value) -> Shop {
    shop_on(spawn_on_test_clock().await, product, sku).await
}

async fn shop_on(app: TestApp, product: Value, sku: Value) -> Shop {
    let (seller_id, seller_key, op) = app.approved_seller().await;
    let product_id = app.listed_product(&seller_key, &op, product, &[sku]).await;
    let detail = app.get(&format!("/api/v1/catalog/products/{product_id}"), None).await.expect(200);
    let sku_id = detail["skus"][0]["id"].as_str().unwrap().to_string();
    Shop { app, op, seller_id, seller_key, sku_id }
}

/// A shop whose product is served by a reference seller of its own, whose
/// SQLite file (the seller's view of its instances) the test reads.
async fn shop_with_own_seller() -> (Shop, PathBuf) {
    let app = spawn_on_test_clock().await;
    let db = app.dir.path().join("unsubscribe-seller.db");
    let mut config = mercato_isv::ReferenceSellerConfig::new(OWN_SELLER_KEY, db.clone());
    config.faults = mercato_isv::FaultPolicy::default();
    let (listener, addr) = mercato_isv::bind(0).await.unwrap();
    tokio::spawn(mercato_isv::serve_on(listener, config, std::future::pending()));
    let mut product = product_form("Cloud DB");
    product["endpoint"] = json!({"url": format!("http://{addr}/produce"), "access_key": OWN_SELLER_KEY});
    (shop_on(app, product, period_sku("std")).await, db)
}

const OWN_SELLER_KEY: &str = "unsubscribe-seller-key";

/// The seller's own record of an instance: (status, expire_time).
async fn seller_instance(db: &Path, instance_id: &str) -> (String, Option<String>) {
    use mercato_store::sea_orm::sqlx::{self, Row};
    let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}", db.display())).await.unwrap();
    let row = sqlx::query("SELECT status, expire_time FROM instances WHERE instance_id = ?")
        .bind(instance_id)
        .fetch_one(&pool)
        .await
        .unwrap();
    pool.close().await;
    (row.get::<String, _>(0), row.get::<Option<String>, _>(1))
}

impl Shop {
    async fn buyer(&self, money: i64) -> Buyer {
        let (id, key) = self.app.signup("buyer").await;
        if money > 0 {
            self.app.credit_wallet(&self.op, &id, money, "CNY").await;
        }
        Buyer { key }
    }

    /// Buys and pays `order` (a CreateOrder body); returns the subscription id.
    async fn buy_unprovisioned(&self, b: &Buyer, order: Value) -> String {
        let mut body = order;
        body["sku_id"] = json!(self.sku_id);
        let order = self.app.post(ORDERS, Some(&b.key), body).await.expect(201);
        let order_id = order["id"].as_str().unwrap().to_string();
        self.app.post(&format!("{ORDERS}/{order_id}/pay"), Some(&b.key), json!({})).await.expect(200);
        let subs = self.app.get("/api/v1/buyer/subscriptions", Some(&b.key)).await.expect(200);
        let sub = subs["items"].as_array().unwrap().iter().find(|s| s["order_id"] == order_id.as_str()).unwrap();
        sub["id"].as_str().unwrap().to_string()
    }

    /// Buys, pays and provisions; returns the subscription id.
    async fn buy(&self, b: &Buyer, order: Value) -> String {
        let id = self.buy_unprovisioned(b, order).await;
        self.run_jobs().await;
        assert_eq!(self.sub(b, &id).await["status"], "active");
        id
    }

    async fn run_jobs(&self) -> usize {
        let mut total = 0;
        loop {
            let n = self.app.worker("worker-u").run_due(10).await.unwrap();
            if n == 0 {
                return total;
            }
            total += n;
        }
    }

    async fn now(&self) -> DateTime<Utc> {
        ts(&self.app.get("/api/v1/operator/test-clock", Some(&self.op)).await.expect(200)["now"])
    }

    async fn advance(&self, by: Duration) {
        self.app
            .post("/api/v1/operator/test-clock", Some(&self.op), json!({"advance_secs": by.num_seconds()}))
            .await
            .expect(200);
    }

    async fn sub(&self, b: &Buyer, id: &str) -> Value {
        self.app.get(&format!("/api/v1/buyer/subscriptions/{id}"), Some(&b.key)).await.expect(200)
    }

    async fn wallet(&self, b: &Buyer) -> i64 {
        self.app.wallet_available(&b.key, "CNY").await
    }

    async fn unsubscribe(&self, b: &Buyer, id: &str, idem: &str, body: Value) -> crate::helpers::Res {
        self.app.post_idem(&format!("/api/v1/buyer/subscriptions/{id}/unsubscribe"), &b.key, idem, Some(body)).await
    }

    /// `balance_minor` (debit - credit) of a ledger account, 0 when unused.
    async fn balance(&self, account: &str) -> i64 {
        let tb = self.app.get("/api/v1/operator/ledger/trial-balance", Some(&self.op)).await.expect(200);
        tb["accounts"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["account"] == account && a["currency"] == "CNY")
            .map_or(0, |a| a["balance_minor"].as_i64().unwrap())
    }

    async fn seller_payable(&self) -> i64 {
        self.balance(&format!("seller_payable:{}", self.seller_id)).await
    }

    async fn commission(&self) -> i64 {
        self.balance("platform_commission").await
    }

    /// Calls of `activity` the seller answered 000000, oldest first (request bodies).
    async fn calls(&self, activity: &str) -> Vec<Value> {
        let page = self
            .app
            .get("/api/v1/seller/interface-messages?status=all&limit=100", Some(&self.seller_key))
            .await
            .expect(200);
        let mut v: Vec<Value> = page["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|m| m["activity"] == activity && m["outcome"] == "success" && m["result_code"] == "000000")
            .map(|m| serde_json::from_str(m["request_body"].as_str().unwrap()).unwrap())
            .collect();
        v.reverse();
        v
    }
}

/// The commission share of `amount` refunded from a sale at [`RATE_BP`]
/// (the platform absorbs the rounding: rounded up).
fn commission_of(amount: i64) -> i64 {
    (amount * RATE_BP + 9_999) / 10_000
}

#[tokio::test]
async fn five_day_full_refund_releases_and_returns_everything() {
    let (s, seller_db) = shop_with_own_seller().await;
    let b = s.buyer(YEAR + 1_000).await;
    let id = s.buy(&b, json!({"period": "year", "auto_renew": true})).await;
    assert_eq!(s.wallet(&b).await, 1_000);
    assert_eq!(s.seller_payable().await, -(YEAR - YEAR / 5));
    assert_eq!(s.commission().await, -(YEAR / 5));
    let expiry = ts(&s.sub(&b, &id).await["expires_at"]);

    s.advance(Duration::days(4) + Duration::hours(23)).await;
    let body = json!({"scope": "subscription", "reason": "not what I needed"});
    let answer = s.unsubscribe(&b, &id, "unsub-1", body.clone()).await.expect(200);
    assert_eq!(answer["rule"], "five_day_full", "{answer}");
    assert_eq!(answer["amount_minor"], YEAR);
    assert_eq!(answer["status"], "released");
    assert_eq!(answer["auto_renew"], false);
    let refund_order = answer["refund_order_id"].as_str().unwrap().to_string();
    let refund_line = answer["refund_order_line_id"].as_str().unwrap().to_string();
    assert_eq!(s.wallet(&b).await, YEAR + 1_000);
    assert_eq!(s.seller_payable().await, 0);
    assert_eq!(s.commission().await, 0);

    // A retry with the same key answers the same and refunds nothing more.
    let again = s.unsubscribe(&b, &id, "unsub-1", body).await.expect(200);
    assert_eq!(again, answer);
    assert_eq!(s.wallet(&b).await, YEAR + 1_000);

    // The refund order: refunded, one unsubscribe line naming the subscription.
    let order = s.app.get(&format!("{ORDERS}/{refund_order}"), Some(&b.key)).await.expect(200);
    assert_eq!(order["status"], "refunded", "{order}");
    assert_eq!(order["amount_minor"], YEAR);
    assert_eq!(order["lines"][0]["kind"], "unsubscribe");
    assert_eq!(order["lines"][0]["id"], refund_line.as_str());
    assert_eq!(order["lines"][0]["renews_subscription_id"], id.as_str());
    let sub = s.sub(&b, &id).await;
    assert_eq!(sub["status"], "released");
    assert_eq!(sub["auto_renew"], false);

    // The seller is told: releaseInstance with the refund order, answered 000000.
    assert_eq!(s.run_jobs().await, 1);
    let release = s.calls("releaseInstance").await;
    assert_eq!(release.len(), 1, "{release:?}");
    assert_eq!(release[0]["orderId"], refund_order.as_str());
    assert_eq!(release[0]["orderLineId"], refund_line.as_str());
    assert_eq!(release[0]["instanceId"], sub["instance_id"]);
    let instance = sub["instance_id"].as_str().unwrap();
    assert_eq!(seller_instance(&seller_db, instance).await.0, "released");

    // Past expiry and grace: the expiry scan leaves the released subscription alone.
    s.advance(expiry - s.now().await + Duration::days(16)).await;
    let r = lifecycle::expiry_scan(&s.app.state).await.unwrap();
    assert_eq!((r.frozen, r.released), (0, 0));
    s.run_jobs().await;
    assert_eq!(s.calls("releaseInstance").await.len(), 1);
    assert_eq!(s.calls("updateInstanceStatus").await.len(), 0);
    s.app.assert_ledger_balanced().await;
}

#[tokio::test]
async fn pro_rata_after_forty_days_of_a_yearly_subscription() {
    let s = shop().await;
    let b = s.buyer(YEAR).await;
    let id = s.buy(&b, json!({"period": "year"})).await;
    let expiry = ts(&s.sub(&b, &id).await["expires_at"]);
    s.advance(Duration::days(40)).await;
    let now = s.now().await;

    // Independently: the current period is the whole year bought.
    let year_start = expiry.checked_sub_months(Months::new(12)).unwrap();
    let expected = (i128::from(YEAR) * i128::from((expiry - now).num_seconds())
        / i128::from((expiry - year_start).num_seconds())) as i64;
    assert!(expected > 80_000 && expected < YEAR, "{expected}");

    let answer = s.unsubscribe(&b, &id, "u", json!({"scope": "subscription"})).await.expect(200);
    assert_eq!(answer["rule"], "pro_rata", "{answer}");
    assert_eq!(answer["amount_minor"], expected);
    assert_eq!(s.wallet(&b).await, expected);
    // Commission taken back in proportion, the seller gives back the rest.
    let c = commission_of(expected);
    assert_eq!(s.commission().await, -(YEAR / 5 - c));
    assert_eq!(s.seller_payable().await, -(YEAR - YEAR / 5 - (expected - c)));
    assert_eq!(s.run_jobs().await, 1);
    let release = s.calls("releaseInstance").await;
    assert_eq!(release.len(), 1);
    assert_eq!(release[0]["orderId"], answer["refund_order_id"]);
    s.app.assert_ledger_balanced().await;
}

#[tokio::test]
async fn the_eleventh_five_day_refund_of_a_year_is_pro_rata() {
    let s = shop().await;
    let b = s.buyer(11 * MONTH).await;
    let mut ids = Vec::new();
    for _ in 0..11 {
        ids.push(s.buy_unprovisioned(&b, json!({"period": "month"})).await);
    }
    s.run_jobs().await;
    assert_eq!(s.wallet(&b).await, 0);
    s.advance(Duration::days(1)).await;
    for (i, id) in ids.iter().enumerate().take(10) {
        let a = s.unsubscribe(&b, id, &format!("k{i}"), json!({"scope": "subscription"})).await.expect(200);
        assert_eq!(a["rule"], "five_day_full", "{i}: {a}");
        assert_eq!(a["amount_minor"], MONTH);
    }
    assert_eq!(s.wallet(&b).await, 10 * MONTH);
    let sub = s.sub(&b, &ids[10]).await;
    let expiry = ts(&sub["expires_at"]);
    let now = s.now().await;
    let start = expiry.checked_sub_months(Months::new(1)).unwrap();
    let expected = (i128::from(MONTH) * i128::from((expiry - now).num_seconds())
        / i128::from((expiry - start).num_seconds())) as i64;
    let a = s.unsubscribe(&b, &ids[10], "k10", json!({"scope": "subscription"})).await.expect(200);
    assert_eq!(a["rule"], "pro_rata", "{a}");
    assert_eq!(a["amount_minor"], expected);
    assert!(expected < MONTH);
    assert_eq!(s.wallet(&b).await, 10 * MONTH + expected);
    s.run_jobs().await;
    assert_eq!(s.calls("releaseInstance").await.len(), 11);
    s.app.assert_ledger_balanced().await;
}

#[tokio::test]
async fn refunding_unstarted_renewal_periods_moves_the_expiry_back() {
    let (s, seller_db) = shop_with_own_seller().await;
    let b = s.buyer(3 * MONTH).await;
    let id = s.buy(&b, json!({"period": "month"})).await;
    let first_expiry = ts(&s.sub(&b, &id).await["expires_at"]);
    // Nothing renewed yet: nothing to refund this way.
    s.unsubscribe(&b, &id, "r0", json!({"scope": "renewal_periods"})).await.problem(409, "no_renewal_periods");

    let renewal = s
        .app
        .post_idem(
            &format!("/api/v1/buyer/subscriptions/{id}/renew"),
            &b.key,
            "renew-1",
            Some(json!({"period": "month", "period_count": 2})),
        )
        .await
        .expect(200);
    assert_eq!(renewal["amount_minor"], 2 * MONTH);
    s.run_jobs().await;
    assert_eq!(s.wallet(&b).await, 0);
    s.advance(Duration::days(10)).await;

    let a = s.unsubscribe(&b, &id, "r1", json!({"scope": "renewal_periods"})).await.expect(200);
    assert_eq!(a["rule"], "renewal_periods", "{a}");
    assert_eq!(a["amount_minor"], 2 * MONTH);
    assert_eq!(a["status"], "active");
    assert_eq!(ts(&a["expires_at"]), first_expiry);
    let sub = s.sub(&b, &id).await;
    assert_eq!(sub["status"], "active");
    assert_eq!(ts(&sub["expires_at"]), first_expiry);
    assert_eq!(s.wallet(&b).await, 2 * MONTH);
    // Only the purchase's money is left with the seller and the platform.
    assert_eq!(s.commission().await, -(MONTH / 5));
    assert_eq!(s.seller_payable().await, -(MONTH - MONTH / 5));

    assert_eq!(s.run_jobs().await, 1);
    let refresh = s.calls("refreshInstance").await;
    let last = refresh.last().unwrap();
    assert_eq!(last["scene"], "UNSUBSCRIBE_RENEWAL_PERIOD", "{refresh:?}");
    assert_eq!(last["expireTime"], stamp(first_expiry));
    assert_eq!(last["orderId"], a["refund_order_id"]);
    assert_eq!(last["orderLineId"], a["refund_order_line_id"]);
    assert_eq!(s.calls("releaseInstance").await.len(), 0);
    let (status, expire_time) = seller_instance(&seller_db, sub["instance_id"].as_str().unwrap()).await;
    assert_eq!(status, "active");
    assert_eq!(expire_time.as_deref(), Some(stamp(first_expiry).as_str()));

    // The renewal is refunded: asking again finds nothing.
    s.unsubscribe(&b, &id, "r2", json!({"scope": "renewal_periods"})).await.problem(409, "no_renewal_periods");
    assert_eq!(s.wallet(&b).await, 2 * MONTH);
    s.app.assert_ledger_balanced().await;
}

#[tokio::test]
async fn a_trial_is_released_without_money() {
    let s = shop().await;
    let b = s.buyer(0).await;
    let id = s.buy(&b, json!({"trial": true})).await;
    let a = s.unsubscribe(&b, &id, "t", json!({"scope": "subscription"})).await.expect(200);
    assert_eq!(a["rule"], "none", "{a}");
    assert_eq!(a["amount_minor"], 0);
    assert_eq!(a["refund_order_id"], Value::Null);
    assert_eq!(a["status"], "released");
    assert_eq!(s.wallet(&b).await, 0);
    assert_eq!(s.run_jobs().await, 1);
    let release = s.calls("releaseInstance").await;
    assert_eq!(release.len(), 1);
    assert!(release[0].get("orderId").is_none(), "{release:?}");
    s.app.assert_ledger_balanced().await;
}

#[tokio::test]
async fn bad_input_and_wrong_states_change_nothing() {
    let s = shop().await;
    let b = s.buyer(2 * MONTH).await;
    let id = s.buy(&b, json!({"period": "month"})).await;
    let before = s.sub(&b, &id).await;

    let p = s.unsubscribe(&b, &id, "x1", json!({"scope": "everything"})).await.problem(422, "validation_failed");
    assert!(crate::helpers::Res::fields(&p).contains(&"scope".to_string()), "{p}");
    s.unsubscribe(&b, &id, "x2", json!({})).await.problem(422, "validation_failed");
    let long = "x".repeat(501);
    s.unsubscribe(&b, &id, "x3", json!({"scope": "subscription", "reason": long}))
        .await
        .problem(422, "validation_failed");
    let other = s.buyer(0).await;
    s.unsubscribe(&other, &id, "x4", json!({"scope": "subscription"})).await.problem(404, "not_found");
    s.unsubscribe(&b, "sub_nope", "x5", json!({"scope": "subscription"})).await.problem(404, "not_found");
    assert_eq!(s.sub(&b, &id).await, before);
    assert_eq!(s.wallet(&b).await, MONTH);

    // Provisioning (the seller was not called yet): 409, nothing moves.
    let pending = s.buy_unprovisioned(&b, json!({"period": "month"})).await;
    s.unsubscribe(&b, &pending, "x6", json!({"scope": "subscription"})).await.problem(409, "not_provisioned");
    assert_eq!(s.sub(&b, &pending).await["status"], "provisioning");
    assert_eq!(s.wallet(&b).await, 0);
    s.run_jobs().await;

    // Released: 409, no second refund.
    s.unsubscribe(&b, &id, "x7", json!({"scope": "subscription"})).await.expect(200);
    assert_eq!(s.wallet(&b).await, MONTH);
    s.unsubscribe(&b, &id, "x8", json!({"scope": "subscription"})).await.problem(409, "subscription_ended");
    s.unsubscribe(&b, &id, "x9", json!({"scope": "renewal_periods"})).await.problem(409, "subscription_ended");
    assert_eq!(s.wallet(&b).await, MONTH);
    s.app.assert_ledger_balanced().await;
}

#[tokio::test]
async fn concurrent_unsubscribes_refund_once() {
    let s = shop().await;
    let b = s.buyer(YEAR).await;
    let id = s.buy(&b, json!({"period": "year"})).await;
    let body = json!({"scope": "subscription"});
    let (r1, r2) = tokio::join!(s.unsubscribe(&b, &id, "c1", body.clone()), s.unsubscribe(&b, &id, "c2", body));
    let mut statuses = [r1.status, r2.status];
    statuses.sort();
    assert_eq!(statuses, [200, 409]);
    assert_eq!(s.wallet(&b).await, YEAR);
    assert_eq!(s.seller_payable().await, 0);
    assert_eq!(s.commission().await, 0);
    assert_eq!(s.run_jobs().await, 1);
    assert_eq!(s.calls("releaseInstance").await.len(), 1);
    s.app.assert_ledger_balanced().await;
}

#[tokio::test]
async fn one_time_purchases_are_refunded_only_within_five_days() {
    let sku = json!({"sku_code": "once", "name": "Lifetime", "charging_mode": "one_time",
        "prices": {"one_time_minor": 2500}, "currency": "CNY"});
    let s = shop_with(product_form("Cloud DB"), sku).await;
    let b = s.buyer(5_000).await;
    let early = s.buy(&b, json!({})).await;
    let late = s.buy(&b, json!({})).await;
    assert_eq!(s.wallet(&b).await, 0);
    s.advance(Duration::days(2)).await;
    let a = s.unsubscribe(&b, &early, "o1", json!({"scope": "subscription"})).await.expect(200);
    assert_eq!((a["rule"].as_str(), a["amount_minor"].as_i64()), (Some("five_day_full"), Some(2_500)), "{a}");
    assert_eq!(s.wallet(&b).await, 2_500);
    s.advance(Duration::days(3) + Duration::seconds(1)).await;
    s.unsubscribe(&b, &late, "o2", json!({"scope": "subscription"})).await.problem(409, "not_refundable");
    assert_eq!(s.sub(&b, &late).await["status"], "active");
    assert_eq!(s.wallet(&b).await, 2_500);
    assert_eq!(s.commission().await, -(2_500 / 5));
    s.app.assert_ledger_balanced().await;
}

#[tokio::test]
async fn pay_per_use_is_released_without_a_refund() {
    let sku = json!({"sku_code": "payg", "name": "Pay as you go", "charging_mode": "on_demand", "currency": "CNY",
        "metering": {"unit": "GB", "unit_price": "0.05", "billing": "daily"}});
    let s = shop_with(product_form("Cloud DB"), sku).await;
    let b = s.buyer(1_000).await;
    let id = s.buy(&b, json!({})).await;
    let a = s.unsubscribe(&b, &id, "p", json!({"scope": "subscription"})).await.expect(200);
    assert_eq!((a["rule"].as_str(), a["amount_minor"].as_i64()), (Some("none"), Some(0)), "{a}");
    assert_eq!(a["refund_order_id"], Value::Null);
    assert_eq!(s.sub(&b, &id).await["status"], "released");
    assert_eq!(s.wallet(&b).await, 1_000);
    assert_eq!(s.run_jobs().await, 1);
    assert_eq!(s.calls("releaseInstance").await.len(), 1);
    s.app.assert_ledger_balanced().await;
}

//! Subscription lifecycle on the test clock against the shared reference
//! seller: renewal, expiry -> freeze, renewal while frozen, grace period ->
//! release, auto-renewal, and scans that run twice.

use crate::helpers::{SHARED_SELLER_KEY, TestApp, period_sku, product_form, spawn_on_test_clock};
use chrono::{DateTime, Months, Utc};
use mercato_domain::delivery::DeliveredBy;
use mercato_isv::FaultPolicy;
use mercato_server::app::subscriptions::lifecycle::{self, FREEZE_INSTANCE, RELEASE_INSTANCE};
use mercato_store::entity::{job, product};
use mercato_store::repo::jobs as job_repo;
use mercato_store::repo::supervisions as supervision_repo;
use mercato_store::sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, sea_query::Expr};
use serde_json::{Value, json};

const ORDERS: &str = "/api/v1/buyer/orders";
const MONTH: i64 = 9900;

struct Sub {
    app: TestApp,
    op: String,
    seller_key: String,
    buyer_id: String,
    buyer_key: String,
    id: String,
}

/// A provisioned monthly subscription; the buyer's wallet keeps `spare`
/// after paying.
async fn provisioned(auto_renew: bool, spare: i64) -> Sub {
    let app = spawn_on_test_clock().await;
    let (_, seller_key, op) = app.approved_seller().await;
    let product_id = app.listed_product(&seller_key, &op, product_form("Cloud DB"), &[period_sku("std")]).await;
    let detail = app.get(&format!("/api/v1/catalog/products/{product_id}"), None).await.expect(200);
    let sku_id = detail["skus"][0]["id"].as_str().unwrap().to_string();
    let (buyer_id, buyer_key) = app.signup("buyer").await;
    app.credit_wallet(&op, &buyer_id, MONTH + spare, "CNY").await;
    let order = app
        .post(
            ORDERS,
            Some(&buyer_key),
            json!({"sku_id": sku_id, "period": "month", "period_count": 1, "auto_renew": auto_renew}),
        )
        .await
        .expect(201);
    let order_id = order["id"].as_str().unwrap().to_string();
    app.post(&format!("{ORDERS}/{order_id}/pay"), Some(&buyer_key), json!({})).await.expect(200);
    let subs = app.get("/api/v1/buyer/subscriptions", Some(&buyer_key)).await.expect(200);
    let id = subs["items"][0]["id"].as_str().unwrap().to_string();
    let s = Sub { app, op, seller_key, buyer_id, buyer_key, id };
    s.run_jobs().await;
    assert_eq!(s.sub().await["status"], "active");
    s
}

fn ts(v: &Value) -> DateTime<Utc> {
    serde_json::from_value(v.clone()).unwrap()
}

impl Sub {
    async fn run_jobs(&self) -> usize {
        self.app.worker("worker-a").run_due(10).await.unwrap()
    }

    async fn now(&self) -> DateTime<Utc> {
        ts(&self.app.get("/api/v1/operator/test-clock", Some(&self.op)).await.expect(200)["now"])
    }

    /// Moves the test clock to `at`.
    async fn advance_to(&self, at: DateTime<Utc>) {
        let secs = (at - self.now().await).num_seconds().max(0);
        self.app.post("/api/v1/operator/test-clock", Some(&self.op), json!({"advance_secs": secs})).await.expect(200);
    }

    async fn sub(&self) -> Value {
        self.app.get(&format!("/api/v1/buyer/subscriptions/{}", self.id), Some(&self.buyer_key)).await.expect(200)
    }

    async fn expires_at(&self) -> DateTime<Utc> {
        ts(&self.sub().await["expires_at"])
    }

    async fn wallet(&self) -> i64 {
        self.app.wallet_available(&self.buyer_key, "CNY").await
    }

    async fn renew(&self, idem: &str) -> crate::helpers::Res {
        self.app
            .post_idem(
                &format!("/api/v1/buyer/subscriptions/{}/renew", self.id),
                &self.buyer_key,
                idem,
                Some(json!({"period": "month", "period_count": 1})),
            )
            .await
    }

    /// Successful calls of `activity` the seller got, oldest first (request bodies).
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
            .filter(|m| m["activity"] == activity && m["outcome"] == "success")
            .map(|m| serde_json::from_str(m["request_body"].as_str().unwrap()).unwrap())
            .collect();
        v.reverse();
        v
    }

    /// Points the product at a reference seller that stays down for a day.
    async fn seller_goes_down_for_good(&self) {
        let down = self
            .app
            .reference_seller(SHARED_SELLER_KEY, FaultPolicy { down_for_secs: 86_400, ..FaultPolicy::default() })
            .await;
        let sub =
            mercato_store::repo::orders::find_subscription(&self.app.state.db.conn, &self.id).await.unwrap().unwrap();
        product::Entity::update_many()
            .col_expr(product::Column::EndpointUrl, Expr::value(down))
            .filter(product::Column::Id.eq(&sub.product_id))
            .exec(&self.app.state.db.conn)
            .await
            .unwrap();
    }

    /// Runs due jobs while the test clock moves on 10 minutes at a time,
    /// past the lifecycle retry policy's hour.
    async fn retry_for_over_an_hour(&self) {
        for _ in 0..12 {
            self.run_jobs().await;
            let now = self.now().await;
            self.advance_to(now + chrono::Duration::minutes(10)).await;
        }
        self.run_jobs().await;
    }

    async fn order_status(&self, order_id: &str) -> Value {
        self.app.get(&format!("{ORDERS}/{order_id}"), Some(&self.buyer_key)).await.expect(200)["status"].clone()
    }

    async fn jobs_of(&self, kind: &str) -> u64 {
        job::Entity::find().filter(job::Column::Kind.eq(kind)).count(&self.app.state.db.conn).await.unwrap()
    }
}

fn stamp(t: DateTime<Utc>) -> String {
    t.format("%Y%m%d%H%M%S").to_string()
}

#[tokio::test]
async fn renew_expire_freeze_renew_while_frozen_and_release_after_grace() {
    let s = provisioned(false, 5 * MONTH).await;
    let first_expiry = s.expires_at().await;

    // Renew: charged, expiry moved on from the current expiry, RENEWAL sent.
    let before = s.wallet().await;
    let renewal = s.renew("renew-1").await.expect(200);
    let second_expiry = first_expiry.checked_add_months(Months::new(1)).unwrap();
    assert_eq!(ts(&renewal["expires_at"]), second_expiry, "{renewal}");
    assert_eq!(renewal["amount_minor"], MONTH);
    assert_eq!(s.expires_at().await, second_expiry);
    assert_eq!(s.wallet().await, before - MONTH);
    // A retry with the same key changes nothing.
    let again = s.renew("renew-1").await.expect(200);
    assert_eq!(again, renewal);
    assert_eq!(s.wallet().await, before - MONTH);
    assert_eq!(s.run_jobs().await, 1);
    let refresh = s.calls("refreshInstance").await;
    assert_eq!(refresh.len(), 1, "{refresh:?}");
    assert_eq!(refresh[0]["scene"], "RENEWAL");
    assert_eq!(refresh[0]["expireTime"], stamp(second_expiry));
    assert_eq!(refresh[0]["orderLineId"], renewal["order_line_id"]);
    let order =
        s.app.get(&format!("{ORDERS}/{}", renewal["order_id"].as_str().unwrap()), Some(&s.buyer_key)).await.expect(200);
    assert_eq!(order["status"], "completed", "{order}");
    assert_eq!(order["amount_minor"], MONTH);
    assert_eq!(order["lines"][0]["renews_subscription_id"], s.id.as_str(), "{order}");
    s.app.assert_ledger_balanced().await;

    // Expiry -> frozen, FREEZE sent; a second scan enqueues nothing.
    s.advance_to(second_expiry + chrono::Duration::minutes(1)).await;
    let r = lifecycle::expiry_scan(&s.app.state).await.unwrap();
    assert_eq!(r.frozen, 1);
    assert_eq!(lifecycle::expiry_scan(&s.app.state).await.unwrap().frozen, 0);
    assert_eq!(s.jobs_of(FREEZE_INSTANCE).await, 1);
    assert_eq!(s.sub().await["status"], "frozen");
    assert_eq!(s.run_jobs().await, 1);
    let status = s.calls("updateInstanceStatus").await;
    assert_eq!(status.len(), 1, "{status:?}");
    assert_eq!(status[0]["status"], "FREEZE");

    // Renew while frozen: UNFREEZE then RENEWAL; active again.
    let renewal = s.renew("renew-2").await.expect(200);
    let third_expiry = second_expiry.checked_add_months(Months::new(1)).unwrap();
    assert_eq!(ts(&renewal["expires_at"]), third_expiry);
    assert_eq!(s.sub().await["status"], "active");
    assert_eq!(s.run_jobs().await, 1);
    let status = s.calls("updateInstanceStatus").await;
    assert_eq!(status.len(), 2, "{status:?}");
    assert_eq!(status[1]["status"], "UNFREEZE");
    let refresh = s.calls("refreshInstance").await;
    assert_eq!(refresh.len(), 2);
    assert_eq!(refresh[1]["expireTime"], stamp(third_expiry));

    // Expire again; the grace period passes -> released.
    s.advance_to(third_expiry + chrono::Duration::minutes(1)).await;
    assert_eq!(lifecycle::expiry_scan(&s.app.state).await.unwrap().frozen, 1);
    s.run_jobs().await;
    assert_eq!(s.sub().await["status"], "frozen");
    s.advance_to(third_expiry + chrono::Duration::days(14)).await;
    assert_eq!(lifecycle::expiry_scan(&s.app.state).await.unwrap().released, 0);
    s.advance_to(third_expiry + chrono::Duration::days(15) + chrono::Duration::minutes(1)).await;
    assert_eq!(lifecycle::expiry_scan(&s.app.state).await.unwrap().released, 1);
    assert_eq!(lifecycle::expiry_scan(&s.app.state).await.unwrap().released, 0);
    assert_eq!(s.jobs_of(RELEASE_INSTANCE).await, 1);
    assert_eq!(s.run_jobs().await, 1);
    assert_eq!(s.sub().await["status"], "released");
    let release = s.calls("releaseInstance").await;
    assert_eq!(release.len(), 1, "{release:?}");

    // A released subscription cannot be renewed; nothing is charged.
    let before = s.wallet().await;
    s.renew("renew-3").await.problem(409, "subscription_ended");
    assert_eq!(s.wallet().await, before);
    s.app.assert_ledger_balanced().await;
}

#[tokio::test]
async fn renewing_without_money_changes_nothing() {
    let s = provisioned(false, 100).await;
    let expiry = s.expires_at().await;
    s.renew("poor").await.problem(402, "insufficient_funds");
    assert_eq!(s.wallet().await, 100);
    assert_eq!(s.expires_at().await, expiry);
    assert_eq!(s.run_jobs().await, 0);
    s.app.assert_ledger_balanced().await;
}

#[tokio::test]
async fn auto_renew_charges_seven_days_before_expiry_and_retries_when_unpaid() {
    let s = provisioned(true, 0).await;
    let expiry = s.expires_at().await;
    let tasks: Vec<String> = s.app.registry.tasks().iter().map(|t| t.name.clone()).collect();
    assert!(tasks.contains(&lifecycle::AUTO_RENEW_TASK.to_string()), "{tasks:?}");
    assert!(tasks.contains(&lifecycle::EXPIRY_TASK.to_string()), "{tasks:?}");

    // 8 days before expiry: nothing yet.
    s.advance_to(expiry - chrono::Duration::days(8)).await;
    assert_eq!(lifecycle::auto_renew_scan(&s.app.state).await.unwrap().renewed, 0);

    // 7 days before: the wallet is empty -> nothing changes.
    s.advance_to(expiry - chrono::Duration::days(7) + chrono::Duration::minutes(1)).await;
    let r = lifecycle::auto_renew_scan(&s.app.state).await.unwrap();
    assert_eq!((r.renewed, r.unpaid), (0, 1));
    assert_eq!(s.expires_at().await, expiry);
    assert_eq!(s.sub().await["status"], "active");

    // Money arrives; the next day's run renews, once.
    s.app.credit_wallet(&s.op, &s.buyer_id, MONTH, "CNY").await;
    s.advance_to(expiry - chrono::Duration::days(6)).await;
    assert_eq!(lifecycle::auto_renew_scan(&s.app.state).await.unwrap().renewed, 1);
    assert_eq!(lifecycle::auto_renew_scan(&s.app.state).await.unwrap().renewed, 0);
    let new_expiry = expiry.checked_add_months(Months::new(1)).unwrap();
    assert_eq!(s.expires_at().await, new_expiry);
    assert_eq!(s.wallet().await, 0);
    assert_eq!(s.run_jobs().await, 1);
    let refresh = s.calls("refreshInstance").await;
    assert_eq!(refresh.len(), 1);
    assert_eq!(refresh[0]["scene"], "RENEWAL");
    assert_eq!(refresh[0]["expireTime"], stamp(new_expiry));

    // The old expiry passes: still active (renewed).
    s.advance_to(expiry + chrono::Duration::minutes(1)).await;
    assert_eq!(lifecycle::expiry_scan(&s.app.state).await.unwrap().frozen, 0);
    assert_eq!(s.sub().await["status"], "active");
    s.app.assert_ledger_balanced().await;
}

#[tokio::test]
async fn the_scheduler_freezes_and_a_seller_down_for_good_is_given_up_after_an_hour() {
    let s = provisioned(false, 0).await;
    let expiry = s.expires_at().await;
    s.seller_goes_down_for_good().await;

    // The periodic task (not a direct call) freezes the expired subscription.
    s.advance_to(expiry + chrono::Duration::minutes(1)).await;
    let worker = s.app.worker("worker-a");
    assert!(worker.run_scheduled().await.unwrap() >= 1);
    assert_eq!(s.sub().await["status"], "frozen");
    assert_eq!(s.jobs_of(FREEZE_INSTANCE).await, 1);

    // Retried under the lifecycle policy for an hour, then given up; the
    // subscription stays frozen.
    s.retry_for_over_an_hour().await;
    let j = job::Entity::find()
        .filter(job::Column::Kind.eq(FREEZE_INSTANCE))
        .one(&s.app.state.db.conn)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(j.status, job_repo::DEAD, "{j:?}");
    assert!(j.attempts >= 3, "{j:?}");
    assert_eq!(s.sub().await["status"], "frozen");
    let failed =
        s.app.get("/api/v1/seller/interface-messages?status=failed&limit=100", Some(&s.seller_key)).await.expect(200);
    let failed = failed["items"].as_array().unwrap();
    assert!(failed.iter().any(|m| m["activity"] == "updateInstanceStatus"), "{failed:?}");
    s.app.assert_ledger_balanced().await;
}

#[tokio::test]
async fn a_renewal_given_up_still_completes_its_order() {
    let s = provisioned(false, MONTH).await;
    let expiry = s.expires_at().await;
    s.seller_goes_down_for_good().await;
    let renewal = s.renew("down").await.expect(200);
    let new_expiry = expiry.checked_add_months(Months::new(1)).unwrap();
    assert_eq!(s.expires_at().await, new_expiry);
    let renewal_order = renewal["order_id"].as_str().expect("the renewal names its order").to_string();
    assert_eq!(s.order_status(&renewal_order).await, "paid");

    // The seller never hears of it; the job is given up after an hour and
    // the renewal, in force in Mercato, ends its order.
    s.retry_for_over_an_hour().await;
    let j = job::Entity::find()
        .filter(job::Column::Kind.eq(lifecycle::RENEW_INSTANCE))
        .one(&s.app.state.db.conn)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(j.status, job_repo::DEAD, "{j:?}");
    assert_eq!(s.order_status(&renewal_order).await, "completed");
    // Settleable: the purchase when provisioned, the renewal once in force.
    let db = &s.app.state.db.conn;
    let purchase_line = s.sub().await["order_line_id"].as_str().unwrap().to_string();
    let purchase = supervision_repo::delivery_of(db, &purchase_line).await.unwrap().unwrap();
    assert_eq!(purchase.delivered_by, DeliveredBy::InstanceProvisioned);
    let renewal_line = renewal["order_line_id"].as_str().unwrap();
    let delivery = supervision_repo::delivery_of(db, renewal_line).await.unwrap().unwrap();
    assert_eq!(delivery.delivered_by, DeliveredBy::ChangeInForce);
    assert_eq!(s.sub().await["status"], "active");
    assert_eq!(s.expires_at().await, new_expiry);
    assert_eq!(s.wallet().await, 0);
    s.app.assert_ledger_balanced().await;
}

//! Fulfilment through the seller's server: newInstance / queryInstance
//! against a reference seller, retries on the test clock, refusals refunded,
//! and the seller's interface messages.

use crate::helpers::{SHARED_SELLER_KEY, TestApp, period_sku, product_form, spawn_on_test_clock};
use mercato_isv::FaultPolicy;
use mercato_server::app::orders::FULFIL_NEW_INSTANCE;
use mercato_server::app::outbox::JobOutcome;
use mercato_server::workers;
use mercato_store::entity::product;
use mercato_store::repo::jobs as job_repo;
use mercato_store::sea_orm::{ColumnTrait, EntityTrait, QueryFilter, sea_query::Expr};
use serde_json::{Value, json};
use std::time::Duration;

const ORDERS: &str = "/api/v1/buyer/orders";
const START_MINOR: i64 = 100_000;

struct Buy {
    app: TestApp,
    op: String,
    seller_key: String,
    buyer_key: String,
    order_id: String,
    line_id: String,
    sub_id: String,
}

/// Lists a SaaS product (its debug run against the shared seller), then
/// points its endpoint at a reference seller with `faults`, and has a funded
/// buyer order and pay one month of it.
async fn bought(faults: Option<FaultPolicy>) -> Buy {
    let app = spawn_on_test_clock().await;
    let (_, seller_key, op) = app.approved_seller().await;
    let product_id = app.listed_product(&seller_key, &op, product_form("Cloud DB"), &[period_sku("std")]).await;
    if let Some(faults) = faults {
        let url = app.reference_seller(SHARED_SELLER_KEY, faults).await;
        product::Entity::update_many()
            .col_expr(product::Column::EndpointUrl, Expr::value(url))
            .filter(product::Column::Id.eq(&product_id))
            .exec(&app.state.db.conn)
            .await
            .unwrap();
    }
    let detail = app.get(&format!("/api/v1/catalog/products/{product_id}"), None).await.expect(200);
    let sku_id = detail["skus"][0]["id"].as_str().unwrap().to_string();
    let (buyer_id, buyer_key) = app.signup("buyer").await;
    app.credit_wallet(&op, &buyer_id, START_MINOR, "CNY").await;
    let order = app
        .post(ORDERS, Some(&buyer_key), json!({"sku_id": sku_id, "period": "month", "period_count": 1}))
        .await
        .expect(201);
    let order_id = order["id"].as_str().unwrap().to_string();
    let line_id = order["lines"][0]["id"].as_str().unwrap().to_string();
    app.post(&format!("{ORDERS}/{order_id}/pay"), Some(&buyer_key), json!({})).await.expect(200);
    let subs = app.get("/api/v1/buyer/subscriptions", Some(&buyer_key)).await.expect(200);
    let sub_id = subs["items"][0]["id"].as_str().unwrap().to_string();
    Buy { app, op, seller_key, buyer_key, order_id, line_id, sub_id }
}

impl Buy {
    async fn run_jobs(&self) -> usize {
        self.app.worker("worker-a").run_due(10).await.unwrap()
    }

    async fn advance(&self, secs: i64) {
        self.app.post("/api/v1/operator/test-clock", Some(&self.op), json!({"advance_secs": secs})).await.expect(200);
    }

    async fn order(&self) -> Value {
        self.app.get(&format!("{ORDERS}/{}", self.order_id), Some(&self.buyer_key)).await.expect(200)
    }

    async fn sub(&self) -> Value {
        self.app.get(&format!("/api/v1/buyer/subscriptions/{}", self.sub_id), Some(&self.buyer_key)).await.expect(200)
    }

    async fn messages(&self, status: &str) -> Vec<Value> {
        let page = self
            .app
            .get(&format!("/api/v1/seller/interface-messages?status={status}&limit=100"), Some(&self.seller_key))
            .await
            .expect(200);
        page["items"].as_array().unwrap().clone()
    }

    async fn job(&self) -> mercato_store::entity::job::Model {
        job_repo::find_by_reference(&self.app.state.db.conn, FULFIL_NEW_INSTANCE, &self.line_id)
            .await
            .unwrap()
            .expect("fulfilment job")
    }

    async fn wallet(&self) -> i64 {
        self.app.wallet_available(&self.buyer_key, "CNY").await
    }

    /// The distinct instance ids the seller answered to newInstance.
    async fn instance_ids(&self) -> Vec<String> {
        let mut ids: Vec<String> = self
            .messages("all")
            .await
            .iter()
            .filter(|m| m["activity"] == "newInstance" && m["outcome"] == "success")
            .map(|m| {
                let body: Value = serde_json::from_str(m["response_body"].as_str().unwrap()).unwrap();
                body["instanceId"].as_str().unwrap().to_string()
            })
            .collect();
        ids.sort();
        ids.dedup();
        ids
    }
}

#[tokio::test]
async fn a_paid_purchase_is_provisioned_with_app_info_and_the_order_completes() {
    let b = bought(None).await;
    assert_eq!(b.run_jobs().await, 1);

    let sub = b.sub().await;
    assert_eq!(sub["status"], "active", "{sub}");
    assert!(sub["instance_id"].as_str().is_some_and(|s| !s.is_empty()), "{sub}");
    let info = &sub["app_info"];
    assert!(info["front_end_url"].as_str().is_some_and(|u| u.starts_with("http")), "{sub}");
    let list = b.app.get("/api/v1/buyer/subscriptions", Some(&b.buyer_key)).await.expect(200);
    assert_eq!(list["items"][0]["app_info"], *info);
    assert_eq!(b.order().await["status"], "completed");

    let msgs = b.messages("all").await;
    let new: Vec<&Value> = msgs.iter().filter(|m| m["activity"] == "newInstance").collect();
    assert_eq!(new.len(), 1, "{msgs:?}");
    assert_eq!(new[0]["outcome"], "success");
    assert_eq!(new[0]["result_code"], "000000");
    assert_eq!(new[0]["order_line_id"], b.line_id.as_str());
    assert!(new[0]["request_body"].as_str().unwrap().contains(&b.order_id));
    assert!(!new[0]["url"].as_str().unwrap().contains("signature"));
    assert!(b.messages("failed").await.is_empty());
    assert_eq!(b.job().await.status, job_repo::DONE);
    // Nothing more to do.
    assert_eq!(b.run_jobs().await, 0);
    b.app.assert_ledger_balanced().await;
}

#[tokio::test]
async fn an_async_seller_is_polled_until_the_instance_is_ready() {
    let b = bought(Some(FaultPolicy { async_mode: true, async_delay_ms: 1_000, ..FaultPolicy::default() })).await;
    assert_eq!(b.run_jobs().await, 1);
    let sub = b.sub().await;
    assert_eq!(sub["status"], "provisioning");
    assert!(sub["instance_id"].as_str().is_some(), "the 000004 instance id is kept: {sub}");
    assert_eq!(b.order().await["status"], "fulfilling");

    tokio::time::sleep(Duration::from_millis(1_200)).await;
    b.advance(15).await;
    assert_eq!(b.run_jobs().await, 1);
    let sub = b.sub().await;
    assert_eq!(sub["status"], "active", "{sub}");
    assert!(sub["app_info"]["front_end_url"].is_string());
    assert_eq!(b.order().await["status"], "completed");
    let msgs = b.messages("all").await;
    assert_eq!(msgs.iter().filter(|m| m["activity"] == "newInstance").count(), 1, "{msgs:?}");
    assert_eq!(msgs.iter().filter(|m| m["outcome"] == "in_progress").count(), 1, "{msgs:?}");
    b.app.assert_ledger_balanced().await;
}

#[tokio::test]
async fn a_seller_that_is_down_is_retried_and_provisions_once() {
    let b = bought(Some(FaultPolicy { down_for_secs: 2, ..FaultPolicy::default() })).await;
    assert_eq!(b.run_jobs().await, 1);
    assert_eq!(b.sub().await["status"], "provisioning");
    let failed = b.messages("failed").await;
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0]["outcome"], "retryable");
    assert_eq!(failed[0]["response_status"], 503);
    // Not due again before its backoff (about a minute).
    assert_eq!(b.run_jobs().await, 0);

    tokio::time::sleep(Duration::from_millis(2_200)).await;
    b.advance(90).await;
    assert_eq!(b.run_jobs().await, 1);
    assert_eq!(b.sub().await["status"], "active");
    assert_eq!(b.order().await["status"], "completed");
    assert_eq!(b.instance_ids().await.len(), 1);
    b.app.assert_ledger_balanced().await;
}

#[tokio::test]
async fn a_refusal_fails_the_order_and_refunds_the_buyer_at_once() {
    let b = bought(Some(FaultPolicy { refuse: Some("000106".into()), ..FaultPolicy::default() })).await;
    assert!(b.wallet().await < START_MINOR);
    assert_eq!(b.run_jobs().await, 1);

    assert_eq!(b.sub().await["status"], "failed");
    assert_eq!(b.order().await["status"], "refunded");
    assert_eq!(b.wallet().await, START_MINOR);
    assert_eq!(b.job().await.status, job_repo::DEAD);
    let failed = b.messages("failed").await;
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0]["outcome"], "refused");
    assert_eq!(failed[0]["result_code"], "000106");
    // Re-sending a refunded purchase is refused.
    let id = failed[0]["id"].as_str().unwrap();
    b.app
        .post(&format!("/api/v1/seller/interface-messages/{id}/resend"), Some(&b.seller_key), json!({}))
        .await
        .problem(409, "purchase_failed");
    b.app.assert_ledger_balanced().await;
}

#[tokio::test]
async fn an_always_failing_seller_is_given_up_after_three_hours_and_refunded() {
    let b = bought(Some(FaultPolicy { fail_rate: 1.0, ..FaultPolicy::default() })).await;
    let mut rounds = 0;
    while b.job().await.status != job_repo::DEAD {
        rounds += 1;
        assert!(rounds < 40, "still retrying after {rounds} rounds");
        b.run_jobs().await;
        if b.job().await.status != job_repo::DEAD {
            assert_eq!(b.order().await["status"], "fulfilling");
        }
        b.advance(31 * 60).await;
    }
    assert_eq!(b.sub().await["status"], "failed");
    assert_eq!(b.order().await["status"], "refunded");
    assert_eq!(b.wallet().await, START_MINOR);
    let failed = b.messages("failed").await;
    assert!(failed.len() > 3, "{failed:?}");
    assert!(failed.iter().all(|m| m["outcome"] == "retryable"));
    b.app.assert_ledger_balanced().await;
}

#[tokio::test]
async fn two_workers_running_the_same_attempt_provision_one_instance() {
    let b = bought(None).await;
    let job = b.job().await;
    let view = workers::claim(&b.app.state, &job.id, "worker-a").await.unwrap().expect("claimed");
    let (one, two) = tokio::join!(
        mercato_server::app::subscriptions::fulfilment::fulfil_new_instance(b.app.state.clone(), view.clone()),
        mercato_server::app::subscriptions::fulfilment::fulfil_new_instance(b.app.state.clone(), view.clone()),
    );
    assert_eq!((one, two), (JobOutcome::Done, JobOutcome::Done));
    assert_eq!(b.sub().await["status"], "active");
    assert_eq!(b.order().await["status"], "completed");
    assert_eq!(b.instance_ids().await.len(), 1);
    // Racing claimers: only one gets the job.
    let b = bought(None).await;
    let (wx, wy) = (b.app.worker("worker-x"), b.app.worker("worker-y"));
    let (x, y) = tokio::join!(wx.run_due(10), wy.run_due(10));
    assert_eq!(x.unwrap() + y.unwrap(), 1);
    assert_eq!(b.sub().await["status"], "active");
    assert_eq!(b.instance_ids().await.len(), 1);
    b.app.assert_ledger_balanced().await;
}

#[tokio::test]
async fn interface_messages_show_failures_and_resend_requeues_the_purchase() {
    let b = bought(Some(FaultPolicy { down_for_secs: 2, ..FaultPolicy::default() })).await;
    b.run_jobs().await;
    let failed = b.messages("failed").await;
    assert_eq!(failed.len(), 1);
    let m = &failed[0];
    assert_eq!(m["activity"], "newInstance");
    assert!(m["request_body"].as_str().unwrap().contains("newInstance"));
    assert!(m["response_body"].as_str().is_some());
    assert_eq!(m["attempt"], 1);
    let id = m["id"].as_str().unwrap().to_string();

    // Another seller sees nothing of it.
    let (_, other_key, _) = b.app.approved_seller().await;
    let page = b.app.get("/api/v1/seller/interface-messages", Some(&other_key)).await.expect(200);
    assert_eq!(page["items"].as_array().unwrap().len(), 0);
    b.app
        .post(&format!("/api/v1/seller/interface-messages/{id}/resend"), Some(&other_key), json!({}))
        .await
        .problem(404, "not_found");
    b.app.get("/api/v1/seller/interface-messages?status=bogus", Some(&b.seller_key)).await.expect(422);

    // Resend: due now, without waiting for the backoff.
    tokio::time::sleep(Duration::from_millis(2_200)).await;
    assert_eq!(b.run_jobs().await, 0);
    let again = b
        .app
        .post(&format!("/api/v1/seller/interface-messages/{id}/resend"), Some(&b.seller_key), json!({}))
        .await
        .expect(200);
    assert_eq!(again["id"], id.as_str());
    assert_eq!(b.job().await.status, job_repo::PENDING);
    assert_eq!(b.run_jobs().await, 1);
    assert_eq!(b.sub().await["status"], "active");
    b.app
        .post(&format!("/api/v1/seller/interface-messages/{id}/resend"), Some(&b.seller_key), json!({}))
        .await
        .problem(409, "already_fulfilled");
    assert_eq!(b.messages("all").await.len(), 3, "failed newInstance, newInstance, queryInstance");
}

#[tokio::test]
async fn a_rejected_call_is_logged_and_retried_within_the_deadline() {
    let b = bought(None).await;
    // The seller's server now expects another key: every call fails its signature check.
    let url = b.app.reference_seller("a-different-key", FaultPolicy::default()).await;
    product::Entity::update_many()
        .col_expr(product::Column::EndpointUrl, Expr::value(url))
        .exec(&b.app.state.db.conn)
        .await
        .unwrap();
    assert_eq!(b.run_jobs().await, 1);
    let failed = b.messages("failed").await;
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0]["outcome"], "rejected");
    assert_eq!(failed[0]["result_code"], "000001");
    assert_eq!(b.sub().await["status"], "provisioning");
    assert_eq!(b.order().await["status"], "fulfilling");
    let job = b.job().await;
    assert_eq!(job.status, job_repo::PENDING, "retried: the seller may fix its configuration");
    assert!(job.run_at > b.app.state.now());
}

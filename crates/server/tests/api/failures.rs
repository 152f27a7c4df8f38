//! Failure paths and their money: sellers that are slow, answer garbage,
//! reject every call or never finish provisioning; auto-renewal that cannot
//! be paid; a job handler that runs longer than its lease. Every purchase
//! ends with one instance at the seller and the money kept, or no live
//! instance and the money returned; the ledger stays balanced.
//!
//! (Covered elsewhere: paying a cancelled order, `orders.rs`
//! `paying_a_cancelled_order_is_refused`; concurrent duplicate pays with and
//! without a key, `orders.rs` `concurrent_duplicate_pays_charge_once`;
//! renewing a released subscription, `lifecycle.rs`
//! `renew_expire_freeze_renew_while_frozen_and_release_after_grace`.)

use crate::helpers::{SHARED_SELLER_KEY, TestApp, period_sku, product_form, spawn_on_test_clock, spawn_with};
use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::IntoResponse;
use mercato_isv::FaultPolicy;
use mercato_server::AppState;
use mercato_server::app::orders::FULFIL_NEW_INSTANCE;
use mercato_server::app::outbox::{self, JobOutcome};
use mercato_server::app::subscriptions::fulfilment::RELEASE_ABANDONED_INSTANCE;
use mercato_server::app::subscriptions::lifecycle;
use mercato_server::workers::{self, Registry};
use mercato_store::entity::product;
use mercato_store::repo::jobs::{self as job_repo, NewJob};
use mercato_store::sea_orm::{ColumnTrait, EntityTrait, QueryFilter, sea_query::Expr};
use serde_json::{Value, json};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

const ORDERS: &str = "/api/v1/buyer/orders";
const START_MINOR: i64 = 100_000;
const MONTH: i64 = 9900;

// ---------------------------------------------------------------- sellers

/// A reference seller whose SQLite file the test can read (the seller's own
/// view of its instances); returns (URL, database path).
async fn seller_with_db(app: &TestApp, key: &str, faults: FaultPolicy, db: Option<PathBuf>) -> (String, PathBuf) {
    let db = db.unwrap_or_else(|| app.dir.path().join(format!("seller-{}.db", uuid::Uuid::new_v4().simple())));
    let mut config = mercato_isv::ReferenceSellerConfig::new(key, db.clone());
    config.faults = faults;
    let (listener, addr) = mercato_isv::bind(0).await.unwrap();
    tokio::spawn(mercato_isv::serve_on(listener, config, std::future::pending()));
    (format!("http://{addr}/produce"), db)
}

/// The seller's instances of an order line, as (instance id, status).
async fn seller_instances(db: &std::path::Path, line_id: &str) -> Vec<(String, String)> {
    use mercato_store::sea_orm::sqlx::{self, Row};
    let url = format!("sqlite://{}", db.display());
    let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
    let rows = sqlx::query("SELECT instance_id, status FROM instances WHERE order_line_id = ?")
        .bind(line_id)
        .fetch_all(&pool)
        .await
        .unwrap();
    pool.close().await;
    rows.iter().map(|r| (r.get::<String, _>(0), r.get::<String, _>(1))).collect()
}

/// Serves `handler` on 127.0.0.1:0 (an in-test seller); returns its URL.
async fn serve_seller<H, T>(handler: H) -> String
where
    H: axum::handler::Handler<T, ()>,
    T: 'static,
{
    let app = axum::Router::new().fallback(handler);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}/produce")
}

/// A seller that answers every call with an HTML page and HTTP 200.
async fn garbage_seller() -> String {
    serve_seller(|| async {
        (StatusCode::OK, [("content-type", "text/html")], "<html><body>502 Bad Gateway (nginx)</body></html>")
            .into_response()
    })
    .await
}

/// How a [`front`] misbehaves (switchable during a test).
#[derive(Default)]
struct FrontFaults {
    /// Hold every answer 6 s (after the seller did the work), past the
    /// marketplace's 5 s timeout.
    slow: AtomicBool,
    /// Answer queryInstance with `000106` (the seller gave up provisioning).
    refuse_query: AtomicBool,
}

/// A front for the reference seller at `inner`: forwards each call as is,
/// misbehaving as `faults` say.
async fn front(inner: String, faults: Arc<FrontFaults>) -> String {
    let client = reqwest::Client::new();
    serve_seller(move |uri: Uri, headers: HeaderMap, body: Bytes| {
        let (client, inner, faults) = (client.clone(), inner.clone(), faults.clone());
        async move {
            let activity =
                serde_json::from_slice::<Value>(&body).ok().and_then(|b| b["activity"].as_str().map(String::from));
            if faults.refuse_query.load(Ordering::SeqCst) && activity.as_deref() == Some("queryInstance") {
                let answer = r#"{"resultCode":"000106","resultMsg":"provisioning failed: sold out"}"#;
                return (StatusCode::OK, [("content-type", "application/json")], answer).into_response();
            }
            let url = match uri.query() {
                Some(q) => format!("{inner}?{q}"),
                None => inner,
            };
            let mut req = client.post(url).body(body);
            for (name, value) in &headers {
                if name != "host" && name != "content-length" {
                    req = req.header(name, value);
                }
            }
            let res = req.send().await.unwrap();
            let status = StatusCode::from_u16(res.status().as_u16()).unwrap();
            let content_type = res.headers().get("content-type").cloned();
            let bytes = res.bytes().await.unwrap();
            if faults.slow.load(Ordering::SeqCst) {
                tokio::time::sleep(Duration::from_secs(6)).await;
            }
            let mut out = (status, bytes).into_response();
            if let Some(ct) = content_type {
                out.headers_mut().insert("content-type", ct);
            }
            out
        }
    })
    .await
}

// ---------------------------------------------------------------- a purchase

struct Buy {
    app: TestApp,
    op: String,
    seller_key: String,
    buyer_key: String,
    product_id: String,
    order_id: String,
    line_id: String,
    sub_id: String,
}

/// A listed SaaS product (debug run against the shared seller) and a funded
/// buyer who ordered and paid one month of it; no job has run yet.
async fn bought() -> Buy {
    let app = spawn_on_test_clock().await;
    let (_, seller_key, op) = app.approved_seller().await;
    let product_id = app.listed_product(&seller_key, &op, product_form("Cloud DB"), &[period_sku("std")]).await;
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
    Buy { app, op, seller_key, buyer_key, product_id, order_id, line_id, sub_id }
}

impl Buy {
    /// Points the product at another seller URL (the seller changed its server).
    async fn point_at(&self, url: &str) {
        product::Entity::update_many()
            .col_expr(product::Column::EndpointUrl, Expr::value(url))
            .filter(product::Column::Id.eq(&self.product_id))
            .exec(&self.app.state.db.conn)
            .await
            .unwrap();
    }

    async fn run_jobs(&self) -> usize {
        self.app.worker("worker-a").run_due(10).await.unwrap()
    }

    async fn advance(&self, secs: i64) {
        self.app.post("/api/v1/operator/test-clock", Some(&self.op), json!({"advance_secs": secs})).await.expect(200);
    }

    async fn order_status(&self) -> Value {
        self.app.get(&format!("{ORDERS}/{}", self.order_id), Some(&self.buyer_key)).await.expect(200)["status"].clone()
    }

    async fn sub(&self) -> Value {
        self.app.get(&format!("/api/v1/buyer/subscriptions/{}", self.sub_id), Some(&self.buyer_key)).await.expect(200)
    }

    async fn messages(&self) -> Vec<Value> {
        let page = self
            .app
            .get("/api/v1/seller/interface-messages?status=all&limit=100", Some(&self.seller_key))
            .await
            .expect(200);
        let mut items = page["items"].as_array().unwrap().clone();
        items.reverse();
        items
    }

    async fn job(&self, kind: &str) -> Option<mercato_store::entity::job::Model> {
        job_repo::find_by_reference(&self.app.state.db.conn, kind, &self.line_id).await.unwrap()
    }

    async fn wallet(&self) -> i64 {
        self.app.wallet_available(&self.buyer_key, "CNY").await
    }

    /// Runs the fulfilment job every 31 minutes of test time until it gives
    /// up; the order stays `fulfilling` meanwhile. Returns the rounds run.
    async fn until_given_up(&self) -> usize {
        let mut rounds = 0;
        loop {
            rounds += 1;
            assert!(rounds < 20, "still retrying after {rounds} rounds");
            self.run_jobs().await;
            if self.job(FULFIL_NEW_INSTANCE).await.unwrap().status == job_repo::DEAD {
                return rounds;
            }
            assert_eq!(self.order_status().await, "fulfilling");
            assert!(self.wallet().await < START_MINOR, "not refunded before the deadline");
            self.advance(31 * 60).await;
        }
    }

    /// Failed and refunded in full, once.
    async fn assert_refunded(&self) {
        assert_eq!(self.sub().await["status"], "failed");
        assert_eq!(self.order_status().await, "refunded");
        assert_eq!(self.wallet().await, START_MINOR);
        let op = self.app.operator().await;
        let entries = self
            .app
            .get(&format!("/api/v1/operator/ledger/entries?reference={}", self.order_id), Some(&op))
            .await
            .expect(200);
        let kinds: Vec<&str> =
            entries["items"].as_array().unwrap().iter().map(|e| e["kind"].as_str().unwrap()).collect();
        assert_eq!(kinds.iter().filter(|k| **k == "refund").count(), 1, "{entries}");
        self.app.assert_ledger_balanced().await;
    }
}

// ---------------------------------------------------------------- purchases

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_seller_slower_than_the_timeout_is_retried_and_provisions_once() {
    let b = bought().await;
    let (inner, db) = seller_with_db(&b.app, SHARED_SELLER_KEY, FaultPolicy::default(), None).await;
    let faults = Arc::new(FrontFaults::default());
    faults.slow.store(true, Ordering::SeqCst);
    b.point_at(&front(inner, faults.clone()).await).await;

    // The seller creates the instance but answers after 6 s: timed out.
    assert_eq!(b.run_jobs().await, 1);
    let msgs = b.messages().await;
    assert_eq!(msgs.len(), 1, "{msgs:?}");
    assert_eq!(msgs[0]["activity"], "newInstance");
    assert_eq!(msgs[0]["outcome"], "retryable", "{msgs:?}");
    assert_eq!(msgs[0]["response_status"], Value::Null, "no answer came: {msgs:?}");
    assert_eq!(b.sub().await["status"], "provisioning");
    assert_eq!(b.job(FULFIL_NEW_INSTANCE).await.unwrap().status, job_repo::PENDING);
    assert_eq!(seller_instances(&db, &b.line_id).await.len(), 1, "the seller did the work");

    // The seller becomes fast; the retry gets the same instance.
    faults.slow.store(false, Ordering::SeqCst);
    b.advance(90).await;
    assert_eq!(b.run_jobs().await, 1);
    let sub = b.sub().await;
    assert_eq!(sub["status"], "active", "{sub}");
    assert_eq!(b.order_status().await, "completed");
    let instances = seller_instances(&db, &b.line_id).await;
    assert_eq!(instances.len(), 1, "{instances:?}");
    assert_eq!(sub["instance_id"], instances[0].0.as_str());
    assert_eq!(b.wallet().await, START_MINOR - MONTH, "charged once");
    b.app.assert_ledger_balanced().await;
}

#[tokio::test]
async fn a_seller_answering_garbage_is_retried_then_refunded_at_the_deadline() {
    let b = bought().await;
    b.point_at(&garbage_seller().await).await;
    let rounds = b.until_given_up().await;
    assert!(rounds >= 6, "retried until the 3 h deadline ({rounds} rounds)");
    b.assert_refunded().await;
    let msgs = b.messages().await;
    assert!(msgs.len() >= 6, "{msgs:?}");
    for m in &msgs {
        assert_eq!(m["activity"], "newInstance");
        assert_eq!(m["outcome"], "retryable", "{m}");
        assert_eq!(m["response_status"], 200);
        assert!(m["response_body"].as_str().unwrap().contains("<html>"), "{m}");
    }
    // No instance id was ever answered: nothing to release.
    assert!(b.job(RELEASE_ABANDONED_INSTANCE).await.is_none());
    assert_eq!(b.run_jobs().await, 0);
}

#[tokio::test]
async fn a_seller_rejecting_every_signature_is_refunded_after_three_hours() {
    let b = bought().await;
    // The seller's server expects another key: 000001 to every call.
    let (url, db) = seller_with_db(&b.app, "a-different-key", FaultPolicy::default(), None).await;
    b.point_at(&url).await;
    let rounds = b.until_given_up().await;
    assert!(rounds >= 6, "retried until the 3 h deadline ({rounds} rounds)");
    b.assert_refunded().await;
    let msgs = b.messages().await;
    assert!(msgs.iter().all(|m| m["outcome"] == "rejected" && m["result_code"] == "000001"), "{msgs:?}");
    let job = b.job(FULFIL_NEW_INSTANCE).await.unwrap();
    assert!(job.last_error.as_deref().is_some_and(|e| e.contains("000001")), "{job:?}");
    assert!(seller_instances(&db, &b.line_id).await.is_empty());
    assert!(b.job(RELEASE_ABANDONED_INSTANCE).await.is_none());
}

#[tokio::test]
async fn an_async_purchase_given_up_is_refunded_and_its_instance_released() {
    let b = bought().await;
    // Provisioning takes a day: longer than the 3 h purchase deadline.
    let faults = FaultPolicy { async_mode: true, async_delay_ms: 86_400_000, ..FaultPolicy::default() };
    let (url, db) = seller_with_db(&b.app, SHARED_SELLER_KEY, faults, None).await;
    b.point_at(&url).await;

    assert_eq!(b.run_jobs().await, 1);
    let sub = b.sub().await;
    let instance_id = sub["instance_id"].as_str().expect("the 000004 instance id is kept").to_string();
    b.advance(31 * 60).await;
    b.until_given_up().await;
    b.assert_refunded().await;

    // The release was enqueued with the refund and is sent once.
    let release = b.job(RELEASE_ABANDONED_INSTANCE).await.expect("a release job");
    assert_eq!(release.status, job_repo::PENDING);
    assert_eq!(seller_instances(&db, &b.line_id).await, [(instance_id.clone(), "active".to_string())]);
    assert_eq!(b.run_jobs().await, 1);
    assert_eq!(b.job(RELEASE_ABANDONED_INSTANCE).await.unwrap().status, job_repo::DONE);
    let msgs = b.messages().await;
    let released: Vec<&Value> = msgs.iter().filter(|m| m["activity"] == "releaseInstance").collect();
    assert_eq!(released.len(), 1, "{msgs:?}");
    assert_eq!(released[0]["outcome"], "success");
    assert!(released[0]["request_body"].as_str().unwrap().contains(&instance_id));
    assert!(msgs.iter().filter(|m| m["activity"] == "queryInstance").all(|m| m["outcome"] == "in_progress"));
    // The seller's own view: the only instance of the line is released.
    assert_eq!(seller_instances(&db, &b.line_id).await, [(instance_id, "released".to_string())]);
    assert_eq!(b.run_jobs().await, 0);

    // The operator sees why: the purchase given up, refunded, released.
    let d = b.app.get(&format!("/api/v1/operator/orders/{}", b.order_id), Some(&b.op)).await.expect(200);
    let jobs: Vec<(&str, &str)> = d["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|j| (j["kind"].as_str().unwrap(), j["status"].as_str().unwrap()))
        .collect();
    assert_eq!(jobs, [(FULFIL_NEW_INSTANCE, "dead"), (RELEASE_ABANDONED_INSTANCE, "done")], "{d}");
    assert!(d["jobs"][0]["last_error"].as_str().is_some_and(|e| e.contains("000004")), "{d}");
    let kinds: Vec<&str> =
        d["ledger_entries"].as_array().unwrap().iter().map(|e| e["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["payment", "refund"]);
    assert_eq!(d["subscriptions"][0]["status"], "failed");
    b.app.assert_ledger_balanced().await;
}

#[tokio::test]
async fn a_refusal_while_polling_refunds_at_once_and_releases_the_instance() {
    let b = bought().await;
    let faults = FaultPolicy { async_mode: true, async_delay_ms: 86_400_000, ..FaultPolicy::default() };
    let (inner, db) = seller_with_db(&b.app, SHARED_SELLER_KEY, faults, None).await;
    let front_faults = Arc::new(FrontFaults::default());
    b.point_at(&front(inner, front_faults.clone()).await).await;
    assert_eq!(b.run_jobs().await, 1);
    let instance_id = b.sub().await["instance_id"].as_str().expect("000004 with an instance id").to_string();
    assert!(b.job(RELEASE_ABANDONED_INSTANCE).await.is_none());

    // The seller gives up provisioning: queryInstance answers 000106.
    front_faults.refuse_query.store(true, Ordering::SeqCst);
    b.advance(31 * 60).await;
    assert_eq!(b.run_jobs().await, 1);
    b.assert_refunded().await;
    let job = b.job(FULFIL_NEW_INSTANCE).await.unwrap();
    assert_eq!(job.status, job_repo::DEAD);
    assert!(job.last_error.as_deref().is_some_and(|e| e.contains("000106")), "{job:?}");

    // The release, enqueued with the refund, runs once.
    assert_eq!(b.run_jobs().await, 1);
    assert_eq!(b.job(RELEASE_ABANDONED_INSTANCE).await.unwrap().status, job_repo::DONE);
    assert_eq!(seller_instances(&db, &b.line_id).await, [(instance_id, "released".to_string())]);
    assert_eq!(b.run_jobs().await, 0);
    b.app.assert_ledger_balanced().await;
}

// ---------------------------------------------------------------- auto-renewal

#[tokio::test]
async fn auto_renew_that_cannot_pay_notifies_the_buyer_once_a_day_and_changes_nothing_else() {
    let b = bought().await;
    // Bought with auto-renew on, and the wallet left empty.
    let app = &b.app;
    let detail = app.get(&format!("/api/v1/catalog/products/{}", b.product_id), None).await.expect(200);
    let sku_id = detail["skus"][0]["id"].as_str().unwrap().to_string();
    assert_eq!(b.run_jobs().await, 1);
    let (buyer_id, buyer_key) = app.signup("buyer").await;
    app.credit_wallet(&b.op, &buyer_id, MONTH, "CNY").await;
    let order = app
        .post(
            ORDERS,
            Some(&buyer_key),
            json!({"sku_id": sku_id, "period": "month", "period_count": 1, "auto_renew": true}),
        )
        .await
        .expect(201);
    let order_id = order["id"].as_str().unwrap().to_string();
    app.post(&format!("{ORDERS}/{order_id}/pay"), Some(&buyer_key), json!({})).await.expect(200);
    assert_eq!(b.run_jobs().await, 1);
    let subs = app.get("/api/v1/buyer/subscriptions", Some(&buyer_key)).await.expect(200);
    let sub = subs["items"][0].clone();
    assert_eq!(sub["status"], "active", "{sub}");
    let sub_id = sub["id"].as_str().unwrap().to_string();
    let expiry: chrono::DateTime<chrono::Utc> = serde_json::from_value(sub["expires_at"].clone()).unwrap();
    let notifications = || async {
        let page = app.get("/api/v1/notifications?limit=100", Some(&buyer_key)).await.expect(200);
        page["items"].as_array().unwrap().clone()
    };
    assert!(notifications().await.is_empty());

    // 7 days before expiry (+1 minute): the scan cannot pay; run twice that day.
    let now = app.state.now();
    b.advance((expiry - chrono::Duration::days(7) - now).num_seconds() + 60).await;
    let r = lifecycle::auto_renew_scan(&app.state).await.unwrap();
    assert_eq!((r.renewed, r.unpaid), (0, 1));
    // Later the same (UTC) day: up to an hour, but before midnight whatever
    // the hour the test runs at.
    let at = app.state.now();
    let midnight = (at.date_naive() + chrono::Duration::days(1)).and_hms_opt(0, 0, 0).unwrap().and_utc();
    b.advance(((midnight - at).num_seconds() / 2).clamp(1, 3600)).await;
    assert_eq!(lifecycle::auto_renew_scan(&app.state).await.unwrap().unpaid, 1);

    let items = notifications().await;
    assert_eq!(items.len(), 1, "once per day: {items:?}");
    let n = &items[0];
    assert_eq!(n["kind"], "auto_renew_unpaid");
    assert_eq!(n["reference"], sub_id.as_str());
    let body = n["body"].as_str().unwrap();
    assert!(n["title"].as_str().unwrap().contains("Cloud DB"), "{n}");
    assert!(body.contains(&sub_id) && body.contains("Cloud DB"), "{body}");
    assert!(body.contains("9900 CNY"), "the amount needed: {body}");
    assert!(body.contains(&expiry.to_rfc3339()), "the expiry: {body}");

    // Nothing else changed: wallet, expiry, status, orders, jobs, the seller's
    // notifications.
    assert_eq!(app.wallet_available(&buyer_key, "CNY").await, 0);
    let after = app.get(&format!("/api/v1/buyer/subscriptions/{sub_id}"), Some(&buyer_key)).await.expect(200);
    assert_eq!(after["status"], "active");
    assert_eq!(after["expires_at"], sub["expires_at"]);
    let orders = app.get(ORDERS, Some(&buyer_key)).await.expect(200);
    assert_eq!(orders["items"].as_array().unwrap().len(), 1);
    assert_eq!(b.run_jobs().await, 0);
    let seller_notes = app.get("/api/v1/notifications", Some(&b.seller_key)).await.expect(200);
    assert!(seller_notes["items"].as_array().unwrap().is_empty());

    // The next day, still unpaid: one more.
    b.advance(86_400).await;
    assert_eq!(lifecycle::auto_renew_scan(&app.state).await.unwrap().unpaid, 1);
    assert_eq!(lifecycle::auto_renew_scan(&app.state).await.unwrap().unpaid, 1);
    assert_eq!(notifications().await.len(), 2);
    // The other buyer (not auto-renewing) was told nothing.
    let page = app.get("/api/v1/notifications", Some(&b.buyer_key)).await.expect(200);
    assert!(page["items"].as_array().unwrap().is_empty());
    app.assert_ledger_balanced().await;
}

// ---------------------------------------------------------------- the job runner

/// A handler that takes `secs` seconds (many slow seller calls) and counts
/// its runs.
fn register_slow(registry: &Registry, kind: &'static str, secs: u64, runs: &Arc<AtomicUsize>) {
    let runs = runs.clone();
    registry.register(kind, move |_state: AppState, _job: outbox::JobView| {
        let runs = runs.clone();
        async move {
            runs.fetch_add(1, Ordering::SeqCst);
            tokio::time::sleep(Duration::from_secs(secs)).await;
            JobOutcome::Done
        }
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_handler_running_longer_than_the_lease_is_not_run_twice() {
    // A 2 s lease on the real clock, a handler of 5 s.
    let app = spawn_with(|c| {
        c.job_lease_secs = 2;
        c.worker_enabled = false;
    })
    .await;
    const KIND: &str = "test.slow";
    let runs = Arc::new(AtomicUsize::new(0));
    register_slow(&app.registry, KIND, 5, &runs);
    let id = String::from(mercato_domain::ids::JobId::new());
    let now = app.state.now();
    let added = job_repo::enqueue(
        &app.state.db.conn,
        NewJob { id: &id, kind: KIND, reference: "slow-1", payload_json: "{}", run_at: now },
        now,
    )
    .await
    .unwrap();
    assert!(added);

    let a = app.worker("worker-a");
    let running = tokio::spawn(async move { a.run_due(10).await.unwrap() });
    while runs.load(Ordering::SeqCst) == 0 {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // Another worker polls all along; the lease never expires under it.
    let b = app.worker("worker-b");
    let mut taken_over = 0;
    while !running.is_finished() {
        taken_over += b.run_due(10).await.unwrap();
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(running.await.unwrap(), 1);
    assert_eq!(taken_over, 0, "no other worker ran it");
    assert_eq!(runs.load(Ordering::SeqCst), 1);

    let row = job_repo::find(&app.state.db.conn, &id).await.unwrap().unwrap();
    assert_eq!(row.status, job_repo::DONE, "the first worker's finish was accepted");
    assert_eq!(row.attempts, 1);
    let attempts = job_repo::attempts(&app.state.db.conn, &id).await.unwrap();
    let summary: Vec<_> = attempts.iter().map(|a| (a.attempt, a.owner.as_str(), a.outcome.as_deref())).collect();
    assert_eq!(summary, [(1, "worker-a", Some(job_repo::OUTCOME_DONE))]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_stalled_worker_still_loses_its_lease() {
    // The heartbeat renews only a lease its worker still holds: a lease
    // taken over (here: forced to expire and claimed by B) is not renewed,
    // and A's late finish is refused.
    let app = spawn_with(|c| {
        c.job_lease_secs = 2;
        c.worker_enabled = false;
    })
    .await;
    const KIND: &str = "test.stalled";
    let runs = Arc::new(AtomicUsize::new(0));
    register_slow(&app.registry, KIND, 3, &runs);
    let id = String::from(mercato_domain::ids::JobId::new());
    let now = app.state.now();
    job_repo::enqueue(
        &app.state.db.conn,
        NewJob { id: &id, kind: KIND, reference: "stalled-1", payload_json: "{}", run_at: now },
        now,
    )
    .await
    .unwrap();
    let claimed = workers::claim(&app.state, &id, "worker-a").await.unwrap().expect("A claims");
    // A stalls for the whole lease: B takes the job over and runs it.
    tokio::time::sleep(Duration::from_millis(2_100)).await;
    let b = app.worker("worker-b");
    assert_eq!(b.run_due(10).await.unwrap(), 1);
    assert!(!mercato_store::repo::jobs::renew_lease(&app.state.db.conn, &id, "worker-a", 1, now, now).await.unwrap());
    assert!(!workers::finish(&app.state, &claimed, "worker-a", &JobOutcome::Done).await.unwrap());
    let row = job_repo::find(&app.state.db.conn, &id).await.unwrap().unwrap();
    assert_eq!((row.status.as_str(), row.attempts), (job_repo::DONE, 2));
}

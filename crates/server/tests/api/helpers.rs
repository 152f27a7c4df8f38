#![allow(dead_code)]

use mercato_server::clock::{Clock, SystemClock};
use mercato_server::workers::{self, Registry, Worker};
use mercato_server::{AppState, Config, runtime};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::sync::Arc;
use tempfile::TempDir;

pub struct TestApp {
    pub base: String,
    pub client: reqwest::Client,
    pub state: AppState,
    /// The job kinds and periodic tasks this node's worker runs (tests may
    /// register more).
    pub registry: Arc<Registry>,
    pub dir: TempDir,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    pg: Option<(String, String)>,
}

/// A response: status, parsed JSON body (Null when empty/not JSON), raw headers.
#[derive(Debug)]
pub struct Res {
    pub status: StatusCode,
    pub body: Value,
    pub headers: reqwest::header::HeaderMap,
}

impl Res {
    /// Asserts the status and returns the body; shows the body on failure.
    #[track_caller]
    pub fn expect(self, status: u16) -> Value {
        assert_eq!(self.status.as_u16(), status, "unexpected status; body: {}", self.body);
        self.body
    }

    /// Asserts a problem response with the given status and code.
    #[track_caller]
    pub fn problem(self, status: u16, code: &str) -> Value {
        let ct = self.headers.get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
        let body = self.expect(status);
        assert_eq!(ct, "application/problem+json", "problem content type");
        assert_eq!(body["code"], code, "problem code; body: {body}");
        assert!(body["request_id"].as_str().is_some_and(|s| !s.is_empty()), "problem carries a request id");
        body
    }

    /// The `field` names of a validation problem.
    pub fn fields(body: &Value) -> Vec<String> {
        body["errors"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|e| e["field"].as_str().unwrap_or_default().to_string())
            .collect()
    }
}

/// Sends a request and reads the answer (JSON body, or Null).
async fn send(req: reqwest::RequestBuilder) -> Res {
    let res = req.send().await.expect("request sent");
    let status = res.status();
    let headers = res.headers().clone();
    let bytes = res.bytes().await.unwrap_or_default();
    let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    Res { status, body, headers }
}

/// Creates a fresh database: a new PostgreSQL database when
/// MERCATO_TEST_DATABASE_URL is set, else a file in `dir`.
async fn fresh_database() -> Option<(String, String)> {
    let admin_url = std::env::var("MERCATO_TEST_DATABASE_URL").ok().filter(|u| !u.is_empty())?;
    let name = format!("mercato_t_{}", uuid::Uuid::new_v4().simple());
    let admin = mercato_store::Db::open(&admin_url).await.expect("connect to MERCATO_TEST_DATABASE_URL");
    use mercato_store::sea_orm::ConnectionTrait;
    admin.conn.execute_unprepared(&format!("CREATE DATABASE {name}")).await.expect("create test database");
    admin.close().await;
    let (base, _) = admin_url.rsplit_once('/').expect("database URL has a path");
    Some((format!("{base}/{name}"), admin_url))
}

pub fn test_config(dir: &TempDir, database_url: &str) -> Config {
    let mut config = Config::defaults();
    config.data_dir = dir.path().to_path_buf();
    config.database_url = database_url.to_string();
    config.allow_insecure_endpoints = true;
    config.outbound_allow = koo::outbound::AddressPolicy::allowing_loopback();
    config.master_key = String::new();
    config
}

pub async fn spawn_app() -> TestApp {
    spawn_with(|_| {}).await
}

pub async fn spawn_with(tweak: impl FnOnce(&mut Config)) -> TestApp {
    spawn_full(tweak, Arc::new(SystemClock)).await
}

/// An app whose time is `clock` (e.g. a `ManualClock` the test moves).
pub async fn spawn_with_clock(clock: Arc<dyn Clock>) -> TestApp {
    spawn_full(|_| {}, clock).await
}

async fn spawn_full(tweak: impl FnOnce(&mut Config), clock: Arc<dyn Clock>) -> TestApp {
    let dir = tempfile::tempdir().unwrap();
    let pg = fresh_database().await;
    let url = pg.as_ref().map(|(u, _)| u.clone()).unwrap_or_default();
    let mut config = test_config(&dir, &url);
    tweak(&mut config);
    let state = runtime::build_state(config, clock).await.expect("build state");
    let pg = pg.map(|(u, admin)| (u.rsplit_once('/').unwrap().1.to_string(), admin));
    start_serving(state, dir, pg).await
}

/// Serves `state` on a fresh loopback port until the returned app is dropped.
async fn start_serving(state: AppState, dir: TempDir, pg: Option<(String, String)>) -> TestApp {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let serving = state.clone();
    let registry = workers::registry();
    let worker_registry = registry.clone();
    tokio::spawn(async move {
        runtime::serve(serving, worker_registry, listener, async move {
            let _ = rx.await;
        })
        .await
        .unwrap();
    });
    TestApp {
        base: format!("http://{addr}"),
        client: reqwest::Client::new(),
        state,
        registry,
        dir,
        shutdown: Some(tx),
        pg,
    }
}

impl TestApp {
    /// A worker named `owner` over this node's state and registry, for tests
    /// that drive jobs by hand.
    pub fn worker(&self, owner: impl Into<String>) -> Worker {
        Worker::new(self.state.clone(), self.registry.clone(), owner)
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        // Drop the per-test PostgreSQL database (best effort, off this runtime).
        if let Some((name, admin_url)) = self.pg.take() {
            let _ = std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
                rt.block_on(async {
                    if let Ok(admin) = mercato_store::Db::open(&admin_url).await {
                        use mercato_store::sea_orm::ConnectionTrait;
                        let _ = admin
                            .conn
                            .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                            .await;
                        admin.close().await;
                    }
                });
            })
            .join();
        }
    }
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub async fn call(&self, method: Method, path: &str, key: Option<&str>, body: Option<Value>) -> Res {
        let mut req = self.client.request(method, self.url(path));
        if let Some(k) = key {
            req = req.bearer_auth(k);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        send(req).await
    }

    pub async fn get(&self, path: &str, key: Option<&str>) -> Res {
        self.call(Method::GET, path, key, None).await
    }

    pub async fn post(&self, path: &str, key: Option<&str>, body: Value) -> Res {
        self.call(Method::POST, path, key, Some(body)).await
    }

    pub async fn put(&self, path: &str, key: Option<&str>, body: Value) -> Res {
        self.call(Method::PUT, path, key, Some(body)).await
    }

    pub async fn patch(&self, path: &str, key: Option<&str>, body: Value) -> Res {
        self.call(Method::PATCH, path, key, Some(body)).await
    }

    pub async fn delete(&self, path: &str, key: Option<&str>) -> Res {
        self.call(Method::DELETE, path, key, None).await
    }

    /// Signs up an account of `role`; returns (account id, API key).
    pub async fn signup(&self, role: &str) -> (String, String) {
        let email = format!("{role}-{}@example.com", uuid::Uuid::new_v4().simple());
        let body = self
            .post("/api/v1/accounts", None, json!({"role": role, "name": format!("Test {role}"), "email": email, "password": "correct horse battery"}))
            .await
            .expect(201);
        (body["id"].as_str().unwrap().to_string(), body["api_key"].as_str().unwrap().to_string())
    }

    /// Creates an operator the way the CLI does; returns its API key.
    pub async fn operator(&self) -> String {
        let email = format!("op-{}@example.com", uuid::Uuid::new_v4().simple());
        mercato_server::app::accounts::create_operator(&self.state, "Operator", &email).await.expect("operator").api_key
    }
}

/// A valid onboarding application body.
pub fn onboarding_form() -> Value {
    json!({
        "entity_type": "enterprise",
        "legal_name": "云数据科技有限公司",
        "registration_number": "91310000MA1FL0XX1X",
        "contact_name": "Li Lei",
        "contact_phone": "+86 21 5555 0100",
        "contact_email": "li.lei@example.cn",
        "address": "88 Century Avenue, Shanghai",
        "support_hours": "Mon-Fri 09:00-18:00 UTC+8"
    })
}

/// A valid business certification body.
pub fn certification_form() -> Value {
    json!({
        "bank_name": "Industrial Bank",
        "bank_account": "6222 0210 0100 1234",
        "account_holder": "云数据科技有限公司",
        "tax_rate_bp": 600,
        "currency": "CNY"
    })
}

impl TestApp {
    /// A seller that is onboarded, certified and has accepted the agreement,
    /// all through the HTTP API; returns (seller id, seller key, operator key).
    pub async fn approved_seller(&self) -> (String, String, String) {
        let (id, key) = self.signup("seller").await;
        let op = self.operator().await;
        self.approve_seller(&id, &key, &op).await;
        (id, key, op)
    }

    pub async fn approve_seller(&self, id: &str, key: &str, op: &str) {
        self.put("/api/v1/seller/onboarding", Some(key), onboarding_form()).await.expect(200);
        self.post("/api/v1/seller/onboarding/submit", Some(key), json!({})).await.expect(200);
        self.post(&format!("/api/v1/operator/onboarding/{id}/approve"), Some(op), json!({})).await.expect(200);
        self.put("/api/v1/seller/certification", Some(key), certification_form()).await.expect(200);
        self.post("/api/v1/seller/certification/submit", Some(key), json!({})).await.expect(200);
        self.post(&format!("/api/v1/operator/certification/{id}/approve"), Some(op), json!({})).await.expect(200);
        self.post("/api/v1/seller/agreement/accept", Some(key), json!({})).await.expect(200);
    }
}

/// The id of a seeded category (Infrastructure Software > Databases).
pub const DATABASES_CATEGORY: &str = "cat_40e17c0b45e75b4f852f7bdaba236472";

/// The access key of the shared reference seller (see [`shared_seller`]).
pub const SHARED_SELLER_KEY: &str = "secret-access-key-1";

/// The URL of a reference seller (`mercato_isv`) shared by every test of this
/// binary, accepting [`SHARED_SELLER_KEY`]: SaaS products point at it so their
/// debug runs (required before submission) and deliveries reach a real
/// seller. It runs on its own thread and runtime (a test's runtime ends with
/// the test), on 127.0.0.1:0 with a SQLite file in a temp directory that is
/// left behind when the process exits. Tests that need a misbehaving seller
/// start their own with [`TestApp::reference_seller`].
pub fn shared_seller() -> &'static str {
    static URL: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    URL.get_or_init(|| {
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::Builder::new()
            .name("reference-seller".into())
            .spawn(move || {
                let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
                rt.block_on(async move {
                    let dir = tempfile::Builder::new().prefix("mercato-test-seller-").tempdir().unwrap().keep();
                    let config = mercato_isv::ReferenceSellerConfig::new(SHARED_SELLER_KEY, dir.join("seller.db"));
                    let (listener, addr) = mercato_isv::bind(0).await.unwrap();
                    tx.send(format!("http://{addr}/produce")).unwrap();
                    mercato_isv::serve_on(listener, config, std::future::pending()).await.unwrap();
                });
            })
            .unwrap();
        rx.recv().expect("the shared reference seller starts")
    })
}

/// A valid product body for `POST /api/v1/seller/products` (SaaS with an
/// endpoint: the shared reference seller).
pub fn product_form(name: &str) -> Value {
    json!({
        "type": "saas",
        "cooperation": "joint",
        "name": name,
        "version": "1.0",
        "category_id": DATABASES_CATEGORY,
        "summary": "A managed relational database",
        "description": "Fully managed MySQL-compatible database with backups.",
        "usage_guide": "Sign in with the credentials sent after purchase.",
        "support_terms": "Mon-Fri 09:00-18:00",
        "tags": ["database", "mysql"],
        "endpoint": {"url": shared_seller(), "access_key": SHARED_SELLER_KEY}
    })
}

/// A valid monthly/yearly SKU body.
pub fn period_sku(code: &str) -> Value {
    json!({
        "sku_code": code,
        "name": "Standard",
        "charging_mode": "period",
        "prices": {"month_minor": 9900, "year_minor": 99000},
        "currency": "CNY",
        "trial_days": 7
    })
}

impl TestApp {
    /// Creates a product for an approved seller, adds the SKUs, submits it and
    /// has the operator approve the review; returns the product id.
    pub async fn listed_product(
        &self,
        seller_key: &str,
        op_key: &str,
        product_json: Value,
        skus_json: &[Value],
    ) -> String {
        let product = self.post("/api/v1/seller/products", Some(seller_key), product_json).await.expect(201);
        let id = product["id"].as_str().expect("product id").to_string();
        for sku in skus_json {
            self.post(&format!("/api/v1/seller/products/{id}/skus"), Some(seller_key), sku.clone()).await.expect(201);
        }
        let license_server = product["type"] == "license" && product["endpoint"].is_object();
        if product["type"] == "saas" || license_server {
            self.passing_debug_run(seller_key, &id).await;
        }
        let submitted =
            self.post(&format!("/api/v1/seller/products/{id}/submit"), Some(seller_key), json!({})).await.expect(200);
        let review = submitted["pending_review_id"].as_str().expect("pending review id").to_string();
        self.post(&format!("/api/v1/operator/reviews/{review}/approve"), Some(op_key), json!({})).await.expect(200);
        id
    }

    /// Runs the product's debug cases and asserts they all passed; returns the run.
    pub async fn passing_debug_run(&self, seller_key: &str, product_id: &str) -> Value {
        let run = self.debug_run(seller_key, product_id).await.expect(200);
        assert_eq!(run["passed"], true, "debug run: {run}");
        run
    }

    /// `POST /api/v1/seller/products/{id}/debug-run`.
    pub async fn debug_run(&self, seller_key: &str, product_id: &str) -> Res {
        self.post(&format!("/api/v1/seller/products/{product_id}/debug-run"), Some(seller_key), json!({})).await
    }

    /// Starts a reference seller of its own for this test (on this test's
    /// runtime, 127.0.0.1:0, SQLite in the app's temp dir) with `faults`;
    /// returns its production-interface URL. It accepts `key`.
    pub async fn reference_seller(&self, key: &str, faults: mercato_isv::FaultPolicy) -> String {
        let db = self.dir.path().join(format!("seller-{}.db", uuid::Uuid::new_v4().simple()));
        let mut config = mercato_isv::ReferenceSellerConfig::new(key, db);
        config.faults = faults;
        let (listener, addr) = mercato_isv::bind(0).await.unwrap();
        tokio::spawn(mercato_isv::serve_on(listener, config, std::future::pending()));
        format!("http://{addr}/produce")
    }

    /// Sends raw bytes with a content type (media uploads).
    pub async fn send_bytes(
        &self,
        method: Method,
        path: &str,
        key: Option<&str>,
        content_type: &str,
        bytes: Vec<u8>,
    ) -> Res {
        let mut req = self.client.request(method, self.url(path)).header("content-type", content_type).body(bytes);
        if let Some(k) = key {
            req = req.bearer_auth(k);
        }
        send(req).await
    }
}

/// The smallest valid PNG (1x1, transparent).
pub fn tiny_png() -> Vec<u8> {
    let mut v = b"\x89PNG\r\n\x1a\n".to_vec();
    v.extend_from_slice(&[
        0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06,
        0x00, 0x00, 0x00, 0x1f, 0x15, 0xc4, 0x89, 0x00, 0x00, 0x00, 0x0a, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9c, 0x63,
        0x00, 0x01, 0x00, 0x00, 0x05, 0x00, 0x01, 0x0d, 0x0a, 0x2d, 0xb4, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e,
        0x44, 0xae, 0x42, 0x60, 0x82,
    ]);
    v
}

impl TestApp {
    /// Credits `amount_minor` of `currency` to `buyer_id`'s wallet as operator `op`; returns the response body.
    pub async fn credit_wallet(&self, op: &str, buyer_id: &str, amount_minor: i64, currency: &str) -> Value {
        self.post(
            &format!("/api/v1/operator/wallets/{buyer_id}/credit"),
            Some(op),
            json!({"amount_minor": amount_minor, "currency": currency, "reason": "test credit"}),
        )
        .await
        .expect(201)
    }

    /// Asserts the ledger is sound: the trial balance totals zero (overall and
    /// per currency) and the `mercato ledger check` logic finds nothing.
    pub async fn assert_ledger_balanced(&self) {
        let op = self.operator().await;
        let tb = self.get("/api/v1/operator/ledger/trial-balance", Some(&op)).await.expect(200);
        assert_eq!(tb["total_minor"], 0, "trial balance: {tb}");
        for t in tb["totals_by_currency"].as_array().unwrap() {
            assert_eq!(t["balance_minor"], 0, "trial balance: {tb}");
        }
        let report = mercato_server::app::ledger::check_state(&self.state).await.expect("ledger check runs");
        assert!(report.is_ok(), "ledger check: {report}");
    }
}

impl TestApp {
    /// POSTs `body` (or nothing) with an `Idempotency-Key` header.
    pub async fn post_idem(&self, path: &str, key: &str, idem: &str, body: Option<Value>) -> Res {
        let mut req = self.client.post(self.url(path)).bearer_auth(key).header("Idempotency-Key", idem);
        if let Some(b) = body {
            req = req.json(&b);
        }
        send(req).await
    }

    /// A buyer's available wallet money in `currency` (0 when never used).
    pub async fn wallet_available(&self, buyer_key: &str, currency: &str) -> i64 {
        let w = self.get("/api/v1/buyer/wallet", Some(buyer_key)).await.expect(200);
        w["balances"]
            .as_array()
            .unwrap()
            .iter()
            .find(|b| b["currency"] == currency)
            .map_or(0, |b| b["available_minor"].as_i64().unwrap())
    }
}

/// Another node of `first`'s marketplace: its own server and background
/// worker on the same database, data directory and master key, with
/// `first`'s configuration changed by `tweak`. Dropping it stops the node;
/// the database belongs to `first`.
pub async fn spawn_node(first: &TestApp, tweak: impl FnOnce(&mut Config)) -> TestApp {
    let mut config = first.state.config.clone();
    tweak(&mut config);
    let state = runtime::build_state(config, Arc::new(SystemClock)).await.expect("build state");
    start_serving(state, tempfile::tempdir().unwrap(), None).await
}

/// An app on the operator test clock, with its background worker off so the
/// test drives jobs and periodic tasks by hand.
pub async fn spawn_on_test_clock() -> TestApp {
    spawn_with(|c| {
        c.test_clock = true;
        c.worker_enabled = false;
    })
    .await
}

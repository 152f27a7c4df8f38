//! Seeding a marketplace through its public HTTP API, as sellers, buyers and
//! an operator would: shared by `mercato demo` and `mercato bench`.

use anyhow::{Context, bail};
use serde_json::{Value, json};
use std::path::Path;
use std::time::{Duration, Instant};

/// A request the server answered with other than a success.
#[derive(Debug)]
pub struct Refused {
    /// `METHOD /path`.
    pub what: String,
    pub status: u16,
    pub body: String,
}

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let status = reqwest::StatusCode::from_u16(self.status).map_or(self.status.to_string(), |s| s.to_string());
        write!(f, "{} answered {status}: {}", self.what, self.body)
    }
}

impl std::error::Error for Refused {}

/// A tiny client for the server being seeded.
pub struct Api {
    pub base: String,
    pub http: reqwest::Client,
}

impl Api {
    pub fn new(base: &str) -> Api {
        Api { base: base.to_string(), http: reqwest::Client::new() }
    }

    pub async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        key: Option<&str>,
        body: Option<Value>,
    ) -> anyhow::Result<Value> {
        self.send_once(method, path, key, None, body).await
    }

    /// [`Api::send`], with an `Idempotency-Key` if given (so that a POST may
    /// be sent again after a lost answer). An answer other than a success is
    /// a [`Refused`] error; no answer at all, any other error.
    pub async fn send_once(
        &self,
        method: reqwest::Method,
        path: &str,
        key: Option<&str>,
        idempotency_key: Option<&str>,
        body: Option<Value>,
    ) -> anyhow::Result<Value> {
        let mut req = self.http.request(method.clone(), format!("{}{path}", self.base));
        if let Some(k) = key {
            req = req.bearer_auth(k);
        }
        if let Some(k) = idempotency_key {
            req = req.header("Idempotency-Key", k);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let res = req.send().await.with_context(|| format!("{method} {path}"))?;
        let status = res.status();
        let text = res.text().await.unwrap_or_default();
        if !status.is_success() {
            return Err(Refused { what: format!("{method} {path}"), status: status.as_u16(), body: text }.into());
        }
        Ok(serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    pub async fn get(&self, path: &str, key: Option<&str>) -> anyhow::Result<Value> {
        self.send(reqwest::Method::GET, path, key, None).await
    }

    pub async fn post(&self, path: &str, key: &str, body: Value) -> anyhow::Result<Value> {
        self.send(reqwest::Method::POST, path, Some(key), Some(body)).await
    }

    pub async fn put(&self, path: &str, key: &str, body: Value) -> anyhow::Result<Value> {
        self.send(reqwest::Method::PUT, path, Some(key), Some(body)).await
    }

    /// POSTs raw bytes (an upload) as `key`; returns the answer.
    pub async fn upload(&self, path: &str, key: &str, content_type: &str, bytes: Vec<u8>) -> anyhow::Result<Value> {
        let res = self
            .http
            .post(format!("{}{path}", self.base))
            .bearer_auth(key)
            .header("Content-Type", content_type)
            .body(bytes)
            .send()
            .await
            .with_context(|| format!("POST {path}"))?;
        let status = res.status();
        let text = res.text().await.unwrap_or_default();
        if !status.is_success() {
            return Err(Refused { what: format!("POST {path}"), status: status.as_u16(), body: text }.into());
        }
        Ok(serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    /// Signs up an account; returns (id, API key, the whole answer).
    pub async fn signup(&self, role: &str, name: &str, email: &str) -> anyhow::Result<(String, String, Value)> {
        let created = self
            .send(
                reqwest::Method::POST,
                "/api/v1/accounts",
                None,
                Some(json!({"role": role, "name": name, "email": email, "password": "demo-password-1"})),
            )
            .await?;
        let id = created["id"].as_str().context("account id")?.to_string();
        let key = created["api_key"].as_str().context("account api key")?.to_string();
        Ok((id, key, created))
    }

    /// Takes a signed-up seller through onboarding, certification (both
    /// approved by the operator `op`) and the agreement.
    pub async fn approve_seller(
        &self,
        op: &str,
        id: &str,
        key: &str,
        onboarding: Value,
        certification: Value,
    ) -> anyhow::Result<()> {
        self.put("/api/v1/seller/onboarding", key, onboarding).await?;
        self.post("/api/v1/seller/onboarding/submit", key, json!({})).await?;
        self.post(&format!("/api/v1/operator/onboarding/{id}/approve"), op, json!({})).await?;
        self.put("/api/v1/seller/certification", key, certification).await?;
        self.post("/api/v1/seller/certification/submit", key, json!({})).await?;
        self.post(&format!("/api/v1/operator/certification/{id}/approve"), op, json!({})).await?;
        self.post("/api/v1/seller/agreement/accept", key, json!({})).await?;
        Ok(())
    }

    /// Creates a product with its SKUs, runs the debug cases of a SaaS one
    /// (they must pass before it is submitted), submits it and has the
    /// operator approve it; returns the product id.
    pub async fn list_product(
        &self,
        op: &str,
        seller_key: &str,
        body: Value,
        skus: &[Value],
    ) -> anyhow::Result<String> {
        let created = self.post("/api/v1/seller/products", seller_key, body.clone()).await?;
        let id = created["id"].as_str().context("product id")?.to_string();
        for sku in skus {
            self.post(&format!("/api/v1/seller/products/{id}/skus"), seller_key, sku.clone()).await?;
        }
        // SaaS products and license servers pass their debug cases first.
        if body["type"] == "saas" || (body["type"] == "license" && body["endpoint"].is_object()) {
            let run = self.post(&format!("/api/v1/seller/products/{id}/debug-run"), seller_key, json!({})).await?;
            if run["passed"] != true {
                bail!("the debug run of {} failed: {run}", body["name"]);
            }
        }
        let submitted = self.post(&format!("/api/v1/seller/products/{id}/submit"), seller_key, json!({})).await?;
        let review = submitted["pending_review_id"].as_str().context("pending review id")?.to_string();
        self.post(&format!("/api/v1/operator/reviews/{review}/approve"), op, json!({})).await?;
        Ok(id)
    }

    /// Credits a buyer's wallet (CNY) as the operator.
    pub async fn credit(&self, op: &str, buyer_id: &str, amount_minor: i64, reason: &str) -> anyhow::Result<()> {
        self.post(
            &format!("/api/v1/operator/wallets/{buyer_id}/credit"),
            op,
            json!({"amount_minor": amount_minor, "currency": "CNY", "reason": reason}),
        )
        .await
        .map(|_| ())
    }

    /// Signs up `n` buyers named `<who> Buyer <i>` (`buyer<i>@<who>.mercato.test`,
    /// lower case) and credits each `amount_minor` CNY as the operator `op`;
    /// returns their API keys.
    pub async fn funded_buyers(&self, op: &str, who: &str, n: u64, amount_minor: i64) -> anyhow::Result<Vec<String>> {
        Ok(self.funded_buyer_accounts(op, who, n, amount_minor).await?.into_iter().map(|(_, key)| key).collect())
    }

    /// [`Api::funded_buyers`] with each buyer's account id: (id, key).
    pub async fn funded_buyer_accounts(
        &self,
        op: &str,
        who: &str,
        n: u64,
        amount_minor: i64,
    ) -> anyhow::Result<Vec<(String, String)>> {
        let mut buyers = Vec::new();
        for i in 0..n {
            let email = format!("buyer{i}@{}.mercato.test", who.to_lowercase());
            let (id, key, _) = self.signup("buyer", &format!("{who} Buyer {i}"), &email).await?;
            self.credit(op, &id, amount_minor, &format!("{} credit", who.to_lowercase())).await?;
            buyers.push((id, key));
        }
        Ok(buyers)
    }

    /// Places and pays an order; returns the paid order.
    pub async fn buy(&self, buyer_key: &str, order: Value) -> anyhow::Result<Value> {
        let placed = self.post("/api/v1/buyer/orders", buyer_key, order).await?;
        let id = placed["id"].as_str().context("order id")?;
        self.post(&format!("/api/v1/buyer/orders/{id}/pay"), buyer_key, json!({})).await
    }

    /// Polls the buyer's subscription `sub_id` until its status is `status`,
    /// for at most `wait`; returns it.
    pub async fn wait_for_subscription(
        &self,
        buyer_key: &str,
        sub_id: &str,
        status: &str,
        wait: Duration,
    ) -> anyhow::Result<Value> {
        let deadline = Instant::now() + wait;
        loop {
            let sub = self.get(&format!("/api/v1/buyer/subscriptions/{sub_id}"), Some(buyer_key)).await?;
            if sub["status"] == status {
                return Ok(sub);
            }
            if Instant::now() >= deadline {
                bail!("subscription {sub_id} is still {} after {wait:?}, not {status}", sub["status"]);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

/// Starts a reference seller (`mercato isv serve`'s server, no faults) on
/// 127.0.0.1, on `port` if it is free, else on any free port, with its SQLite
/// file at `db_path`; returns its production-interface URL. It runs until
/// the process ends.
pub async fn start_reference_seller(key: &str, db_path: &Path, port: u16) -> anyhow::Result<String> {
    let (listener, addr) = match mercato_isv::bind(port).await {
        Ok(bound) => bound,
        Err(e) => {
            tracing::warn!(port, error = %e, "port taken; the reference seller uses another one");
            mercato_isv::bind(0).await?
        }
    };
    let config = mercato_isv::ReferenceSellerConfig::new(key, db_path);
    tokio::spawn(async move {
        if let Err(e) = mercato_isv::serve_on(listener, config, std::future::pending()).await {
            tracing::error!(error = %e, "the reference seller stopped");
        }
    });
    Ok(format!("http://{addr}/produce"))
}

/// Finds a category id by slug anywhere in the tree.
pub fn category_id(tree: &Value, slug: &str) -> Option<String> {
    tree.as_array().or_else(|| tree["items"].as_array())?.iter().find_map(|c| {
        if c["slug"] == slug { c["id"].as_str().map(str::to_string) } else { category_id(&c["children"], slug) }
    })
}

/// The open API's usage push path.
pub const USAGE_PUSH: &str = "/api/mkp-openapi-public/global/v1/isv/usage-data";

/// An open-API POST of `body` to `url` (a usage push, a license call),
/// signed with the seller's AK/SK (SDK-HMAC-SHA256 over the exact bytes,
/// dated by the wall clock as sellers sign).
pub fn signed_post(
    http: &reqwest::Client,
    url: &reqwest::Url,
    ak: &str,
    sk: &str,
    body: Vec<u8>,
) -> reqwest::RequestBuilder {
    use koo::gateway;
    let host = match url.port() {
        Some(port) => format!("{}:{port}", url.host_str().unwrap_or_default()),
        None => url.host_str().unwrap_or_default().to_string(),
    };
    let date = chrono::Utc::now().format(gateway::DATE_FORMAT).to_string();
    let headers = [("host".to_string(), host), (gateway::DATE_HEADER.to_string(), date.clone())];
    let canonical = gateway::canonical_request("POST", url.path(), "", &headers, &body);
    let signature = gateway::signature(sk, &gateway::string_to_sign(&date, &canonical));
    let authorization =
        format!("{} Access={ak}, SignedHeaders=host;x-sdk-date, Signature={signature}", gateway::ALGORITHM);
    http.post(url.clone())
        .header("Content-Type", "application/json")
        .header("X-Sdk-Date", date)
        .header("Authorization", authorization)
        .body(body)
}

impl Api {
    /// Pushes usage records as the seller with open-API keys (ak, sk);
    /// returns the answer, which must be a success.
    pub async fn push_usage(&self, ak: &str, sk: &str, body: &Value) -> anyhow::Result<Value> {
        let url = reqwest::Url::parse(&format!("{}{USAGE_PUSH}", self.base))?;
        let res = signed_post(&self.http, &url, ak, sk, serde_json::to_vec(body)?).send().await?;
        let status = res.status();
        let answer: Value = res.json().await.unwrap_or(Value::Null);
        if !status.is_success() || answer["error_code"] != "MKT.0000" {
            bail!("usage push answered {status}: {answer}");
        }
        Ok(answer)
    }

    /// Creates open-API (AK/SK) credentials for the seller; returns
    /// (access key id, secret access key). The secret is shown only here.
    pub async fn open_api_credentials(&self, seller_key: &str) -> anyhow::Result<(String, String)> {
        let created = self.post("/api/v1/seller/open-api-credentials", seller_key, json!({})).await?;
        let ak = created["access_key_id"].as_str().context("access_key_id")?.to_string();
        let sk = created["secret_access_key"].as_str().context("secret_access_key")?.to_string();
        Ok((ak, sk))
    }
}

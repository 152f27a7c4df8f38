//! `mercato demo`: starts Mercato with a seeded marketplace a newcomer can
//! click through. The seeding goes through the public HTTP API of the server
//! it just started, exactly as a seller and an operator would, so the demo
//! also shows the API in use.

use anyhow::{Context, bail};
use mercato_server::{Config, runtime};
use serde_json::{Value, json};
use std::path::Path;

mod data;

/// The keys printed for the demo accounts, kept in the demo's data directory
/// so a restarted demo can print them again (the API shows keys only once).
const KEYS_FILE: &str = "demo-keys.json";

pub async fn run(config: Config) -> anyhow::Result<()> {
    let listen = config.listen;
    let data_dir = config.data_dir.clone();
    let state = runtime::build_default_state(config).await?;
    let listener = tokio::net::TcpListener::bind(listen).await.with_context(|| format!("listening on {listen}"))?;
    let addr = listener.local_addr()?;
    let base = format!("http://{addr}");
    let serving = state.clone();
    let server = tokio::spawn(async move { runtime::serve(serving, listener, runtime::shutdown_signal()).await });

    let keys_path = data_dir.join(KEYS_FILE);
    let saved: Option<Value> = if keys_path.exists() {
        Some(serde_json::from_str(&std::fs::read_to_string(&keys_path)?).context("reading demo keys")?)
    } else {
        None
    };
    // The SaaS products' seller server, in this process. A restarted demo
    // wants the port its products were seeded with.
    let wanted = saved.as_ref().and_then(|k| k["reference_seller"]["port"].as_u64()).map_or(SELLER_PORT, |p| p as u16);
    let seller_url = start_reference_seller(&data_dir, wanted).await?;
    let keys = match saved {
        Some(keys) => keys,
        None => {
            let keys = seed(&state, &base, &seller_url).await.context("seeding the demo marketplace")?;
            write_keys(&keys_path, &keys)?;
            keys
        }
    };
    print_welcome(&base, &keys, &seller_url);
    server.await??;
    Ok(())
}

/// The port the demo's reference seller prefers (any free one if taken).
const SELLER_PORT: u16 = 18081;

/// Starts the reference seller (`mercato isv serve`'s server) on 127.0.0.1,
/// on `port` if it is free, else on any free port, with its SQLite file in
/// the demo's data directory; returns its production-interface URL.
async fn start_reference_seller(data_dir: &Path, port: u16) -> anyhow::Result<String> {
    let (listener, addr) = match mercato_isv::bind(port).await {
        Ok(bound) => bound,
        Err(e) => {
            tracing::warn!(port, error = %e, "port taken; the demo's reference seller uses another one");
            mercato_isv::bind(0).await?
        }
    };
    let config = mercato_isv::ReferenceSellerConfig::new(data::SELLER_KEY, data_dir.join("reference-seller.db"));
    tokio::spawn(async move {
        if let Err(e) = mercato_isv::serve_on(listener, config, std::future::pending()).await {
            tracing::error!(error = %e, "the demo's reference seller stopped");
        }
    });
    Ok(format!("http://{addr}/produce"))
}

fn write_keys(path: &Path, keys: &Value) -> anyhow::Result<()> {
    std::fs::write(path, serde_json::to_string_pretty(keys)?).with_context(|| format!("writing {}", path.display()))
}

/// A tiny client for the server being seeded.
struct Api {
    base: String,
    http: reqwest::Client,
}

impl Api {
    async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        key: Option<&str>,
        body: Option<Value>,
    ) -> anyhow::Result<Value> {
        let mut req = self.http.request(method.clone(), format!("{}{path}", self.base));
        if let Some(k) = key {
            req = req.bearer_auth(k);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let res = req.send().await.with_context(|| format!("{method} {path}"))?;
        let status = res.status();
        let text = res.text().await.unwrap_or_default();
        if !status.is_success() {
            bail!("{method} {path} answered {status}: {text}");
        }
        Ok(serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    async fn post(&self, path: &str, key: &str, body: Value) -> anyhow::Result<Value> {
        self.send(reqwest::Method::POST, path, Some(key), Some(body)).await
    }

    async fn put(&self, path: &str, key: &str, body: Value) -> anyhow::Result<Value> {
        self.send(reqwest::Method::PUT, path, Some(key), Some(body)).await
    }
}

async fn seed(state: &mercato_server::AppState, base: &str, seller_url: &str) -> anyhow::Result<Value> {
    let api = Api { base: base.to_string(), http: reqwest::Client::new() };
    let operator = mercato_server::app::accounts::create_operator(state, "Demo Operator", "operator@demo.mercato.test")
        .await
        .map_err(|e| anyhow::anyhow!("creating the operator: {}", e.detail))?;
    let op = operator.api_key.clone();

    let buyer = api
        .send(
            reqwest::Method::POST,
            "/api/v1/accounts",
            None,
            Some(json!({"role": "buyer", "name": "Demo Buyer 示例买家", "email": "buyer@demo.mercato.test", "password": "demo-password-1"})),
        )
        .await?;
    // Wallet credit so the buyer can shop straight away (CNY 10,000.00).
    let buyer_id = buyer["id"].as_str().unwrap_or_default();
    api.post(
        &format!("/api/v1/operator/wallets/{buyer_id}/credit"),
        &op,
        json!({"amount_minor": 1_000_000, "currency": "CNY", "reason": "demo credit"}),
    )
    .await?;

    let mut sellers = Vec::new();
    for seller in data::sellers() {
        let created = api
            .send(
                reqwest::Method::POST,
                "/api/v1/accounts",
                None,
                Some(json!({"role": "seller", "name": seller.name, "email": seller.email, "password": "demo-password-1"})),
            )
            .await?;
        let id = created["id"].as_str().unwrap_or_default().to_string();
        let key = created["api_key"].as_str().unwrap_or_default().to_string();
        api.put("/api/v1/seller/onboarding", &key, seller.onboarding.clone()).await?;
        api.post("/api/v1/seller/onboarding/submit", &key, json!({})).await?;
        api.post(&format!("/api/v1/operator/onboarding/{id}/approve"), &op, json!({})).await?;
        api.put("/api/v1/seller/certification", &key, seller.certification.clone()).await?;
        api.post("/api/v1/seller/certification/submit", &key, json!({})).await?;
        api.post(&format!("/api/v1/operator/certification/{id}/approve"), &op, json!({})).await?;
        api.post("/api/v1/seller/agreement/accept", &key, json!({})).await?;
        sellers.push((seller.name, id, key));
    }

    let categories = api.send(reqwest::Method::GET, "/api/v1/catalog/categories", None, None).await?;
    let mut listed = 0;
    for product in data::products(seller_url) {
        let (_, _, seller_key) = &sellers[product.seller];
        let mut body = product.body.clone();
        body["category_id"] = json!(category_id(&categories, product.category).context(product.category)?);
        let created = api.post("/api/v1/seller/products", seller_key, body).await?;
        let id = created["id"].as_str().unwrap_or_default().to_string();
        for sku in &product.skus {
            api.post(&format!("/api/v1/seller/products/{id}/skus"), seller_key, sku.clone()).await?;
        }
        if product.body["type"] == "saas" {
            // The debug cases must pass before a SaaS product is submitted.
            let run = api.post(&format!("/api/v1/seller/products/{id}/debug-run"), seller_key, json!({})).await?;
            if run["passed"] != true {
                bail!("the debug run of {} failed: {run}", product.body["name"]);
            }
        }
        let submitted = api.post(&format!("/api/v1/seller/products/{id}/submit"), seller_key, json!({})).await?;
        let review = submitted["pending_review_id"].as_str().unwrap_or_default().to_string();
        api.post(&format!("/api/v1/operator/reviews/{review}/approve"), &op, json!({})).await?;
        listed += 1;
    }
    tracing::info!(products = listed, "demo marketplace seeded");

    Ok(json!({
        "operator": {"name": "Demo Operator", "api_key": op},
        "buyer": {"name": buyer["name"], "id": buyer["id"], "api_key": buyer["api_key"]},
        "sellers": sellers.iter().map(|(name, id, key)| json!({"name": name, "id": id, "api_key": key})).collect::<Vec<_>>(),
        "reference_seller": {"url": seller_url, "port": seller_port(seller_url)},
    }))
}

/// Finds a category id by slug anywhere in the tree.
fn category_id(tree: &Value, slug: &str) -> Option<String> {
    tree.as_array().or_else(|| tree["items"].as_array())?.iter().find_map(|c| {
        if c["slug"] == slug { c["id"].as_str().map(str::to_string) } else { category_id(&c["children"], slug) }
    })
}

/// The port in `http://127.0.0.1:PORT/produce`.
fn seller_port(url: &str) -> Option<u16> {
    url.rsplit_once(':')?.1.split('/').next()?.parse().ok()
}

fn print_welcome(base: &str, keys: &Value, seller_url: &str) {
    let op = keys["operator"]["api_key"].as_str().unwrap_or_default();
    let buyer = keys["buyer"]["api_key"].as_str().unwrap_or_default();
    let seller = keys["sellers"][0]["api_key"].as_str().unwrap_or_default();
    println!();
    println!("Mercato demo marketplace is running at {base}");
    println!();
    println!("API keys (demo only; also saved in the data directory's {KEYS_FILE}):");
    println!("  operator  {op}");
    println!("  buyer     {buyer}   ({})", keys["buyer"]["name"].as_str().unwrap_or_default());
    for s in keys["sellers"].as_array().into_iter().flatten() {
        println!(
            "  seller    {}   ({})",
            s["api_key"].as_str().unwrap_or_default(),
            s["name"].as_str().unwrap_or_default()
        );
    }
    println!();
    println!("The SaaS products' seller server (the reference seller) answers at {seller_url}");
    println!("  (its debug cases passed before each SaaS product was submitted).");
    println!();
    println!("Try:");
    println!("  curl -s '{base}/api/v1/catalog/products?q=%E6%95%B0%E6%8D%AE%E5%BA%93'        # search 数据库");
    println!("  curl -s '{base}/api/v1/catalog/products?charging_mode=on_demand&sort=newest'");
    println!("  curl -s '{base}/api/v1/catalog/categories'");
    println!("  curl -s -H 'Authorization: Bearer {seller}' {base}/api/v1/seller/products");
    println!("  curl -s -H 'Authorization: Bearer {op}' '{base}/api/v1/operator/reviews?status=pending'");
    println!("  curl -s -H 'Authorization: Bearer {buyer}' {base}/api/v1/me");
    println!("  curl -s -H 'Authorization: Bearer {buyer}' {base}/api/v1/buyer/wallet");
    println!("  curl -s {base}/api/v1/openapi.json    # the whole API");
    println!();
    println!("Press Ctrl-C to stop.");
}

//! `mercato demo`: starts Mercato with a seeded marketplace a newcomer can
//! click through. The seeding goes through the public HTTP API of the server
//! it just started, exactly as a seller and an operator would, so the demo
//! also shows the API in use.

use crate::seed::{self, Api, category_id};
use anyhow::Context;
use chrono::{DateTime, Utc};
use mercato_domain::usage::format_time;
use mercato_server::{Config, runtime};
use serde_json::{Value, json};
use std::path::Path;

mod channel;
pub mod data;

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
    let server = tokio::spawn(async move {
        runtime::serve(serving, mercato_server::workers::registry(), listener, runtime::shutdown_signal()).await
    });

    let keys_path = data_dir.join(KEYS_FILE);
    let saved: Option<Value> = if keys_path.exists() {
        Some(serde_json::from_str(&std::fs::read_to_string(&keys_path)?).context("reading demo keys")?)
    } else {
        None
    };
    // The SaaS products' seller server, in this process. A restarted demo
    // wants the port its products were seeded with.
    let wanted = saved.as_ref().and_then(|k| k["reference_seller"]["port"].as_u64()).map_or(SELLER_PORT, |p| p as u16);
    let seller_url =
        seed::start_reference_seller(data::SELLER_KEY, &data_dir.join("reference-seller.db"), wanted).await?;
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

/// The keys file holds the operator's key: readable by its owner only.
fn write_keys(path: &Path, keys: &Value) -> anyhow::Result<()> {
    mercato_server::crypto::write_private(path, &serde_json::to_string_pretty(keys)?)
}

/// The demo buyer's subscription: one month of this SKU, bought and paid
/// through the API so the reference seller provisions it.
const DEMO_SUBSCRIPTION_SKU: &str = "pipe-team";
/// The pay-per-use SKU the demo buyer uses, with usage reported by its seller.
const DEMO_USAGE_SKU: &str = "gw-gb";
/// The manual service the demo buyer bought; delivered, waiting for acceptance.
const DEMO_SERVICE_SKU: &str = "mig-std";
/// The license the demo buyer bought; its code issued, waiting for activation.
const DEMO_LICENSE_SKU: &str = "vault-node";

async fn seed(state: &mercato_server::AppState, base: &str, seller_url: &str) -> anyhow::Result<Value> {
    let api = Api::new(base);
    let operator = mercato_server::app::accounts::create_operator(state, "Demo Operator", "operator@demo.mercato.test")
        .await
        .map_err(|e| anyhow::anyhow!("creating the operator: {}", e.report()))?;
    let op = operator.api_key.clone();

    let (buyer_id, buyer_key, buyer) = api.signup("buyer", "Demo Buyer 示例买家", "buyer@demo.mercato.test").await?;
    // Wallet credit so the buyer can shop straight away (CNY 10,000.00).
    api.credit(&op, &buyer_id, 1_000_000, "demo credit").await?;

    let mut sellers = Vec::new();
    for seller in data::sellers() {
        let (id, key, _) = api.signup("seller", seller.name, seller.email).await?;
        api.approve_seller(&op, &id, &key, seller.onboarding.clone(), seller.certification.clone()).await?;
        sellers.push((seller.name, id, key));
    }

    let categories = api.get("/api/v1/catalog/categories", None).await?;
    let mut listed = 0;
    // sku_code -> (SKU id, index of its seller, product id), for the SKUs the buyer uses.
    let mut demo_skus = std::collections::HashMap::new();
    for product in data::products(seller_url) {
        let (_, _, seller_key) = &sellers[product.seller];
        let mut body = product.body.clone();
        body["category_id"] = json!(category_id(&categories, product.category).context(product.category)?);
        let id = api.list_product(&op, seller_key, body, &product.skus).await?;
        let detail = api.get(&format!("/api/v1/catalog/products/{id}"), None).await?;
        for sku in detail["skus"].as_array().context("product skus")? {
            let code = sku["sku_code"].as_str().unwrap_or_default();
            if [DEMO_SUBSCRIPTION_SKU, DEMO_USAGE_SKU, DEMO_SERVICE_SKU, DEMO_LICENSE_SKU].contains(&code) {
                demo_skus.insert(code.to_string(), (sku["id"].clone(), product.seller, id.clone()));
            }
        }
        listed += 1;
    }
    tracing::info!(products = listed, "demo marketplace seeded");

    // One provisioned monthly subscription, to walk through its lifecycle on
    // the test clock. This node's worker delivers it to the reference seller.
    let (sku_id, _, _) = demo_skus.get(DEMO_SUBSCRIPTION_SKU).context("the demo subscription's SKU")?;
    let sub_id = subscribe(&api, &buyer_key, json!({"sku_id": sku_id, "period": "month", "period_count": 1})).await?;
    let (sku_id, seller, _) = demo_skus.get(DEMO_USAGE_SKU).context("the demo pay-per-use SKU")?;
    let usage = seed_usage(&api, &op, &buyer_key, &sellers[*seller].2, sku_id).await?;
    let (sku_id, seller, _) = demo_skus.get(DEMO_SERVICE_SKU).context("the demo manual service's SKU")?;
    let service = seed_supervision(&api, &buyer_key, &sellers[*seller].2, sku_id).await?;
    let (sku_id, seller, _) = demo_skus.get(DEMO_LICENSE_SKU).context("the demo license's SKU")?;
    let license = seed_license(&api, &buyer_key, &sellers[*seller].2, sku_id).await?;
    // The channel last, so the purchases above stay unattributed.
    let (sku_id, seller, product_id) = demo_skus.get(DEMO_SUBSCRIPTION_SKU).context("the channel's SKU")?;
    let buyer_email = "buyer@demo.mercato.test";
    let product = channel::Product {
        id: product_id,
        sku_id: sku_id.as_str().context("the channel's SKU id")?,
        seller_key: &sellers[*seller].2,
    };
    let (onboarding, certification) = data::partner_forms();
    let deals =
        channel::seed(&api, &op, (&buyer_id, &buyer_key, buyer_email), product, onboarding, certification).await?;

    Ok(json!({
        "operator": {"name": "Demo Operator", "api_key": op},
        "buyer": {"name": buyer["name"], "id": buyer_id, "api_key": buyer_key, "subscription_id": sub_id,
            "usage": usage, "supervision": service, "license": license},
        "sellers": sellers.iter().map(|(name, id, key)| json!({"name": name, "id": id, "api_key": key})).collect::<Vec<_>>(),
        "partner": {"name": channel::PARTNER_NAME, "id": deals.partner_id, "api_key": deals.partner_key,
            "private_offer_id": deals.offer_id, "coupon_id": deals.coupon_id,
            "exclusive_discount_id": deals.discount_id, "sku_id": sku_id},
        "reference_seller": {"url": seller_url, "port": seller_port(seller_url)},
    }))
}

/// Buys `order` as the buyer and waits until the seller provisioned it;
/// returns the subscription.
async fn subscribe(api: &Api, buyer_key: &str, order: Value) -> anyhow::Result<String> {
    let order = api.buy(buyer_key, order).await?;
    let subs = api.get("/api/v1/buyer/subscriptions?limit=100", Some(buyer_key)).await?;
    let sub_id = subs["items"]
        .as_array()
        .and_then(|items| items.iter().find(|s| s["order_id"] == order["id"]))
        .and_then(|s| s["id"].as_str())
        .context("the demo subscription")?
        .to_string();
    api.wait_for_subscription(buyer_key, &sub_id, "active", std::time::Duration::from_secs(60)).await?;
    Ok(sub_id)
}

/// The demo's half hour of usage: (from, to) minutes after the subscription
/// started (plus a second, so no record begins before it) and the GB used.
const DEMO_USAGE: [(i64, i64, &str); 3] = [(0, 10, "1250.5"), (10, 20, "3020.25"), (20, 29, "729")];

/// One demo usage record and when it is reported.
struct ScheduledRecord {
    begin: DateTime<Utc>,
    end: DateTime<Utc>,
    gb: &'static str,
    report_at: DateTime<Utc>,
}

/// The records' times, each reported a minute after it ends. A period
/// closes 15 minutes after its hour ends, so a record reported later than
/// that would be refused as late (one push at the end of the half hour lost
/// the first record whenever the demo started between :45 and :50).
fn usage_schedule(starts: DateTime<Utc>) -> Vec<ScheduledRecord> {
    let at = |minutes: i64| starts + chrono::Duration::minutes(minutes) + chrono::Duration::seconds(1);
    DEMO_USAGE
        .iter()
        .map(|&(from, to, gb)| ScheduledRecord {
            begin: at(from),
            end: at(to),
            gb,
            report_at: starts + chrono::Duration::minutes((to + 1).min(30)),
        })
        .collect()
}

/// A pay-per-use subscription with half an hour of usage reported by its
/// seller over the signed open API, the test clock moved on to each report
/// time (30 minutes in all). Its hours are rated and charged once they close.
async fn seed_usage(api: &Api, op: &str, buyer_key: &str, seller_key: &str, sku_id: &Value) -> anyhow::Result<Value> {
    let sub_id = subscribe(api, buyer_key, json!({"sku_id": sku_id})).await?;
    let sub = api.get(&format!("/api/v1/buyer/subscriptions/{sub_id}"), Some(buyer_key)).await?;
    let instance = sub["instance_id"].as_str().context("the pay-per-use instance")?.to_string();
    let starts: DateTime<Utc> = serde_json::from_value(sub["starts_at"].clone())?;
    let (ak, sk) = api.open_api_credentials(seller_key).await?;
    let mut clock = starts;
    for (n, r) in usage_schedule(starts).into_iter().enumerate() {
        let advance_secs = (r.report_at - clock).num_seconds();
        api.post("/api/v1/operator/test-clock", op, json!({ "advance_secs": advance_secs })).await?;
        clock = r.report_at;
        let record = json!({"instance_id": instance, "metering_sn": format!("demo-{n}"),
            "begin_time": format_time(r.begin), "end_time": format_time(r.end), "usage_value": r.gb});
        api.push_usage(&ak, &sk, &json!({ "usage_records": [record] })).await?;
    }
    Ok(json!({"subscription_id": sub_id, "instance_id": instance}))
}

/// A manual service bought by the buyer, its requirements submitted, started
/// and completed by the seller with a report: it waits for the buyer's
/// acceptance.
async fn seed_supervision(api: &Api, buyer_key: &str, seller_key: &str, sku_id: &Value) -> anyhow::Result<Value> {
    let order = api.buy(buyer_key, json!({"sku_id": sku_id})).await?;
    let list = api.get("/api/v1/buyer/supervisions?limit=100", Some(buyer_key)).await?;
    let id = list["items"]
        .as_array()
        .and_then(|items| items.iter().find(|s| s["order_id"] == order["id"]))
        .and_then(|s| s["id"].as_str())
        .context("the demo supervision")?
        .to_string();
    let base = |role: &str| format!("/api/v1/{role}/supervisions/{id}");
    let doc =
        api.upload(&format!("{}/attachments", base("buyer")), buyer_key, "text/plain", REQUIREMENTS.into()).await?;
    api.post(
        &format!("{}/submit-requirements", base("buyer")),
        buyer_key,
        json!({"note": "迁移 orders 库（MySQL 5.7 → 8.0），周末窗口", "attachments": [doc["id"]]}),
    )
    .await?;
    api.post(&format!("{}/start-delivery", base("seller")), seller_key, json!({"note": "工程师已排期"})).await?;
    let report =
        api.upload(&format!("{}/attachments", base("seller")), seller_key, "text/plain", REPORT.into()).await?;
    api.post(
        &format!("{}/complete-delivery", base("seller")),
        seller_key,
        json!({"note": "迁移完成，数据校验一致", "attachments": [report["id"]]}),
    )
    .await?;
    Ok(json!({"id": id, "order_id": order["id"]}))
}

const REQUIREMENTS: &str =
    "需求说明 / Requirements\n- source: MySQL 5.7, 120 GB\n- target: MySQL 8.0\n- window: Saturday 22:00-06:00\n";
const REPORT: &str =
    "交付验收报告 / Delivery acceptance report\n- rows compared: 41,233,905, mismatches: 0\n- cut-over: done\n";

/// A license (3 nodes) bought by the buyer: this node's worker asks the
/// reference seller's license interface for the code. Returns where to find
/// it and open-API keys of its seller, to activate it as the seller's
/// software would.
async fn seed_license(api: &Api, buyer_key: &str, seller_key: &str, sku_id: &Value) -> anyhow::Result<Value> {
    let order = api.buy(buyer_key, json!({"sku_id": sku_id, "quantity": 3})).await?;
    let subs = api.get("/api/v1/buyer/subscriptions?limit=100", Some(buyer_key)).await?;
    let sub_id = subs["items"]
        .as_array()
        .and_then(|items| items.iter().find(|s| s["order_id"] == order["id"]))
        .and_then(|s| s["id"].as_str())
        .context("the demo license subscription")?
        .to_string();
    let sub = api.wait_for_subscription(buyer_key, &sub_id, "active", std::time::Duration::from_secs(60)).await?;
    let code = sub["license"]["code"].as_str().context("the demo license code")?;
    let (ak, sk) = api.open_api_credentials(seller_key).await?;
    Ok(json!({"subscription_id": sub_id, "order_id": order["id"], "code": code, "seller_ak": ak, "seller_sk": sk}))
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
    if let Some(key) = keys["partner"]["api_key"].as_str() {
        println!("  partner   {key}   ({})", keys["partner"]["name"].as_str().unwrap_or_default());
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
    println!("The demo runs on the test clock: its time stands still until the operator moves it.");
    println!("The buyer's monthly subscription expires in a month and is frozen, then released 15 days later:");
    println!("  curl -s -H 'Authorization: Bearer {buyer}' {base}/api/v1/buyer/subscriptions");
    println!("  curl -s -H 'Authorization: Bearer {op}' {base}/api/v1/operator/test-clock");
    println!(
        "  curl -s -H 'Authorization: Bearer {op}' -H 'Content-Type: application/json' -d '{{\"advance_secs\": 2678400}}' {base}/api/v1/operator/test-clock    # +31 days: frozen"
    );
    println!(
        "  curl -s -H 'Authorization: Bearer {op}' -H 'Content-Type: application/json' -d '{{\"advance_secs\": 1296000}}' {base}/api/v1/operator/test-clock    # +15 days: released"
    );
    let northwind = keys["sellers"][1]["api_key"].as_str().unwrap_or_default();
    println!("Once the clock is past the month's end and a day, the scheduler settles the month: each seller");
    println!("gets a statement of what was delivered in it (here Northwind, the subscription's seller):");
    println!("  curl -s -H 'Authorization: Bearer {northwind}' {base}/api/v1/seller/statements");
    println!("  curl -s -H 'Authorization: Bearer {op}' {base}/api/v1/operator/settlement-runs");
    println!("The seller confirms it, an operator approves the payment, pays it by bank transfer (the bank file");
    println!("lists what is due) and records the bank's reference; the trial balance reconciles it with the ledger:");
    println!(
        "  curl -s -X POST -H 'Authorization: Bearer {northwind}' {base}/api/v1/seller/statements/STATEMENT_ID/confirm"
    );
    println!(
        "  curl -s -X POST -H 'Authorization: Bearer {op}' {base}/api/v1/operator/statements/STATEMENT_ID/approve"
    );
    println!("  curl -s -H 'Authorization: Bearer {op}' {base}/api/v1/operator/payouts/bank-file.csv");
    println!(
        "  curl -s -H 'Authorization: Bearer {op}' -H 'Content-Type: application/json' -d '{{\"provider\": \"manual\", \"reference\": \"BANK-0001\"}}' {base}/api/v1/operator/statements/STATEMENT_ID/payout"
    );
    println!("  curl -s -H 'Authorization: Bearer {northwind}' {base}/api/v1/seller/transactions/export.csv");
    println!("  curl -s -H 'Authorization: Bearer {op}' {base}/api/v1/operator/ledger/trial-balance");
    let usage = &keys["buyer"]["usage"];
    if let Some(sub) = usage["subscription_id"].as_str() {
        let seller = keys["sellers"][1]["api_key"].as_str().unwrap_or_default();
        let instance = usage["instance_id"].as_str().unwrap_or_default();
        println!();
        println!(
            "The buyer also uses a pay-per-use API; its seller reported half an hour of usage (4999.75 GB, about CNY 0.75)."
        );
        println!("Each hour is rated and charged once it closes (:15 of the next hour; the half hour may span two):");
        println!("move the clock +2 hours and, within a minute, see the usage and the charges:");
        println!(
            "  curl -s -H 'Authorization: Bearer {op}' -H 'Content-Type: application/json' -d '{{\"advance_secs\": 7200}}' {base}/api/v1/operator/test-clock"
        );
        println!("  curl -s -H 'Authorization: Bearer {buyer}' {base}/api/v1/buyer/subscriptions/{sub}/usage");
        println!("  curl -s -H 'Authorization: Bearer {buyer}' {base}/api/v1/buyer/usage/charges");
        println!("  curl -s -H 'Authorization: Bearer {seller}' {base}/api/v1/seller/usage/instances/{instance}");
    }
    let service = &keys["buyer"]["supervision"];
    if let Some(id) = service["id"].as_str() {
        let order = service["order_id"].as_str().unwrap_or_default();
        println!();
        println!("Service supervision (服务监管): the buyer bought a manual service (数据库迁移实施服务); the seller");
        println!("started it and completed it with a delivery report. It waits for the buyer's acceptance:");
        println!(
            "  curl -s -H 'Authorization: Bearer {buyer}' {base}/api/v1/buyer/supervisions/{id}    # timeline, files"
        );
        println!(
            "  curl -s -H 'Authorization: Bearer {buyer}' -H 'Content-Type: application/json' -d '{{\"note\": \"accepted\"}}' {base}/api/v1/buyer/supervisions/{id}/accept"
        );
        println!("  curl -s -H 'Authorization: Bearer {buyer}' {base}/api/v1/buyer/orders/{order}    # completed");
        println!("  (or reject it with a reason: .../reject; 7 days without an answer, the seller may appeal)");
        println!();
        println!("Invoices (开票): the buyer asks for an invoice of that paid order; the platform issues it (the");
        println!("products are joint operation; a general-cooperation product's seller issues its own):");
        println!(
            "  curl -s -H 'Authorization: Bearer {buyer}' -H 'Content-Type: application/json' -d '{{\"order_id\": \"{order}\", \"title\": \"Demo Buyer Co., Ltd.\", \"tax_id\": \"91350100M000100Y43\", \"address\": \"88 Century Avenue, Shanghai\"}}' {base}/api/v1/buyer/invoices"
        );
        println!("  curl -s -H 'Authorization: Bearer {op}' '{base}/api/v1/operator/invoices?status=requested'");
        println!("  curl -s -X POST -H 'Authorization: Bearer {op}' {base}/api/v1/operator/invoices/INVOICE_ID/issue");
        println!(
            "  curl -s -H 'Authorization: Bearer {buyer}' -o invoice.pdf {base}/api/v1/buyer/invoices/INVOICE_ID/pdf"
        );
    }
    let license = &keys["buyer"]["license"];
    if let Some(sub) = license["subscription_id"].as_str() {
        let code = license["code"].as_str().unwrap_or_default();
        let (ak, sk) =
            (license["seller_ak"].as_str().unwrap_or_default(), license["seller_sk"].as_str().unwrap_or_default());
        let open_api = format!("{base}/api/mkp-openapi-public/global/v1/license");
        println!();
        println!("License: the seller's license interface issued the buyer's SecureVault code ({code});");
        println!("its activation by the seller's software completes the order:");
        println!(
            "  curl -s -H 'Authorization: Bearer {buyer}' {base}/api/v1/buyer/subscriptions/{sub}    # license.code"
        );
        println!(
            "  mercato isv open-api --url {open_api}/activate --ak {ak} --sk {sk} --body '{{\"license\": \"{code}\"}}'"
        );
        println!(
            "  mercato isv open-api --url {open_api}/heartbeat --ak {ak} --sk {sk} --body '{{\"license\": \"{code}\", \"heartbeatInfo\": {{\"thirdPartyAccount\": \"demo\"}}}}'"
        );
    }
    print_channel(base, keys);
    println!();
    println!("Press Ctrl-C to stop.");
}

/// The channel's part of the welcome: the partner, the offer and coupon to buy with.
fn print_channel(base: &str, keys: &Value) {
    let p = &keys["partner"];
    let Some(partner) = p["api_key"].as_str() else { return };
    let (op, buyer) = (
        keys["operator"]["api_key"].as_str().unwrap_or_default(),
        keys["buyer"]["api_key"].as_str().unwrap_or_default(),
    );
    let (offer, coupon, discount, sku) = (
        p["private_offer_id"].as_str().unwrap_or_default(),
        p["coupon_id"].as_str().unwrap_or_default(),
        p["exclusive_discount_id"].as_str().unwrap_or_default(),
        p["sku_id"].as_str().unwrap_or_default(),
    );
    println!();
    println!(
        "The channel (docs/channel.md): the buyer is bound to {} ({partner});",
        p["name"].as_str().unwrap_or_default()
    );
    println!("the partner passed the buyer's demand to the seller, who made a private offer (20% off a quarter");
    println!("of DevOps Pipeline Pro); the buyer claimed a coupon (CNY 10 off CNY 100). Buy with both:");
    println!("  curl -s -H 'Authorization: Bearer {buyer}' {base}/api/v1/buyer/private-offers");
    println!("  curl -s -H 'Authorization: Bearer {buyer}' {base}/api/v1/buyer/coupons");
    println!(
        "  curl -s -H 'Authorization: Bearer {buyer}' -H 'Content-Type: application/json' -d '{{\"sku_id\": \"{sku}\", \"period\": \"month\", \"period_count\": 3, \"offer_id\": \"{offer}\", \"coupon_id\": \"{coupon}\"}}' {base}/api/v1/buyer/orders"
    );
    println!("  (147.00 list, 29.40 off, 10.00 off: 107.60 due; pay it with .../orders/ORDER_ID/pay)");
    println!("The partner's exclusive discount (3%) waits for an operator; its customers, orders and performance:");
    println!(
        "  curl -s -X POST -H 'Authorization: Bearer {op}' {base}/api/v1/operator/exclusive-discounts/{discount}/approve"
    );
    println!("  curl -s -H 'Authorization: Bearer {partner}' {base}/api/v1/partner/customers");
    println!(
        "  curl -s -H 'Authorization: Bearer {partner}' '{base}/api/v1/partner/performance?from=2026-01&to=2026-12'"
    );
    println!(
        "  curl -s -H 'Authorization: Bearer {partner}' {base}/api/v1/partner/statements    # after the month settles"
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use mercato_domain::catalog::Billing;
    use mercato_domain::rating::CloseRule;

    #[test]
    fn every_demo_record_is_reported_after_it_ends_and_before_its_hour_closes_whatever_the_start() {
        let close = CloseRule::default();
        let hour = DateTime::parse_from_rfc3339("2026-12-07T13:00:00Z").unwrap().with_timezone(&Utc);
        for offset_secs in (0..3600).step_by(7) {
            let starts = hour + chrono::Duration::seconds(offset_secs);
            let schedule = usage_schedule(starts);
            assert_eq!(
                schedule.last().unwrap().report_at - starts,
                chrono::Duration::minutes(30),
                "half an hour in all"
            );
            for ScheduledRecord { begin, end, report_at, .. } in schedule {
                assert!(begin > starts && end > begin, "{starts}: {begin}..{end}");
                assert!(report_at >= end, "{starts}: reported at {report_at} before it ended at {end}");
                let closes = close.closes_at_time(Billing::Hourly, end);
                assert!(report_at < closes, "{starts}: reported at {report_at}, its hour closed at {closes}");
            }
        }
    }
}

//! The marketplace the chaos runs on, seeded through the HTTP API as the
//! benchmarks seed theirs: one SaaS product behind the reference seller
//! with a monthly SKU (orders, renewals) and a pay-per-use SKU (usage), and
//! buyers with money.

use crate::bench::{Shop, seed_shop_as};
use serde_json::json;

/// The monthly SKU's price (CNY 1.00) and each buyer's credit.
const MONTH_MINOR: i64 = 100;
const CREDIT_MINOR: i64 = 1_000_000_000;

pub struct Market {
    /// The operator's API key.
    pub op: String,
    /// The seller's open-API keys, for usage pushes.
    pub ak: String,
    pub sk: String,
    pub month_sku: String,
    pub usage_sku: String,
    /// The buyers' API keys.
    pub buyers: Vec<String>,
}

/// Seeds the market through the node at `base` as the operator `op`; the
/// seller at `seller_url` must behave meanwhile (the product's debug run).
pub async fn seed(base: &str, op: String, seller_url: &str, buyers: usize) -> anyhow::Result<Market> {
    let product = json!({
        "name": "Chaos Cloud DB",
        "summary": "A product bought, renewed and metered while nodes are killed",
        "description": "Seeded by `mercato chaos`.",
    });
    let skus = [
        json!({"sku_code": "chaos-month", "name": "Monthly", "charging_mode": "period",
            "prices": {"month_minor": MONTH_MINOR, "year_minor": MONTH_MINOR * 10}, "currency": "CNY"}),
        json!({"sku_code": "chaos-payg", "name": "Pay as you go", "charging_mode": "on_demand",
            "currency": "CNY", "metering": {"unit": "GB", "unit_price": "0.05", "billing": "hourly"}}),
    ];
    let Shop { api, op, seller_key, sku_ids, .. } =
        seed_shop_as(op, base, seller_url, super::seller::KEY, product, &skus).await?;
    let keys = api.funded_buyers(&op, "Chaos", buyers as u64, CREDIT_MINOR).await?;
    let (ak, sk) = api.open_api_credentials(&seller_key).await?;
    Ok(Market { op, ak, sk, month_sku: sku_ids[0].clone(), usage_sku: sku_ids[1].clone(), buyers: keys })
}

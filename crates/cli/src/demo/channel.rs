//! The demo's channel: a certified partner the demo buyer is bound to, a
//! customer demand the seller answered with a private offer, and a coupon
//! the buyer claimed: both left unused for a newcomer to buy with.

use crate::seed::Api;
use anyhow::Context;
use serde_json::{Value, json};

/// The demo partner's sign-up.
pub const PARTNER_NAME: &str = "Demo Partner 渠道伙伴";
const PARTNER_EMAIL: &str = "partner@demo.mercato.test";

/// What the channel demo made (ids and the partner's key).
pub struct Seeded {
    pub partner_id: String,
    pub partner_key: String,
    pub offer_id: String,
    pub coupon_id: String,
    pub discount_id: String,
}

/// The product bought through the channel.
pub struct Product<'a> {
    pub id: &'a str,
    pub sku_id: &'a str,
    pub seller_key: &'a str,
}

/// Seeds the channel for `buyer` (id, key, email) on `product`.
pub async fn seed(
    api: &Api,
    op: &str,
    buyer: (&str, &str, &str),
    product: Product<'_>,
    onboarding: Value,
    certification: Value,
) -> anyhow::Result<Seeded> {
    let (buyer_id, buyer_key, buyer_email) = buyer;
    let (partner_id, partner_key, _) = api.signup("partner", PARTNER_NAME, PARTNER_EMAIL).await?;
    api.put("/api/v1/partner/onboarding", &partner_key, onboarding).await?;
    api.post("/api/v1/partner/onboarding/submit", &partner_key, json!({})).await?;
    api.post(&format!("/api/v1/operator/onboarding/{partner_id}/approve"), op, json!({})).await?;
    api.put("/api/v1/partner/certification", &partner_key, certification).await?;
    api.post("/api/v1/partner/certification/submit", &partner_key, json!({})).await?;
    api.post(&format!("/api/v1/operator/certification/{partner_id}/approve"), op, json!({})).await?;

    let invitation = api
        .post(
            "/api/v1/partner/invitations",
            &partner_key,
            json!({"buyer_email": buyer_email, "message": "We look after your cloud purchases."}),
        )
        .await?;
    let id = invitation["id"].as_str().context("invitation id")?;
    api.post(&format!("/api/v1/buyer/partner-invitations/{id}/accept"), buyer_key, json!({})).await?;

    // A demand the seller answers with a private offer: 20% off a quarter.
    let demand = api
        .post(
            "/api/v1/partner/demands",
            &partner_key,
            json!({"buyer_id": buyer_id, "product_id": product.id, "needs": "A quarter for a team of ten",
                "target_price_minor": 11_000, "currency": "CNY"}),
        )
        .await?;
    let demand_id = demand["id"].as_str().context("demand id")?;
    api.post(&format!("/api/v1/seller/demands/{demand_id}/accept"), product.seller_key, json!({})).await?;
    let until = (chrono::Utc::now() + chrono::Duration::days(365)).to_rfc3339();
    let offer = api
        .post(
            "/api/v1/seller/private-offers",
            product.seller_key,
            json!({"demand_id": demand_id, "product_id": product.id, "valid_until": until,
                "message": "Your quarter at 20% off, as agreed with your partner.",
                "terms": {"skus": [{"sku_id": product.sku_id, "price": {"percent_off": {"percent_off_bp": 2_000}}}],
                    "period": "month", "period_count": 3}}),
        )
        .await?;
    let offer_id = offer["id"].as_str().context("offer id")?.to_string();

    // A coupon batch of the seller (CNY 10 off CNY 100), one claimed.
    let batch = api
        .post(
            "/api/v1/seller/coupons",
            product.seller_key,
            json!({"name": "新客满100减10", "threshold_minor": 10_000, "amount_off_minor": 1_000, "currency": "CNY",
                "scope": {"product_ids": [product.id], "sku_ids": []}, "valid_until": until,
                "total_count": 100, "per_buyer_limit": 2}),
        )
        .await?;
    let batch_id = batch["id"].as_str().context("batch id")?;
    let coupon = api.post("/api/v1/buyer/coupons", buyer_key, json!({"batch_id": batch_id})).await?;
    let coupon_id = coupon["id"].as_str().context("coupon id")?.to_string();

    // An exclusive discount the partner asked for, waiting for an operator.
    let discount = api
        .post(
            "/api/v1/partner/exclusive-discounts",
            &partner_key,
            json!({"buyer_id": buyer_id, "product_id": product.id, "percent_off_bp": 300,
                "reason": "A long-standing customer", "valid_until": until}),
        )
        .await?;
    let discount_id = discount["id"].as_str().context("discount id")?.to_string();
    Ok(Seeded { partner_id, partner_key, offer_id, coupon_id, discount_id })
}

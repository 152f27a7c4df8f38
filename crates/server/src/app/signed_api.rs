//! The sellers' open API (seller interface spec §6), the use cases behind
//! it: the order query, and the refusals they answer with, each an `MKT.xxxx`
//! code of `koo::gateway` with a message. The signature check and the HTTP
//! status of each code are `http/signed_api.rs`'s.

use crate::app::error::AppError;
use crate::state::AppState;
use chrono::{DateTime, Utc};
use koo::gateway::GatewayCode;
use mercato_store::repo::orders as order_repo;
use serde::Serialize;
use utoipa::ToSchema;

/// The open API's error answer.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Envelope {
    /// `MKT.0000` on success.
    pub error_code: String,
    pub error_msg: String,
}

/// An open-API refusal: the code and what to tell the seller.
#[derive(Debug)]
pub struct OpenApiError {
    pub code: GatewayCode,
    pub msg: String,
}

impl OpenApiError {
    pub fn new(code: GatewayCode, msg: impl Into<String>) -> Self {
        Self { code, msg: msg.into() }
    }

    pub fn envelope(&self) -> Envelope {
        Envelope { error_code: self.code.as_str().into(), error_msg: self.msg.clone() }
    }
}

impl From<AppError> for OpenApiError {
    fn from(e: AppError) -> Self {
        tracing::error!(error = %e.report(), "open API internal error");
        Self::new(GatewayCode::Internal, "internal error")
    }
}

impl From<mercato_store::StoreError> for OpenApiError {
    fn from(e: mercato_store::StoreError) -> Self {
        AppError::from(e).into()
    }
}

pub type OpenApiResult<T> = Result<T, OpenApiError>;

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProductInfo {
    pub product_id: String,
    pub sku_code: String,
    /// The quantity bought.
    pub linear_value: i64,
    pub product_name: String,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OrderLineInfo {
    pub order_line_id: String,
    /// PERIOD, ONE_TIME, ON_DEMAND or ON_DEMAND_PKG.
    pub charging_mode: String,
    /// `month` or `year` for period lines.
    pub period_type: Option<String>,
    pub period_number: Option<i64>,
    /// `yyyyMMddHHmmss` UTC, once known.
    pub expire_time: Option<String>,
    pub product_info: Vec<ProductInfo>,
    /// ISO 4217 code.
    pub currency: String,
    /// The amount paid for the line, a decimal string in `currency`.
    pub currency_after_discount: String,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BuyerInfo {
    pub customer_id: String,
    pub customer_name: String,
    pub user_id: String,
    pub user_name: String,
    pub email: String,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OrderInfo {
    pub order_id: String,
    /// NEW (a new purchase).
    pub order_type: String,
    /// `yyyyMMddHHmmss` UTC.
    pub create_time: String,
    pub order_line: Vec<OrderLineInfo>,
    pub buyer_info: BuyerInfo,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OrderQueryResponse {
    pub error_code: String,
    pub error_msg: String,
    #[serde(rename = "orderInfo")]
    pub order_info: OrderInfo,
}

pub fn koo_time(t: DateTime<Utc>) -> String {
    t.format("%Y%m%d%H%M%S").to_string()
}

fn decimal_amount(minor: i64, currency: &str) -> String {
    let exp = mercato_domain::money::CURRENCIES.iter().find(|(c, _)| *c == currency).map_or(2, |(_, e)| *e);
    rust_decimal::Decimal::new(minor, exp).to_string()
}

/// The order as the calling seller may see it: only its own lines.
pub async fn query_order(
    state: &AppState,
    seller_id: &str,
    order_id: Option<&str>,
    line_id: Option<&str>,
) -> OpenApiResult<OrderQueryResponse> {
    let order_id = order_id
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| OpenApiError::new(GatewayCode::InvalidInput, "orderId is required"))?;
    let not_found = || OpenApiError::new(GatewayCode::NotFound, "no such order");
    let db = &state.db.conn;
    let order = order_repo::find_order(db, order_id).await?.ok_or_else(not_found)?;
    if order.paid_at.is_none() {
        return Err(not_found());
    }
    let mut lines = order_repo::lines_of(db, std::slice::from_ref(&order.id)).await?;
    if let Some(l) = line_id.map(str::trim).filter(|s| !s.is_empty()) {
        lines.retain(|x| x.id == l);
        if lines.is_empty() {
            return Err(OpenApiError::new(GatewayCode::NotFound, "no such order line"));
        }
    }
    lines.retain(|l| l.seller_id == seller_id);
    if lines.is_empty() {
        return Err(OpenApiError::new(GatewayCode::IllegalOperation, "the order is not one of yours"));
    }
    let subs = order_repo::subscriptions_of_orders(db, std::slice::from_ref(&order.id)).await?;
    let mut order_line = Vec::with_capacity(lines.len());
    for l in lines {
        let expire = subs.iter().find(|s| s.order_line_id == l.id).and_then(|s| s.expires_at).map(koo_time);
        order_line.push(OrderLineInfo {
            charging_mode: l.charging_mode.as_str().to_ascii_uppercase(),
            period_type: l.period.map(|p| p.as_str().to_string()),
            period_number: l.period_count,
            expire_time: expire,
            product_info: vec![ProductInfo {
                product_id: l.product_id.clone(),
                sku_code: l.sku_code.clone(),
                linear_value: l.quantity,
                product_name: l.product_name.clone(),
            }],
            currency: l.currency.clone(),
            currency_after_discount: decimal_amount(l.amount_minor, &l.currency),
            order_line_id: l.id,
        });
    }
    let buyer = order_repo::accounts_by_ids(db, std::slice::from_ref(&order.buyer_id)).await?.into_iter().next();
    let (name, email) = buyer.map(|b| (b.name, b.email)).unwrap_or_default();
    Ok(OrderQueryResponse {
        error_code: GatewayCode::Success.as_str().into(),
        error_msg: "success".into(),
        order_info: OrderInfo {
            order_id: order.id.clone(),
            order_type: "NEW".into(),
            create_time: koo_time(order.created_at),
            order_line,
            buyer_info: BuyerInfo {
                customer_id: order.buyer_id.clone(),
                customer_name: name.clone(),
                user_id: order.buyer_id,
                user_name: name,
                email,
            },
        },
    })
}

//! Sellers' order views: the orders that contain the seller's products (only
//! the seller's own lines are shown), filtered, paged, and exported as CSV.

use super::filters::{self, nonempty};
use super::{OrderLineView, order_cursor, order_views, parse_order_cursor};
use crate::app::csv;
use crate::app::error::{AppError, AppResult};
use crate::app::page::{Page, Paging};
use crate::auth::Principal;
use crate::extract::query_num;
use crate::state::AppState;
use chrono::{DateTime, Utc};
use mercato_domain::orders::{OrderStatus, is_order_id};
use mercato_domain::validation::Checker;
use mercato_store::repo::orders::{self as repo, OrderFilter};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use utoipa::{IntoParams, ToSchema};

/// Most rows (order lines) one CSV export holds; narrow the filters for more.
pub const EXPORT_MAX_ROWS: usize = 10_000;
pub const CUSTOMER_MAX: usize = 100;

/// Filters of the seller's order list and export.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SellerOrderParams {
    /// Exact order id.
    #[serde(default)]
    #[param(pattern = "^CS[0-9]{10}[A-Z0-9]{5}$")]
    pub order_id: Option<String>,
    /// Part of the buyer's name or email (case-insensitive).
    #[serde(default)]
    #[param(
        pattern = r"^[^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*[^\s\u0000-\u001F\u007F-\u009F][^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*$",
        max_length = 100
    )]
    pub customer: Option<String>,
    /// Only orders of this product.
    #[serde(default)]
    #[param(
        pattern = r"^[^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*[^\s\u0000-\u001F\u007F-\u009F][^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*$",
        max_length = 64
    )]
    pub product_id: Option<String>,
    /// pending_payment, paid, fulfilling, completed, failed, refunded or cancelled.
    #[serde(default)]
    #[param(value_type = Option<OrderStatus>)]
    pub status: Option<String>,
    /// RFC 3339; orders created at or after this time.
    #[serde(default)]
    #[param(format = DateTime)]
    pub created_from: Option<String>,
    /// RFC 3339; orders created before this time.
    #[serde(default)]
    #[param(format = DateTime)]
    pub created_to: Option<String>,
    /// 1-100, default 20 (list only).
    #[serde(default, deserialize_with = "query_num::opt_u64")]
    #[param(value_type = Option<u64>, minimum = 1, maximum = 100, default = 20)]
    pub limit: Option<u64>,
    /// `next_cursor` from the previous page (list only).
    #[serde(default)]
    pub cursor: Option<String>,
}

/// The buyer, as the seller sees them.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Customer {
    pub id: String,
    pub name: String,
    pub email: String,
}

/// An order as its seller sees it: only the seller's lines, and their sum.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SellerOrderView {
    pub id: String,
    pub status: OrderStatus,
    pub customer: Customer,
    /// Sum of the seller's lines.
    pub amount_minor: i64,
    pub currency: String,
    pub lines: Vec<OrderLineView>,
    pub created_at: DateTime<Utc>,
    pub paid_at: Option<DateTime<Utc>>,
}

struct Filters {
    order_id: Option<String>,
    customer: Option<String>,
    product_id: Option<String>,
    status: Option<OrderStatus>,
    created_from: Option<DateTime<Utc>>,
    created_to: Option<DateTime<Utc>>,
}

impl Filters {
    fn repo<'a>(&'a self, seller_id: &'a str) -> OrderFilter<'a> {
        OrderFilter {
            buyer_id: None,
            seller_id: Some(seller_id),
            order_id: self.order_id.as_deref(),
            customer: self.customer.as_deref(),
            product_id: self.product_id.as_deref(),
            status: self.status,
            created_from: self.created_from,
            created_to: self.created_to,
        }
    }
}

fn filters(p: &SellerOrderParams) -> AppResult<Filters> {
    let mut c = Checker::new();
    let order_id = nonempty(&p.order_id);
    if let Some(id) = &order_id {
        c.check(is_order_id(id), "order_id", "must be an order id such as CS2611221430B4LVS");
    }
    let customer = nonempty(&p.customer);
    if let Some(text) = &customer {
        c.text("customer", text, 1, CUSTOMER_MAX);
    }
    let product_id = nonempty(&p.product_id);
    if let Some(id) = &product_id {
        c.text("product_id", id, 1, 64);
    }
    let status = filters::status(&mut c, &p.status);
    let (created_from, created_to) = filters::created_range(&mut c, &p.created_from, &p.created_to);
    c.finish()?;
    Ok(Filters { order_id, customer, product_id, status, created_from, created_to })
}

async fn views(
    state: &AppState,
    seller_id: &str,
    rows: Vec<mercato_store::entity::order::Model>,
) -> AppResult<Vec<SellerOrderView>> {
    let db = &state.db.conn;
    let mut buyer_ids: Vec<String> = rows.iter().map(|o| o.buyer_id.clone()).collect();
    buyer_ids.sort();
    buyer_ids.dedup();
    let buyers: HashMap<String, Customer> = repo::accounts_by_ids(db, &buyer_ids)
        .await?
        .into_iter()
        .map(|a| (a.id.clone(), Customer { id: a.id, name: a.name, email: a.email }))
        .collect();
    let buyer_of: Vec<String> = rows.iter().map(|o| o.buyer_id.clone()).collect();
    let orders = order_views(db, rows, Some(seller_id)).await?;
    orders
        .into_iter()
        .zip(buyer_of)
        .map(|(o, buyer)| {
            let customer = buyers
                .get(&buyer)
                .cloned()
                .ok_or_else(|| AppError::inconsistent(format!("order of unknown buyer {buyer}")))?;
            let amount_minor = o
                .lines
                .iter()
                .try_fold(0i64, |sum, l| sum.checked_add(l.amount_minor))
                .ok_or_else(|| AppError::inconsistent("line amounts overflow"))?;
            Ok(SellerOrderView {
                id: o.id,
                status: o.status,
                customer,
                amount_minor,
                currency: o.currency,
                lines: o.lines,
                created_at: o.created_at,
                paid_at: o.paid_at,
            })
        })
        .collect()
}

/// The seller's orders matching the filters, newest first.
pub async fn list(state: &AppState, seller: &Principal, p: SellerOrderParams) -> AppResult<Page<SellerOrderView>> {
    let f = filters(&p)?;
    let paging = Paging::new(p.limit, p.cursor.clone())?;
    let before = paging.cursor.as_deref().map(parse_order_cursor).transpose()?;
    let mut rows = repo::list(&state.db.conn, &f.repo(&seller.account_id), before, paging.limit + 1).await?;
    let more = rows.len() as u64 > paging.limit;
    rows.truncate(paging.limit as usize);
    let next_cursor = if more { rows.last().map(order_cursor) } else { None };
    Ok(Page { items: views(state, &seller.account_id, rows).await?, next_cursor })
}

/// The CSV columns, in order.
pub const CSV_HEADER: &[&str] = &[
    "order_id",
    "order_line_id",
    "status",
    "created_at",
    "paid_at",
    "customer_name",
    "customer_email",
    "product_id",
    "product_name",
    "sku_id",
    "sku_code",
    "charging_mode",
    "period",
    "period_count",
    "quantity",
    "trial",
    "amount_minor",
    "currency",
];

/// The export: the CSV text and whether rows were left out (cap reached).
pub struct Export {
    pub csv: String,
    pub truncated: bool,
}

/// The same rows as [`list`] (without paging), one CSV row per order line,
/// at most [`EXPORT_MAX_ROWS`].
pub async fn export(state: &AppState, seller: &Principal, p: SellerOrderParams) -> AppResult<Export> {
    let f = filters(&p)?;
    let rows = repo::list(&state.db.conn, &f.repo(&seller.account_id), None, EXPORT_MAX_ROWS as u64 + 1).await?;
    let orders = views(state, &seller.account_id, rows).await?;
    let mut csv = String::new();
    csv.push_str(&csv::header(CSV_HEADER));
    let mut count = 0usize;
    let mut truncated = false;
    'orders: for o in &orders {
        for l in &o.lines {
            if count == EXPORT_MAX_ROWS {
                truncated = true;
                break 'orders;
            }
            count += 1;
            csv::push_row(
                &mut csv,
                [
                    o.id.clone(),
                    l.id.clone(),
                    o.status.as_str().to_string(),
                    o.created_at.to_rfc3339(),
                    o.paid_at.map(|t| t.to_rfc3339()).unwrap_or_default(),
                    o.customer.name.clone(),
                    o.customer.email.clone(),
                    l.product_id.clone(),
                    l.product_name.clone(),
                    l.sku_id.clone(),
                    l.sku_code.clone(),
                    l.charging_mode.as_str().to_string(),
                    l.period.map(|p| p.as_str().to_string()).unwrap_or_default(),
                    l.period_count.map(|n| n.to_string()).unwrap_or_default(),
                    l.quantity.to_string(),
                    l.trial.to_string(),
                    l.amount_minor.to_string(),
                    l.currency.clone(),
                ]
                .iter()
                .map(|f| csv::text(f)),
            );
        }
    }
    Ok(Export { csv, truncated })
}

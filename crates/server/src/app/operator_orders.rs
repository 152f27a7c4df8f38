//! The operator's order view: every buyer's orders, filtered and paged, and
//! one order with everything an operator needs to see why a delivery is
//! stuck.
//!
//! Rules:
//! - The list filters by `status`, `buyer_id`, `seller_id` and
//!   `product_id` (orders with at least one line of that seller or
//!   product), `created_from` (inclusive) and `created_to` (exclusive);
//!   newest first, with the same keyset cursor as the buyer's and seller's
//!   lists. Every line of an order is shown.
//! - The detail adds, for the order's lines: the subscriptions they created
//!   or act on (status, instance, expiry; the appInfo without its password,
//!   which only the buyer sees), the ledger entries whose reference is the
//!   order (payment, refund), the interface messages (every call to the
//!   seller: request, answer, code, duration, attempt), the jobs (those
//!   referenced by one of its line ids or subscription ids, and the
//!   lifecycle steps `<subscription>:...` of the subscriptions its purchase
//!   lines created) and the follow-up
//!   orders of those subscriptions (renewal, upgrade, trial conversion,
//!   unsubscribe lines naming them), other than the order itself.
//! - The buyer's appInfo password is never shown: not in the
//!   subscriptions, and every `password` member of a seller's answer in
//!   the interface messages reads `[redacted]` (an answer that is not JSON
//!   but mentions a password is withheld whole).
//! - Unknown order id: 404. Operators only (OperatorAuth).

use crate::app::error::{AppError, AppResult};
use crate::app::ledger::{EntryView, entries_for_reference};
use crate::app::orders::{
    AppInfoView, OrderView, SubscriptionView, filters, order_cursor, order_views, parse_order_cursor, subscription_view,
};
use crate::app::page::{Page, Paging};
use crate::app::subscriptions::fulfilment::InterfaceMessageView;
use crate::extract::query_num;
use crate::state::AppState;
use chrono::{DateTime, Utc};
use mercato_domain::orders::{LineKind, OrderStatus, is_order_id};
use mercato_domain::validation::Checker;
use mercato_store::entity::job;
use mercato_store::repo::{interface_messages, jobs as job_repo, orders as repo};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use utoipa::{IntoParams, ToSchema};

/// Filters of the operator's order list.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OperatorOrderParams {
    /// pending_payment, paid, fulfilling, completed, failed, refunded or cancelled.
    #[serde(default)]
    #[param(value_type = Option<OrderStatus>)]
    pub status: Option<String>,
    /// The buyer's account id.
    #[serde(default)]
    #[param(
        pattern = r"^[^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*[^\s\u0000-\u001F\u007F-\u009F][^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*$",
        max_length = 64
    )]
    pub buyer_id: Option<String>,
    /// Orders with a line of this seller (account id).
    #[serde(default)]
    #[param(
        pattern = r"^[^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*[^\s\u0000-\u001F\u007F-\u009F][^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*$",
        max_length = 64
    )]
    pub seller_id: Option<String>,
    /// Orders with a line of this product.
    #[serde(default)]
    #[param(
        pattern = r"^[^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*[^\s\u0000-\u001F\u007F-\u009F][^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*$",
        max_length = 64
    )]
    pub product_id: Option<String>,
    /// RFC 3339; orders created at or after this time.
    #[serde(default)]
    #[param(format = DateTime)]
    pub created_from: Option<String>,
    /// RFC 3339; orders created before this time.
    #[serde(default)]
    #[param(format = DateTime)]
    pub created_to: Option<String>,
    /// 1-100, default 20.
    #[serde(default, deserialize_with = "query_num::opt_u64")]
    #[param(value_type = Option<u64>, minimum = 1, maximum = 100, default = 20)]
    pub limit: Option<u64>,
    /// `next_cursor` from the previous page.
    #[serde(default)]
    pub cursor: Option<String>,
}

/// An order as the operator sees it: every line, and the buyer.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct OperatorOrderView {
    /// The order as its buyer sees it.
    #[serde(flatten)]
    pub order: OrderView,
    pub buyer_id: String,
}

/// A background job about the order, as stored.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct OrderJobView {
    pub id: String,
    /// e.g. `fulfil_new_instance`, `renew_instance`, `release_abandoned_instance`.
    pub kind: String,
    /// An order line id, a subscription id, or `<subscription id>:<step>`.
    pub reference: String,
    /// pending, running, done or dead.
    pub status: String,
    pub attempts: i64,
    /// Why the last attempt failed.
    pub last_error: Option<String>,
    /// When it runs (next), or last ran.
    pub run_at: DateTime<Utc>,
    pub first_attempt_at: Option<DateTime<Utc>>,
    pub updated_at: DateTime<Utc>,
}

impl From<job::Model> for OrderJobView {
    fn from(j: job::Model) -> Self {
        OrderJobView {
            id: j.id,
            kind: j.kind,
            reference: j.reference,
            status: j.status,
            attempts: j.attempts,
            last_error: j.last_error,
            run_at: j.run_at,
            first_attempt_at: j.first_attempt_at,
            updated_at: j.updated_at,
        }
    }
}

/// An order acting on one of the order's subscriptions.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct FollowUpOrderView {
    pub order_id: String,
    pub order_line_id: String,
    /// renewal, upgrade, trial_conversion or unsubscribe.
    pub kind: LineKind,
    pub subscription_id: String,
    /// The line's amount (an unsubscribe's is what it refunds).
    pub amount_minor: i64,
    pub currency: String,
    pub status: OrderStatus,
    pub created_at: DateTime<Utc>,
}

/// One order with everything about its delivery.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct OperatorOrderDetail {
    pub order: OperatorOrderView,
    /// The subscriptions its lines created or act on. `app_info.password` is
    /// always null here.
    pub subscriptions: Vec<SubscriptionView>,
    /// Journal entries referencing the order, oldest first.
    pub ledger_entries: Vec<EntryView>,
    /// Calls to the seller about its lines, oldest first.
    pub interface_messages: Vec<InterfaceMessageView>,
    /// Jobs about its lines and subscriptions, oldest first.
    pub jobs: Vec<OrderJobView>,
    /// Other orders acting on its subscriptions, oldest first.
    pub follow_up_orders: Vec<FollowUpOrderView>,
}

struct Filters {
    status: Option<OrderStatus>,
    buyer_id: Option<String>,
    seller_id: Option<String>,
    product_id: Option<String>,
    created_from: Option<DateTime<Utc>>,
    created_to: Option<DateTime<Utc>>,
}

fn filters(p: &OperatorOrderParams) -> AppResult<Filters> {
    let mut c = Checker::new();
    let mut id = |field: &str, v: &Option<String>| {
        let v = filters::nonempty(v);
        if let Some(text) = &v {
            c.text(field, text, 1, 64);
        }
        v
    };
    let buyer_id = id("buyer_id", &p.buyer_id);
    let seller_id = id("seller_id", &p.seller_id);
    let product_id = id("product_id", &p.product_id);
    let status = filters::status(&mut c, &p.status);
    let (created_from, created_to) = filters::created_range(&mut c, &p.created_from, &p.created_to);
    c.finish()?;
    Ok(Filters { status, buyer_id, seller_id, product_id, created_from, created_to })
}

/// `GET /api/v1/operator/orders`.
pub async fn list(state: &AppState, params: OperatorOrderParams) -> AppResult<Page<OperatorOrderView>> {
    let f = filters(&params)?;
    let paging = Paging::new(params.limit, params.cursor)?;
    let before = paging.cursor.as_deref().map(parse_order_cursor).transpose()?;
    let db = &state.db.conn;
    let filter = repo::OrderFilter {
        order_id: None,
        customer: None,
        status: f.status,
        buyer_id: f.buyer_id.as_deref(),
        seller_id: f.seller_id.as_deref(),
        product_id: f.product_id.as_deref(),
        created_from: f.created_from,
        created_to: f.created_to,
    };
    let mut rows = repo::list(db, &filter, before, paging.limit + 1).await?;
    let more = rows.len() as u64 > paging.limit;
    rows.truncate(paging.limit as usize);
    let next_cursor = if more { rows.last().map(order_cursor) } else { None };
    let buyers: Vec<String> = rows.iter().map(|o| o.buyer_id.clone()).collect();
    let views = order_views(db, rows, None).await?;
    let items = views.into_iter().zip(buyers).map(|(order, buyer_id)| OperatorOrderView { order, buyer_id }).collect();
    Ok(Page { items, next_cursor })
}

/// `GET /api/v1/operator/orders/{id}`.
pub async fn get(state: &AppState, order_id: &str) -> AppResult<OperatorOrderDetail> {
    if !is_order_id(order_id) {
        return Err(AppError::not_found("order"));
    }
    let db = &state.db.conn;
    let o = repo::find_order(db, order_id).await?.ok_or_else(|| AppError::not_found("order"))?;
    let buyer_id = o.buyer_id.clone();
    let view = order_views(db, vec![o], None).await?.pop().ok_or_else(|| AppError::internal("order view"))?;
    let line_ids: Vec<String> = view.lines.iter().map(|l| l.id.clone()).collect();

    // Subscriptions: created by its purchase lines, or named by its
    // follow-up lines.
    let created = repo::subscriptions_of_orders(db, std::slice::from_ref(&view.id)).await?;
    let created_ids: Vec<String> = created.iter().map(|s| s.id.clone()).collect();
    let named: Vec<String> = view
        .lines
        .iter()
        .filter_map(|l| l.renews_subscription_id.clone())
        .filter(|id| !created_ids.contains(id))
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let mut subs = created;
    subs.extend(repo::subscriptions_by_ids(db, &named).await?);
    let sub_ids: Vec<String> = subs.iter().map(|s| s.id.clone()).collect();
    let mut infos: BTreeMap<String, _> = interface_messages::app_info_of(db, &sub_ids)
        .await?
        .into_iter()
        .map(|a| (a.subscription_id.clone(), a))
        .collect();
    let subscriptions = subs
        .into_iter()
        .map(|s| {
            let info = infos.remove(&s.id);
            let mut v = subscription_view(s)?;
            // The password stays the buyer's.
            v.app_info = info.map(|a| AppInfoView {
                front_end_url: a.front_end_url,
                admin_url: a.admin_url,
                user_name: a.user_name,
                password: None,
                memo: a.memo,
            });
            Ok(v)
        })
        .collect::<AppResult<Vec<_>>>()?;

    let ledger_entries = entries_for_reference(db, &view.id).await?;

    let mut interface_messages = Vec::new();
    for id in &line_ids {
        interface_messages
            .extend(interface_messages::list_for_line(db, id).await?.into_iter().map(InterfaceMessageView::from));
    }

    let references: Vec<String> = line_ids.iter().chain(&sub_ids).cloned().collect();
    let prefixes: Vec<String> = created_ids.iter().map(|id| format!("{id}:")).collect();
    let jobs = job_repo::for_references(db, &references, &prefixes).await?.into_iter().map(Into::into).collect();

    // Follow-up orders of its subscriptions, other than itself.
    let lines: Vec<_> =
        repo::follow_up_lines(db, &sub_ids).await?.into_iter().filter(|l| l.order_id != view.id).collect();
    let order_ids: Vec<String> =
        lines.iter().map(|l| l.order_id.clone()).collect::<BTreeSet<_>>().into_iter().collect();
    let statuses: BTreeMap<String, OrderStatus> =
        repo::orders_by_ids(db, &order_ids).await?.into_iter().map(|o| (o.id, o.status)).collect();
    let follow_up_orders = lines
        .into_iter()
        .map(|l| {
            let status = *statuses
                .get(&l.order_id)
                .ok_or_else(|| AppError::inconsistent(format!("follow-up line of a missing order {}", l.order_id)))?;
            Ok(FollowUpOrderView {
                kind: l.kind,
                subscription_id: l.renews_subscription_id.unwrap_or_default(),
                order_id: l.order_id,
                order_line_id: l.id,
                amount_minor: l.amount_minor,
                currency: l.currency,
                status,
                created_at: l.created_at,
            })
        })
        .collect::<AppResult<Vec<_>>>()?;

    Ok(OperatorOrderDetail {
        order: OperatorOrderView { order: view, buyer_id },
        subscriptions,
        ledger_entries,
        interface_messages,
        jobs,
        follow_up_orders,
    })
}

//! In-app notifications (any account reads its own), and auto-delisting:
//! a product with more than [`AUTO_DELIST_THRESHOLD`] purchases failed by
//! the seller's interface in one calendar month (UTC, by `state.now()`) is
//! delisted and its seller notified (issue 4).
//!
//! An interface failure is a purchase that failed in fulfilment: the
//! seller refused it (000100-000107) or the marketplace gave up after the
//! purchase deadline (the seller's server unreachable, erroring, or never
//! finishing). Each order line counts once.
//!
//! Auto-renewal that cannot be paid (issue 6): when the daily auto-renew
//! scan finds the buyer's wallet too poor for a subscription's renewal, the
//! buyer gets an `auto_renew_unpaid` notification naming the subscription
//! (`reference`), the product, the amount needed (the renewal's price, in
//! minor units, and its currency) and the expiry. At most one per
//! subscription per UTC day (by `state.now()`), however often the scan
//! runs: the key `auto_renew_unpaid:<subscription>:<yyyy-mm-dd>` is stored
//! with the notification (`notification_once`). Nothing else changes; the
//! next day's scan tries again and notifies again if still unpaid.

use crate::app::error::{AppError, AppResult};
use crate::app::page::{Page, Paging};
use crate::app::products::{lifecycle_of, set_lifecycle};
use crate::auth::Principal;
use crate::state::AppState;
use chrono::{DateTime, Datelike, TimeZone, Utc};
use mercato_domain::catalog::ProductAction;
use mercato_domain::ids::NotificationId;
use mercato_domain::orders::{self as rules, Period};
use mercato_store::entity::{interface_failure, notification, order_line, subscription};
use mercato_store::repo::{notifications as repo, products};
use serde::Serialize;
use utoipa::ToSchema;

/// More failures than this in a calendar month delist the product.
pub const AUTO_DELIST_THRESHOLD: u64 = 5;
pub const KIND_PRODUCT_DELISTED: &str = "product_auto_delisted";
pub const KIND_AUTO_RENEW_UNPAID: &str = "auto_renew_unpaid";

#[derive(Debug, Serialize, ToSchema)]
pub struct NotificationView {
    pub id: String,
    /// e.g. `product_auto_delisted`.
    pub kind: String,
    pub title: String,
    pub body: String,
    /// The object concerned (a product id for `product_auto_delisted`, a
    /// subscription id for `auto_renew_unpaid`).
    pub reference: Option<String>,
    pub created_at: DateTime<Utc>,
    pub read_at: Option<DateTime<Utc>>,
}

fn view(n: notification::Model) -> NotificationView {
    NotificationView {
        id: n.id,
        kind: n.kind,
        title: n.title,
        body: n.body,
        reference: n.reference,
        created_at: n.created_at,
        read_at: n.read_at,
    }
}

pub async fn list(state: &AppState, p: &Principal, paging: Paging) -> AppResult<Page<NotificationView>> {
    let rows = repo::list(&state.db.conn, &p.account_id, paging.cursor.as_deref(), paging.limit + 1).await?;
    Ok(paging.finish(rows, |n| n.id.clone(), view))
}

pub async fn mark_read(state: &AppState, p: &Principal, id: &str) -> AppResult<NotificationView> {
    repo::mark_read(&state.db.conn, &p.account_id, id, state.now()).await?;
    let n = repo::find(&state.db.conn, &p.account_id, id).await?.ok_or_else(|| AppError::not_found("notification"))?;
    Ok(view(n))
}

/// `[first of the month, first of the next month)` around `t`, UTC.
pub fn month_of(t: DateTime<Utc>) -> (DateTime<Utc>, DateTime<Utc>) {
    let start = Utc.with_ymd_and_hms(t.year(), t.month(), 1, 0, 0, 0).single().expect("valid month start");
    let (y, m) = if t.month() == 12 { (t.year() + 1, 1) } else { (t.year(), t.month() + 1) };
    let end = Utc.with_ymd_and_hms(y, m, 1, 0, 0, 0).single().expect("valid month start");
    (start, end)
}

/// Records that the line's purchase failed because of the seller's
/// interface, and delists its product when this month's count passes the
/// threshold. Errors are logged, not returned: the refund has happened.
pub async fn interface_failed(state: &AppState, line_id: &str) {
    if let Err(e) = record_failure(state, line_id).await {
        tracing::error!(line = %line_id, detail = %e.report(), "recording an interface failure failed");
    }
}

async fn record_failure(state: &AppState, line_id: &str) -> AppResult<()> {
    let now = state.now();
    let tx = state.db.write().await?;
    let Some(line) = mercato_store::repo::orders::find_line(&tx, line_id).await? else { return Ok(()) };
    let row = interface_failure::Model {
        order_line_id: line.id.clone(),
        product_id: line.product_id.clone(),
        seller_id: line.seller_id.clone(),
        failed_at: now,
    };
    if !repo::insert_interface_failure(&tx, row).await? {
        return Ok(());
    }
    let (from, to) = month_of(now);
    let count = repo::count_interface_failures(&tx, &line.product_id, from, to).await?;
    if count > AUTO_DELIST_THRESHOLD
        && let Some(mut product) = products::find(&tx, &line.product_id).await?
    {
        let before = lifecycle_of(&product)?;
        if let Ok(after) = before.apply(ProductAction::Delist) {
            set_lifecycle(&mut product, after);
            product.updated_at = now;
            let name = line.product_name.clone();
            let product_id = product.id.clone();
            if products::save_if(&tx, product, before.status, before.revision).await? {
                repo::insert(
                    &tx,
                    notification::Model {
                        id: NotificationId::new().into(),
                        account_id: line.seller_id.clone(),
                        kind: KIND_PRODUCT_DELISTED.into(),
                        title: format!("{name} was delisted automatically"),
                        body: format!(
                            "{count} purchases of {name} failed at your server this month (more than \
                             {AUTO_DELIST_THRESHOLD} delists a product). Fix your production interface, \
                             then relist the product."
                        ),
                        reference: Some(product_id.clone()),
                        created_at: now,
                        read_at: None,
                    },
                )
                .await?;
                tracing::warn!(product = %product_id, count, "product delisted automatically");
            }
        }
    }
    tx.commit().await?;
    Ok(())
}

/// Tells the buyer that `sub`'s auto-renewal (`line` is its purchase line,
/// renewed for `period`) could not be paid; at most once per subscription
/// per day (see the module documentation). Errors are logged, not returned:
/// the scan goes on with the next subscription.
pub async fn auto_renew_unpaid(state: &AppState, sub: &subscription::Model, line: &order_line::Model, period: Period) {
    if let Err(e) = notify_unpaid(state, sub, line, period).await {
        tracing::error!(subscription = %sub.id, detail = %e.report(), "notifying an unpaid auto-renewal failed");
    }
}

async fn notify_unpaid(
    state: &AppState,
    sub: &subscription::Model,
    line: &order_line::Model,
    period: Period,
) -> AppResult<()> {
    let now = state.now();
    // The amount the renewal would have charged, priced as the renewal is.
    let spec = &line.sku_spec;
    let priced = rules::price(
        spec,
        &rules::Request {
            period: Some(period),
            period_count: line.period_count,
            quantity: Some(line.quantity),
            trial: false,
            auto_renew: sub.auto_renew,
        },
    )?;
    let expiry = sub.expires_at.map_or_else(|| "its expiry".to_string(), |t| t.to_rfc3339());
    let name = &sub.product_name;
    let n = notification::Model {
        id: NotificationId::new().into(),
        account_id: sub.buyer_id.clone(),
        kind: KIND_AUTO_RENEW_UNPAID.into(),
        title: format!("Automatic renewal of {name} could not be paid"),
        body: format!(
            "Your subscription {} to {name} expires at {expiry}. Renewing it costs {} {} (minor units) and your \
             wallet cannot pay that. Top up your wallet: we try again every day until the expiry.",
            sub.id, priced.amount_minor, priced.currency
        ),
        reference: Some(sub.id.clone()),
        created_at: now,
        read_at: None,
    };
    let once_key = format!("{KIND_AUTO_RENEW_UNPAID}:{}:{}", sub.id, now.format("%Y-%m-%d"));
    let tx = state.db.write().await?;
    if repo::insert_once(&tx, &once_key, n).await? {
        tx.commit().await?;
        tracing::warn!(subscription = %sub.id, buyer = %sub.buyer_id, amount_minor = priced.amount_minor,
            "auto-renewal could not be paid; the buyer was notified");
    }
    Ok(())
}

//! Orders that act on an existing subscription (renewal, upgrade, trial
//! conversion, unsubscribe): the building blocks shared with placing and
//! paying a purchase.
//!
//! A follow-up order has one line, of a [`LineKind`] other than purchase,
//! naming the subscription in `renews_subscription_id`. [`place_paid`]
//! writes the order, its line and the sale entry in the caller's
//! transaction, so a wallet that cannot pay (402) drops everything.

use crate::app::error::{AppError, AppResult};
use crate::app::ledger::{commission_rate, post_entry};
use chrono::{DateTime, Utc};
use mercato_domain::channel::pricing::{self, Discounts};
use mercato_domain::ledger::{Entry, EntryKind, Line};
use mercato_domain::orders::{self as rules, LineKind, OrderStatus};
use mercato_store::Executor;
use mercato_store::entity::{order, order_line, subscription};
use mercato_store::repo::orders as repo;
use rand::Rng;

/// Order-id draws before giving up (a collision needs the same minute and
/// the same 5 random characters: 1 in 60 million).
const ID_ATTEMPTS: usize = 8;

fn new_order_id(now: DateTime<Utc>) -> String {
    let mut rng = rand::thread_rng();
    let suffix: String = (0..rules::ORDER_SUFFIX_LEN)
        .map(|_| rules::ORDER_SUFFIX_CHARS[rng.gen_range(0..rules::ORDER_SUFFIX_CHARS.len())] as char)
        .collect();
    rules::order_id(now, &suffix)
}

/// A new order row in `status` for `buyer_id`, not yet inserted (the id is
/// drawn by [`insert_order`]).
pub fn order_row(
    buyer_id: &str,
    status: OrderStatus,
    amount_minor: i64,
    currency: &str,
    now: DateTime<Utc>,
) -> order::Model {
    order::Model {
        id: String::new(),
        buyer_id: buyer_id.to_string(),
        status,
        amount_minor,
        currency: currency.to_string(),
        payment_entry_id: None,
        created_at: now,
        updated_at: now,
        paid_at: None,
        cancelled_at: None,
    }
}

/// Inserts `o` under a freshly drawn readable id; returns the row as stored.
pub async fn insert_order(tx: &impl Executor, mut o: order::Model) -> AppResult<order::Model> {
    for _ in 0..ID_ATTEMPTS {
        o.id = new_order_id(o.created_at);
        if repo::insert_order(tx, o.clone()).await? {
            return Ok(o);
        }
    }
    Err(AppError::internal("could not draw a free order id"))
}

/// The sale lines of `lines` (wallet -> seller payable, commission at the
/// operator's rate for each line's product type and cooperation, and the
/// partner's share, as `domain::channel::pricing` splits a sale); empty
/// when everything is free. 409 `discount_unfunded` when a partner's
/// discount no longer fits its share at today's rate.
pub async fn sale_entry_lines(tx: &impl Executor, buyer_id: &str, lines: &[order_line::Model]) -> AppResult<Vec<Line>> {
    let mut out = Vec::new();
    for l in lines.iter().filter(|l| l.amount_minor > 0) {
        let rate = commission_rate(tx, l.product_type, l.cooperation).await?;
        let split = pricing::split_sale(l.gross_minor, l.discounts.partner_borne(), rate, l.partner_share_bp)
            .map_err(|e| AppError::conflict(e.code(), e.to_string()))?;
        out.extend(pricing::sale_lines(
            buyer_id,
            &l.seller_id,
            l.partner_id.as_deref(),
            &l.currency,
            l.amount_minor,
            split,
        ));
    }
    Ok(out)
}

/// Posts the payment of `order_id` for `lines` and records it on the order.
/// None when the lines are free. A wallet that cannot pay answers 402 and
/// the caller's transaction must be dropped.
pub async fn post_payment(
    tx: &impl Executor,
    buyer_id: &str,
    order_id: &str,
    lines: &[order_line::Model],
    memo: String,
    now: DateTime<Utc>,
) -> AppResult<Option<String>> {
    let entry_lines = sale_entry_lines(tx, buyer_id, lines).await?;
    if entry_lines.is_empty() {
        return Ok(None);
    }
    let entry = Entry::new(EntryKind::Payment, order_id, memo, entry_lines).map_err(AppError::internal)?;
    let entry_id = post_entry(tx, &entry, now).await?;
    repo::set_payment_entry(tx, order_id, &entry_id).await?;
    Ok(Some(entry_id))
}

/// What a follow-up line sells: the caller prices it and fills these fields
/// over a copy of the subscription's current line (product, seller, SKU).
#[derive(Debug, Clone)]
pub struct FollowUp {
    pub kind: LineKind,
    /// The line as it should read (id, order, kind and dates are set here).
    pub line: order_line::Model,
}

/// A follow-up order, paid.
#[derive(Debug, Clone)]
pub struct Placed {
    pub order: order::Model,
    pub line: order_line::Model,
    /// The payment entry (None when free).
    pub entry_id: Option<String>,
}

/// Places `f` for `sub` and pays it from the buyer's wallet, in `tx`.
pub async fn place_paid(
    tx: &impl Executor,
    sub: &subscription::Model,
    f: FollowUp,
    memo: &str,
    now: DateTime<Utc>,
) -> AppResult<Placed> {
    let o = order_row(&sub.buyer_id, OrderStatus::Paid, f.line.amount_minor, &f.line.currency, now);
    let mut o = insert_order(tx, order::Model { paid_at: Some(now), ..o }).await?;
    // Follow-ups are at list price: a deal or coupon priced the order it
    // was used on, and the partner's share was earned on that sale.
    let line = order_line::Model {
        id: rules::order_line_id(&o.id, 1),
        order_id: o.id.clone(),
        line_no: 1,
        kind: f.kind,
        renews_subscription_id: Some(sub.id.clone()),
        created_at: now,
        list_minor: f.line.amount_minor,
        gross_minor: f.line.amount_minor,
        discounts: Discounts::default(),
        partner_id: None,
        partner_share_bp: None,
        ..f.line
    };
    repo::insert_line(tx, line.clone()).await?;
    let memo = format!("{memo} (order {}, subscription {})", o.id, sub.id);
    let entry_id = post_payment(tx, &sub.buyer_id, &o.id, std::slice::from_ref(&line), memo, now).await?;
    o.payment_entry_id = entry_id.clone();
    Ok(Placed { order: o, line, entry_id })
}

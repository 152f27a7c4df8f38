//! Buying: placing orders (priced on the server from the SKU on sale),
//! paying them from the wallet, cancelling unpaid ones, and the buyer's
//! order and subscription views. Sellers' views live in [`seller`].
//!
//! Paying is one write transaction: the order moves pending_payment -> paid
//! (conditionally, so concurrent pays cannot both win), the payment's
//! balanced journal entry is posted (debit the wallet, credit the seller's
//! payable and the platform's commission; free orders post nothing), one
//! subscription per line is created (`provisioning`) and one
//! `fulfil_new_instance` job per line is enqueued for the job runner. A wallet
//! that cannot pay refuses the entry (402) and the whole transaction is
//! dropped, so nothing changes.
//!
//! Trials: a buyer gets one free trial per product. It is taken when the
//! trial order is placed (so two trial orders cannot race), given back when
//! that order is cancelled unpaid, and kept for good once it is paid (even if
//! provisioning later fails).
//!
//! The fulfilment work drives orders and subscriptions on through
//! [`transition_order`], [`transition_subscription`] and [`line_context`].

pub mod deals;
pub(crate) mod filters;

pub mod seller;

use crate::app::error::{AppError, AppResult, Refusal};
use crate::app::page::{Page, Paging};
use crate::app::subscriptions::follow_up;
use crate::auth::Principal;
use crate::state::AppState;
use chrono::{DateTime, Utc};
use mercato_domain::catalog::{ChargingMode, ProductStatus, SkuStatus};
use mercato_domain::channel::pricing::Discount;
use mercato_domain::delivery::{DeliveredBy, DeliveryMode};
use mercato_domain::ids::SubscriptionId;
use mercato_domain::orders::{
    self as rules, LineKind, OrderEvent, OrderStatus, Period, SubscriptionEvent, SubscriptionStatus, is_order_id,
};
use mercato_store::entity::{
    license, line_delivery, order, order_line, subscription, subscription_app_info, trial_use,
};
use mercato_store::repo::{
    deals as deals_repo, interface_messages, licenses as licenses_repo, orders as repo, products, supervisions,
};
use mercato_store::{Executor, Tx};
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::collections::BTreeMap;
use utoipa::ToSchema;

/// The job kind the job runner executes to call the seller's newInstance.
pub const FULFIL_NEW_INSTANCE: &str = "fulfil_new_instance";

/// `POST /api/v1/buyer/orders`; its schema states the rules that hold
/// whatever the SKU (`mercato_domain::orders::check_request`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateOrder {
    /// The SKU to buy (an active SKU of a listed product).
    pub sku_id: String,
    /// Period SKUs (not trials): month or year.
    #[serde(default)]
    pub period: Option<Period>,
    /// Period SKUs: number of periods, months 1-11 or years 1-5 (default 1).
    #[serde(default)]
    pub period_count: Option<i64>,
    /// SKUs with a linear attribute: required, within its min-max on its step.
    /// Others: absent or 1.
    #[serde(default)]
    pub quantity: Option<i64>,
    /// A free trial (period SKUs with trial days; once per buyer and product).
    #[serde(default)]
    pub trial: bool,
    /// Renew automatically before expiry (paid period purchases only).
    #[serde(default)]
    pub auto_renew: bool,
    /// A private offer made to you for this SKU (`ofr_...`).
    #[serde(default)]
    pub offer_id: Option<String>,
    /// An exclusive discount your partner obtained for this product (`xdc_...`).
    #[serde(default)]
    pub exclusive_discount_id: Option<String>,
    /// One of your coupons for this product or SKU (`cpn_...`).
    #[serde(default)]
    pub coupon_id: Option<String>,
}

impl CreateOrder {
    fn choice(&self) -> deals::Choice<'_> {
        deals::Choice {
            offer_id: self.offer_id.as_deref(),
            exclusive_discount_id: self.exclusive_discount_id.as_deref(),
            coupon_id: self.coupon_id.as_deref(),
        }
    }

    fn request(&self) -> rules::Request {
        rules::Request {
            period: self.period,
            period_count: self.period_count,
            quantity: self.quantity,
            trial: self.trial,
            auto_renew: self.auto_renew,
        }
    }
}

fn create_order_schema() -> serde_json::Value {
    use mercato_domain::schema::{Fields, described, integer, nullable, reference};
    let base = Fields::new()
        .required("sku_id", described(json!({"type": "string"}), "The SKU to buy (an active SKU of a listed product)."))
        .optional("period", described(nullable(reference("Period")), "Period SKUs (not trials): month or year."))
        .optional(
            "period_count",
            described(
                nullable(integer(1, rules::MONTHS_MAX)),
                "Period SKUs: number of periods, months 1-11 or years 1-5 (default 1).",
            ),
        )
        .optional(
            "quantity",
            described(
                rules::quantity_schema(),
                "SKUs with a linear attribute: required, one of its choices. Others: absent or 1.",
            ),
        )
        .optional(
            "trial",
            described(
                json!({"type": "boolean", "default": false}),
                "A free trial (period SKUs with trial days; once per buyer and product).",
            ),
        )
        .optional(
            "auto_renew",
            described(
                json!({"type": "boolean", "default": false}),
                "Renew automatically before expiry (paid period purchases only).",
            ),
        )
        .optional(
            "offer_id",
            described(nullable(json!({"type": "string"})), "A private offer made to you for this SKU (`ofr_...`)."),
        )
        .optional(
            "exclusive_discount_id",
            described(
                nullable(json!({"type": "string"})),
                "An exclusive discount your partner obtained for this product (`xdc_...`); not with `offer_id`.",
            ),
        )
        .optional(
            "coupon_id",
            described(nullable(json!({"type": "string"})), "One of your coupons for this product or SKU (`cpn_...`)."),
        )
        .closed();
    json!({
        "allOf": [base, rules::purchase_terms_schema()],
        "description": "One SKU to buy. What the SKU itself offers (its periods, trial, quantities) is checked against it: 409 `not_offered`.",
    })
}

mercato_domain::schema_from_fragment!(CreateOrder, create_order_schema(), Period);

/// One SKU bought; its id is the seller protocol's orderLineId.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct OrderLineView {
    /// `<orderId>-000001`.
    pub id: String,
    /// Why the line exists: a purchase, or a renewal, upgrade, trial
    /// conversion or unsubscribe of `renews_subscription_id`.
    pub kind: LineKind,
    pub product_id: String,
    pub product_name: String,
    pub sku_id: String,
    pub sku_code: String,
    pub charging_mode: ChargingMode,
    pub period: Option<Period>,
    pub period_count: Option<i64>,
    pub quantity: i64,
    pub trial: bool,
    /// Trial length in days, for trial lines.
    pub trial_days: Option<i64>,
    pub auto_renew: bool,
    /// What is due for the line: the list price less its discounts.
    pub amount_minor: i64,
    pub currency: String,
    /// The list price of what the line bought.
    pub list_minor: i64,
    /// Each discount step, in the order applied: private offer or exclusive
    /// discount, then coupon (who granted it, who bears it, how much).
    pub discounts: Vec<Discount>,
    /// Lines other than purchases: the subscription this line acts on (`sub_...`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub renews_subscription_id: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct OrderView {
    /// `CS` + yyMMddHHmm (UTC) + 5 random characters, e.g. `CS2611221430B4LVS`.
    pub id: String,
    pub status: OrderStatus,
    pub amount_minor: i64,
    pub currency: String,
    pub lines: Vec<OrderLineView>,
    pub created_at: DateTime<Utc>,
    pub paid_at: Option<DateTime<Utc>>,
    pub cancelled_at: Option<DateTime<Utc>>,
}

/// A purchased service ("my purchased services"), one per order line.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SubscriptionView {
    /// `sub_...`.
    pub id: String,
    pub order_id: String,
    pub order_line_id: String,
    pub product_id: String,
    pub product_name: String,
    pub sku_id: String,
    pub status: SubscriptionStatus,
    /// The seller's instance, once provisioned.
    pub instance_id: Option<String>,
    pub charging_mode: ChargingMode,
    pub period: Option<Period>,
    pub starts_at: DateTime<Utc>,
    /// None for one-time and pay-per-use purchases.
    pub expires_at: Option<DateTime<Utc>>,
    pub auto_renew: bool,
    pub trial: bool,
    pub created_at: DateTime<Utc>,
    /// How to reach the service, once the seller provisioned it (its
    /// queryInstance appInfo). The password is shown only to the buyer.
    pub app_info: Option<AppInfoView>,
    /// How the purchase is delivered: `saas` (an instance at the seller),
    /// `license_code`, or a supervised delivery (see its supervision).
    pub delivery_mode: DeliveryMode,
    /// License codes: the code once the seller issued it (buyers only).
    pub license: Option<crate::app::licenses::LicenseView>,
}

/// The seller's access details for a provisioned service.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct AppInfoView {
    pub front_end_url: String,
    pub admin_url: Option<String>,
    pub user_name: Option<String>,
    pub password: Option<String>,
    pub memo: Option<String>,
}

/// `PATCH /api/v1/buyer/subscriptions/{id}`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateSubscription {
    pub auto_renew: bool,
}

// ---------------------------------------------------------------- helpers

fn line_view(l: order_line::Model) -> AppResult<OrderLineView> {
    Ok(OrderLineView {
        kind: l.kind,
        charging_mode: l.charging_mode,
        period: l.period,
        id: l.id,
        product_id: l.product_id,
        product_name: l.product_name,
        sku_id: l.sku_id,
        sku_code: l.sku_code,
        period_count: l.period_count,
        quantity: l.quantity,
        trial: l.trial,
        trial_days: l.trial_days,
        auto_renew: l.auto_renew,
        amount_minor: l.amount_minor,
        currency: l.currency,
        list_minor: l.list_minor,
        discounts: l.discounts.0,
        renews_subscription_id: l.renews_subscription_id,
    })
}

fn order_view(o: order::Model, lines: Vec<order_line::Model>) -> AppResult<OrderView> {
    Ok(OrderView {
        status: o.status,
        lines: lines.into_iter().map(line_view).collect::<AppResult<_>>()?,
        id: o.id,
        amount_minor: o.amount_minor,
        currency: o.currency,
        created_at: o.created_at,
        paid_at: o.paid_at,
        cancelled_at: o.cancelled_at,
    })
}

/// Views of `orders` with their lines (all lines, or only `seller_id`'s).
pub(crate) async fn order_views(
    db: &impl Executor,
    orders: Vec<order::Model>,
    seller_id: Option<&str>,
) -> AppResult<Vec<OrderView>> {
    let ids: Vec<String> = orders.iter().map(|o| o.id.clone()).collect();
    let lines = match seller_id {
        None => repo::lines_of(db, &ids).await?,
        Some(s) => repo::seller_lines_of(db, s, &ids).await?,
    };
    let mut by_order: BTreeMap<String, Vec<order_line::Model>> = BTreeMap::new();
    for l in lines {
        by_order.entry(l.order_id.clone()).or_default().push(l);
    }
    orders
        .into_iter()
        .map(|o| {
            let lines = by_order.remove(&o.id).unwrap_or_default();
            order_view(o, lines)
        })
        .collect()
}

pub(crate) fn subscription_view(s: subscription::Model) -> AppResult<SubscriptionView> {
    Ok(SubscriptionView {
        status: s.status,
        charging_mode: s.charging_mode,
        period: s.period,
        id: s.id,
        order_id: s.order_id,
        order_line_id: s.order_line_id,
        product_id: s.product_id,
        product_name: s.product_name,
        sku_id: s.sku_id,
        instance_id: s.instance_id,
        starts_at: s.starts_at,
        expires_at: s.expires_at,
        auto_renew: s.auto_renew,
        trial: s.trial,
        created_at: s.created_at,
        app_info: None,
        delivery_mode: s.delivery_mode,
        license: None,
    })
}

/// Buyer views with the appInfo (password decrypted) filled in.
async fn buyer_subscription_views(
    state: &AppState,
    rows: Vec<subscription::Model>,
) -> AppResult<Vec<SubscriptionView>> {
    let ids: Vec<String> = rows.iter().map(|s| s.id.clone()).collect();
    let mut infos: BTreeMap<String, subscription_app_info::Model> =
        interface_messages::app_info_of(&state.db.conn, &ids)
            .await?
            .into_iter()
            .map(|a| (a.subscription_id.clone(), a))
            .collect();
    let mut licenses: BTreeMap<String, license::Model> = licenses_repo::of_subscriptions(&state.db.conn, &ids)
        .await?
        .into_iter()
        .map(|l| (l.subscription_id.clone(), l))
        .collect();
    rows.into_iter()
        .map(|s| {
            let info = infos.remove(&s.id);
            let license = licenses.remove(&s.id);
            let mut view = subscription_view(s)?;
            view.license = license.map(Into::into);
            if let Some(a) = info {
                let password = match a.password_enc.as_deref() {
                    None => None,
                    Some(enc) => Some(
                        state
                            .crypto
                            .decrypt(crate::app::subscriptions::fulfilment::APP_PASSWORD_FIELD, enc)
                            .map_err(|_| AppError::inconsistent("app password"))?,
                    ),
                };
                view.app_info = Some(AppInfoView {
                    front_end_url: a.front_end_url,
                    admin_url: a.admin_url,
                    user_name: a.user_name,
                    password,
                    memo: a.memo,
                });
            }
            Ok(view)
        })
        .collect()
}

/// Order-list cursor: `<created_at in µs>_<order id>` of the last item.
pub(crate) fn order_cursor(o: &order::Model) -> String {
    format!("{}_{}", o.created_at.timestamp_micros(), o.id)
}

pub(crate) fn parse_order_cursor(cursor: &str) -> AppResult<repo::Before<'_>> {
    let bad = || AppError::field("cursor", "is not a cursor this API returned");
    let (micros, id) = cursor.split_once('_').ok_or_else(bad)?;
    let created_at = DateTime::from_timestamp_micros(micros.parse().map_err(|_| bad())?).ok_or_else(bad)?;
    if !is_order_id(id) {
        return Err(bad());
    }
    Ok(repo::Before { created_at, id })
}

// ---------------------------------------------------------------- create

/// An order resolved and priced, not yet written ([`prepare`], then [`place`]).
#[derive(Debug, Clone)]
pub struct Prepared {
    sku: mercato_store::entity::sku::Model,
    product_id: String,
    seller_id: String,
    snap_name: String,
    product_type: mercato_domain::catalog::ProductType,
    cooperation: mercato_domain::catalog::Cooperation,
    spec: mercato_domain::catalog::SkuSpec,
    priced: rules::Priced,
    granted: deals::Granted,
}

/// Resolves and prices an order for one SKU (with its deal and coupon),
/// reading outside any write transaction: on SQLite the writer lock is
/// then held only for [`place`]'s writes. What it read may change before
/// [`place`]: the offer and the coupon are taken there conditionally.
pub async fn prepare(state: &AppState, buyer: &Principal, req: &CreateOrder) -> AppResult<Prepared> {
    let now = state.now();
    let db = &state.db.conn;
    // What no SKU accepts is refused before the SKU is looked up.
    rules::check_request(&req.request())?;

    // The SKU must be active, of a listed product, and in its listed snapshot.
    let unknown = || AppError::about_field(Refusal::NotFound, "not_found", "sku_id", "no SKU with this id is on sale");
    let not_on_sale = || AppError::about_field(Refusal::Conflict, "not_on_sale", "sku_id", "this SKU is not on sale");
    let sku = repo::find_sku(db, &req.sku_id).await?.ok_or_else(unknown)?;
    let product = products::find(db, &sku.product_id).await?.ok_or_else(unknown)?;
    let Some(snap) = product.listed else { return Err(unknown()) };
    if sku.status == SkuStatus::Pending {
        return Err(unknown());
    }
    if product.status != ProductStatus::Listed || sku.status != SkuStatus::Active {
        return Err(not_on_sale());
    }
    let listed = snap.skus.iter().find(|s| s.id == sku.id).ok_or_else(not_on_sale)?;
    let priced = rules::price(&listed.spec, &req.request())?;
    let bought = deals::Bought {
        buyer_id: &buyer.account_id,
        product_id: &product.id,
        seller_id: &product.seller_id,
        sku_id: &sku.id,
        product_type: snap.product_type,
        cooperation: snap.cooperation,
    };
    let granted = deals::price(db, &bought, &priced, &req.choice(), now).await?;
    Ok(Prepared {
        spec: listed.spec.clone(),
        product_id: product.id.clone(),
        seller_id: product.seller_id.clone(),
        snap_name: snap.content.name.clone(),
        product_type: snap.product_type,
        cooperation: snap.cooperation,
        sku,
        priced,
        granted,
    })
}

/// Writes a [`Prepared`] order in `tx`: the order, its line, and what it
/// takes (the offer, the coupon, the trial; 409 when another order took
/// one first).
pub async fn place(state: &AppState, tx: &Tx, buyer: &Principal, p: Prepared) -> AppResult<OrderView> {
    let now = state.now();
    let Prepared { sku, priced, granted, .. } = &p;
    let b = &granted.breakdown;
    let order_row = follow_up::insert_order(
        tx,
        follow_up::order_row(&buyer.account_id, OrderStatus::PendingPayment, b.due_minor, &priced.currency, now),
    )
    .await?;
    deals::take(tx, granted, &order_row.id, now).await?;
    if priced.trial {
        let trial = trial_use::Model {
            buyer_id: buyer.account_id.clone(),
            product_id: p.product_id.clone(),
            order_id: order_row.id.clone(),
            created_at: now,
        };
        if !repo::take_trial(tx, trial).await? {
            return Err(AppError::conflict("trial_used", "you have already used the free trial of this product"));
        }
    }
    let line = order_line::Model {
        id: rules::order_line_id(&order_row.id, 1),
        order_id: order_row.id.clone(),
        line_no: 1,
        product_id: p.product_id.clone(),
        seller_id: p.seller_id.clone(),
        product_name: p.snap_name.clone(),
        product_type: p.product_type,
        cooperation: p.cooperation,
        sku_id: sku.id.clone(),
        sku_code: p.spec.sku_code.clone(),
        charging_mode: priced.charging_mode,
        period: priced.period,
        period_count: priced.period_count,
        quantity: priced.quantity,
        trial: priced.trial,
        trial_days: priced.trial_days,
        auto_renew: priced.auto_renew,
        amount_minor: b.due_minor,
        currency: priced.currency.clone(),
        sku_spec: p.spec.clone(),
        created_at: now,
        renews_subscription_id: None,
        kind: LineKind::Purchase,
        list_minor: b.list_minor,
        gross_minor: b.gross_minor,
        discounts: b.discounts.clone(),
        partner_id: b.partner.as_ref().map(|p| p.partner_id.clone()),
        partner_share_bp: b.partner.as_ref().map(|p| p.share_bp),
    };
    repo::insert_line(tx, line.clone()).await?;
    order_view(order_row, vec![line])
}

// ---------------------------------------------------------------- pay

fn already_paid() -> AppError {
    AppError::conflict("already_paid", "this order is already paid")
}

fn order_cancelled() -> AppError {
    AppError::conflict("order_cancelled", "this order was cancelled; place a new one")
}

fn refuse_by_status(status: OrderStatus) -> AppError {
    match status {
        OrderStatus::Cancelled => order_cancelled(),
        _ => already_paid(),
    }
}

/// Pays a pending order from the buyer's wallet (see the module
/// documentation), in `tx`: the paid order, its subscriptions and their
/// fulfilment jobs.
pub async fn pay(state: &AppState, tx: &Tx, buyer: &Principal, order_id: &str) -> AppResult<OrderView> {
    if !is_order_id(order_id) {
        return Err(AppError::not_found("order"));
    }
    let now = state.now();
    let order_row = repo::find_order_for_buyer(tx, &buyer.account_id, order_id)
        .await?
        .ok_or_else(|| AppError::not_found("order"))?;
    let status = order_row.status;
    let next = status.next(OrderEvent::Pay).map_err(|_| refuse_by_status(status))?;
    // Conditional on the state read: a concurrent pay waits for this one
    // (row lock / SQLite write lock) and then updates nothing.
    if !repo::set_order_status_if(tx, order_id, status, next, now).await? {
        let current = repo::find_order(tx, order_id).await?.ok_or_else(|| AppError::not_found("order"))?;
        return Err(refuse_by_status(current.status));
    }
    let lines = repo::lines_of(tx, &[order_id.to_string()]).await?;

    // The money: one balanced entry for the whole order (none if free).
    // 402 here drops the transaction: the order stays pending.
    follow_up::post_payment(tx, &buyer.account_id, order_id, &lines, format!("order {order_id}"), now).await?;

    // One subscription per line, delivered as its product's type says:
    // a fulfilment job (SaaS) or a supervision.
    for l in &lines {
        let has_endpoint = products::find(tx, &l.product_id)
            .await?
            .is_some_and(|p| p.endpoint_url.is_some() && p.endpoint_key_enc.is_some());
        let mode = DeliveryMode::of(l.product_type, has_endpoint);
        let sub = new_subscription(&order_row, l, mode, now)?;
        repo::insert_subscription(tx, sub.clone()).await?;
        if mode.is_supervised() {
            crate::app::supervision::open(tx, &order_row, l, &sub, has_endpoint, now).await?;
            continue;
        }
        let payload = serde_json::json!({
            "order_id": order_id,
            "order_line_id": l.id,
            "subscription_id": sub.id,
        });
        crate::app::outbox::enqueue(tx, FULFIL_NEW_INSTANCE, &l.id, &payload, now, now).await?;
    }
    let paid = repo::find_order(tx, order_id).await?.ok_or_else(|| AppError::not_found("order"))?;
    order_view(paid, lines)
}

fn new_subscription(
    o: &order::Model,
    l: &order_line::Model,
    delivery_mode: DeliveryMode,
    now: DateTime<Utc>,
) -> AppResult<subscription::Model> {
    let spec = &l.sku_spec;
    let priced = rules::Priced {
        charging_mode: l.charging_mode,
        period: l.period,
        period_count: l.period_count,
        quantity: l.quantity,
        trial: l.trial,
        trial_days: l.trial_days,
        auto_renew: l.auto_renew,
        amount_minor: l.amount_minor,
        currency: l.currency.clone(),
    };
    let expires_at = rules::expires_at(&priced, now, spec.package.as_ref().map(|p| p.period_months));
    Ok(subscription::Model {
        id: SubscriptionId::new().into(),
        buyer_id: o.buyer_id.clone(),
        order_id: o.id.clone(),
        order_line_id: l.id.clone(),
        product_id: l.product_id.clone(),
        seller_id: l.seller_id.clone(),
        product_name: l.product_name.clone(),
        sku_id: l.sku_id.clone(),
        status: SubscriptionStatus::Provisioning,
        instance_id: None,
        charging_mode: l.charging_mode,
        period: l.period,
        trial: l.trial,
        auto_renew: l.auto_renew,
        starts_at: now,
        expires_at,
        created_at: now,
        updated_at: now,
        spec_line_id: None,
        frozen_for: None,
        delivery_mode,
    })
}

// ---------------------------------------------------------------- cancel and views

/// Cancels an unpaid order (409 once paid or already cancelled); gives back
/// a trial, an offer and a coupon the order took.
pub async fn cancel(state: &AppState, buyer: &Principal, order_id: &str) -> AppResult<OrderView> {
    if !is_order_id(order_id) {
        return Err(AppError::not_found("order"));
    }
    let tx = state.db.write().await?;
    let now = state.now();
    let o = repo::find_order_for_buyer(&tx, &buyer.account_id, order_id)
        .await?
        .ok_or_else(|| AppError::not_found("order"))?;
    let status = o.status;
    let refuse = |s: OrderStatus| match s {
        OrderStatus::Cancelled => AppError::conflict("order_cancelled", "this order is already cancelled"),
        _ => AppError::conflict("already_paid", "a paid order cannot be cancelled; unsubscribe instead"),
    };
    let next = status.next(OrderEvent::Cancel).map_err(|_| refuse(status))?;
    if !repo::set_order_status_if(&tx, order_id, status, next, now).await? {
        let current = repo::find_order(&tx, order_id).await?.ok_or_else(|| AppError::not_found("order"))?;
        return Err(refuse(current.status));
    }
    repo::release_trial(&tx, order_id).await?;
    deals_repo::give_back_offer_and_coupons(&tx, order_id, now).await?;
    let o = repo::find_order(&tx, order_id).await?.ok_or_else(|| AppError::not_found("order"))?;
    let view = order_views(&tx, vec![o], None).await?.pop().ok_or_else(|| AppError::internal("order view"))?;
    tx.commit().await?;
    Ok(view)
}

pub async fn list(state: &AppState, buyer: &Principal, paging: Paging) -> AppResult<Page<OrderView>> {
    let before = paging.cursor.as_deref().map(parse_order_cursor).transpose()?;
    let db = &state.db.conn;
    let mine = repo::OrderFilter { buyer_id: Some(&buyer.account_id), ..Default::default() };
    let rows = repo::list(db, &mine, before, paging.limit + 1).await?;
    let more = rows.len() as u64 > paging.limit;
    let mut rows = rows;
    rows.truncate(paging.limit as usize);
    let next_cursor = if more { rows.last().map(order_cursor) } else { None };
    Ok(Page { items: order_views(db, rows, None).await?, next_cursor })
}

pub async fn get(state: &AppState, buyer: &Principal, order_id: &str) -> AppResult<OrderView> {
    let db = &state.db.conn;
    let o = repo::find_order_for_buyer(db, &buyer.account_id, order_id)
        .await?
        .ok_or_else(|| AppError::not_found("order"))?;
    order_views(db, vec![o], None).await?.pop().ok_or_else(|| AppError::internal("order view"))
}

pub async fn subscriptions(state: &AppState, buyer: &Principal, paging: Paging) -> AppResult<Page<SubscriptionView>> {
    if paging.cursor.as_deref().is_some_and(|c| !SubscriptionId::is_valid(c)) {
        return Err(AppError::field("cursor", "is not a cursor this API returned"));
    }
    let rows = repo::list_subscriptions_for_buyer(
        &state.db.conn,
        &buyer.account_id,
        paging.cursor.as_deref(),
        paging.limit + 1,
    )
    .await?;
    let rows = buyer_subscription_views(state, rows).await?;
    Ok(paging.finish(rows, |s| s.id.clone(), |s| s))
}

pub async fn subscription(state: &AppState, buyer: &Principal, id: &str) -> AppResult<SubscriptionView> {
    let s = repo::find_subscription_for_buyer(&state.db.conn, &buyer.account_id, id)
        .await?
        .ok_or_else(|| AppError::not_found("subscription"))?;
    buyer_subscription_views(state, vec![s]).await?.pop().ok_or_else(|| AppError::internal("subscription view"))
}

/// Turns auto-renewal on or off: paid period subscriptions only, not once
/// released or failed.
pub async fn update_subscription(
    state: &AppState,
    buyer: &Principal,
    id: &str,
    req: UpdateSubscription,
) -> AppResult<SubscriptionView> {
    let tx = state.db.write().await?;
    let s = repo::find_subscription_for_buyer(&tx, &buyer.account_id, id)
        .await?
        .ok_or_else(|| AppError::not_found("subscription"))?;
    let view = subscription_view(s.clone())?;
    if view.charging_mode != ChargingMode::Period || view.trial {
        return Err(AppError::conflict("not_renewable", "only paid period subscriptions renew"));
    }
    if view.status.is_final() {
        return Err(AppError::conflict("subscription_ended", format!("the subscription is {}", view.status)));
    }
    let now = state.now();
    repo::set_auto_renew(&tx, id, req.auto_renew, now).await?;
    tx.commit().await?;
    let view = buyer_subscription_views(state, vec![s]).await?.pop().unwrap_or(view);
    Ok(SubscriptionView { auto_renew: req.auto_renew, ..view })
}

// ---------------------------------------------------------------- for the fulfilment work

/// An order line with its order and the subscription paying created.
#[derive(Debug, Clone)]
pub struct LineContext {
    pub order: order::Model,
    pub line: order_line::Model,
    pub subscription: Option<subscription::Model>,
}

/// Everything about an order line (the seller protocol's orderLineId), or
/// None for an unknown line.
pub async fn line_context(db: &impl Executor, line_id: &str) -> AppResult<Option<LineContext>> {
    let Some(line) = repo::find_line(db, line_id).await? else { return Ok(None) };
    let order = repo::find_order(db, &line.order_id)
        .await?
        .ok_or_else(|| AppError::inconsistent("order line without order"))?;
    let subscription = repo::subscription_for_line(db, line_id).await?;
    Ok(Some(LineContext { order, line, subscription }))
}

/// Applies `event` to the order in `db` (a transaction), conditionally on
/// the state it was read in. 409 `invalid_transition` when the event does
/// not apply or another writer moved the order first.
pub async fn transition_order(
    db: &impl Executor,
    order_id: &str,
    event: OrderEvent,
    now: DateTime<Utc>,
) -> AppResult<OrderStatus> {
    let o = repo::find_order(db, order_id).await?.ok_or_else(|| AppError::not_found("order"))?;
    let from = o.status;
    let to = from.next(event).map_err(|e| AppError::conflict("invalid_transition", e.to_string()))?;
    if !repo::set_order_status_if(db, order_id, from, to, now).await? {
        return Err(AppError::conflict("invalid_transition", "the order changed meanwhile"));
    }
    Ok(to)
}

/// Completes an order that is paid or being fulfilled, and records when and
/// how each of its lines was delivered: the settleable time settlement reads
/// (the first record of a line stands).
pub async fn complete_delivered(
    db: &impl Executor,
    order_id: &str,
    by: DeliveredBy,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let o = repo::find_order(db, order_id).await?.ok_or_else(|| AppError::not_found("order"))?;
    if o.status == OrderStatus::Paid {
        transition_order(db, order_id, OrderEvent::StartFulfilment, now).await?;
    }
    transition_order(db, order_id, OrderEvent::Complete, now).await?;
    for line in repo::lines_of(db, &[order_id.to_string()]).await? {
        let delivery = line_delivery::Model {
            order_line_id: line.id,
            order_id: order_id.to_string(),
            seller_id: line.seller_id,
            delivered_by: by,
            delivered_at: now,
        };
        supervisions::record_delivery(db, delivery).await?;
    }
    Ok(())
}

/// Applies `event` to the subscription, like [`transition_order`].
pub async fn transition_subscription(
    db: &impl Executor,
    subscription_id: &str,
    event: SubscriptionEvent,
    now: DateTime<Utc>,
) -> AppResult<SubscriptionStatus> {
    let s = repo::find_subscription(db, subscription_id).await?.ok_or_else(|| AppError::not_found("subscription"))?;
    let from = s.status;
    let to = from.next(event).map_err(|e| AppError::conflict("invalid_transition", e.to_string()))?;
    if !repo::set_subscription_status_if(db, subscription_id, from, to, now).await? {
        return Err(AppError::conflict("invalid_transition", "the subscription changed meanwhile"));
    }
    Ok(to)
}

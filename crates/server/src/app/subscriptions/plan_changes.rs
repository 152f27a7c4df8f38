//! Plan changes of a subscription (seller interface spec §2): upgrade
//! mid-term, a change of specification at renewal (downgrades), and a trial
//! becoming a paid subscription. Pricing rules are in
//! [`mercato_domain::plan_changes`].
//!
//! **Current specification.** `subscriptions.spec_line_id` names the order
//! line whose SKU (`sku_spec_json` as bought), quantity and period terms
//! are current; null means the purchase line. `subscriptions.sku_id`
//! follows it. Upgrades, renewals that change the specification and trial
//! conversions move it to their own line; renewals and auto-renewals price
//! from it.
//!
//! **Upgrade** (`POST /api/v1/buyer/subscriptions/{id}/upgrade {sku_id,
//! quantity?}`, `Idempotency-Key` honoured): active paid period
//! subscriptions only (a trial: 409 `trial_subscription`, convert it first;
//! frozen: 409 `subscription_frozen`, renew first; not yet provisioned: 409
//! `not_provisioned`; released or failed: 409 `subscription_ended`; one-time,
//! pay-per-use and packages: 409 `not_upgradable`). The target is an active
//! SKU of the same product in its listed snapshot (unknown: 404; another
//! product's, not a period SKU or not sold by the subscription's period
//! unit: 409 `not_offered` naming `sku_id`; retired or delisted: 409
//! `not_on_sale`); `quantity` defaults to the
//! current quantity when the target has a linear attribute (else 1). It
//! must cost strictly more per period (unit price for the subscription's
//! period unit x quantity) than the current specification as bought: equal
//! or cheaper is 409 `not_an_upgrade` (downgrades happen at renewal). At or
//! past the expiry there is nothing left to upgrade: 409 `term_ended`.
//! One write transaction places an upgrade order (one `upgrade` line at the
//! target specification, amount = the price difference for the time left,
//! rounded up to the minor unit), pays it from the wallet (402
//! `insufficient_funds` changes nothing), switches the current
//! specification at once (expiry unchanged; conditional on the
//! specification, expiry and status read, so two concurrent upgrades cannot
//! both win: the loser gets 409 `subscription_changed`), and enqueues an
//! `upgrade_instance` job. While that job has not finished (the upgrade
//! order still `paid`), further upgrades and renewals answer 409
//! `change_in_progress`.
//!
//! The `upgrade_instance` job sends `upgradeInstance` (instanceId unchanged,
//! orderId/orderLineId of the upgrade order). `000000` completes the upgrade
//! order. A business refusal (000100-000107), or no success within
//! [`RetryPolicy::PURCHASE`] (3 hours from the first attempt), refunds the
//! upgrade order in full (one balanced entry reversing its payment; order
//! paid -> fulfilling -> failed -> refunded), switches the specification
//! back to the one it replaced, and notifies the buyer
//! (`upgrade_refunded`), all in one transaction, once.
//!
//! **Change at renewal** (downgrade): see [`crate::app::subscriptions::lifecycle`]; the
//! target is resolved and the seller's `changeInstanceCheck` asked by
//! [`renewal_change`].
//!
//! **Trial -> formal** (`POST /api/v1/buyer/subscriptions/{id}/convert
//! {period, period_count?, auto_renew?, quantity?}`, `Idempotency-Key`
//! honoured): trial subscriptions that are active, or frozen because the
//! trial ended (not yet released); anything else is 409 `not_a_trial`,
//! `not_provisioned` or `subscription_ended`. Priced like a purchase of the
//! same SKU as listed now (not on sale any more: 409 `not_on_sale`); paid
//! from the wallet at once (402 changes nothing). The formal term starts at
//! the conversion: expiry = now + the bought term, and unused trial days
//! are dropped. The subscription stops being a trial, takes the period and
//! auto-renew choice, becomes active if it was frozen, and its current
//! specification becomes the conversion line. A `renew_instance` job sends
//! `updateInstanceStatus UNFREEZE` first when it was frozen, then
//! `refreshInstance TRIAL_TO_FORMAL` with the new expiry, under
//! [`RetryPolicy::LIFECYCLE`]; giving up leaves it for the seller's resend,
//! like renewals. The update is conditional on the trial, status and
//! specification read, so a double conversion cannot happen.

use crate::app::error::{AppError, AppResult, Refusal};
use crate::app::ledger::post_reversal;
use crate::app::orders::{complete_delivered, line_context, transition_order};
use crate::app::outbox::{JobOutcome, JobView, RetryPolicy};
use crate::app::subscriptions::follow_up::{self, FollowUp};
use crate::app::subscriptions::seller_calls::Endpoint;
use crate::auth::Principal;
use crate::state::AppState;
use chrono::{DateTime, Utc};
use koo::BasicCall;
use koo::calls::{ChangeInstanceCheck, ProductInfo, RefreshScene, UpgradeInstance};
use koo::client::CallOutcome;
use mercato_domain::catalog::{ChargingMode, Cooperation, ProductStatus, ProductType, SkuSpec, SkuStatus};
use mercato_domain::delivery::{DeliveredBy, DeliveryMode};
use mercato_domain::ids::{NotificationId, SpecSyncId};
use mercato_domain::orders::{self as rules, LineKind, OrderEvent, OrderStatus, Period, SubscriptionStatus};
use mercato_domain::plan_changes::{self as plan, Direction};
use mercato_domain::validation::Invalid;
use mercato_store::entity::{notification, order_line, subscription};
use mercato_store::repo::subscription_terms::{self, Conversion, Seen, Spec};
use mercato_store::repo::{interface_messages as messages, notifications, orders as repo, products};
use mercato_store::{Executor, Tx};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Job kind: tell the seller about a paid upgrade.
pub const UPGRADE_INSTANCE: &str = "upgrade_instance";
/// Notification kind: an upgrade the seller did not carry out was refunded.
pub const KIND_UPGRADE_REFUNDED: &str = "upgrade_refunded";

/// `POST /api/v1/buyer/subscriptions/{id}/upgrade`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpgradeSubscription {
    /// The target SKU: an active SKU of the same product costing more per period.
    pub sku_id: String,
    /// SKUs with a linear attribute: the target quantity (default: the current one).
    #[serde(default)]
    #[schema(schema_with = quantity_schema)]
    pub quantity: Option<i64>,
}

fn quantity_schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
    mercato_domain::schema::to_schema(mercato_domain::schema::described(
        rules::quantity_schema(),
        "SKUs with a linear attribute: the target quantity (default: the current one), one of its choices.",
    ))
}

/// An upgrade, paid; the seller is told in the background.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct UpgradeView {
    pub subscription_id: String,
    /// The upgrade order (paid; completed once the seller confirms).
    pub order_id: String,
    pub order_line_id: String,
    /// The price difference for the time left.
    pub amount_minor: i64,
    pub currency: String,
    /// The new specification.
    pub sku_id: String,
    pub quantity: i64,
    /// Unchanged by an upgrade.
    pub expires_at: DateTime<Utc>,
}

/// `POST /api/v1/buyer/subscriptions/{id}/convert`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConvertTrial {
    pub period: Period,
    /// Months 1-11 or years 1-5 (default 1).
    #[serde(default)]
    pub period_count: Option<i64>,
    #[serde(default)]
    pub auto_renew: bool,
    /// SKUs with a linear attribute: the quantity (default: the trial's).
    #[serde(default)]
    pub quantity: Option<i64>,
}

impl ConvertTrial {
    fn request(&self, quantity: Option<i64>) -> rules::Request {
        rules::Request {
            period: Some(self.period),
            period_count: self.period_count,
            quantity,
            trial: false,
            auto_renew: self.auto_renew,
        }
    }
}

fn convert_trial_schema() -> serde_json::Value {
    use mercato_domain::schema::{Fields, described, integer, nullable, reference};
    let base = Fields::new()
        .required("period", reference("Period"))
        .optional(
            "period_count",
            described(nullable(integer(1, rules::MONTHS_MAX)), "Months 1-11 or years 1-5 (default 1)."),
        )
        .optional("auto_renew", serde_json::json!({"type": "boolean", "default": false}))
        .optional(
            "quantity",
            described(
                rules::quantity_schema(),
                "SKUs with a linear attribute: the quantity (default: the trial's), one of its choices.",
            ),
        )
        .closed();
    serde_json::json!({"allOf": [base, rules::period_terms_schema()]})
}

mercato_domain::schema_from_fragment!(ConvertTrial, convert_trial_schema(), Period);

/// A trial converted to a paid subscription.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ConversionView {
    pub subscription_id: String,
    /// The conversion order (paid).
    pub order_id: String,
    pub order_line_id: String,
    pub amount_minor: i64,
    pub currency: String,
    pub period: Period,
    pub period_count: i64,
    pub status: SubscriptionStatus,
    /// The end of the formal term (it starts at the conversion).
    pub expires_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, Deserialize)]
struct UpgradePayload {
    subscription_id: String,
    /// The upgrade order line.
    order_line_id: String,
    /// The specification the upgrade replaced (restored if it fails).
    from_line: Option<String>,
    from_sku: String,
}

/// 409 while an upgrade waits for the seller.
pub fn change_in_progress() -> AppError {
    AppError::conflict(
        "change_in_progress",
        "an upgrade of this subscription is waiting for the seller; try again later",
    )
}

fn ended(status: SubscriptionStatus) -> AppError {
    AppError::conflict("subscription_ended", format!("the subscription is {status}"))
}

/// Whether the current specification is an upgrade the seller has not
/// confirmed (or refused) yet.
pub async fn upgrade_pending(db: &impl Executor, sub: &subscription::Model) -> AppResult<bool> {
    let Some(line_id) = &sub.spec_line_id else { return Ok(false) };
    let Some(line) = repo::find_line(db, line_id).await? else {
        return Err(AppError::inconsistent("missing specification line"));
    };
    if line.kind != LineKind::Upgrade {
        return Ok(false);
    }
    let o = repo::find_order(db, &line.order_id).await?.ok_or_else(|| AppError::inconsistent("line without order"))?;
    Ok(matches!(o.status, OrderStatus::Paid | OrderStatus::Fulfilling))
}

/// A target specification of the subscribed product, as listed now.
#[derive(Debug, Clone)]
pub struct Target {
    pub sku_id: String,
    pub spec: SkuSpec,
    pub quantity: i64,
    /// Unit price for the period unit x quantity.
    pub per_period_minor: i64,
    product_name: String,
    product_type: ProductType,
    cooperation: Cooperation,
}

impl Target {
    /// `base` (a line of the subscription) at this specification.
    pub fn line_over(&self, base: order_line::Model) -> AppResult<order_line::Model> {
        Ok(order_line::Model {
            sku_id: self.sku_id.clone(),
            sku_code: self.spec.sku_code.clone(),
            sku_spec: self.spec.clone(),
            quantity: self.quantity,
            product_name: self.product_name.clone(),
            product_type: self.product_type,
            cooperation: self.cooperation,
            ..base
        })
    }
}

/// Resolves `sku_id` (of `sub`'s product, active, listed) at `quantity`
/// (default: `current_quantity` for SKUs with a linear attribute) for one
/// `period`.
async fn resolve_target(
    db: &impl Executor,
    sub: &subscription::Model,
    sku_id: &str,
    quantity: Option<i64>,
    current_quantity: i64,
    period: Period,
) -> AppResult<Target> {
    let unknown = || AppError::about_field(Refusal::NotFound, "not_found", "sku_id", "no SKU with this id is on sale");
    let not_on_sale = || AppError::about_field(Refusal::Conflict, "not_on_sale", "sku_id", "this SKU is not on sale");
    let not_offered = |message: String| AppError::not_offered(Invalid::one("sku_id", message));
    let sku = repo::find_sku(db, sku_id).await?.ok_or_else(unknown)?;
    if sku.status == SkuStatus::Pending {
        return Err(unknown());
    }
    if sku.product_id != sub.product_id {
        return Err(not_offered("must be a SKU of the subscribed product".into()));
    }
    let product = products::find(db, &sku.product_id).await?.ok_or_else(unknown)?;
    let Some(snap) = product.listed else { return Err(not_on_sale()) };
    if product.status != ProductStatus::Listed || sku.status != SkuStatus::Active {
        return Err(not_on_sale());
    }
    let listed = snap.skus.iter().find(|s| s.id == sku.id).ok_or_else(not_on_sale)?;
    let spec = listed.spec.clone();
    if spec.charging_mode != ChargingMode::Period {
        return Err(not_offered("must be a period SKU, like the subscription".into()));
    }
    let unit = match period {
        Period::Month => spec.prices.month_minor,
        Period::Year => spec.prices.year_minor,
    };
    if unit.is_none() {
        return Err(not_offered(format!("is not sold by the {period}, the subscription's period")));
    }
    let quantity = quantity.or(spec.linear.as_ref().map(|_| current_quantity));
    let per = rules::price(
        &spec,
        &rules::Request { period: Some(period), period_count: Some(1), quantity, trial: false, auto_renew: false },
    )?;
    Ok(Target {
        sku_id: sku.id,
        quantity: per.quantity,
        per_period_minor: per.amount_minor,
        spec,
        product_name: snap.content.name.clone(),
        product_type: snap.product_type,
        cooperation: snap.cooperation,
    })
}

/// The subscription's period unit.
fn period_of(sub: &subscription::Model) -> AppResult<Period> {
    sub.period.ok_or_else(|| AppError::inconsistent("period subscription without period"))
}

// ---------------------------------------------------------------- upgrade

/// Specification changes talk to a SaaS instance; other deliveries are
/// bought again instead.
fn supervised_unchangeable() -> AppError {
    AppError::conflict(
        "not_upgradable",
        "only SaaS subscriptions change specification; buy the other SKU for a supervised delivery or license",
    )
}

/// Upgrades a subscription (see the module documentation).
pub async fn upgrade(
    state: &AppState,
    tx: &Tx,
    buyer: &Principal,
    id: &str,
    req: UpgradeSubscription,
) -> AppResult<UpgradeView> {
    let now = state.now();
    // A quantity no SKU offers is refused first.
    rules::check_request(&rules::Request { quantity: req.quantity, ..rules::Request::default() })?;
    let sub = repo::find_subscription_for_buyer(tx, &buyer.account_id, id)
        .await?
        .ok_or_else(|| AppError::not_found("subscription"))?;
    let status = sub.status;
    if sub.charging_mode != ChargingMode::Period {
        return Err(AppError::conflict("not_upgradable", "only period subscriptions can be upgraded"));
    }
    if sub.delivery_mode != DeliveryMode::Saas {
        return Err(supervised_unchangeable());
    }
    if sub.trial {
        return Err(AppError::conflict("trial_subscription", "a trial cannot be upgraded; convert it first"));
    }
    match status {
        SubscriptionStatus::Active => {}
        SubscriptionStatus::Frozen => {
            return Err(AppError::conflict("subscription_frozen", "the subscription expired; renew it first"));
        }
        SubscriptionStatus::Provisioning => {
            return Err(AppError::conflict("not_provisioned", "the subscription is not provisioned yet"));
        }
        other => return Err(ended(other)),
    }
    if upgrade_pending(tx, &sub).await? {
        return Err(change_in_progress());
    }
    let Some(expires_at) = sub.expires_at else {
        return Err(AppError::inconsistent("period subscription without expiry"));
    };
    let period = period_of(&sub)?;
    let current = repo::find_line(tx, repo::spec_line_id(&sub))
        .await?
        .ok_or_else(|| AppError::inconsistent("no current line"))?;
    let current_spec = &current.sku_spec;
    let old = rules::price(
        current_spec,
        &rules::Request {
            period: Some(period),
            period_count: Some(1),
            quantity: Some(current.quantity),
            trial: false,
            auto_renew: false,
        },
    )
    .map_err(|e| AppError::inconsistent(format!("the current specification no longer prices: {e:?}")))?;
    let target = resolve_target(tx, &sub, &req.sku_id, req.quantity, current.quantity, period).await?;
    if plan::direction(old.amount_minor, target.per_period_minor) != Direction::Upgrade {
        return Err(AppError::conflict(
            "not_an_upgrade",
            format!(
                "the target costs {} per {period}, the current specification {}: only a dearer specification can be \
                 bought mid-term; change to a cheaper one at renewal",
                target.per_period_minor, old.amount_minor
            ),
        ));
    }
    let left = plan::remaining(period, now, expires_at)
        .ok_or_else(|| AppError::conflict("term_ended", "the term has ended; renew with the new SKU instead"))?;
    let charge = plan::upgrade_charge(old.amount_minor, target.per_period_minor, left)
        .ok_or_else(|| AppError::not_offered(Invalid::one("amount_minor", "the price difference is too large")))?;

    let line = order_line::Model {
        period: Some(period),
        trial: false,
        trial_days: None,
        auto_renew: sub.auto_renew,
        amount_minor: charge,
        currency: current.currency.clone(),
        ..target.line_over(current)?
    };
    let placed = follow_up::place_paid(tx, &sub, FollowUp { kind: LineKind::Upgrade, line }, "upgrade", now).await?;
    let (order_row, line) = (placed.order, placed.line);

    // The new specification at once, conditional on what was read.
    let seen = Seen { id: &sub.id, status, spec_line_id: sub.spec_line_id.as_deref() };
    let to = Spec { sku_id: &line.sku_id, line_id: &line.id };
    let switched = subscription_terms::switch_spec(tx, &seen, expires_at, to, now).await?;
    if !switched {
        return Err(AppError::conflict("subscription_changed", "the subscription changed meanwhile; try again"));
    }
    let payload = UpgradePayload {
        subscription_id: sub.id.clone(),
        order_line_id: line.id.clone(),
        from_line: sub.spec_line_id.clone(),
        from_sku: sub.sku_id.clone(),
    };
    crate::app::outbox::enqueue(tx, UPGRADE_INSTANCE, &line.id, &payload, now, now).await?;
    tracing::info!(subscription = %sub.id, order = %order_row.id, sku = %line.sku_id, charge, "subscription upgraded");
    Ok(UpgradeView {
        subscription_id: sub.id.clone(),
        order_id: order_row.id,
        order_line_id: line.id,
        amount_minor: charge,
        currency: line.currency,
        sku_id: line.sku_id,
        quantity: line.quantity,
        expires_at,
    })
}

/// The `upgrade_instance` job handler.
pub async fn upgrade_instance(state: AppState, job: JobView) -> JobOutcome {
    match attempt_upgrade(&state, &job).await {
        Ok(outcome) => outcome,
        Err(e) => retry_or_give_up(&state, &job, format!("upgrade error: {}", e.report())).await,
    }
}

async fn retry_or_give_up(state: &AppState, job: &JobView, error: String) -> JobOutcome {
    match RetryPolicy::PURCHASE.outcome(job, state.now(), error) {
        JobOutcome::Dead { error } => give_up(state, job, error).await,
        other => other,
    }
}

async fn give_up(state: &AppState, job: &JobView, error: String) -> JobOutcome {
    let Ok(p) = job.payload::<UpgradePayload>() else { return JobOutcome::Dead { error } };
    match refund_upgrade(state, &p, &error).await {
        Ok(_) => JobOutcome::Dead { error },
        Err(e) => JobOutcome::Dead { error: format!("{error}; the refund failed: {}", e.report()) },
    }
}

async fn attempt_upgrade(state: &AppState, job: &JobView) -> AppResult<JobOutcome> {
    let p: UpgradePayload = job.payload().map_err(|e| AppError::internal(format!("bad job payload: {e}")))?;
    let Some(ctx) = line_context(&state.db.conn, &p.order_line_id).await? else {
        return Ok(JobOutcome::Dead { error: format!("no order line {}", p.order_line_id) });
    };
    if ctx.order.status != OrderStatus::Paid {
        // Completed or refunded by an earlier attempt.
        return Ok(JobOutcome::Done);
    }
    let Some(sub) = repo::find_subscription(&state.db.conn, &p.subscription_id).await? else {
        return Ok(JobOutcome::Dead { error: format!("no subscription {}", p.subscription_id) });
    };
    let Some(instance_id) = sub.instance_id.clone() else {
        return Ok(give_up(state, job, "the subscription has no instance".into()).await);
    };
    let Some(endpoint) = Endpoint::of_product(state, &sub.product_id).await? else {
        return Ok(retry_or_give_up(state, job, "the product has no seller endpoint".into()).await);
    };
    let body = BasicCall::UpgradeInstance(UpgradeInstance {
        instance_id,
        order_id: ctx.order.id.clone(),
        order_line_id: ctx.line.id.clone(),
        test_flag: None,
    });
    let sent = endpoint.send(state, &ctx, job, "upgradeInstance", &body).await?;
    if sent.succeeded() {
        complete_upgrade(state, &ctx.order.id).await?;
        return Ok(JobOutcome::Done);
    }
    if sent.outcome == messages::REFUSED {
        return Ok(give_up(state, job, format!("upgradeInstance refused: {}", sent.failure())).await);
    }
    Ok(retry_or_give_up(state, job, format!("upgradeInstance: {}", sent.failure())).await)
}

async fn complete_upgrade(state: &AppState, order_id: &str) -> AppResult<()> {
    let now = state.now();
    let tx = state.db.write().await?;
    let o = repo::find_order(&tx, order_id).await?.ok_or_else(|| AppError::not_found("order"))?;
    if o.status != OrderStatus::Paid {
        return Ok(());
    }
    complete_delivered(&tx, order_id, DeliveredBy::ChangeInForce, now).await?;
    tx.commit().await?;
    Ok(())
}

/// Refunds the upgrade order in full, restores the replaced specification
/// and notifies the buyer: one transaction, guarded by the order still
/// `paid` (so two workers cannot both refund). Returns whether this call
/// did it.
async fn refund_upgrade(state: &AppState, p: &UpgradePayload, why: &str) -> AppResult<bool> {
    let now = state.now();
    let tx = state.db.write().await?;
    let Some(ctx) = line_context(&tx, &p.order_line_id).await? else { return Ok(false) };
    let order_id = ctx.order.id.clone();
    if ctx.order.status != OrderStatus::Paid {
        return Ok(false);
    }
    transition_order(&tx, &order_id, OrderEvent::StartFulfilment, now).await?;
    transition_order(&tx, &order_id, OrderEvent::Fail, now).await?;
    if let Some(entry_id) = &ctx.order.payment_entry_id {
        post_reversal(&tx, entry_id, &order_id, format!("refund of upgrade order {order_id}"), now).await?;
    }
    transition_order(&tx, &order_id, OrderEvent::Refund, now).await?;
    let restored =
        repo::switch_spec_if(&tx, &p.subscription_id, Some(&p.order_line_id), &p.from_sku, p.from_line.as_deref(), now)
            .await?;
    if !restored {
        // Nothing else may change the specification while the upgrade is
        // pending, so this is a bug; the money is back either way.
        tracing::error!(subscription = %p.subscription_id, "the refunded upgrade was no longer the current specification");
    }
    notifications::insert(
        &tx,
        notification::Model {
            id: NotificationId::new().into(),
            account_id: ctx.order.buyer_id.clone(),
            kind: KIND_UPGRADE_REFUNDED.into(),
            title: format!("Upgrade of {} refunded", ctx.line.product_name),
            body: format!(
                "The seller did not carry out the upgrade of subscription {} (order {order_id}). You were refunded \
                 {} {} (minor units) and the subscription keeps its previous specification.",
                p.subscription_id, ctx.order.amount_minor, ctx.order.currency
            ),
            reference: Some(p.subscription_id.clone()),
            created_at: now,
            read_at: None,
        },
    )
    .await?;
    tx.commit().await?;
    tracing::warn!(order = %order_id, subscription = %p.subscription_id, %why, "upgrade failed; buyer refunded");
    Ok(true)
}

// ---------------------------------------------------------------- change at renewal

/// The target of a renewal that names `sku_id` and/or `quantity`, after the
/// seller's `changeInstanceCheck` allowed it; None when they name the
/// current specification (a plain renewal). Called outside any transaction:
/// it calls the seller.
pub async fn renewal_change(
    state: &AppState,
    sub: &subscription::Model,
    sku_id: Option<&str>,
    quantity: Option<i64>,
    period: Period,
) -> AppResult<Option<Target>> {
    let db = &state.db.conn;
    crate::app::subscriptions::lifecycle::renewable(sub)?;
    if upgrade_pending(db, sub).await? {
        return Err(change_in_progress());
    }
    let current =
        repo::find_line(db, repo::spec_line_id(sub)).await?.ok_or_else(|| AppError::inconsistent("no current line"))?;
    let sku_id = sku_id.unwrap_or(&sub.sku_id);
    if sku_id == sub.sku_id && quantity.is_none_or(|q| q == current.quantity) {
        return Ok(None);
    }
    // The renewal's own period unit: the target must be sold by it.
    let target = resolve_target(db, sub, sku_id, quantity, current.quantity, period).await?;
    if target.sku_id == sub.sku_id && target.quantity == current.quantity {
        return Ok(None);
    }
    if sub.delivery_mode != DeliveryMode::Saas {
        return Err(supervised_unchangeable());
    }
    let Some(instance_id) = sub.instance_id.clone() else {
        return Err(AppError::conflict("not_provisioned", "the subscription has no instance yet"));
    };
    let unavailable = |why: String| {
        AppError::new(Refusal::BadGateway, "seller_unavailable", format!("the seller could not be asked: {why}"))
    };
    let Some(endpoint) = Endpoint::of_product(state, &sub.product_id).await? else {
        return Err(unavailable("the product has no seller endpoint".into()));
    };
    let ctx = line_context(db, &current.id).await?.ok_or_else(|| AppError::inconsistent("no current line"))?;
    let body = BasicCall::ChangeInstanceCheck(ChangeInstanceCheck {
        instance_id,
        product_info: ProductInfo {
            product_id: sub.product_id.clone(),
            sku_code: target.spec.sku_code.clone(),
            linear_value: target.spec.linear.as_ref().map(|_| target.quantity.to_string()),
        },
        test_flag: None,
    });
    // A synchronous call: recorded like a job's first attempt.
    let now = state.now();
    let job = JobView {
        id: SpecSyncId::new().into(),
        kind: "change_instance_check".into(),
        reference: sub.id.clone(),
        payload_json: "{}".into(),
        attempt: 1,
        run_at: now,
        first_attempt_at: now,
        lease_expires_at: now,
        last_error: None,
        created_at: now,
    };
    let sent = endpoint.send(state, &ctx, &job, "changeInstanceCheck", &body).await?;
    if sent.succeeded() {
        return Ok(Some(target));
    }
    match &sent.result {
        Ok(x) => match &x.outcome {
            CallOutcome::Answered { code, .. } => Err(AppError::conflict(
                "change_refused",
                format!("the seller refused the change (changeInstanceCheck answered {})", code.as_str()),
            )),
            other => Err(unavailable(crate::app::subscriptions::seller_calls::describe(other))),
        },
        Err(e) => Err(unavailable(e.to_string())),
    }
}

// ---------------------------------------------------------------- trial -> formal

/// Converts a trial into a paid subscription (see the module documentation).
pub async fn convert(
    state: &AppState,
    tx: &Tx,
    buyer: &Principal,
    id: &str,
    req: ConvertTrial,
) -> AppResult<ConversionView> {
    let now = state.now();
    // What no trial or SKU accepts is refused first.
    rules::check_request(&req.request(req.quantity))?;
    let sub = repo::find_subscription_for_buyer(tx, &buyer.account_id, id)
        .await?
        .ok_or_else(|| AppError::not_found("subscription"))?;
    let status = sub.status;
    if !sub.trial {
        return Err(AppError::conflict("not_a_trial", "only a trial can be converted; this subscription is paid"));
    }
    if sub.delivery_mode != DeliveryMode::Saas {
        return Err(supervised_unchangeable());
    }
    match status {
        SubscriptionStatus::Active | SubscriptionStatus::Frozen => {}
        SubscriptionStatus::Provisioning => {
            return Err(AppError::conflict("not_provisioned", "the subscription is not provisioned yet"));
        }
        other => return Err(ended(other)),
    }
    let trial_line = repo::find_line(tx, repo::spec_line_id(&sub))
        .await?
        .ok_or_else(|| AppError::inconsistent("no current line"))?;
    let target = resolve_target(tx, &sub, &sub.sku_id, req.quantity, trial_line.quantity, req.period).await?;
    let priced = rules::price(&target.spec, &req.request(Some(target.quantity)))?;
    let expires_at = rules::expires_at(&priced, now, None)
        .ok_or_else(|| AppError::field("period_count", "the new expiry is out of range"))?;
    let line = order_line::Model {
        period: Some(req.period),
        period_count: priced.period_count,
        quantity: priced.quantity,
        trial: false,
        trial_days: None,
        auto_renew: priced.auto_renew,
        amount_minor: priced.amount_minor,
        currency: priced.currency.clone(),
        ..target.line_over(trial_line)?
    };
    let placed =
        follow_up::place_paid(tx, &sub, FollowUp { kind: LineKind::Conversion, line }, "trial conversion", now).await?;
    let (order_row, line) = (placed.order, placed.line);

    let seen = Seen { id: &sub.id, status, spec_line_id: sub.spec_line_id.as_deref() };
    let to = Conversion {
        period: req.period,
        auto_renew: priced.auto_renew,
        expires_at,
        spec: Spec { sku_id: &line.sku_id, line_id: &line.id },
    };
    let converted = subscription_terms::convert_trial(tx, &seen, to, now).await?;
    if !converted {
        return Err(AppError::conflict("subscription_changed", "the subscription changed meanwhile; try again"));
    }
    let unfreeze = status == SubscriptionStatus::Frozen;
    crate::app::subscriptions::lifecycle::enqueue_refresh(
        tx,
        &sub.id,
        &line.id,
        RefreshScene::TrialToFormal,
        expires_at,
        unfreeze,
        now,
    )
    .await?;
    tracing::info!(subscription = %sub.id, order = %order_row.id, %expires_at, "trial converted");
    Ok(ConversionView {
        subscription_id: sub.id.clone(),
        order_id: order_row.id,
        order_line_id: line.id,
        amount_minor: priced.amount_minor,
        currency: priced.currency,
        period: req.period,
        period_count: priced.period_count.unwrap_or(1),
        status: SubscriptionStatus::Active,
        expires_at,
    })
}

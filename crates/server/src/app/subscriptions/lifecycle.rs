//! Subscription lifecycle after provisioning (seller interface spec §2, §8):
//! renewal by the buyer, auto-renewal, expiry -> freeze, grace period ->
//! release.
//!
//! **Renewal** (`POST /api/v1/buyer/subscriptions/{id}/renew`, and the
//! auto-renew task): paid period subscriptions that are active or frozen.
//! One write transaction creates a renewal order (one line for the
//! subscription's **current specification**: the line named by
//! `subscriptions.spec_line_id`, or the purchase line when no plan change
//! happened; priced from that line's SKU as bought, its
//! `renews_subscription_id` naming the subscription), pays it
//! from the wallet (402 `insufficient_funds` drops everything), moves the
//! expiry on from the current expiry (not from now), makes a frozen
//! subscription active again, and enqueues a `renew_instance` job (reference:
//! the renewal order line; the payload names the subscription). The job
//! calls `updateInstanceStatus UNFREEZE` first when the subscription was
//! frozen, then `refreshInstance RENEWAL` with the new expiry (UTC
//! `yyyyMMddHHmmss`), and completes the renewal order. While an upgrade
//! waits for the seller (its order still `paid`), renewals answer 409
//! `change_in_progress` (auto-renewal tries again the next day).
//!
//! **Renewal with a change of specification** (a downgrade, or any other
//! SKU or quantity of the same product; see [`crate::app::subscriptions::plan_changes`]):
//! the renew request may name `sku_id` and/or `quantity`. When they differ
//! from the current specification, the seller's `changeInstanceCheck` is
//! asked first, synchronously and outside any transaction (recorded as an
//! interface message against the current specification line); an answer
//! other than `000000` is 409 `change_refused` naming the seller's code, no
//! answer at all is 502 `seller_unavailable`; nothing is charged either way.
//! Allowed: the renewal is priced at the target specification (the SKU as
//! listed now), the renewal line becomes the current specification (its
//! period terms are what auto-renewal renews for from then on), and the job
//! sends `refreshInstance RENEWAL_CHANGE` with `productId` and the new
//! expiry instead of `RENEWAL`. With an `Idempotency-Key`, a replay answers
//! from the stored response without asking the seller again.
//!
//! The same job kind also sends `refreshInstance TRIAL_TO_FORMAL` for a
//! trial conversion ([`crate::app::subscriptions::plan_changes`]), under the same rules.
//!
//! **Scheduler.** Two periodic tasks:
//! - `lifecycle_expiry` (every 5 minutes): active subscriptions with
//!   `expires_at <= now` become frozen and get a `freeze_instance` job
//!   (`updateInstanceStatus FREEZE`); frozen ones with
//!   `expires_at + 15 days <= now` become released and get a
//!   `release_instance` job (`releaseInstance`). Each state change is
//!   conditional on the state read, and job references are unique per step
//!   (`<sub>:freeze:<expires_at>`, `<sub>:release`), so scans running twice
//!   or on two nodes enqueue once.
//! - `lifecycle_auto_renew` (daily): active auto-renew subscriptions within
//!   7 days of expiry are renewed for the period they were bought for. A
//!   wallet that cannot pay changes nothing; a warning is logged (the buyer
//!   notification) and the next day's run tries again.
//!
//! **Seller calls** are recorded as interface messages (against the order
//! line that paid for the step: the renewal line, or the original purchase
//! line for freeze and release) and retried under
//! [`RetryPolicy::LIFECYCLE`] (up to 1 hour). Giving up leaves the
//! subscription as Mercato has it (the money stays with the renewal, whose
//! order is completed: the renewal is in force) and logs an error for an
//! operator: the seller's instance may then disagree with Mercato until the
//! seller reconciles.
//! A freeze job finding the subscription no longer frozen (renewed
//! meanwhile) does nothing.

use crate::app::error::{AppError, AppResult};
use crate::app::orders::{LineContext, complete_delivered, line_context, transition_subscription};
use crate::app::outbox::{JobOutcome, JobView, RetryPolicy};
use crate::app::subscriptions::follow_up::{self, FollowUp};
use crate::app::subscriptions::plan_changes;
use crate::app::subscriptions::seller_calls::{Endpoint, InstanceTarget, instance_target};
use crate::auth::Principal;
use crate::state::AppState;
use chrono::{DateTime, Utc};
use koo::BasicCall;
use koo::calls::{InstanceStatus, RefreshInstance, RefreshScene, ReleaseInstance, UpdateInstanceStatus};
use mercato_domain::catalog::ChargingMode;
use mercato_domain::delivery::{DeliveredBy, DeliveryMode};
use mercato_domain::orders::{self as rules, LineKind, OrderStatus, Period, SubscriptionEvent, SubscriptionStatus};
use mercato_store::entity::{order_line, subscription};
use mercato_store::repo::orders as repo;
use mercato_store::repo::subscription_terms::{self, Seen, Spec};
use mercato_store::{Executor, Tx};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Job kinds.
pub const RENEW_INSTANCE: &str = "renew_instance";
pub const FREEZE_INSTANCE: &str = "freeze_instance";
pub const RELEASE_INSTANCE: &str = "release_instance";
/// updateInstanceStatus UNFREEZE alone (usage arrears paid).
pub const UNFREEZE_INSTANCE: &str = "unfreeze_instance";
/// Periodic tasks.
pub const EXPIRY_TASK: &str = "lifecycle_expiry";
pub const AUTO_RENEW_TASK: &str = "lifecycle_auto_renew";
/// Days after expiry before a frozen subscription is released.
pub const GRACE_DAYS: i64 = 15;
/// Days before expiry at which auto-renewal charges the wallet.
pub const AUTO_RENEW_DAYS: i64 = 7;

/// `POST /api/v1/buyer/subscriptions/{id}/renew`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RenewSubscription {
    pub period: Period,
    /// Months 1-11 or years 1-5 (default 1).
    #[serde(default)]
    pub period_count: Option<i64>,
    /// Renew into another SKU of the same product (a downgrade, or any
    /// change of specification); default: the current SKU. Asks the seller's
    /// changeInstanceCheck first.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sku_id: Option<String>,
    /// Quantity of the renewed specification (SKUs with a linear
    /// attribute); default: the current quantity.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quantity: Option<i64>,
}

/// A renewal, paid.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct RenewalView {
    pub subscription_id: String,
    /// The renewal order (paid).
    pub order_id: String,
    pub order_line_id: String,
    pub amount_minor: i64,
    pub currency: String,
    pub status: SubscriptionStatus,
    /// The new expiry.
    pub expires_at: DateTime<Utc>,
    /// The specification renewed (the current one from now on).
    pub sku_id: String,
    pub quantity: i64,
}

#[derive(Debug, Serialize, Deserialize)]
struct Payload {
    subscription_id: String,
    /// The line the calls are logged against.
    order_line_id: String,
    #[serde(default)]
    expires_at: Option<DateTime<Utc>>,
    #[serde(default)]
    unfreeze: bool,
    /// The refreshInstance scene (renewals: `RENEWAL`).
    #[serde(default)]
    scene: Option<RefreshScene>,
    /// `productId` for a change of specification.
    #[serde(default)]
    product_id: Option<String>,
}

fn ended(status: SubscriptionStatus) -> AppError {
    AppError::conflict("subscription_ended", format!("the subscription is {status}; it can no longer be renewed"))
}

impl RenewSubscription {
    /// True when the renewal changes the specification, which the seller's
    /// changeInstanceCheck must allow first ([`renewal_change`]).
    pub fn asks_change(&self) -> bool {
        self.sku_id.is_some() || self.quantity.is_some()
    }

    /// The rules that hold whatever the subscription and SKU (its schema
    /// states them): 422.
    pub fn check(&self) -> AppResult<()> {
        Ok(rules::check_request(&rules::Request {
            period: Some(self.period),
            period_count: self.period_count,
            quantity: self.quantity,
            trial: false,
            auto_renew: false,
        })?)
    }
}

fn renew_subscription_schema() -> serde_json::Value {
    use mercato_domain::schema::{Fields, described, integer, nullable, reference};
    let base = Fields::new()
        .required("period", reference("Period"))
        .optional(
            "period_count",
            described(nullable(integer(1, rules::MONTHS_MAX)), "Months 1-11 or years 1-5 (default 1)."),
        )
        .optional(
            "sku_id",
            described(
                nullable(serde_json::json!({"type": "string"})),
                "Renew into another SKU of the same product (a downgrade, or any change of specification); default: the current SKU. Asks the seller's changeInstanceCheck first.",
            ),
        )
        .optional(
            "quantity",
            described(
                rules::quantity_schema(),
                "Quantity of the renewed specification (SKUs with a linear attribute); default: the current quantity.",
            ),
        )
        .closed();
    serde_json::json!({"allOf": [base, rules::period_terms_schema()]})
}

mercato_domain::schema_from_fragment!(RenewSubscription, renew_subscription_schema(), Period);

/// The specification a renewal moves to, asked of the seller (outside any
/// transaction); None when the renewal keeps the current one.
pub async fn renewal_change(
    state: &AppState,
    buyer: &Principal,
    id: &str,
    req: &RenewSubscription,
) -> AppResult<Option<plan_changes::Target>> {
    req.check()?;
    if !req.asks_change() {
        return Ok(None);
    }
    let sub = repo::find_subscription_for_buyer(&state.db.conn, &buyer.account_id, id)
        .await?
        .ok_or_else(|| AppError::not_found("subscription"))?;
    plan_changes::renewal_change(state, &sub, req.sku_id.as_deref(), req.quantity, req.period).await
}

/// Renews a subscription for the buyer in `tx` (see the module
/// documentation), into `change` when [`renewal_change`] found one.
pub async fn renew(
    state: &AppState,
    tx: &Tx,
    buyer: &Principal,
    id: &str,
    req: RenewSubscription,
    change: Option<plan_changes::Target>,
) -> AppResult<RenewalView> {
    let sub = repo::find_subscription_for_buyer(tx, &buyer.account_id, id)
        .await?
        .ok_or_else(|| AppError::not_found("subscription"))?;
    renew_change_in(tx, &sub, req.period, req.period_count, change.as_ref(), state.now()).await
}

/// The renewal's writes, in `tx`, for the current specification.
async fn renew_in(
    tx: &impl Executor,
    sub: &subscription::Model,
    period: Period,
    period_count: Option<i64>,
    now: DateTime<Utc>,
) -> AppResult<RenewalView> {
    renew_change_in(tx, sub, period, period_count, None, now).await
}

/// A paid period subscription, active or frozen, can be renewed; answers
/// its status, or why not.
pub(crate) fn renewable(sub: &subscription::Model) -> AppResult<SubscriptionStatus> {
    let status = sub.status;
    if sub.charging_mode != ChargingMode::Period || sub.trial {
        return Err(AppError::conflict("not_renewable", "only paid period subscriptions can be renewed"));
    }
    match status {
        SubscriptionStatus::Active | SubscriptionStatus::Frozen => Ok(status),
        SubscriptionStatus::Provisioning => {
            Err(AppError::conflict("not_provisioned", "the subscription is not provisioned yet"))
        }
        other => Err(ended(other)),
    }
}

/// The renewal's writes, in `tx`, into `change` when the seller allowed one.
async fn renew_change_in(
    tx: &impl Executor,
    sub: &subscription::Model,
    period: Period,
    period_count: Option<i64>,
    change: Option<&plan_changes::Target>,
    now: DateTime<Utc>,
) -> AppResult<RenewalView> {
    let status = renewable(sub)?;
    if sub.delivery_mode == DeliveryMode::LicenseCode && !license_activated(tx, sub).await? {
        // Until activation the buyer may still withdraw the whole purchase;
        // a renewal paid meanwhile would not be part of that refund.
        return Err(AppError::conflict(
            "not_activated",
            "the license has not been activated yet; renew it once the seller's software activated it",
        ));
    }
    let Some(current_expiry) = sub.expires_at else {
        return Err(AppError::inconsistent("period subscription without expiry"));
    };
    if plan_changes::upgrade_pending(tx, sub).await? {
        return Err(plan_changes::change_in_progress());
    }
    let orig = repo::find_line(tx, repo::spec_line_id(sub))
        .await?
        .ok_or_else(|| AppError::inconsistent("subscription without line"))?;
    // The line as renewed: the current specification, or the target one.
    let orig = match change {
        Some(t) => t.line_over(orig)?,
        None => orig,
    };
    let priced = rules::price(
        &orig.sku_spec,
        &rules::Request {
            period: Some(period),
            period_count,
            quantity: Some(orig.quantity),
            trial: false,
            auto_renew: sub.auto_renew,
        },
    )?;
    let new_expiry = rules::expires_at(&priced, current_expiry, None)
        .ok_or_else(|| AppError::field("period_count", "the new expiry is out of range"))?;

    // The renewal order, paid at once (402 drops the transaction).
    let line = order_line::Model {
        period: priced.period,
        period_count: priced.period_count,
        quantity: priced.quantity,
        trial: false,
        trial_days: None,
        auto_renew: sub.auto_renew,
        amount_minor: priced.amount_minor,
        currency: priced.currency.clone(),
        ..orig
    };
    let placed = follow_up::place_paid(tx, sub, FollowUp { kind: LineKind::Renewal, line }, "renewal", now).await?;
    let (order_row, line) = (placed.order, placed.line);
    // The term bought, so unstarted renewal periods can be refunded (unsubscribe).
    crate::app::subscriptions::unsubscribe::record_renewal_term(tx, &sub.id, &line, current_expiry, new_expiry).await?;

    // The new expiry (and specification), conditional on the expiry and
    // specification read (two renewals or plan changes racing cannot both
    // win).
    let seen = Seen { id: &sub.id, status, spec_line_id: sub.spec_line_id.as_deref() };
    let spec = change.is_some().then_some(Spec { sku_id: &line.sku_id, line_id: &line.id });
    let moved = subscription_terms::extend_term(tx, &seen, current_expiry, new_expiry, spec, now).await?;
    if !moved {
        return Err(AppError::conflict("subscription_changed", "the subscription changed meanwhile; try again"));
    }
    let unfreeze = status == SubscriptionStatus::Frozen;
    if unfreeze {
        transition_subscription(tx, &sub.id, SubscriptionEvent::Unfreeze, now).await?;
    }
    let payload = Payload {
        subscription_id: sub.id.clone(),
        order_line_id: line.id.clone(),
        expires_at: Some(new_expiry),
        unfreeze,
        scene: Some(if change.is_some() { RefreshScene::RenewalChange } else { RefreshScene::Renewal }),
        product_id: change.map(|_| sub.product_id.clone()),
    };
    if sub.delivery_mode.has_seller_instance() {
        crate::app::outbox::enqueue(tx, RENEW_INSTANCE, &line.id, &payload, now, now).await?;
    } else {
        // Nothing at the seller to tell: the renewal is in force now.
        complete_delivered(tx, &order_row.id, DeliveredBy::ChangeInForce, now).await?;
    }
    tracing::info!(subscription = %sub.id, order = %order_row.id, %new_expiry, changed = change.is_some(),
        "subscription renewed");
    Ok(RenewalView {
        subscription_id: sub.id.clone(),
        order_id: order_row.id,
        order_line_id: line.id,
        amount_minor: priced.amount_minor,
        currency: priced.currency,
        status: SubscriptionStatus::Active,
        expires_at: new_expiry,
        sku_id: line.sku_id,
        quantity: line.quantity,
    })
}

async fn license_activated(tx: &impl Executor, sub: &subscription::Model) -> AppResult<bool> {
    let found = mercato_store::repo::licenses::of_subscriptions(tx, std::slice::from_ref(&sub.id)).await?;
    Ok(found.iter().any(|l| l.activated_at.is_some()))
}

/// Enqueues the `renew_instance` job that tells the seller about a new
/// expiry in `scene` (trial conversion: `TRIAL_TO_FORMAL`), in `tx`;
/// `unfreeze` sends `updateInstanceStatus UNFREEZE` first. The job completes
/// the order of `order_line_id`.
pub(crate) async fn enqueue_refresh(
    tx: &impl Executor,
    subscription_id: &str,
    order_line_id: &str,
    scene: RefreshScene,
    expires_at: DateTime<Utc>,
    unfreeze: bool,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let payload = Payload {
        subscription_id: subscription_id.to_string(),
        order_line_id: order_line_id.to_string(),
        expires_at: Some(expires_at),
        unfreeze,
        scene: Some(scene),
        product_id: None,
    };
    crate::app::outbox::enqueue(tx, RENEW_INSTANCE, order_line_id, &payload, now, now).await?;
    Ok(())
}

// ---------------------------------------------------------------- scheduler

/// What a scan did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ScanReport {
    pub frozen: usize,
    pub released: usize,
    pub renewed: usize,
    pub unpaid: usize,
}

async fn subscriptions_in(
    state: &AppState,
    status: SubscriptionStatus,
    expiring_by: DateTime<Utc>,
) -> AppResult<Vec<subscription::Model>> {
    Ok(subscription_terms::expiring(&state.db.conn, status, expiring_by).await?)
}

/// Freezes expired subscriptions and releases those past the grace period.
pub async fn expiry_scan(state: &AppState) -> AppResult<ScanReport> {
    let now = state.now();
    let mut report = ScanReport::default();
    for sub in subscriptions_in(state, SubscriptionStatus::Active, now).await? {
        let Some(expires_at) = sub.expires_at else { continue };
        let reference = format!("{}:freeze:{}", sub.id, expires_at.timestamp());
        if step_and_enqueue(state, &sub, SubscriptionEvent::Freeze, FREEZE_INSTANCE, &reference, now).await? {
            report.frozen += 1;
        }
    }
    let grace = chrono::Duration::days(GRACE_DAYS);
    for sub in subscriptions_in(state, SubscriptionStatus::Frozen, now - grace).await? {
        let reference = format!("{}:release", sub.id);
        if step_and_enqueue(state, &sub, SubscriptionEvent::Release, RELEASE_INSTANCE, &reference, now).await? {
            report.released += 1;
        }
    }
    if report.frozen + report.released > 0 {
        crate::app::outbox::wake(state);
    }
    Ok(report)
}

/// Moves one subscription by `event` and enqueues the seller call `kind` in
/// the same transaction. False when another scan or node moved it first.
async fn step_and_enqueue(
    state: &AppState,
    sub: &subscription::Model,
    event: SubscriptionEvent,
    kind: &str,
    reference: &str,
    now: DateTime<Utc>,
) -> AppResult<bool> {
    let tx = state.db.write().await?;
    match transition_subscription(&tx, &sub.id, event, now).await {
        Ok(_) => {}
        Err(e) if e.code() == "invalid_transition" => return Ok(false),
        Err(e) => return Err(e),
    }
    enqueue_status_call(&tx, sub, kind, reference, now).await?;
    tx.commit().await?;
    Ok(true)
}

/// Enqueues the seller call `kind` (freeze, unfreeze, release) for `sub` in
/// the caller's transaction, after it moved the subscription.
pub async fn enqueue_status_call(
    tx: &impl Executor,
    sub: &subscription::Model,
    kind: &str,
    reference: &str,
    now: DateTime<Utc>,
) -> AppResult<()> {
    if !sub.delivery_mode.has_seller_instance() {
        // Supervised deliveries: nothing at the seller's server to change.
        return Ok(());
    }
    let payload = Payload {
        subscription_id: sub.id.clone(),
        order_line_id: sub.order_line_id.clone(),
        expires_at: None,
        unfreeze: false,
        scene: None,
        product_id: None,
    };
    crate::app::outbox::enqueue(tx, kind, reference, &payload, now, now).await?;
    Ok(())
}

/// Renews auto-renew subscriptions within [`AUTO_RENEW_DAYS`] of expiry.
pub async fn auto_renew_scan(state: &AppState) -> AppResult<ScanReport> {
    let now = state.now();
    let mut report = ScanReport::default();
    let by = now + chrono::Duration::days(AUTO_RENEW_DAYS);
    for sub in subscriptions_in(state, SubscriptionStatus::Active, by).await? {
        if !sub.auto_renew || sub.trial {
            continue;
        }
        // The current specification's line: its period terms are renewed.
        let Some(line) = repo::find_line(&state.db.conn, repo::spec_line_id(&sub)).await? else { continue };
        let Some(period) = line.period else { continue };
        let tx = state.db.write().await?;
        match renew_in(&tx, &sub, period, line.period_count, now).await {
            Ok(_) => {
                tx.commit().await?;
                report.renewed += 1;
            }
            Err(e) if e.code() == "insufficient_funds" => {
                drop(tx);
                report.unpaid += 1;
                // Nothing else changes: the buyer is notified (once a day)
                // and tomorrow's run tries again.
                crate::app::notifications::auto_renew_unpaid(state, &sub, &line, period).await;
            }
            Err(e) => {
                drop(tx);
                tracing::warn!(subscription = %sub.id, error = %e.report(), "auto-renewal failed");
            }
        }
    }
    if report.renewed > 0 {
        crate::app::outbox::wake(state);
    }
    Ok(report)
}

// ---------------------------------------------------------------- jobs

enum Step {
    Renew,
    Freeze,
    Unfreeze,
    Release,
}

pub async fn renew_instance(state: AppState, job: JobView) -> JobOutcome {
    run(&state, &job, Step::Renew).await
}

pub async fn freeze_instance(state: AppState, job: JobView) -> JobOutcome {
    run(&state, &job, Step::Freeze).await
}

pub async fn release_instance(state: AppState, job: JobView) -> JobOutcome {
    run(&state, &job, Step::Release).await
}

pub async fn unfreeze_instance(state: AppState, job: JobView) -> JobOutcome {
    run(&state, &job, Step::Unfreeze).await
}

async fn run(state: &AppState, job: &JobView, step: Step) -> JobOutcome {
    let renewal = matches!(step, Step::Renew);
    let outcome = match attempt(state, job, step).await {
        Ok(o) => o,
        Err(e) => retry(state, job, format!("lifecycle error: {}", e.report())),
    };
    if let JobOutcome::Dead { error } = &outcome {
        tracing::error!(job = %job.id, kind = %job.kind, reference = %job.reference, %error,
            "lifecycle call given up; the seller's instance may disagree with Mercato");
        if renewal {
            return complete_given_up_renewal(state, job, outcome).await;
        }
    }
    outcome
}

/// The renewal is in force in Mercato (paid, expiry moved) whether or not
/// the seller heard of it, so its order ends `completed` rather than staying
/// `paid` for good; an order still `paid` means work in progress.
async fn complete_given_up_renewal(state: &AppState, job: &JobView, dead: JobOutcome) -> JobOutcome {
    let completed = async {
        let p: Payload = job.payload().map_err(|e| AppError::internal(format!("bad job payload: {e}")))?;
        match line_context(&state.db.conn, &p.order_line_id).await? {
            Some(ctx) => complete_order(state, &ctx).await,
            None => Ok(()),
        }
    }
    .await;
    match completed {
        Ok(()) => dead,
        // Not completed yet: try again later rather than leave it paid.
        Err(e) => JobOutcome::Retry {
            after: std::time::Duration::from_secs(60),
            error: format!("completing a given-up renewal: {}", e.report()),
        },
    }
}

fn retry(state: &AppState, job: &JobView, error: String) -> JobOutcome {
    RetryPolicy::LIFECYCLE.outcome(job, state.now(), error)
}

/// `yyyyMMddHHmmss`, UTC.
pub fn expire_time(t: DateTime<Utc>) -> String {
    t.format("%Y%m%d%H%M%S").to_string()
}

async fn attempt(state: &AppState, job: &JobView, step: Step) -> AppResult<JobOutcome> {
    let p: Payload = job.payload().map_err(|e| AppError::internal(format!("bad job payload: {e}")))?;
    let InstanceTarget { sub, ctx, instance_id } =
        match instance_target(state, &p.subscription_id, &p.order_line_id).await? {
            Ok(target) => target,
            Err(dead) => return Ok(dead),
        };
    if matches!(step, Step::Freeze) && sub.status != SubscriptionStatus::Frozen {
        // Renewed (or arrears paid) before the freeze was sent: nothing to do.
        return Ok(JobOutcome::Done);
    }
    if matches!(step, Step::Unfreeze) && sub.status != SubscriptionStatus::Active {
        // Frozen or released again meanwhile: a later job says so.
        return Ok(JobOutcome::Done);
    }
    let Some(endpoint) = Endpoint::of_product(state, &sub.product_id).await? else {
        return Ok(retry(state, job, "the product has no seller endpoint".into()));
    };

    let license = sub.delivery_mode == DeliveryMode::LicenseCode;
    let status_call = |status: InstanceStatus| {
        let body = UpdateInstanceStatus { instance_id: instance_id.clone(), status, test_flag: None };
        if license {
            ("updateLicenseCodeStatus", BasicCall::UpdateLicenseCodeStatus(body))
        } else {
            ("updateInstanceStatus", BasicCall::UpdateInstanceStatus(body))
        }
    };
    let mut calls = Vec::new();
    match step {
        Step::Renew => {
            if p.unfreeze {
                calls.push(status_call(InstanceStatus::Unfreeze));
            }
            let expires_at =
                p.expires_at.or(sub.expires_at).ok_or_else(|| AppError::inconsistent("renewal without expiry"))?;
            let body = RefreshInstance {
                scene: p.scene.unwrap_or(RefreshScene::Renewal),
                order_id: ctx.order.id.clone(),
                order_line_id: ctx.line.id.clone(),
                instance_id: instance_id.clone(),
                product_id: p.product_id.clone(),
                expire_time: expire_time(expires_at),
                test_flag: None,
            };
            calls.push(if license {
                ("refreshLicenseCode", BasicCall::RefreshLicenseCode(body))
            } else {
                ("refreshInstance", BasicCall::RefreshInstance(body))
            });
        }
        Step::Freeze => calls.push(status_call(InstanceStatus::Freeze)),
        Step::Unfreeze => calls.push(status_call(InstanceStatus::Unfreeze)),
        Step::Release => {
            let body = ReleaseInstance {
                instance_id: instance_id.clone(),
                order_id: None,
                order_line_id: None,
                test_flag: None,
            };
            calls.push(if license {
                ("releaseLicenseCode", BasicCall::ReleaseLicenseCode(body))
            } else {
                ("releaseInstance", BasicCall::ReleaseInstance(body))
            });
        }
    }
    // Each call is idempotent at the seller (UNFREEZE twice, the same
    // expiry twice, release twice all succeed), so a retry repeats them all.
    if let Err(why) = endpoint.send_all(state, &ctx, job, &calls).await? {
        return Ok(retry(state, job, why));
    }
    if matches!(step, Step::Renew) {
        complete_order(state, &ctx).await?;
    }
    Ok(JobOutcome::Done)
}

async fn complete_order(state: &AppState, ctx: &LineContext) -> AppResult<()> {
    let now = state.now();
    let tx = state.db.write().await?;
    let o = repo::find_order(&tx, &ctx.order.id).await?.ok_or_else(|| AppError::not_found("order"))?;
    if o.status != OrderStatus::Paid {
        return Ok(());
    }
    complete_delivered(&tx, &o.id, DeliveredBy::ChangeInForce, now).await?;
    tx.commit().await?;
    Ok(())
}

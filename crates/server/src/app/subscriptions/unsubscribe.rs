//! Unsubscribe with refunds (seller interface spec: releaseInstance,
//! refreshInstance `UNSUBSCRIBE_RENEWAL_PERIOD`).
//!
//! `POST /api/v1/buyer/subscriptions/{id}/unsubscribe` with
//! `{"scope": "subscription" | "renewal_periods", "reason"?}` and optional
//! `Idempotency-Key`. One write transaction decides and moves everything;
//! the seller is told afterwards by a job.
//!
//! **Amounts** follow `mercato_domain::refunds` (five-day full refund, at
//! most 10 per buyer per UTC year; otherwise pro-rata of the unused part;
//! renewal periods refunded in full). What was paid is read from the payment
//! entries of the subscription's lines (purchase, renewals, upgrades, trial
//! conversions); what was refunded from the `refunds` records, so a refund
//! never exceeds paid minus refunded.
//!
//! **The refund order** (only when money moves): an order in status
//! `refunded` for the amount refunded, with one line of kind `unsubscribe`
//! naming the subscription (a copy of the purchase line with the amount
//! refunded), its `payment_entry_id` the refund entry. The entry
//! (`EntryKind::Refund`, reference: the refund order) debits the seller's
//! payable and the platform's commission (split by
//! `refunds::split_refund`) and credits the buyer's wallet. A `refunds` row
//! records scope, rule and split. Trials, pay-per-use subscriptions and
//! zero refunds create no order (`refund_order_id` null).
//!
//! **scope = subscription**: active or frozen subscriptions become released
//! with auto-renew off; job `unsubscribe_release` (reference: the
//! subscription) sends releaseInstance with the refund order and line (or
//! none), logged against the refund line (else the purchase line).
//! Provisioning: 409 `not_provisioned`; released or failed: 409
//! `subscription_ended`; one-time and package purchases after five days (or
//! with the yearly allowance used): 409 `not_refundable`.
//!
//! **scope = renewal_periods**: active period subscriptions only. Renewal
//! terms (recorded by each renewal in `renewal_terms`) starting at or after
//! now are refunded in full, the expiry moves back to the earliest such start,
//! the subscription stays active, and job `unsubscribe_refresh` (reference:
//! the refund line) sends refreshInstance `UNSUBSCRIBE_RENEWAL_PERIOD` with
//! the refund order, line and the new expireTime. None: 409
//! `no_renewal_periods`.
//!
//! **Concurrency.** The subscription row is claimed first (a conditional
//! update on the status and expiry read), so of two concurrent unsubscribes
//! one waits and then finds the subscription changed (409
//! `subscription_changed` or `subscription_ended`): the money moves once.
//! The yearly five-day allowance is taken with a conditional increment; a
//! request that loses the last one falls back to pro-rata. Seller calls are
//! retried under [`RetryPolicy::LIFECYCLE`] (1 hour); giving up is logged for
//! an operator, Mercato's state stays as decided. Since the subscription is
//! released, the lifecycle expiry scan (which looks only at active and
//! frozen subscriptions) never releases it a second time.

use crate::app::error::{AppError, AppResult};
use crate::app::ledger::post_entry;
use crate::app::orders::transition_subscription;
use crate::app::outbox::{JobOutcome, JobView, RetryPolicy};
use crate::app::subscriptions::follow_up;
use crate::app::subscriptions::seller_calls::{Endpoint, InstanceTarget, instance_target};
use crate::auth::Principal;
use crate::state::AppState;
use chrono::{DateTime, Utc};
use koo::BasicCall;
use koo::calls::{RefreshInstance, RefreshScene, ReleaseInstance};
use mercato_domain::catalog::ChargingMode;
use mercato_domain::channel::pricing::Discounts;
use mercato_domain::ledger::{
    Entry, EntryKind, Line, PLATFORM_COMMISSION, buyer_wallet, partner_payable, seller_payable,
};
use mercato_domain::orders::{self as rules, LineKind, OrderStatus, Period, SubscriptionEvent, SubscriptionStatus};
use mercato_domain::refunds::{self, Charged, FULL_REFUNDS_PER_YEAR, Parts, RefundRule, RenewalTerm, UnsubscribeScope};
use mercato_store::entity::{order_line, refund, renewal_term, subscription};
use mercato_store::repo::{ledger as ledger_repo, orders as repo, refunds as refund_repo};
use mercato_store::{Executor, Tx};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Job kinds.
pub const UNSUBSCRIBE_RELEASE: &str = "unsubscribe_release";
pub const UNSUBSCRIBE_REFRESH: &str = "unsubscribe_refresh";
/// Longest reason accepted.
pub const REASON_MAX: usize = 500;

/// `POST /api/v1/buyer/subscriptions/{id}/unsubscribe`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Unsubscribe {
    /// `subscription` (end it) or `renewal_periods` (refund renewal terms
    /// not started yet and keep it).
    pub scope: UnsubscribeScope,
    /// Why, for the seller and operators (at most 500 characters).
    #[serde(default)]
    pub reason: Option<String>,
}

/// What an unsubscribe did.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct UnsubscribeView {
    pub subscription_id: String,
    pub scope: UnsubscribeScope,
    /// The rule the amount was computed by.
    pub rule: RefundRule,
    /// Money back to the wallet (0 when nothing was refunded).
    pub amount_minor: i64,
    pub currency: String,
    /// The refund order (status `refunded`), when money moved.
    pub refund_order_id: Option<String>,
    pub refund_order_line_id: Option<String>,
    /// The subscription afterwards.
    pub status: SubscriptionStatus,
    pub expires_at: Option<DateTime<Utc>>,
    pub auto_renew: bool,
}

#[derive(Debug, Serialize, Deserialize)]
struct Payload {
    subscription_id: String,
    /// The line the calls are logged against.
    order_line_id: String,
    /// The refund order and line sent to the seller, if any.
    #[serde(default)]
    refund_order_id: Option<String>,
    #[serde(default)]
    refund_line_id: Option<String>,
    #[serde(default)]
    expires_at: Option<DateTime<Utc>>,
}

fn changed() -> AppError {
    AppError::conflict("subscription_changed", "the subscription changed meanwhile; try again")
}

/// Unsubscribes for the buyer (see the module documentation), in `tx`.
pub async fn unsubscribe(
    state: &AppState,
    tx: &Tx,
    buyer: &Principal,
    id: &str,
    req: Unsubscribe,
) -> AppResult<UnsubscribeView> {
    let reason = req.reason.as_deref().map(str::trim).filter(|r| !r.is_empty()).map(str::to_string);
    if reason.as_ref().is_some_and(|r| r.chars().count() > REASON_MAX) {
        return Err(AppError::field("reason", format!("at most {REASON_MAX} characters")));
    }
    let sub = repo::find_subscription_for_buyer(tx, &buyer.account_id, id)
        .await?
        .ok_or_else(|| AppError::not_found("subscription"))?;
    let now = state.now();
    match req.scope {
        UnsubscribeScope::Subscription => end_subscription(tx, &sub, reason, now).await,
        UnsubscribeScope::RenewalPeriods => refund_renewals(tx, &sub, reason, now).await,
    }
}

/// Checks the state and claims the row (see the module documentation).
async fn claim(tx: &impl Executor, sub: &subscription::Model, now: DateTime<Utc>) -> AppResult<SubscriptionStatus> {
    let status = sub.status;
    match status {
        SubscriptionStatus::Active | SubscriptionStatus::Frozen => {}
        SubscriptionStatus::Provisioning => {
            return Err(AppError::conflict("not_provisioned", "the subscription is not provisioned yet"));
        }
        other => {
            return Err(AppError::conflict("subscription_ended", format!("the subscription is {other} already")));
        }
    }
    if !refund_repo::claim_subscription(tx, &sub.id, status, sub.expires_at, now).await? {
        return Err(changed());
    }
    Ok(status)
}

/// What the subscription's payments split into, what its refunds took back,
/// and the purchase order's payment time.
struct Money {
    paid: Parts,
    refunded: Parts,
    currency: String,
    purchase_paid_at: DateTime<Utc>,
}

impl Money {
    fn refundable(&self) -> AppResult<i64> {
        let p = self.paid.total().ok_or_else(|| AppError::inconsistent("paid overflows"))?;
        let r = self.refunded.total().ok_or_else(|| AppError::inconsistent("refunds overflow"))?;
        Ok((p - r).max(0))
    }
}

async fn money(tx: &impl Executor, sub: &subscription::Model) -> AppResult<Money> {
    let purchase = repo::find_order(tx, &sub.order_id)
        .await?
        .ok_or_else(|| AppError::inconsistent("subscription without order"))?;
    let purchase_paid_at = purchase.paid_at.unwrap_or(purchase.created_at);
    let mut entry_ids = Vec::new();
    let mut currency = None;
    for line in refund_repo::paid_lines(tx, sub).await? {
        currency.get_or_insert(line.currency.clone());
        let Some(o) = repo::find_order(tx, &line.order_id).await? else { continue };
        let status = o.status;
        // Refunded orders (failed deliveries) already gave their money back.
        if !status.is_paid() || status == OrderStatus::Refunded {
            continue;
        }
        if let Some(e) = o.payment_entry_id
            && !entry_ids.contains(&e)
        {
            entry_ids.push(e);
        }
    }
    let line = repo::find_line(tx, &sub.order_line_id)
        .await?
        .ok_or_else(|| AppError::inconsistent("subscription without line"))?;
    let seller_account = seller_payable(&sub.seller_id);
    let partner_account = line.partner_id.as_deref().map(partner_payable);
    let mut paid = Parts::default();
    for l in ledger_repo::lines_of(tx, &entry_ids).await? {
        if l.account == seller_account {
            paid.seller_minor =
                paid.seller_minor.checked_add(l.credit_minor).ok_or_else(|| AppError::inconsistent("overflow"))?;
        } else if l.account == PLATFORM_COMMISSION {
            paid.commission_minor =
                paid.commission_minor.checked_add(l.credit_minor).ok_or_else(|| AppError::inconsistent("overflow"))?;
        } else if partner_account.as_ref() == Some(&l.account) {
            paid.partner_minor =
                paid.partner_minor.checked_add(l.credit_minor).ok_or_else(|| AppError::inconsistent("overflow"))?;
        }
    }
    let mut refunded = Parts::default();
    for r in refund_repo::refunds_of(tx, &sub.id).await? {
        refunded.seller_minor += r.seller_minor;
        refunded.commission_minor += r.commission_minor;
        refunded.partner_minor += r.partner_minor;
    }
    Ok(Money { paid, refunded, currency: currency.unwrap_or(line.currency), purchase_paid_at })
}

/// How the subscription is charged now: the latest purchase, upgrade or
/// conversion line gives the specification and quantity.
async fn charged(tx: &impl Executor, sub: &subscription::Model) -> AppResult<Charged> {
    let lines = refund_repo::paid_lines(tx, sub).await?;
    let current = lines
        .iter()
        .rev()
        .find(|l| matches!(l.kind, LineKind::Purchase | LineKind::Upgrade | LineKind::Conversion))
        .ok_or_else(|| AppError::inconsistent("subscription without purchase line"))?;
    if sub.trial {
        return Ok(Charged::Trial);
    }
    Ok(match sub.charging_mode {
        ChargingMode::OnDemand => Charged::OnDemand,
        ChargingMode::OneTime | ChargingMode::OnDemandPkg => Charged::OneTime,
        ChargingMode::Period => {
            let period = sub
                .period
                .or(current.period)
                .ok_or_else(|| AppError::inconsistent("period subscription without period"))?;
            let spec = &current.sku_spec;
            let unit = match period {
                Period::Month => spec.prices.month_minor,
                Period::Year => spec.prices.year_minor,
            };
            // A spec no longer priced in this unit: derive it from the other one.
            let unit = unit
                .or_else(|| match period {
                    Period::Month => spec.prices.year_minor.map(|y| y / 12),
                    Period::Year => spec.prices.month_minor.and_then(|m| m.checked_mul(12)),
                })
                .ok_or_else(|| AppError::inconsistent("period spec without prices"))?;
            let list_price =
                unit.checked_mul(current.quantity).ok_or_else(|| AppError::inconsistent("price overflows"))?;
            let price_minor = refunds::discounted(list_price, current.amount_minor, current.list_minor)
                .ok_or_else(|| AppError::inconsistent("price overflows"))?;
            let expires_at =
                sub.expires_at.ok_or_else(|| AppError::inconsistent("period subscription without expiry"))?;
            Charged::Period { price_minor, period, expires_at }
        }
    })
}

/// A refund order of `amount` for `sub`, its entry and its record, in `tx`.
/// Returns (order id, line id).
#[allow(clippy::too_many_arguments)]
async fn post_refund(
    tx: &impl Executor,
    sub: &subscription::Model,
    m: &Money,
    amount: i64,
    scope: UnsubscribeScope,
    rule: RefundRule,
    reason: Option<String>,
    now: DateTime<Utc>,
) -> AppResult<(String, String)> {
    let split = refunds::split_refund(m.paid, m.refunded, amount).map_err(AppError::internal)?;
    let orig = repo::find_line(tx, &sub.order_line_id)
        .await?
        .ok_or_else(|| AppError::inconsistent("subscription without line"))?;
    let o = follow_up::order_row(&sub.buyer_id, OrderStatus::Refunded, amount, &m.currency, now);
    let mut o = follow_up::insert_order(tx, o).await?;
    let line = order_line::Model {
        id: rules::order_line_id(&o.id, 1),
        order_id: o.id.clone(),
        line_no: 1,
        kind: LineKind::Unsubscribe,
        renews_subscription_id: Some(sub.id.clone()),
        amount_minor: amount,
        currency: m.currency.clone(),
        auto_renew: false,
        created_at: now,
        list_minor: amount,
        gross_minor: amount,
        discounts: Discounts::default(),
        ..orig
    };
    repo::insert_line(tx, line.clone()).await?;
    let mut lines = vec![Line::credit(buyer_wallet(&sub.buyer_id), &m.currency, amount)];
    if split.seller_minor > 0 {
        lines.push(Line::debit(seller_payable(&sub.seller_id), &m.currency, split.seller_minor));
    }
    if split.commission_minor > 0 {
        lines.push(Line::debit(PLATFORM_COMMISSION, &m.currency, split.commission_minor));
    }
    if let (Some(partner), true) = (line.partner_id.as_deref(), split.partner_minor > 0) {
        lines.push(Line::debit(partner_payable(partner), &m.currency, split.partner_minor));
    }
    let memo = format!("unsubscribe refund, {rule} (order {}, subscription {})", o.id, sub.id);
    let entry = Entry::new(EntryKind::Refund, &o.id, memo, lines).map_err(AppError::internal)?;
    let entry_id = post_entry(tx, &entry, now).await?;
    repo::set_payment_entry(tx, &o.id, &entry_id).await?;
    o.payment_entry_id = Some(entry_id);
    refund_repo::insert_refund(
        tx,
        refund::Model {
            order_id: o.id.clone(),
            order_line_id: line.id.clone(),
            subscription_id: sub.id.clone(),
            buyer_id: sub.buyer_id.clone(),
            scope,
            rule,
            amount_minor: amount,
            seller_minor: split.seller_minor,
            commission_minor: split.commission_minor,
            currency: m.currency.clone(),
            reason,
            created_at: now,
            partner_minor: split.partner_minor,
        },
    )
    .await?;
    Ok((o.id, line.id))
}

/// scope = subscription.
async fn end_subscription(
    tx: &impl Executor,
    sub: &subscription::Model,
    reason: Option<String>,
    now: DateTime<Utc>,
) -> AppResult<UnsubscribeView> {
    claim(tx, sub, now).await?;
    let charged = charged(tx, sub).await?;
    let m = money(tx, sub).await?;
    let refundable = m.refundable()?;
    let year = refunds::refund_year(now);
    let used = refund_repo::full_refunds_used(tx, &sub.buyer_id, year).await?;
    let decide = |used: i64| {
        refunds::unsubscribe_refund(charged, refundable, m.purchase_paid_at, now, used).map_err(|e| match e {
            refunds::RefundError::NotRefundable => AppError::conflict("not_refundable", e.to_string()),
            other => AppError::internal(other),
        })
    };
    let (mut rule, mut amount) = decide(used)?;
    if rule == RefundRule::FiveDayFull
        && !refund_repo::take_full_refund(tx, &sub.buyer_id, year, FULL_REFUNDS_PER_YEAR).await?
    {
        // A concurrent unsubscribe took the last allowance of the year.
        (rule, amount) = decide(FULL_REFUNDS_PER_YEAR)?;
    }
    let refund = if amount > 0 {
        Some(post_refund(tx, sub, &m, amount, UnsubscribeScope::Subscription, rule, reason, now).await?)
    } else {
        None
    };
    transition_subscription(tx, &sub.id, SubscriptionEvent::Release, now).await?;
    repo::set_auto_renew(tx, &sub.id, false, now).await?;
    let payload = Payload {
        subscription_id: sub.id.clone(),
        order_line_id: refund.as_ref().map_or_else(|| sub.order_line_id.clone(), |r| r.1.clone()),
        refund_order_id: refund.as_ref().map(|r| r.0.clone()),
        refund_line_id: refund.as_ref().map(|r| r.1.clone()),
        expires_at: None,
    };
    crate::app::outbox::enqueue(tx, UNSUBSCRIBE_RELEASE, &sub.id, &payload, now, now).await?;
    tracing::info!(subscription = %sub.id, %rule, amount, "unsubscribed");
    Ok(UnsubscribeView {
        subscription_id: sub.id.clone(),
        scope: UnsubscribeScope::Subscription,
        rule,
        amount_minor: amount,
        currency: m.currency,
        refund_order_id: refund.as_ref().map(|r| r.0.clone()),
        refund_order_line_id: refund.map(|r| r.1),
        status: SubscriptionStatus::Released,
        expires_at: sub.expires_at,
        auto_renew: false,
    })
}

/// scope = renewal_periods.
async fn refund_renewals(
    tx: &impl Executor,
    sub: &subscription::Model,
    reason: Option<String>,
    now: DateTime<Utc>,
) -> AppResult<UnsubscribeView> {
    let status = claim(tx, sub, now).await?;
    let none =
        || AppError::conflict("no_renewal_periods", "the subscription has no renewal period that has not started");
    if status != SubscriptionStatus::Active {
        return Err(none());
    }
    let open = refund_repo::open_renewal_terms(tx, &sub.id).await?;
    let terms: Vec<RenewalTerm> =
        open.iter().map(|t| RenewalTerm { starts_at: t.starts_at, amount_minor: t.amount_minor }).collect();
    let (picked, total, new_expiry) = refunds::unstarted_renewals(&terms, now).ok_or_else(none)?;
    let m = money(tx, sub).await?;
    let amount = total.min(m.refundable()?);
    if amount == 0 {
        return Err(AppError::conflict("nothing_to_refund", "everything paid was refunded already"));
    }
    let rule = RefundRule::RenewalPeriods;
    let (order_id, line_id) =
        post_refund(tx, sub, &m, amount, UnsubscribeScope::RenewalPeriods, rule, reason, now).await?;
    let picked_ids: Vec<String> = picked.iter().map(|&i| open[i].order_line_id.clone()).collect();
    if refund_repo::mark_terms_refunded(tx, &picked_ids, &order_id).await? != picked_ids.len() as u64 {
        return Err(changed());
    }
    repo::set_expires_at(tx, &sub.id, Some(new_expiry), now).await?;
    let payload = Payload {
        subscription_id: sub.id.clone(),
        order_line_id: line_id.clone(),
        refund_order_id: Some(order_id.clone()),
        refund_line_id: Some(line_id.clone()),
        expires_at: Some(new_expiry),
    };
    crate::app::outbox::enqueue(tx, UNSUBSCRIBE_REFRESH, &line_id, &payload, now, now).await?;
    tracing::info!(subscription = %sub.id, amount, %new_expiry, "renewal periods refunded");
    Ok(UnsubscribeView {
        subscription_id: sub.id.clone(),
        scope: UnsubscribeScope::RenewalPeriods,
        rule,
        amount_minor: amount,
        currency: m.currency,
        refund_order_id: Some(order_id),
        refund_order_line_id: Some(line_id),
        status: SubscriptionStatus::Active,
        expires_at: Some(new_expiry),
        auto_renew: sub.auto_renew,
    })
}

/// Records the term a renewal bought (called by `lifecycle::renew_in` in its
/// transaction), so its period can be refunded before it starts.
pub async fn record_renewal_term(
    tx: &impl Executor,
    subscription_id: &str,
    line: &order_line::Model,
    starts_at: DateTime<Utc>,
    ends_at: DateTime<Utc>,
) -> AppResult<()> {
    refund_repo::insert_renewal_term(
        tx,
        renewal_term::Model {
            order_line_id: line.id.clone(),
            subscription_id: subscription_id.to_string(),
            starts_at,
            ends_at,
            amount_minor: line.amount_minor,
            refund_order_id: None,
        },
    )
    .await?;
    Ok(())
}

// ---------------------------------------------------------------- jobs

pub async fn release_job(state: AppState, job: JobView) -> JobOutcome {
    run(&state, &job, false).await
}

pub async fn refresh_job(state: AppState, job: JobView) -> JobOutcome {
    run(&state, &job, true).await
}

async fn run(state: &AppState, job: &JobView, refresh: bool) -> JobOutcome {
    let outcome = match attempt(state, job, refresh).await {
        Ok(o) => o,
        Err(e) => RetryPolicy::LIFECYCLE.outcome(job, state.now(), format!("unsubscribe error: {}", e.report())),
    };
    if let JobOutcome::Dead { error } = &outcome {
        tracing::error!(job = %job.id, kind = %job.kind, reference = %job.reference, %error,
            "unsubscribe call given up; the seller's instance may disagree with Mercato");
    }
    outcome
}

async fn attempt(state: &AppState, job: &JobView, refresh: bool) -> AppResult<JobOutcome> {
    let p: Payload = job.payload().map_err(|e| AppError::internal(format!("bad job payload: {e}")))?;
    let InstanceTarget { sub, ctx, instance_id } =
        match instance_target(state, &p.subscription_id, &p.order_line_id).await? {
            Ok(target) => target,
            Err(dead) => return Ok(dead),
        };
    let Some(endpoint) = Endpoint::of_product(state, &sub.product_id).await? else {
        return Ok(RetryPolicy::LIFECYCLE.outcome(job, state.now(), "the product has no seller endpoint"));
    };
    let call = if refresh {
        let (Some(order_id), Some(order_line_id), Some(expires_at)) =
            (p.refund_order_id, p.refund_line_id, p.expires_at)
        else {
            return Ok(JobOutcome::Dead { error: "refresh without refund order or expiry".into() });
        };
        (
            "refreshInstance",
            BasicCall::RefreshInstance(RefreshInstance {
                scene: RefreshScene::UnsubscribeRenewalPeriod,
                order_id,
                order_line_id,
                instance_id,
                product_id: None,
                expire_time: crate::app::subscriptions::lifecycle::expire_time(expires_at),
                test_flag: None,
            }),
        )
    } else {
        (
            "releaseInstance",
            BasicCall::ReleaseInstance(ReleaseInstance {
                instance_id,
                order_id: p.refund_order_id,
                order_line_id: p.refund_line_id,
                test_flag: None,
            }),
        )
    };
    // Both calls are idempotent at the seller, so a retry repeats them.
    if let Err(why) = endpoint.send_all(state, &ctx, job, std::slice::from_ref(&call)).await? {
        return Ok(RetryPolicy::LIFECYCLE.outcome(job, state.now(), why));
    }
    Ok(JobOutcome::Done)
}

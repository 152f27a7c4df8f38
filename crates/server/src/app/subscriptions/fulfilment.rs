//! Fulfilment of new purchases through the seller's own server (seller
//! interface spec §2, §5, §8): the `fulfil_new_instance` job that paying
//! enqueues per order line.
//!
//! One attempt:
//!
//! 1. load the line; a subscription no longer `provisioning` (active or
//!    failed) means another attempt finished the work: done (idempotent);
//! 2. move the order paid -> fulfilling (first attempt);
//! 3. without an instance id yet, call `newInstance` (orderId, orderLineId,
//!    a fresh businessId per call; the seller deduplicates by orderId +
//!    orderLineId, so a repeated call returns the same instance); with one
//!    (an earlier `000004`, or a success whose appInfo could not be read),
//!    go straight to `queryInstance`;
//! 4. `000000`: `queryInstance` for the appInfo, then in one write
//!    transaction store instance id and appInfo (the password encrypted),
//!    activate the subscription and complete the order once all its lines
//!    are active. `000004`: store the instance id and poll `queryInstance`
//!    (10 s, doubling to 2 min) until the appInfo shows;
//! 5. a business refusal (000100-000107, to newInstance or to a
//!    queryInstance polling an instance in progress): fail the subscription and the
//!    order and refund the buyer at once: one balanced entry reversing the
//!    payment entry's lines (buyer wallet credited back, seller payable and
//!    platform commission debited), order -> refunded, all in one write
//!    transaction;
//! 6. anything else (transport errors, HTTP 5xx, unparseable answers,
//!    000005, unknown codes, and also the "rejected" 000001/000002/000003,
//!    which the seller may fix by correcting its key or server) is retried
//!    with [`RetryPolicy::PURCHASE`] backoff for up to 3 hours from the
//!    first attempt; then the purchase fails and is refunded as in 5;
//! 7. failing a purchase whose subscription already has an instance id
//!    (an earlier `000004`, or a success whose appInfo never came) also
//!    enqueues, in the refund's transaction, a `release_abandoned_instance`
//!    job: `releaseInstance` of that id, retried under
//!    [`RetryPolicy::LIFECYCLE`], so the seller is not left holding an
//!    instance whose money was returned. (A purchase whose newInstance
//!    never answered leaves no id to release; the seller's own
//!    reconciliation by orderId is the remedy there.)
//!
//! Every call is recorded as an interface message (what was sent and what
//! came back); no transaction is held across a call. The state changes are
//! conditional on the state read (`provisioning` subscription), so two
//! workers running the same job cannot both activate or both refund.
//! An order currently has one line, so failing a line refunds the order.

use crate::app::error::{AppError, AppResult};
use crate::app::ledger::post_reversal;
use crate::app::orders::{LineContext, complete_delivered, line_context, transition_order, transition_subscription};
use crate::app::outbox::{JobOutcome, JobView, RetryPolicy};
use crate::app::subscriptions::seller_calls::{Endpoint, Sent, describe};
use crate::state::AppState;
use chrono::{DateTime, Utc};
use koo::calls::{AppInfo, NewInstance, QueryInstance, QueryInstanceResponse, ReleaseInstance};
use koo::client::CallOutcome;
use koo::{CodeClass, ResultCode};
use mercato_domain::delivery::DeliveredBy;
use mercato_domain::orders::{OrderEvent, OrderStatus, SubscriptionEvent, SubscriptionStatus};
use mercato_domain::redaction::redact;
use mercato_store::Executor;
use mercato_store::entity::{interface_message, subscription_app_info};
use mercato_store::repo::{interface_messages as messages, orders as order_repo};
use serde::Deserialize;
use std::time::Duration;

/// The job kind releasing the instance of a purchase that failed after the
/// seller created one.
pub const RELEASE_ABANDONED_INSTANCE: &str = "release_abandoned_instance";
/// Encryption field of the appInfo password.
pub const APP_PASSWORD_FIELD: &str = "subscriptions.app_password";
/// Polling an asynchronous provisioning: 10 s, doubling to 2 min, within
/// the purchase deadline.
const POLL: RetryPolicy = RetryPolicy {
    first: Duration::from_secs(10),
    max: Duration::from_secs(120),
    jitter: 0.2,
    deadline: RetryPolicy::PURCHASE.deadline,
};

#[derive(Debug, Deserialize)]
struct Payload {
    order_line_id: String,
}

/// The `fulfil_new_instance` job handler.
pub async fn fulfil_new_instance(state: AppState, job: JobView) -> JobOutcome {
    match attempt(&state, &job).await {
        Ok(outcome) => outcome,
        Err(e) => {
            let error = format!("fulfilment error: {}", e.report());
            match RetryPolicy::PURCHASE.outcome(&job, state.now(), error.clone()) {
                JobOutcome::Dead { error } => give_up(&state, &job, error).await,
                other => other,
            }
        }
    }
}

/// Retries with `policy`, or fails and refunds the purchase once its
/// deadline has passed.
async fn retry_or_give_up(state: &AppState, job: &JobView, policy: RetryPolicy, error: String) -> JobOutcome {
    match policy.outcome(job, state.now(), error) {
        JobOutcome::Dead { error } => give_up(state, job, error).await,
        other => other,
    }
}

async fn give_up(state: &AppState, job: &JobView, error: String) -> JobOutcome {
    let Ok(p) = job.payload::<Payload>() else { return JobOutcome::Dead { error } };
    match fail_and_refund(state, &p.order_line_id).await {
        Ok(refunded) => {
            if refunded {
                crate::app::notifications::interface_failed(state, &p.order_line_id).await;
            }
            JobOutcome::Dead { error }
        }
        Err(e) => JobOutcome::Dead { error: format!("{error}; the refund failed: {}", e.report()) },
    }
}

async fn attempt(state: &AppState, job: &JobView) -> AppResult<JobOutcome> {
    let p: Payload = job.payload().map_err(|e| AppError::internal(format!("bad job payload: {e}")))?;
    let Some(ctx) = line_context(&state.db.conn, &p.order_line_id).await? else {
        return Ok(JobOutcome::Dead { error: format!("no order line {}", p.order_line_id) });
    };
    let Some(sub) = ctx.subscription.clone() else {
        return Ok(JobOutcome::Dead { error: "the order line has no subscription".into() });
    };
    if sub.status != SubscriptionStatus::Provisioning {
        return Ok(JobOutcome::Done);
    }
    start_fulfilment(state, &ctx.order.id).await?;

    let Some(endpoint) = Endpoint::of_product(state, &ctx.line.product_id).await? else {
        return Ok(
            retry_or_give_up(state, job, RetryPolicy::PURCHASE, "the product has no seller endpoint".into()).await
        );
    };

    let instance_id = match sub.instance_id.clone() {
        Some(id) => id,
        None => {
            let body = NewInstance {
                order_id: ctx.order.id.clone(),
                order_line_id: ctx.line.id.clone(),
                business_id: uuid::Uuid::new_v4().simple().to_string(),
                test_flag: None,
            };
            let body = koo::BasicCall::NewInstance(body);
            let Sent { result, outcome } = endpoint.send(state, &ctx, job, "newInstance", &body).await?;
            let exchange = match result {
                Ok(x) => x,
                Err(e) => return Ok(retry_or_give_up(state, job, RetryPolicy::PURCHASE, e.to_string()).await),
            };
            let answered_id = match &exchange.outcome {
                CallOutcome::Answered { body, .. } => body.get("instanceId").and_then(|v| v.as_str()).map(String::from),
                _ => None,
            };
            match (outcome, answered_id) {
                (messages::SUCCESS | messages::IN_PROGRESS, Some(id)) if !id.is_empty() => {
                    store_instance(state, &sub.id, &id).await?;
                    if outcome == messages::IN_PROGRESS {
                        return Ok(poll_later(state, job, "provisioning in progress (000004)").await);
                    }
                    id
                }
                (messages::REFUSED, _) => {
                    let code = exchange.outcome.code().map(|c| c.as_str().to_string()).unwrap_or_default();
                    if fail_and_refund(state, &ctx.line.id).await? {
                        crate::app::notifications::interface_failed(state, &ctx.line.id).await;
                    }
                    return Ok(JobOutcome::Dead { error: format!("the seller refused the purchase ({code})") });
                }
                _ => {
                    let error = describe(&exchange.outcome);
                    return Ok(retry_or_give_up(state, job, RetryPolicy::PURCHASE, error).await);
                }
            }
        }
    };

    // queryInstance for the appInfo.
    let body = koo::BasicCall::QueryInstance(QueryInstance { instance_id: instance_id.clone(), test_flag: None });
    let exchange = match endpoint.send(state, &ctx, job, "queryInstance", &body).await?.result {
        Ok(x) => x,
        Err(e) => return Ok(retry_or_give_up(state, job, RetryPolicy::PURCHASE, e.to_string()).await),
    };
    let app_info = match &exchange.outcome {
        CallOutcome::Answered { code: ResultCode::Success, body, .. } => {
            serde_json::from_value::<QueryInstanceResponse>(body.clone())
                .ok()
                .and_then(|r| r.info.into_iter().find(|i| i.instance_id == instance_id))
                .and_then(|i| i.app_info)
        }
        _ => None,
    };
    match app_info {
        Some(info) => {
            activate(state, &ctx, &instance_id, &info).await?;
            Ok(JobOutcome::Done)
        }
        None if matches!(exchange.outcome, CallOutcome::Answered { code: ResultCode::Success, .. }) => {
            Ok(poll_later(state, job, "the instance has no appInfo yet").await)
        }
        // The seller gave up provisioning (000100-000107 while polling):
        // fail and refund at once, and release what it created (item 7).
        None if exchange.outcome.code().is_some_and(|c| c.class() == CodeClass::Refused) => {
            let code = exchange.outcome.code().map(|c| c.as_str().to_string()).unwrap_or_default();
            if fail_and_refund(state, &ctx.line.id).await? {
                crate::app::notifications::interface_failed(state, &ctx.line.id).await;
            }
            Ok(JobOutcome::Dead { error: format!("the seller refused the purchase while provisioning ({code})") })
        }
        None => Ok(retry_or_give_up(state, job, RetryPolicy::PURCHASE, describe(&exchange.outcome)).await),
    }
}

async fn poll_later(state: &AppState, job: &JobView, why: &str) -> JobOutcome {
    retry_or_give_up(state, job, POLL, why.to_string()).await
}

async fn start_fulfilment(state: &AppState, order_id: &str) -> AppResult<()> {
    let tx = state.db.write().await?;
    let o = order_repo::find_order(&tx, order_id).await?.ok_or_else(|| AppError::not_found("order"))?;
    if o.status == OrderStatus::Paid {
        match transition_order(&tx, order_id, OrderEvent::StartFulfilment, state.now()).await {
            Ok(_) => tx.commit().await?,
            // Another worker started it first.
            Err(e) if lost_race(&e) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

async fn store_instance(state: &AppState, subscription_id: &str, instance_id: &str) -> AppResult<()> {
    let tx = state.db.write().await?;
    let s = order_repo::find_subscription(&tx, subscription_id).await?;
    if s.is_some_and(|s| s.instance_id.is_none() && s.status == SubscriptionStatus::Provisioning) {
        order_repo::set_instance(&tx, subscription_id, instance_id, state.now()).await?;
        tx.commit().await?;
    }
    Ok(())
}

/// Whether an error is the guard of a conditional transition (another
/// worker moved the row first).
fn lost_race(e: &AppError) -> bool {
    e.code() == "invalid_transition"
}

/// Stores the instance and appInfo, activates the subscription and
/// completes the order once every line is active: one transaction, guarded
/// by the subscription still provisioning.
async fn activate(state: &AppState, ctx: &LineContext, instance_id: &str, info: &AppInfo) -> AppResult<()> {
    let Some(sub) = &ctx.subscription else { return Ok(()) };
    let now = state.now();
    let tx = state.db.write().await?;
    match transition_subscription(&tx, &sub.id, SubscriptionEvent::Activate, now).await {
        Ok(_) => {}
        Err(e) if lost_race(&e) => return Ok(()),
        Err(e) => return Err(e),
    }
    order_repo::set_instance(&tx, &sub.id, instance_id, now).await?;
    messages::upsert_app_info(
        &tx,
        subscription_app_info::Model {
            subscription_id: sub.id.clone(),
            front_end_url: info.front_end_url.clone(),
            admin_url: info.admin_url.clone(),
            user_name: info.user_name.clone(),
            password_enc: info.password.as_deref().map(|p| state.crypto.encrypt(APP_PASSWORD_FIELD, p)),
            memo: info.memo.clone(),
            updated_at: now,
        },
    )
    .await?;
    let subs = order_repo::subscriptions_of_orders(&tx, std::slice::from_ref(&ctx.order.id)).await?;
    if subs.iter().all(|s| s.status == SubscriptionStatus::Active) {
        complete_delivered(&tx, &ctx.order.id, DeliveredBy::InstanceProvisioned, now).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Fails the line's subscription and its order and refunds the payment in
/// full: one transaction, guarded by the subscription still provisioning
/// (so two workers cannot both refund). Returns whether this call did it.
pub async fn fail_and_refund(state: &AppState, line_id: &str) -> AppResult<bool> {
    let now = state.now();
    let tx = state.db.write().await?;
    let Some(ctx) = line_context(&tx, line_id).await? else { return Ok(false) };
    let Some(sub) = &ctx.subscription else { return Ok(false) };
    match transition_subscription(&tx, &sub.id, SubscriptionEvent::Fail, now).await {
        Ok(_) => {}
        Err(e) if lost_race(&e) => return Ok(false),
        Err(e) => return Err(e),
    }
    refund_order(&tx, &ctx.order.id, now).await?;
    // The seller may hold an instance (an earlier 000004, or a success whose
    // appInfo never came): release it, so no instance stays with the money
    // returned. Enqueued with the refund, so both happen or neither.
    if let Some(instance_id) = &sub.instance_id {
        let payload = ReleasePayload { order_line_id: line_id.to_string(), instance_id: instance_id.clone() };
        crate::app::outbox::enqueue(&tx, RELEASE_ABANDONED_INSTANCE, line_id, &payload, now, now).await?;
    }
    tx.commit().await?;
    crate::app::outbox::wake(state);
    tracing::info!(order = %ctx.order.id, line = %line_id, "purchase failed; buyer refunded");
    Ok(true)
}

#[derive(Debug, serde::Serialize, Deserialize)]
struct ReleasePayload {
    order_line_id: String,
    instance_id: String,
}

/// The `release_abandoned_instance` job handler: `releaseInstance` of the
/// instance a failed (refunded) purchase left at the seller, retried under
/// [`RetryPolicy::LIFECYCLE`]. Releasing is idempotent at the seller; an
/// instance the seller does not know (000003 after a release elsewhere)
/// keeps being retried until the deadline, then an operator is told in the
/// log and sees the dead job in the order view.
pub async fn release_abandoned_instance(state: AppState, job: JobView) -> JobOutcome {
    let outcome = match release_attempt(&state, &job).await {
        Ok(o) => o,
        Err(e) => RetryPolicy::LIFECYCLE.outcome(&job, state.now(), format!("release error: {}", e.report())),
    };
    if let JobOutcome::Dead { error } = &outcome {
        tracing::error!(job = %job.id, reference = %job.reference, %error,
            "releasing a failed purchase's instance was given up; the seller may still hold it");
    }
    outcome
}

async fn release_attempt(state: &AppState, job: &JobView) -> AppResult<JobOutcome> {
    let p: ReleasePayload = job.payload().map_err(|e| AppError::internal(format!("bad job payload: {e}")))?;
    let Some(ctx) = line_context(&state.db.conn, &p.order_line_id).await? else {
        return Ok(JobOutcome::Dead { error: format!("no order line {}", p.order_line_id) });
    };
    let Some(endpoint) = Endpoint::of_product(state, &ctx.line.product_id).await? else {
        return Ok(RetryPolicy::LIFECYCLE.outcome(job, state.now(), "the product has no seller endpoint"));
    };
    let body = koo::BasicCall::ReleaseInstance(ReleaseInstance {
        instance_id: p.instance_id,
        order_id: None,
        order_line_id: None,
        test_flag: None,
    });
    match endpoint.send_all(state, &ctx, job, &[("releaseInstance", body)]).await? {
        Ok(()) => Ok(JobOutcome::Done),
        Err(why) => Ok(RetryPolicy::LIFECYCLE.outcome(job, state.now(), why)),
    }
}

pub(crate) async fn refund_order(tx: &impl Executor, order_id: &str, now: DateTime<Utc>) -> AppResult<()> {
    let o = order_repo::find_order(tx, order_id).await?.ok_or_else(|| AppError::not_found("order"))?;
    let mut status = o.status;
    if status == OrderStatus::Paid {
        status = transition_order(tx, order_id, OrderEvent::StartFulfilment, now).await?;
    }
    if status == OrderStatus::Fulfilling {
        transition_order(tx, order_id, OrderEvent::Fail, now).await?;
    } else if status != OrderStatus::Failed {
        return Ok(());
    }
    if let Some(entry_id) = &o.payment_entry_id {
        post_reversal(tx, entry_id, order_id, format!("refund of order {order_id}"), now).await?;
    }
    transition_order(tx, order_id, OrderEvent::Refund, now).await?;
    // Never delivered: the offer and coupon go back (app::orders::deals).
    mercato_store::repo::deals::give_back_offer_and_coupons(tx, order_id, now).await?;
    Ok(())
}

// ---------------------------------------------------------------- the seller's view

/// One call to the seller's server, as the seller sees it.
#[derive(Debug, Clone, serde::Serialize, Deserialize, utoipa::ToSchema)]
pub struct InterfaceMessageView {
    /// `imsg_...`.
    pub id: String,
    pub product_id: String,
    pub order_id: String,
    pub order_line_id: String,
    /// `newInstance`, `queryInstance`...
    pub activity: String,
    /// The URL called (without the signature query).
    pub url: String,
    /// The exact body sent.
    pub request_body: String,
    /// HTTP status of the answer, if one came.
    pub response_status: Option<i64>,
    /// The answer (first 8 KiB), or the transport error.
    pub response_body: Option<String>,
    pub result_code: Option<String>,
    /// `success`, `in_progress`, `refused`, `retryable` or `rejected`.
    pub outcome: String,
    pub duration_ms: i64,
    /// The delivery attempt (1-based).
    pub attempt: i64,
    pub created_at: DateTime<Utc>,
}

/// Recorded bodies are redacted when stored; they are redacted again when
/// shown, so nothing recorded before a name joined the list is shown.
impl From<interface_message::Model> for InterfaceMessageView {
    fn from(m: interface_message::Model) -> Self {
        InterfaceMessageView {
            id: m.id,
            product_id: m.product_id,
            order_id: m.order_id,
            order_line_id: m.order_line_id,
            activity: m.activity,
            url: m.url,
            request_body: redact(&m.request_body).into_owned(),
            response_status: m.response_status,
            response_body: m.response_body.map(|b| redact(&b).into_owned()),
            result_code: m.result_code,
            outcome: m.outcome,
            duration_ms: m.duration_ms,
            attempt: m.attempt,
            created_at: m.created_at,
        }
    }
}

/// Which messages to list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum MessageFilter {
    /// Refused, retryable and rejected calls.
    Failed,
    /// Every call.
    #[default]
    All,
}

/// The seller's interface messages, newest first.
pub async fn list_messages(
    state: &AppState,
    seller: &crate::auth::Principal,
    filter: MessageFilter,
    paging: crate::app::page::Paging,
) -> AppResult<crate::app::page::Page<InterfaceMessageView>> {
    if paging.cursor.as_deref().is_some_and(|c| !c.starts_with("imsg_")) {
        return Err(AppError::field("cursor", "is not a cursor this API returned"));
    }
    let rows = messages::list_for_seller(
        &state.db.conn,
        &seller.account_id,
        filter == MessageFilter::Failed,
        paging.cursor.as_deref(),
        paging.limit + 1,
    )
    .await?;
    let rows: Vec<InterfaceMessageView> = rows.into_iter().map(Into::into).collect();
    Ok(paging.finish(rows, |m| m.id.clone(), |m| m))
}

/// Re-sends the purchase a message belongs to: makes its fulfilment job due
/// now (a pending retry runs at once, a dead job runs again; the 3-hour
/// deadline still counts from the first attempt). 409 `already_fulfilled`
/// when the line is provisioned, `purchase_failed` when it failed and was
/// refunded, `in_progress` while an attempt is running.
pub async fn resend(state: &AppState, seller: &crate::auth::Principal, id: &str) -> AppResult<InterfaceMessageView> {
    let m = messages::find(&state.db.conn, id)
        .await?
        .filter(|m| m.seller_id == seller.account_id)
        .ok_or_else(|| AppError::not_found("interface message"))?;
    let tx = state.db.write().await?;
    let ctx = line_context(&tx, &m.order_line_id).await?.ok_or_else(|| AppError::not_found("order line"))?;
    match ctx.subscription.as_ref().map(|s| s.status) {
        Some(SubscriptionStatus::Provisioning) => {}
        Some(SubscriptionStatus::Failed) => {
            return Err(AppError::conflict("purchase_failed", "this purchase failed and was refunded"));
        }
        _ => return Err(AppError::conflict("already_fulfilled", "this order line is already fulfilled")),
    }
    let job =
        mercato_store::repo::jobs::find_by_reference(&tx, crate::app::orders::FULFIL_NEW_INSTANCE, &m.order_line_id)
            .await?
            .ok_or_else(|| AppError::not_found("fulfilment job"))?;
    if !mercato_store::repo::jobs::requeue(&tx, &job.id, state.now()).await? {
        return Err(AppError::conflict("in_progress", "an attempt is running now; try again shortly"));
    }
    tx.commit().await?;
    crate::app::outbox::wake(state);
    Ok(m.into())
}

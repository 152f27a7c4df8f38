//! Calling a seller's server: the product's endpoint and key, sending basic
//! calls with the protocol client, and recording every attempt as an
//! interface message (what was sent, what came back, how long it took).
//! No transaction is held across a call.

use crate::app::error::{AppError, AppResult};
use crate::app::orders::{LineContext, line_context};
use crate::app::outbox::{JobOutcome, JobView};
use crate::app::products::ENDPOINT_KEY_FIELD;
use crate::state::AppState;
use chrono::Utc;
use koo::client::{CallOutcome, Client, ClientError, Exchange};
use koo::{BasicCall, CodeClass, ResultCode};
use mercato_domain::ids::InterfaceMessageId;
use mercato_domain::redaction::redact;
use mercato_store::entity::{interface_message, subscription};
use mercato_store::repo::{interface_messages as messages, orders, products};

/// Answers kept in an interface message, at most.
pub const MAX_LOGGED_BODY: usize = 8 * 1024;

/// What a lifecycle call about an existing instance is sent for: the
/// subscription, the order line the call is logged against, and the seller's
/// instance id.
pub struct InstanceTarget {
    pub sub: subscription::Model,
    pub ctx: LineContext,
    pub instance_id: String,
}

/// The target of a job's call, or the outcome that ends the job for good when
/// the subscription, the line or the instance is gone.
pub async fn instance_target(
    state: &AppState,
    subscription_id: &str,
    order_line_id: &str,
) -> AppResult<Result<InstanceTarget, JobOutcome>> {
    let Some(sub) = orders::find_subscription(&state.db.conn, subscription_id).await? else {
        return Ok(Err(JobOutcome::Dead { error: format!("no subscription {subscription_id}") }));
    };
    let Some(ctx) = line_context(&state.db.conn, order_line_id).await? else {
        return Ok(Err(JobOutcome::Dead { error: format!("no order line {order_line_id}") }));
    };
    let Some(instance_id) = sub.instance_id.clone() else {
        return Ok(Err(JobOutcome::Dead { error: "the subscription has no instance".into() }));
    };
    Ok(Ok(InstanceTarget { sub, ctx, instance_id }))
}

/// A product's seller endpoint, ready to call.
pub struct Endpoint {
    pub url: String,
    key: String,
    client: Client,
}

/// One call sent and recorded.
pub struct Sent {
    pub result: Result<Exchange, ClientError>,
    /// The stored outcome (`interface_messages::SUCCESS`, ...).
    pub outcome: &'static str,
}

impl Sent {
    /// Answered 000000.
    pub fn succeeded(&self) -> bool {
        matches!(&self.result, Ok(x) if matches!(x.outcome, CallOutcome::Answered { code: ResultCode::Success, .. }))
    }

    /// Why it did not succeed, for job errors.
    pub fn failure(&self) -> String {
        match &self.result {
            Ok(x) => describe(&x.outcome),
            Err(e) => e.to_string(),
        }
    }
}

impl Endpoint {
    /// The endpoint of `product_id`, or None when the product has none.
    pub async fn of_product(state: &AppState, product_id: &str) -> AppResult<Option<Endpoint>> {
        let product = products::find(&state.db.conn, product_id).await?;
        let Some((url, key_enc)) = product.and_then(|p| Some((p.endpoint_url?, p.endpoint_key_enc?))) else {
            return Ok(None);
        };
        let key = state.crypto.decrypt(ENDPOINT_KEY_FIELD, &key_enc).map_err(AppError::internal)?;
        let client = match state.seller_client.get() {
            Some(c) => c.clone(),
            None => {
                let c = Client::new(state.config.allow_insecure_endpoints, state.config.outbound_allow.clone())
                    .map_err(|e| AppError::internal(e.to_string()))?;
                state.seller_client.get_or_init(|| c).clone()
            }
        };
        Ok(Some(Endpoint { url, key, client }))
    }

    /// Sends `body` and records it against `ctx`'s order line.
    pub async fn send(
        &self,
        state: &AppState,
        ctx: &LineContext,
        job: &JobView,
        activity: &str,
        body: &BasicCall,
    ) -> AppResult<Sent> {
        let result = self.client.call_basic(&self.url, self.key.as_bytes(), body, signing_time_ms()).await;
        let outcome = record(state, ctx, job, activity, &self.url, &body.to_body(), &result).await?;
        Ok(Sent { result, outcome })
    }

    /// Sends `calls` in turn, stopping at the first that does not answer
    /// 000000: Err with why. Meant for calls the seller treats as
    /// idempotent, so a retry may repeat them all.
    pub async fn send_all(
        &self,
        state: &AppState,
        ctx: &LineContext,
        job: &JobView,
        calls: &[(&str, BasicCall)],
    ) -> AppResult<Result<(), String>> {
        for (activity, body) in calls {
            let sent = self.send(state, ctx, job, activity, body).await?;
            if !sent.succeeded() {
                return Ok(Err(format!("{activity}: {}", sent.failure())));
            }
        }
        Ok(Ok(()))
    }
}

/// The signature timestamp: wall-clock time, not `state.now()`. Sellers
/// check it against their own clock (60 s back, 5 s ahead), so under an
/// operator test clock moved forward every call would be refused as
/// signed in the future. Retries and deadlines follow `state.now()`.
pub fn signing_time_ms() -> i64 {
    Utc::now().timestamp_millis()
}

pub fn describe(outcome: &CallOutcome) -> String {
    match outcome {
        CallOutcome::Answered { code, body, .. } => {
            let msg = body.get("resultMsg").and_then(|v| v.as_str()).unwrap_or_default();
            format!("seller answered {} {msg}", code.as_str())
        }
        CallOutcome::HttpError { status, .. } => format!("seller answered HTTP {status}"),
        CallOutcome::Unparseable { http_status, .. } => format!("unparseable answer (HTTP {http_status})"),
        CallOutcome::Transport(e) => format!("transport error: {e}"),
    }
}

/// The stored outcome of a call.
fn classify(sent: &Result<Exchange, koo::client::ClientError>) -> &'static str {
    let Ok(x) = sent else { return messages::REJECTED };
    match &x.outcome {
        CallOutcome::Answered { code, .. } => match code.class() {
            CodeClass::Success => messages::SUCCESS,
            CodeClass::InProgress => messages::IN_PROGRESS,
            CodeClass::Refused => messages::REFUSED,
            CodeClass::Rejected => messages::REJECTED,
            CodeClass::Retryable => messages::RETRYABLE,
        },
        o if o.is_retryable() => messages::RETRYABLE,
        _ => messages::REJECTED,
    }
}

fn truncate(mut s: String) -> String {
    if s.len() > MAX_LOGGED_BODY {
        let mut cut = MAX_LOGGED_BODY;
        while !s.is_char_boundary(cut) {
            cut -= 1;
        }
        s.truncate(cut);
    }
    s
}

/// Records one call as an interface message; returns its outcome.
#[allow(clippy::too_many_arguments)]
pub async fn record(
    state: &AppState,
    ctx: &LineContext,
    job: &JobView,
    activity: &str,
    url: &str,
    body: &str,
    sent: &Result<Exchange, koo::client::ClientError>,
) -> AppResult<&'static str> {
    let outcome = classify(sent);
    let (url, request_body, status, response, code, duration) = match sent {
        Ok(x) => {
            let (status, response) = match &x.outcome {
                CallOutcome::Answered { http_status, body, .. } => (Some(*http_status), body.to_string()),
                CallOutcome::HttpError { status, body } => (Some(*status), body.clone()),
                CallOutcome::Unparseable { http_status, body_text } => (Some(*http_status), body_text.clone()),
                CallOutcome::Transport(e) => (None, e.clone()),
            };
            let code = x.outcome.code().map(|c| c.as_str().to_string());
            (strip_query(&x.url), x.request_body.clone(), status, response, code, x.duration_ms)
        }
        Err(e) => (url.to_string(), body.to_string(), None, e.to_string(), None, 0),
    };
    let row = interface_message::Model {
        id: InterfaceMessageId::new().into(),
        seller_id: ctx.line.seller_id.clone(),
        product_id: ctx.line.product_id.clone(),
        order_id: ctx.order.id.clone(),
        order_line_id: ctx.line.id.clone(),
        activity: activity.to_string(),
        url,
        request_body: redact(&request_body).into_owned(),
        response_status: status.map(i64::from),
        response_body: Some(redact(&truncate(response)).into_owned()),
        result_code: code,
        outcome: outcome.to_string(),
        duration_ms: i64::try_from(duration).unwrap_or(i64::MAX),
        attempt: job.attempt,
        created_at: state.now(),
    };
    messages::insert(&state.db.conn, row).await?;
    Ok(outcome)
}

/// The URL without the signature query (signatures are not kept).
fn strip_query(url: &str) -> String {
    url.split_once('?').map_or(url, |(u, _)| u).to_string()
}

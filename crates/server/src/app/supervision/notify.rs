//! `orderNotify`: tells the seller's server about a paid supervised order
//! (spec §2), when the product registered an endpoint. Signed, recorded as
//! an interface message, retried like a purchase (3 hours). Giving up is
//! logged; the supervision goes on (the seller sees it in its list and was
//! notified in-app).

use crate::app::error::{AppError, AppResult};
use crate::app::orders::line_context;
use crate::app::outbox::{JobOutcome, JobView, RetryPolicy};
use crate::app::subscriptions::seller_calls::Endpoint;
use crate::state::AppState;
use koo::BasicCall;
use koo::calls::OrderNotify;
use serde::Deserialize;

/// The job kind (reference: the order line).
pub const ORDER_NOTIFY: &str = "supervision_order_notify";

#[derive(Deserialize)]
struct Payload {
    order_line_id: String,
}

pub async fn order_notify(state: AppState, job: JobView) -> JobOutcome {
    let outcome = match attempt(&state, &job).await {
        Ok(o) => o,
        Err(e) => RetryPolicy::PURCHASE.outcome(&job, state.now(), format!("orderNotify error: {}", e.report())),
    };
    if let JobOutcome::Dead { error } = &outcome {
        tracing::error!(job = %job.id, reference = %job.reference, %error,
            "orderNotify given up; the seller still sees the supervision");
    }
    outcome
}

async fn attempt(state: &AppState, job: &JobView) -> AppResult<JobOutcome> {
    let p: Payload = job.payload().map_err(|e| AppError::internal(format!("bad job payload: {e}")))?;
    let Some(ctx) = line_context(&state.db.conn, &p.order_line_id).await? else {
        return Ok(JobOutcome::Dead { error: format!("no order line {}", p.order_line_id) });
    };
    let Some(endpoint) = Endpoint::of_product(state, &ctx.line.product_id).await? else {
        // The endpoint was removed since: nothing to tell.
        return Ok(JobOutcome::Done);
    };
    let call = BasicCall::OrderNotify(OrderNotify {
        order_id: ctx.order.id.clone(),
        order_line_id: ctx.line.id.clone(),
        test_flag: None,
    });
    match endpoint.send_all(state, &ctx, job, &[("orderNotify", call)]).await? {
        Ok(()) => Ok(JobOutcome::Done),
        Err(why) => Ok(RetryPolicy::PURCHASE.outcome(job, state.now(), why)),
    }
}

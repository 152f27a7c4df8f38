//! Unsubscribing from a purchased service, with a refund to the wallet.

use crate::app::subscriptions::unsubscribe::{self, Unsubscribe, UnsubscribeView};
use crate::auth::BuyerAuth;
use crate::error::{ApiResult, AuthProblems, NotFoundProblem, Problem};
use crate::extract::ApiJson;
use crate::http::idempotency::Idempotency;
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(unsubscribe_subscription))
}

/// Unsubscribe. `scope: subscription` releases the service: within 5 days of
/// the purchase payment everything paid comes back (at most 10 such refunds
/// per buyer and calendar year), later the unused part (whole unused periods
/// plus the unused share of the current one, rounded down); one-time
/// purchases only within the 5 days; trials and pay-per-use refund nothing.
/// `scope: renewal_periods` refunds renewal terms that have not started and
/// moves the expiry back; the service stays active. The money goes back to
/// the wallet as a refund order; the seller is told (releaseInstance or
/// refreshInstance UNSUBSCRIBE_RENEWAL_PERIOD). Send an `Idempotency-Key`
/// header to make retries safe.
#[utoipa::path(post, path = "/api/v1/buyer/subscriptions/{id}/unsubscribe", tag = "orders", security(("api_key" = [])),
    params(
        ("id" = String, Path, description = "subscription id"),
        ("Idempotency-Key" = Option<String>, Header, description = "1-255 visible ASCII characters; remembered for 24 hours", min_length = 1, max_length = 255, pattern = "^[!-~]+$"),
    ),
    request_body = Unsubscribe,
    responses(
        (status = 200, body = UnsubscribeView),
        AuthProblems,
        NotFoundProblem,
        (status = 409, description = "`subscription_ended` (released or failed), `not_provisioned`, `not_refundable` (one-time purchase after 5 days), `no_renewal_periods`, `nothing_to_refund`, `subscription_changed`, `idempotency_key_in_use`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "unknown `scope`, `reason` too long, bad `Idempotency-Key`, `idempotency_key_reused`", body = Problem, content_type = "application/problem+json"),
    ))]
async fn unsubscribe_subscription(
    State(state): State<AppState>,
    BuyerAuth(p): BuyerAuth,
    Path(id): Path<String>,
    idempotency: Idempotency,
    ApiJson(req): ApiJson<Unsubscribe>,
) -> ApiResult<Response> {
    let once = idempotency.bind(&p.account_id, &req)?;
    let done =
        once.run(&state, StatusCode::OK, async |tx| unsubscribe::unsubscribe(&state, tx, &p, &id, req).await).await?;
    Ok(done.into_response())
}

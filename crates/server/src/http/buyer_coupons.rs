//! A buyer's coupons (代金券): the batches a product's seller offers, claim
//! one, list the ones you hold.

use crate::app::coupons::{self, ClaimCoupon, ClaimableBatches, ClaimableParams, CouponParams, CouponView};
use crate::app::page::Page;
use crate::auth::BuyerAuth;
use crate::error::{ApiResult, AuthProblems, Problem};
use crate::extract::{ApiJson, ApiQuery};
use crate::http::idempotency::Idempotency;
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(claimable_batches)).routes(routes!(claim_coupon, list_coupons))
}

/// The coupon batches you can claim from for a product on sale: active,
/// within their validity, not exhausted, covering the product or one of
/// its SKUs; with how many you hold of each.
#[utoipa::path(get, path = "/api/v1/buyer/coupon-batches", tag = "coupons", security(("api_key" = [])),
    params(ClaimableParams),
    responses(
        (status = 200, body = ClaimableBatches),
        AuthProblems,
        (status = 404, description = "no product on sale has this id (`errors` names `product_id`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "no `product_id`", body = Problem, content_type = "application/problem+json"),
    ))]
async fn claimable_batches(
    State(state): State<AppState>,
    BuyerAuth(p): BuyerAuth,
    ApiQuery(q): ApiQuery<ClaimableParams>,
) -> ApiResult<Json<ClaimableBatches>> {
    Ok(Json(coupons::claimable_for_product(&state, &p, q).await?))
}

/// Claim one coupon of a batch. Send an `Idempotency-Key` header to make
/// retries safe (without one, a retry claims another coupon while your
/// limit allows).
#[utoipa::path(post, path = "/api/v1/buyer/coupons", tag = "coupons", security(("api_key" = [])),
    params(("Idempotency-Key" = Option<String>, Header, description = "1-255 visible ASCII characters; remembered for 24 hours", min_length = 1, max_length = 255, pattern = "^[!-~]+$")),
    request_body = ClaimCoupon,
    responses(
        (status = 201, body = CouponView),
        AuthProblems,
        (status = 404, description = "no such batch (`errors` names `batch_id`)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`coupon_batch_stopped`; `coupon_not_started`; `coupon_expired`; `coupons_exhausted` (every coupon claimed); `coupon_limit_reached` (you hold `per_buyer_limit`); `idempotency_key_in_use`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`idempotency_key_reused`", body = Problem, content_type = "application/problem+json"),
    ))]
async fn claim_coupon(
    State(state): State<AppState>,
    BuyerAuth(p): BuyerAuth,
    idempotency: Idempotency,
    ApiJson(req): ApiJson<ClaimCoupon>,
) -> ApiResult<Response> {
    let once = idempotency.bind(&p.account_id, &req)?;
    let made = once.run(&state, StatusCode::CREATED, async |tx| coupons::claim(&state, tx, &p, req).await).await?;
    Ok(made.into_response())
}

/// Your coupons, newest first, with their batch's terms and their state as
/// of now (`usable`, `not_started`, `expired`, `used` by an order);
/// `?status=` keeps one state.
#[utoipa::path(get, path = "/api/v1/buyer/coupons", operation_id = "list_buyer_coupons", tag = "coupons", security(("api_key" = [])),
    params(CouponParams),
    responses(
        (status = 200, body = Page<CouponView>),
        AuthProblems,
        (status = 422, description = "bad `status`, `limit` or `cursor`", body = Problem, content_type = "application/problem+json"),
    ))]
async fn list_coupons(
    State(state): State<AppState>,
    BuyerAuth(p): BuyerAuth,
    ApiQuery(q): ApiQuery<CouponParams>,
) -> ApiResult<Json<Page<CouponView>>> {
    Ok(Json(coupons::list_coupons(&state, &p, q).await?))
}

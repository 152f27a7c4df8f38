//! A seller's coupon batches (发布代金券): issue threshold coupons for
//! products or SKUs on sale, read them with their counts, stop them.

use crate::app::coupons::{self, BatchParams, BatchView, CreateBatch};
use crate::app::page::Page;
use crate::auth::SellerAuth;
use crate::error::{ApiResult, AuthProblems, NotFoundProblem, Problem};
use crate::extract::{ApiJson, ApiQuery};
use crate::http::idempotency::Idempotency;
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_batch, list_batches))
        .routes(routes!(get_batch))
        .routes(routes!(stop_batch))
}

/// Issue a batch of threshold coupons (满减: `amount_off_minor` comes off an
/// order of at least `threshold_minor`) for products or SKUs of yours on
/// sale. Buyers claim them in `[valid_from, valid_until)`, at most
/// `per_buyer_limit` each. Send an `Idempotency-Key` header to make retries
/// safe.
#[utoipa::path(post, path = "/api/v1/seller/coupons", tag = "coupons", security(("api_key" = [])),
    params(("Idempotency-Key" = Option<String>, Header, description = "1-255 visible ASCII characters; remembered for 24 hours", min_length = 1, max_length = 255, pattern = "^[!-~]+$")),
    request_body = CreateBatch,
    responses(
        (status = 201, body = BatchView),
        AuthProblems,
        (status = 409, description = "`terms_refused` listing each field the schema cannot state: `threshold_minor` (below the amount off); `scope.product_ids[i]` / `scope.sku_ids[i]` (not an on-sale product of yours or an active SKU of one, named twice, or priced in another currency); `valid_until` (past, or not after `valid_from`); `per_buyer_limit` (above `total_count`). `idempotency_key_in_use`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed` listing every bad field the schema states: `name`; `amount_off_minor`; `currency`; `scope` (empty); `total_count` (1-1000000). `idempotency_key_reused`", body = Problem, content_type = "application/problem+json"),
    ))]
async fn create_batch(
    State(state): State<AppState>,
    SellerAuth(p): SellerAuth,
    idempotency: Idempotency,
    ApiJson(req): ApiJson<CreateBatch>,
) -> ApiResult<Response> {
    let once = idempotency.bind(&p.account_id, &req)?;
    let made =
        once.run(&state, StatusCode::CREATED, async |tx| coupons::create_batch(&state, tx, &p, req).await).await?;
    Ok(made.into_response())
}

/// Your coupon batches, newest first, with their claimed and used counts.
#[utoipa::path(get, path = "/api/v1/seller/coupons", operation_id = "list_seller_coupon_batches", tag = "coupons", security(("api_key" = [])),
    params(BatchParams),
    responses(
        (status = 200, body = Page<BatchView>),
        AuthProblems,
        (status = 422, description = "bad `status`, `limit` or `cursor`", body = Problem, content_type = "application/problem+json"),
    ))]
async fn list_batches(
    State(state): State<AppState>,
    SellerAuth(p): SellerAuth,
    ApiQuery(q): ApiQuery<BatchParams>,
) -> ApiResult<Json<Page<BatchView>>> {
    Ok(Json(coupons::list_batches(&state, &p, q).await?))
}

/// One of your coupon batches with its claimed and used counts (another
/// seller's: 404).
#[utoipa::path(get, path = "/api/v1/seller/coupons/{id}", operation_id = "get_seller_coupon_batch", tag = "coupons", security(("api_key" = [])),
    params(("id" = String, Path, description = "coupon batch id (`cpb_...`)")),
    responses((status = 200, body = BatchView), AuthProblems, NotFoundProblem))]
async fn get_batch(
    State(state): State<AppState>,
    SellerAuth(p): SellerAuth,
    Path(id): Path<String>,
) -> ApiResult<Json<BatchView>> {
    Ok(Json(coupons::get_batch(&state, &p, &id).await?))
}

/// Stop a batch: no more claims; coupons already claimed stay usable until
/// the batch's `valid_until`.
#[utoipa::path(post, path = "/api/v1/seller/coupons/{id}/stop", tag = "coupons", security(("api_key" = [])),
    params(("id" = String, Path, description = "coupon batch id (`cpb_...`)")),
    responses(
        (status = 200, body = BatchView),
        AuthProblems,
        NotFoundProblem,
        (status = 409, description = "`coupon_batch_stopped` (already stopped)", body = Problem, content_type = "application/problem+json"),
    ))]
async fn stop_batch(
    State(state): State<AppState>,
    SellerAuth(p): SellerAuth,
    Path(id): Path<String>,
) -> ApiResult<Json<BatchView>> {
    Ok(Json(coupons::stop_batch(&state, &p, &id).await?))
}

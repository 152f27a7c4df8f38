//! A seller's private offers (创建商家优惠): its own prices for one buyer on
//! a joint-operation product, made directly or from a partner's accepted
//! customer demand; read them, withdraw them.

use crate::app::offers::{self, CreateOffer, OfferParams, OfferView, Party};
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
        .routes(routes!(create_offer, list_offers))
        .routes(routes!(get_offer))
        .routes(routes!(withdraw_offer))
}

/// Make a private offer on a listed joint-operation product of yours: to a
/// buyer by `buyer_email`, or in answer to a customer demand passed to you
/// and accepted (`demand_id`: the offer goes to the demand's buyer for its
/// product, the demand becomes `offered`, and its partner earns the
/// operator's partner share of the sale). Each SKU gets a percentage off
/// (`{"percent_off": {"percent_off_bp": 1500}}`) or a unit price
/// (`{"unit_price": {"unit_price_minor": 9000}}`, per month or year of the
/// terms, or the one-time / package price). Send an `Idempotency-Key`
/// header to make retries safe.
#[utoipa::path(post, path = "/api/v1/seller/private-offers", tag = "private offers", security(("api_key" = [])),
    params(("Idempotency-Key" = Option<String>, Header, description = "1-255 visible ASCII characters; remembered for 24 hours", min_length = 1, max_length = 255, pattern = "^[!-~]+$")),
    request_body = CreateOffer,
    responses(
        (status = 201, body = OfferView),
        AuthProblems,
        (status = 404, description = "`errors` names `buyer_email` (no buyer account), `demand_id` (no demand passed to you) or `product_id` (no product of yours)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`not_on_sale` (the product is not listed); `not_joint_operation` (a general-cooperation product); `demand_not_accepted`; `demand_already_offered`; `terms_refused` listing each field the schema cannot state: `buyer_email` / `demand_id` (exactly one); `product_id` (not the demand's); `terms.skus[i].sku_id` (not an active SKU of the product, named twice, pay-per-use, or not sold by the terms' period); `terms.skus[i].price.percent_off_bp` (1-10000); `terms.skus[i].price.unit_price_minor` (0 to the list unit price); `terms.period` (required for period SKUs, only for them); `terms.period_count` (1-11 months, 1-5 years); `valid_until` (past, or not after `valid_from`). `idempotency_key_in_use`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed` listing every bad field the schema states: `terms.skus` (none, or more than 50); `message`. `idempotency_key_reused`", body = Problem, content_type = "application/problem+json"),
    ))]
async fn create_offer(
    State(state): State<AppState>,
    SellerAuth(p): SellerAuth,
    idempotency: Idempotency,
    ApiJson(req): ApiJson<CreateOffer>,
) -> ApiResult<Response> {
    let once = idempotency.bind(&p.account_id, &req)?;
    let made = once.run(&state, StatusCode::CREATED, async |tx| offers::create(&state, tx, &p, req).await).await?;
    Ok(made.into_response())
}

/// The private offers you made, newest first.
#[utoipa::path(get, path = "/api/v1/seller/private-offers", operation_id = "list_seller_private_offers", tag = "private offers", security(("api_key" = [])),
    params(OfferParams),
    responses(
        (status = 200, body = Page<OfferView>),
        AuthProblems,
        (status = 422, description = "bad `status`, `limit` or `cursor`", body = Problem, content_type = "application/problem+json"),
    ))]
async fn list_offers(
    State(state): State<AppState>,
    SellerAuth(p): SellerAuth,
    ApiQuery(q): ApiQuery<OfferParams>,
) -> ApiResult<Json<Page<OfferView>>> {
    Ok(Json(offers::list(&state, Party::Seller(&p), q).await?))
}

/// One of your private offers (another seller's: 404).
#[utoipa::path(get, path = "/api/v1/seller/private-offers/{id}", operation_id = "get_seller_private_offer", tag = "private offers", security(("api_key" = [])),
    params(("id" = String, Path, description = "offer id (`ofr_...`)")),
    responses((status = 200, body = OfferView), AuthProblems, NotFoundProblem))]
async fn get_offer(
    State(state): State<AppState>,
    SellerAuth(p): SellerAuth,
    Path(id): Path<String>,
) -> ApiResult<Json<OfferView>> {
    Ok(Json(offers::get(&state, Party::Seller(&p), &id).await?))
}

/// Withdraw an active offer: the buyer can no longer use it.
#[utoipa::path(post, path = "/api/v1/seller/private-offers/{id}/withdraw", tag = "private offers", security(("api_key" = [])),
    params(("id" = String, Path, description = "offer id (`ofr_...`)")),
    responses(
        (status = 200, body = OfferView),
        AuthProblems,
        NotFoundProblem,
        (status = 409, description = "`offer_not_active` (used by an order, or already withdrawn)", body = Problem, content_type = "application/problem+json"),
    ))]
async fn withdraw_offer(
    State(state): State<AppState>,
    SellerAuth(p): SellerAuth,
    Path(id): Path<String>,
) -> ApiResult<Json<OfferView>> {
    Ok(Json(offers::withdraw(&state, &p, &id).await?))
}

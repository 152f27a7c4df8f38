//! A partner's deals for its customers: exclusive discounts (专属优惠) it
//! asks operators for, and customer demands it passes to sellers.

use crate::app::page::Page;
use crate::app::partners::demands::{self, DemandParams, DemandView, FileDemand};
use crate::app::partners::discounts::{self, DiscountParams, ExclusiveDiscountView, RequestExclusiveDiscount};
use crate::auth::PartnerAuth;
use crate::error::{ApiResult, AuthProblems, NotFoundProblem, Problem};
use crate::extract::{ApiJson, ApiQuery};
use crate::http::seller_onboarding::{EmptyBody, OptionalJson};
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(request_exclusive_discount, list_partner_exclusive_discounts))
        .routes(routes!(withdraw_exclusive_discount))
        .routes(routes!(file_demand, list_partner_demands))
}

/// Ask for an exclusive discount for a bound customer on a listed
/// joint-operation product: a percentage off the list price (0 only
/// attributes the sale to you), funded from your share of the sale. An
/// operator approves or rejects it.
#[utoipa::path(post, path = "/api/v1/partner/exclusive-discounts", tag = "partners", security(("api_key" = [])),
    request_body = RequestExclusiveDiscount,
    responses(
        (status = 201, body = ExclusiveDiscountView),
        AuthProblems,
        (status = 404, description = "`not_found` naming `product_id`: no listed product has it", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`partner_not_certified`; `not_bound` naming `buyer_id` (not your customer); `not_joint_operation` naming `product_id`; `discount_exists` (the customer has an open discount on the product overlapping this validity)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed` naming `percent_off_bp` (outside 0-10000, or above your share of the sale), `reason`, or `valid_until` (not after `valid_from`, or past)", body = Problem, content_type = "application/problem+json"),
    ))]
async fn request_exclusive_discount(
    State(state): State<AppState>,
    PartnerAuth(p): PartnerAuth,
    ApiJson(req): ApiJson<RequestExclusiveDiscount>,
) -> ApiResult<(StatusCode, Json<ExclusiveDiscountView>)> {
    Ok((StatusCode::CREATED, Json(discounts::request(&state, &p, req).await?)))
}

/// Your exclusive discounts, newest first.
#[utoipa::path(get, path = "/api/v1/partner/exclusive-discounts", tag = "partners", security(("api_key" = [])),
    params(DiscountParams),
    responses(
        (status = 200, body = Page<ExclusiveDiscountView>),
        AuthProblems,
        (status = 422, description = "bad `status`, `limit` or `cursor`", body = Problem, content_type = "application/problem+json"),
    ))]
async fn list_partner_exclusive_discounts(
    State(state): State<AppState>,
    PartnerAuth(p): PartnerAuth,
    ApiQuery(q): ApiQuery<DiscountParams>,
) -> ApiResult<Json<Page<ExclusiveDiscountView>>> {
    Ok(Json(discounts::list_for_partner(&state, &p, q).await?))
}

/// Withdraw a requested or approved exclusive discount.
#[utoipa::path(post, path = "/api/v1/partner/exclusive-discounts/{id}/withdraw", tag = "partners", security(("api_key" = [])),
    params(("id" = String, Path, description = "the discount (`xdc_...`)")),
    request_body(content = Option<EmptyBody>, description = "`{}` or no body"),
    responses(
        (status = 200, body = ExclusiveDiscountView),
        AuthProblems,
        NotFoundProblem,
        (status = 409, description = "`out_of_order`: rejected or withdrawn already", body = Problem, content_type = "application/problem+json"),
    ))]
async fn withdraw_exclusive_discount(
    State(state): State<AppState>,
    PartnerAuth(p): PartnerAuth,
    Path(id): Path<String>,
    OptionalJson(_body): OptionalJson<EmptyBody>,
) -> ApiResult<Json<ExclusiveDiscountView>> {
    Ok(Json(discounts::withdraw(&state, &p, &id).await?))
}

/// Pass a bound customer's demand on a listed joint-operation product to
/// its seller, who may answer with a private offer.
#[utoipa::path(post, path = "/api/v1/partner/demands", tag = "partners", security(("api_key" = [])),
    request_body = FileDemand,
    responses(
        (status = 201, body = DemandView),
        AuthProblems,
        (status = 404, description = "`not_found` naming `product_id`: no listed product has it", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`partner_not_certified`; `not_bound` naming `buyer_id`; `not_joint_operation` naming `product_id`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed` naming `needs`, `target_price_minor` or `currency`", body = Problem, content_type = "application/problem+json"),
    ))]
async fn file_demand(
    State(state): State<AppState>,
    PartnerAuth(p): PartnerAuth,
    ApiJson(req): ApiJson<FileDemand>,
) -> ApiResult<(StatusCode, Json<DemandView>)> {
    Ok((StatusCode::CREATED, Json(demands::file(&state, &p, req).await?)))
}

/// Your customer demands, newest first.
#[utoipa::path(get, path = "/api/v1/partner/demands", tag = "partners", security(("api_key" = [])),
    params(DemandParams),
    responses(
        (status = 200, body = Page<DemandView>),
        AuthProblems,
        (status = 422, description = "bad `status`, `limit` or `cursor`", body = Problem, content_type = "application/problem+json"),
    ))]
async fn list_partner_demands(
    State(state): State<AppState>,
    PartnerAuth(p): PartnerAuth,
    ApiQuery(q): ApiQuery<DemandParams>,
) -> ApiResult<Json<Page<DemandView>>> {
    Ok(Json(demands::list_for_partner(&state, &p, q).await?))
}

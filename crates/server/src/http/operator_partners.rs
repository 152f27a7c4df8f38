//! Operators and the channel: the exclusive discounts partners ask for
//! (queue, approve, reject) and the partner share setting.

use crate::app::page::Page;
use crate::app::partners::discounts::{self, DiscountParams, ExclusiveDiscountView, RejectExclusiveDiscount};
use crate::app::partners::share::{self, PartnerShare};
use crate::auth::OperatorAuth;
use crate::error::{ApiResult, AuthProblems, NotFoundProblem, Problem};
use crate::extract::{ApiJson, ApiQuery};
use crate::http::seller_onboarding::{EmptyBody, OptionalJson};
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, State};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_operator_exclusive_discounts))
        .routes(routes!(approve_exclusive_discount))
        .routes(routes!(reject_exclusive_discount))
        .routes(routes!(get_partner_share, set_partner_share))
}

/// Every partner's exclusive discounts, newest first (`?status=requested`: the review queue).
#[utoipa::path(get, path = "/api/v1/operator/exclusive-discounts", tag = "partners", security(("api_key" = [])),
    params(DiscountParams),
    responses(
        (status = 200, body = Page<ExclusiveDiscountView>),
        AuthProblems,
        (status = 422, description = "bad `status`, `limit` or `cursor`", body = Problem, content_type = "application/problem+json"),
    ))]
async fn list_operator_exclusive_discounts(
    State(state): State<AppState>,
    OperatorAuth(_op): OperatorAuth,
    ApiQuery(q): ApiQuery<DiscountParams>,
) -> ApiResult<Json<Page<ExclusiveDiscountView>>> {
    Ok(Json(discounts::list_for_operator(&state, q).await?))
}

/// Approve a requested exclusive discount; the partner share as set now is
/// fixed on it.
#[utoipa::path(post, path = "/api/v1/operator/exclusive-discounts/{id}/approve", tag = "partners", security(("api_key" = [])),
    params(("id" = String, Path, description = "the discount (`xdc_...`)")),
    request_body(content = Option<EmptyBody>, description = "`{}` or no body"),
    responses(
        (status = 200, body = ExclusiveDiscountView),
        AuthProblems,
        NotFoundProblem,
        (status = 409, description = "`out_of_order` (not requested, also when another operator decided first); `discount_unfunded` (above the partner share now); `discount_expired`; `not_bound` (the customer left the partner)", body = Problem, content_type = "application/problem+json"),
    ))]
async fn approve_exclusive_discount(
    State(state): State<AppState>,
    OperatorAuth(op): OperatorAuth,
    Path(id): Path<String>,
    OptionalJson(_body): OptionalJson<EmptyBody>,
) -> ApiResult<Json<ExclusiveDiscountView>> {
    Ok(Json(discounts::approve(&state, &op, &id).await?))
}

/// Reject a requested exclusive discount, saying why.
#[utoipa::path(post, path = "/api/v1/operator/exclusive-discounts/{id}/reject", tag = "partners", security(("api_key" = [])),
    params(("id" = String, Path, description = "the discount (`xdc_...`)")),
    request_body = RejectExclusiveDiscount,
    responses(
        (status = 200, body = ExclusiveDiscountView),
        AuthProblems,
        NotFoundProblem,
        (status = 409, description = "`out_of_order`: not requested (also when another operator decided first)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed` naming `note`", body = Problem, content_type = "application/problem+json"),
    ))]
async fn reject_exclusive_discount(
    State(state): State<AppState>,
    OperatorAuth(op): OperatorAuth,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<RejectExclusiveDiscount>,
) -> ApiResult<Json<ExclusiveDiscountView>> {
    Ok(Json(discounts::reject(&state, &op, &id, req).await?))
}

/// The partner share: what a partner earns of an attributed sale (basis
/// points of the gross), and the most a new exclusive discount may take off.
#[utoipa::path(get, path = "/api/v1/operator/partner-share", tag = "partners", security(("api_key" = [])),
    responses((status = 200, body = PartnerShare), AuthProblems))]
async fn get_partner_share(
    State(state): State<AppState>,
    OperatorAuth(_op): OperatorAuth,
) -> ApiResult<Json<PartnerShare>> {
    Ok(Json(share::get(&state).await?))
}

/// Set the partner share. Discounts already approved keep the share fixed
/// on them.
#[utoipa::path(put, path = "/api/v1/operator/partner-share", tag = "partners", security(("api_key" = [])),
    request_body = PartnerShare,
    responses(
        (status = 200, body = PartnerShare),
        AuthProblems,
        (status = 422, description = "`validation_failed` naming `share_bp` (outside 0-10000)", body = Problem, content_type = "application/problem+json"),
    ))]
async fn set_partner_share(
    State(state): State<AppState>,
    OperatorAuth(_op): OperatorAuth,
    ApiJson(req): ApiJson<PartnerShare>,
) -> ApiResult<Json<PartnerShare>> {
    Ok(Json(share::set(&state, req).await?))
}

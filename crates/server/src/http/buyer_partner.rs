//! The buyer's side of the channel: its partner (客户服务商), the partner's
//! invitations, and the exclusive discounts it may use.

use crate::app::partners::bindings::{self, BindingView, BuyerPartnerView, EndBinding};
use crate::app::partners::discounts::{self, ExclusiveDiscountView, UsableDiscountParams};
use crate::auth::BuyerAuth;
use crate::error::{ApiResult, AuthProblems, NotFoundProblem, Problem};
use crate::extract::ApiQuery;
use crate::http::seller_onboarding::{EmptyBody, OptionalJson};
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, State};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(buyer_partner))
        .routes(routes!(accept_partner_invitation))
        .routes(routes!(decline_partner_invitation))
        .routes(routes!(end_partner_binding))
        .routes(routes!(buyer_exclusive_discounts))
}

/// Your partner (the active binding, if any) and the invitations waiting
/// for your answer.
#[utoipa::path(get, path = "/api/v1/buyer/partner", tag = "partners", security(("api_key" = [])),
    responses((status = 200, body = BuyerPartnerView), AuthProblems))]
async fn buyer_partner(State(state): State<AppState>, BuyerAuth(p): BuyerAuth) -> ApiResult<Json<BuyerPartnerView>> {
    Ok(Json(bindings::buyer_view(&state, &p).await?))
}

/// Accept a partner's invitation: the partner becomes your partner. You
/// have at most one.
#[utoipa::path(post, path = "/api/v1/buyer/partner-invitations/{id}/accept", tag = "partners", security(("api_key" = [])),
    params(("id" = String, Path, description = "the invitation (`pbd_...`)")),
    request_body(content = Option<EmptyBody>, description = "`{}` or no body"),
    responses(
        (status = 200, body = BindingView),
        AuthProblems,
        NotFoundProblem,
        (status = 409, description = "`already_bound` (you have an active partner: end that binding first); `out_of_order` (not an open invitation)", body = Problem, content_type = "application/problem+json"),
    ))]
async fn accept_partner_invitation(
    State(state): State<AppState>,
    BuyerAuth(p): BuyerAuth,
    Path(id): Path<String>,
    OptionalJson(_body): OptionalJson<EmptyBody>,
) -> ApiResult<Json<BindingView>> {
    Ok(Json(bindings::accept(&state, &p, &id).await?))
}

/// Decline a partner's invitation.
#[utoipa::path(post, path = "/api/v1/buyer/partner-invitations/{id}/decline", tag = "partners", security(("api_key" = [])),
    params(("id" = String, Path, description = "the invitation (`pbd_...`)")),
    request_body(content = Option<EmptyBody>, description = "`{}` or no body"),
    responses(
        (status = 200, body = BindingView),
        AuthProblems,
        NotFoundProblem,
        (status = 409, description = "`out_of_order`: not an open invitation", body = Problem, content_type = "application/problem+json"),
    ))]
async fn decline_partner_invitation(
    State(state): State<AppState>,
    BuyerAuth(p): BuyerAuth,
    Path(id): Path<String>,
    OptionalJson(_body): OptionalJson<EmptyBody>,
) -> ApiResult<Json<BindingView>> {
    Ok(Json(bindings::decline(&state, &p, &id).await?))
}

/// End the binding to your partner, optionally saying why; the end time
/// is recorded.
#[utoipa::path(post, path = "/api/v1/buyer/partner/end", tag = "partners", security(("api_key" = [])),
    request_body(content = Option<EndBinding>, description = "`{\"reason\": ...}`, `{}` or no body"),
    responses(
        (status = 200, body = BindingView),
        AuthProblems,
        (status = 409, description = "`not_bound`: you have no partner", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed` naming `reason`", body = Problem, content_type = "application/problem+json"),
    ))]
async fn end_partner_binding(
    State(state): State<AppState>,
    BuyerAuth(p): BuyerAuth,
    OptionalJson(req): OptionalJson<EndBinding>,
) -> ApiResult<Json<BindingView>> {
    Ok(Json(bindings::end_by_buyer(&state, &p, req).await?))
}

/// The exclusive discounts you may use now: approved, valid now, from the
/// partner you are bound to.
#[utoipa::path(get, path = "/api/v1/buyer/exclusive-discounts", tag = "partners", security(("api_key" = [])),
    params(UsableDiscountParams),
    responses(
        (status = 200, body = Vec<ExclusiveDiscountView>),
        AuthProblems,
        (status = 422, description = "unknown query parameter", body = Problem, content_type = "application/problem+json"),
    ))]
async fn buyer_exclusive_discounts(
    State(state): State<AppState>,
    BuyerAuth(p): BuyerAuth,
    ApiQuery(q): ApiQuery<UsableDiscountParams>,
) -> ApiResult<Json<Vec<ExclusiveDiscountView>>> {
    Ok(Json(discounts::usable_for_buyer(&state, &p, q).await?))
}

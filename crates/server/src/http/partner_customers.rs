//! A partner's customers (客户绑定): invite a buyer, withdraw an invitation,
//! list customers, end a binding, and see a customer's orders placed while
//! bound.

use crate::app::orders::OrderView;
use crate::app::page::Page;
use crate::app::partners::bindings::{
    self, BindingView, CustomerOrderParams, CustomerParams, EndBinding, InviteCustomer,
};
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
        .routes(routes!(invite_customer))
        .routes(routes!(withdraw_invitation))
        .routes(routes!(list_customers))
        .routes(routes!(end_customer_binding))
        .routes(routes!(customer_orders))
}

/// Invite a buyer (by its account email) to bind to you as its partner. The
/// buyer accepts or declines; needs a certified partner.
#[utoipa::path(post, path = "/api/v1/partner/invitations", tag = "partners", security(("api_key" = [])),
    request_body = InviteCustomer,
    responses(
        (status = 201, body = BindingView),
        AuthProblems,
        (status = 404, description = "`not_found` naming `buyer_email`: no buyer account has it", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`partner_not_certified`; `already_invited` (an open invitation to this buyer); `already_bound` (the buyer is your customer)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed` naming `buyer_email` or `message`", body = Problem, content_type = "application/problem+json"),
    ))]
async fn invite_customer(
    State(state): State<AppState>,
    PartnerAuth(p): PartnerAuth,
    ApiJson(req): ApiJson<InviteCustomer>,
) -> ApiResult<(StatusCode, Json<BindingView>)> {
    Ok((StatusCode::CREATED, Json(bindings::invite(&state, &p, req).await?)))
}

/// Take back an invitation the buyer has not answered.
#[utoipa::path(post, path = "/api/v1/partner/invitations/{id}/withdraw", tag = "partners", security(("api_key" = [])),
    params(("id" = String, Path, description = "the invitation's binding id (`pbd_...`)")),
    request_body(content = Option<EmptyBody>, description = "`{}` or no body"),
    responses(
        (status = 200, body = BindingView),
        AuthProblems,
        NotFoundProblem,
        (status = 409, description = "`out_of_order`: no longer an open invitation", body = Problem, content_type = "application/problem+json"),
    ))]
async fn withdraw_invitation(
    State(state): State<AppState>,
    PartnerAuth(p): PartnerAuth,
    Path(id): Path<String>,
    OptionalJson(_body): OptionalJson<EmptyBody>,
) -> ApiResult<Json<BindingView>> {
    Ok(Json(bindings::withdraw(&state, &p, &id).await?))
}

/// Your customers and invitations (with the buyers' names and emails), newest first.
#[utoipa::path(get, path = "/api/v1/partner/customers", tag = "partners", security(("api_key" = [])),
    params(CustomerParams),
    responses(
        (status = 200, body = Page<BindingView>),
        AuthProblems,
        (status = 422, description = "bad `status`, `limit` or `cursor`", body = Problem, content_type = "application/problem+json"),
    ))]
async fn list_customers(
    State(state): State<AppState>,
    PartnerAuth(p): PartnerAuth,
    ApiQuery(q): ApiQuery<CustomerParams>,
) -> ApiResult<Json<Page<BindingView>>> {
    Ok(Json(bindings::list_customers(&state, &p, q).await?))
}

/// End an active binding, optionally saying why; the end time is recorded.
#[utoipa::path(post, path = "/api/v1/partner/customers/{binding_id}/end", tag = "partners", security(("api_key" = [])),
    params(("binding_id" = String, Path, description = "the binding (`pbd_...`)")),
    request_body(content = Option<EndBinding>, description = "`{\"reason\": ...}`, `{}` or no body"),
    responses(
        (status = 200, body = BindingView),
        AuthProblems,
        NotFoundProblem,
        (status = 409, description = "`out_of_order`: the binding is not active", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed` naming `reason`", body = Problem, content_type = "application/problem+json"),
    ))]
async fn end_customer_binding(
    State(state): State<AppState>,
    PartnerAuth(p): PartnerAuth,
    Path(binding_id): Path<String>,
    OptionalJson(req): OptionalJson<EndBinding>,
) -> ApiResult<Json<BindingView>> {
    Ok(Json(bindings::end_by_partner(&state, &p, &binding_id, req).await?))
}

/// The orders a customer placed while bound to you (created between the
/// binding's acceptance and its end), newest first.
#[utoipa::path(get, path = "/api/v1/partner/customers/{buyer_id}/orders", tag = "partners", security(("api_key" = [])),
    params(("buyer_id" = String, Path, description = "the customer's account id"), CustomerOrderParams),
    responses(
        (status = 200, body = Page<OrderView>),
        AuthProblems,
        (status = 404, description = "the buyer never was your customer", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "bad `limit` or `cursor`", body = Problem, content_type = "application/problem+json"),
    ))]
async fn customer_orders(
    State(state): State<AppState>,
    PartnerAuth(p): PartnerAuth,
    Path(buyer_id): Path<String>,
    ApiQuery(q): ApiQuery<CustomerOrderParams>,
) -> ApiResult<Json<Page<OrderView>>> {
    Ok(Json(bindings::customer_orders(&state, &p, &buyer_id, q).await?))
}

//! The customer demands partners pass to a seller: read them, accept one
//! (a private offer follows) or decline it with a note.

use crate::app::page::Page;
use crate::app::partners::demands::{self, DeclineDemand, DemandParams, DemandView};
use crate::auth::SellerAuth;
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
        .routes(routes!(list_seller_demands))
        .routes(routes!(get_seller_demand))
        .routes(routes!(accept_demand))
        .routes(routes!(decline_demand))
}

/// The customer demands partners passed to you, newest first.
#[utoipa::path(get, path = "/api/v1/seller/demands", tag = "partners", security(("api_key" = [])),
    params(DemandParams),
    responses(
        (status = 200, body = Page<DemandView>),
        AuthProblems,
        (status = 422, description = "bad `status`, `limit` or `cursor`", body = Problem, content_type = "application/problem+json"),
    ))]
async fn list_seller_demands(
    State(state): State<AppState>,
    SellerAuth(p): SellerAuth,
    ApiQuery(q): ApiQuery<DemandParams>,
) -> ApiResult<Json<Page<DemandView>>> {
    Ok(Json(demands::list_for_seller(&state, &p, q).await?))
}

/// One customer demand passed to you.
#[utoipa::path(get, path = "/api/v1/seller/demands/{id}", tag = "partners", security(("api_key" = [])),
    params(("id" = String, Path, description = "the demand (`dmd_...`)")),
    responses((status = 200, body = DemandView), AuthProblems, NotFoundProblem))]
async fn get_seller_demand(
    State(state): State<AppState>,
    SellerAuth(p): SellerAuth,
    Path(id): Path<String>,
) -> ApiResult<Json<DemandView>> {
    Ok(Json(demands::get_for_seller(&state, &p, &id).await?))
}

/// Take up a submitted demand; answer it with a private offer.
#[utoipa::path(post, path = "/api/v1/seller/demands/{id}/accept", tag = "partners", security(("api_key" = [])),
    params(("id" = String, Path, description = "the demand (`dmd_...`)")),
    request_body(content = Option<EmptyBody>, description = "`{}` or no body"),
    responses(
        (status = 200, body = DemandView),
        AuthProblems,
        NotFoundProblem,
        (status = 409, description = "`out_of_order`: not submitted", body = Problem, content_type = "application/problem+json"),
    ))]
async fn accept_demand(
    State(state): State<AppState>,
    SellerAuth(p): SellerAuth,
    Path(id): Path<String>,
    OptionalJson(_body): OptionalJson<EmptyBody>,
) -> ApiResult<Json<DemandView>> {
    Ok(Json(demands::accept(&state, &p, &id).await?))
}

/// Decline a submitted demand, saying why.
#[utoipa::path(post, path = "/api/v1/seller/demands/{id}/decline", tag = "partners", security(("api_key" = [])),
    params(("id" = String, Path, description = "the demand (`dmd_...`)")),
    request_body = DeclineDemand,
    responses(
        (status = 200, body = DemandView),
        AuthProblems,
        NotFoundProblem,
        (status = 409, description = "`out_of_order`: not submitted", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed` naming `note`", body = Problem, content_type = "application/problem+json"),
    ))]
async fn decline_demand(
    State(state): State<AppState>,
    SellerAuth(p): SellerAuth,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<DeclineDemand>,
) -> ApiResult<Json<DemandView>> {
    Ok(Json(demands::decline(&state, &p, &id, req).await?))
}

//! Operators review products and revisions.

use crate::app::page::Page;
use crate::app::reviews::{self, RejectRequest, ReviewDetail, ReviewSummary};
use crate::auth::OperatorAuth;
use crate::error::{ApiResult, AuthProblems, NotFoundProblem, Problem};
use crate::extract::{ApiJson, ApiQuery, query_num};
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, State};
use mercato_domain::catalog::ReviewStatus;
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list)).routes(routes!(get)).routes(routes!(approve)).routes(routes!(reject))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ReviewQuery {
    /// pending, approved or rejected; omit for all.
    #[serde(default)]
    pub status: Option<ReviewStatus>,
    /// 1-100, default 20.
    #[serde(default, deserialize_with = "query_num::opt_u64")]
    #[param(value_type = Option<u64>, minimum = 1, maximum = 100, default = 20)]
    pub limit: Option<u64>,
    #[serde(default)]
    pub cursor: Option<String>,
}

/// The review queue, oldest first.
#[utoipa::path(get, path = "/api/v1/operator/reviews", operation_id = "list_reviews", tag = "operator reviews", security(("api_key" = [])),
    params(ReviewQuery), responses(
    (status = 200, body = Page<ReviewSummary>),
    AuthProblems,
    (status = 422, body = Problem, content_type = "application/problem+json"),
))]
async fn list(
    State(state): State<AppState>,
    OperatorAuth(_op): OperatorAuth,
    ApiQuery(q): ApiQuery<ReviewQuery>,
) -> ApiResult<Json<Page<ReviewSummary>>> {
    let paging = crate::app::page::Paging::new(q.limit, q.cursor)?;
    Ok(Json(reviews::list(&state, q.status, paging).await?))
}

/// One review with the submitted product snapshot.
#[utoipa::path(get, path = "/api/v1/operator/reviews/{id}", operation_id = "get_review", tag = "operator reviews", security(("api_key" = [])),
    params(("id" = String, Path, description = "review id")),
    responses(
    (status = 200, body = ReviewDetail),
    AuthProblems,
    NotFoundProblem,
))]
async fn get(
    State(state): State<AppState>,
    OperatorAuth(_op): OperatorAuth,
    Path(id): Path<String>,
) -> ApiResult<Json<ReviewDetail>> {
    Ok(Json(reviews::get(&state, &id).await?))
}

/// Approve a pending review: the reviewed version goes on sale.
#[utoipa::path(post, path = "/api/v1/operator/reviews/{id}/approve", tag = "operator reviews", security(("api_key" = [])),
    params(("id" = String, Path, description = "review id")),
    responses(
    (status = 200, body = ReviewDetail),
    AuthProblems,
    NotFoundProblem,
    (status = 409, description = "`review_decided`", body = Problem, content_type = "application/problem+json"),
))]
async fn approve(
    State(state): State<AppState>,
    OperatorAuth(op): OperatorAuth,
    Path(id): Path<String>,
) -> ApiResult<Json<ReviewDetail>> {
    Ok(Json(reviews::approve(&state, &op, &id).await?))
}

/// Reject a pending review with a reason the seller sees.
#[utoipa::path(post, path = "/api/v1/operator/reviews/{id}/reject", tag = "operator reviews", security(("api_key" = [])),
    params(("id" = String, Path, description = "review id")),
    request_body = RejectRequest, responses(
    (status = 200, body = ReviewDetail),
    AuthProblems,
    NotFoundProblem,
    (status = 409, description = "`review_decided`", body = Problem, content_type = "application/problem+json"),
    (status = 422, body = Problem, content_type = "application/problem+json"),
))]
async fn reject(
    State(state): State<AppState>,
    OperatorAuth(op): OperatorAuth,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<RejectRequest>,
) -> ApiResult<Json<ReviewDetail>> {
    Ok(Json(reviews::reject(&state, &op, &id, req).await?))
}

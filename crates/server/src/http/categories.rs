//! The category tree: public reading, operator editing.

use crate::app::categories::{self, CategoryTree, CategoryView, CreateCategory, UpdateCategory};
use crate::auth::OperatorAuth;
use crate::error::{ApiResult, AuthProblems, NotFoundProblem, Problem};
use crate::extract::ApiJson;
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(tree)).routes(routes!(create)).routes(routes!(update, delete))
}

/// The category tree, each level ordered by position.
#[utoipa::path(get, path = "/api/v1/catalog/categories", tag = "catalog", responses(
    (status = 200, body = CategoryTree),
))]
async fn tree(State(state): State<AppState>) -> ApiResult<Json<CategoryTree>> {
    Ok(Json(categories::tree(&state).await?))
}

/// Create a category (top-level, or under `parent_id`).
#[utoipa::path(post, path = "/api/v1/operator/categories", operation_id = "create_category", tag = "operator reviews", security(("api_key" = [])),
    request_body = CreateCategory, responses(
    (status = 201, body = CategoryView),
    AuthProblems,
    (status = 404, description = "`parent_not_found`: `parent_id` names no category (`errors` names it)", body = Problem, content_type = "application/problem+json"),
    (status = 409, description = "`slug_taken`; `too_deep`: under that parent the tree would nest deeper than allowed", body = Problem, content_type = "application/problem+json"),
    (status = 422, description = "`validation_failed`: every invalid field listed", body = Problem, content_type = "application/problem+json"),
))]
async fn create(
    State(state): State<AppState>,
    OperatorAuth(_op): OperatorAuth,
    ApiJson(req): ApiJson<CreateCategory>,
) -> ApiResult<(StatusCode, Json<CategoryView>)> {
    Ok((StatusCode::CREATED, Json(categories::create(&state, req).await?)))
}

/// Rename, re-slug, move or reorder a category (only the fields sent change).
#[utoipa::path(patch, path = "/api/v1/operator/categories/{id}", operation_id = "update_category", tag = "operator reviews", security(("api_key" = [])),
    params(("id" = String, Path, description = "category id")),
    request_body = UpdateCategory, responses(
    (status = 200, body = CategoryView),
    AuthProblems,
    (status = 404, description = "`not_found`: no such category; `parent_not_found`: `parent_id` names no category (`errors` names it)", body = Problem, content_type = "application/problem+json"),
    (status = 409, description = "`slug_taken`; `too_deep`: under that parent the tree would nest deeper than allowed; `category_cycle`: the parent is the category itself or one of its sub-categories", body = Problem, content_type = "application/problem+json"),
    (status = 422, description = "`validation_failed`: every invalid field listed", body = Problem, content_type = "application/problem+json"),
))]
async fn update(
    State(state): State<AppState>,
    OperatorAuth(_op): OperatorAuth,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<UpdateCategory>,
) -> ApiResult<Json<CategoryView>> {
    Ok(Json(categories::update(&state, &id, req).await?))
}

/// Delete an empty category (no sub-categories, no products).
#[utoipa::path(delete, path = "/api/v1/operator/categories/{id}", tag = "operator reviews", security(("api_key" = [])),
    params(("id" = String, Path, description = "category id")),
    responses(
    (status = 204, description = "deleted"),
    AuthProblems,
    NotFoundProblem,
    (status = 409, description = "`category_in_use`", body = Problem, content_type = "application/problem+json"),
))]
async fn delete(
    State(state): State<AppState>,
    OperatorAuth(_op): OperatorAuth,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    categories::delete(&state, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

//! Sellers' products, SKUs and submission for review.

use crate::app::page::{Page, Paging};
use crate::app::products::{
    self, CreateProduct, ProductReviewView, ProductSummary, ProductView, SkuView, UpdateProduct,
};
use crate::auth::SellerAuth;
use crate::error::{ApiResult, AuthProblems, NotFoundProblem, Problem};
use crate::extract::{ApiJson, ApiQuery, query_num};
use crate::http::accounts::PageParams;
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use mercato_domain::catalog::{ProductStatus, SkuSpec};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create, list))
        .routes(routes!(get, update))
        .routes(routes!(add_sku, list_skus))
        .routes(routes!(delete_sku))
        .routes(routes!(submit))
        .routes(routes!(delist))
        .routes(routes!(relist))
        .routes(routes!(reviews))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ProductQuery {
    /// Only products in this status.
    #[serde(default)]
    pub status: Option<ProductStatus>,
    /// 1-100, default 20.
    #[serde(default, deserialize_with = "query_num::opt_u64")]
    #[param(value_type = Option<u64>, minimum = 1, maximum = 100, default = 20)]
    pub limit: Option<u64>,
    /// `next_cursor` from the previous page.
    #[serde(default)]
    pub cursor: Option<String>,
}

/// Create a product draft.
#[utoipa::path(post, path = "/api/v1/seller/products", operation_id = "create_product", tag = "seller catalog", security(("api_key" = [])),
    request_body = CreateProduct, responses(
    (status = 201, body = ProductView),
    AuthProblems,
    (status = 400, description = "`malformed_json`", body = Problem, content_type = "application/problem+json"),
    (status = 404, description = "`category_not_found`: `category_id` names no category (`errors` names it)", body = Problem, content_type = "application/problem+json"),
    (status = 422, description = "`validation_failed`: every invalid field listed", body = Problem, content_type = "application/problem+json"),
))]
async fn create(
    State(state): State<AppState>,
    SellerAuth(p): SellerAuth,
    ApiJson(req): ApiJson<CreateProduct>,
) -> ApiResult<(StatusCode, Json<ProductView>)> {
    Ok((StatusCode::CREATED, Json(products::create(&state, &p, req).await?)))
}

/// The seller's products, newest first.
#[utoipa::path(get, path = "/api/v1/seller/products", operation_id = "list_seller_products", tag = "seller catalog", security(("api_key" = [])),
    params(ProductQuery), responses(
    (status = 200, body = Page<ProductSummary>),
    AuthProblems,
    (status = 422, body = Problem, content_type = "application/problem+json"),
))]
async fn list(
    State(state): State<AppState>,
    SellerAuth(p): SellerAuth,
    ApiQuery(q): ApiQuery<ProductQuery>,
) -> ApiResult<Json<Page<ProductSummary>>> {
    let paging = Paging::new(q.limit, q.cursor)?;
    Ok(Json(products::list(&state, &p, q.status, paging).await?))
}

/// One product: working copy, lifecycle state, SKUs, media, listed version, pending review.
#[utoipa::path(get, path = "/api/v1/seller/products/{id}", operation_id = "get_seller_product", tag = "seller catalog", security(("api_key" = [])),
    params(("id" = String, Path, description = "product id")),
    responses(
    (status = 200, body = ProductView),
    AuthProblems,
    NotFoundProblem,
))]
async fn get(
    State(state): State<AppState>,
    SellerAuth(p): SellerAuth,
    Path(id): Path<String>,
) -> ApiResult<Json<ProductView>> {
    Ok(Json(products::get(&state, &p, &id).await?))
}

/// Change content fields or the endpoint. Editing a listed product opens a
/// revision; the listed version stays on sale until the revision is approved.
#[utoipa::path(patch, path = "/api/v1/seller/products/{id}", operation_id = "update_product", tag = "seller catalog", security(("api_key" = [])),
    params(("id" = String, Path, description = "product id")),
    request_body = UpdateProduct, responses(
    (status = 200, body = ProductView),
    AuthProblems,
    (status = 404, description = "`not_found`: no such product of the caller's; `category_not_found`: `category_id` names no category (`errors` names it)", body = Problem, content_type = "application/problem+json"),
    (status = 400, body = Problem, content_type = "application/problem+json"),
    (status = 409, description = "`under_review`", body = Problem, content_type = "application/problem+json"),
    (status = 422, description = "`validation_failed`: every invalid field listed", body = Problem, content_type = "application/problem+json"),
))]
async fn update(
    State(state): State<AppState>,
    SellerAuth(p): SellerAuth,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<UpdateProduct>,
) -> ApiResult<Json<ProductView>> {
    Ok(Json(products::update(&state, &p, &id, req).await?))
}

/// Add a SKU (pending until the next approved review).
#[utoipa::path(post, path = "/api/v1/seller/products/{id}/skus", tag = "seller catalog", security(("api_key" = [])),
    params(("id" = String, Path, description = "product id")),
    request_body = SkuSpec, responses(
    (status = 201, body = SkuView),
    AuthProblems,
    NotFoundProblem,
    (status = 400, body = Problem, content_type = "application/problem+json"),
    (status = 409, description = "`sku_code_taken`, `currency_mismatch` (the product's other SKUs use another currency; `errors` names `currency`), `under_review`, `too_many_skus`", body = Problem, content_type = "application/problem+json"),
    (status = 422, body = Problem, content_type = "application/problem+json"),
))]
async fn add_sku(
    State(state): State<AppState>,
    SellerAuth(p): SellerAuth,
    Path(id): Path<String>,
    ApiJson(spec): ApiJson<SkuSpec>,
) -> ApiResult<(StatusCode, Json<SkuView>)> {
    Ok((StatusCode::CREATED, Json(products::add_sku(&state, &p, &id, spec).await?)))
}

/// The product's SKUs with their status.
#[utoipa::path(get, path = "/api/v1/seller/products/{id}/skus", tag = "seller catalog", security(("api_key" = [])),
    params(("id" = String, Path, description = "product id")),
    responses(
    (status = 200, body = Vec<SkuView>),
    AuthProblems,
    NotFoundProblem,
))]
async fn list_skus(
    State(state): State<AppState>,
    SellerAuth(p): SellerAuth,
    Path(id): Path<String>,
) -> ApiResult<Json<Vec<SkuView>>> {
    Ok(Json(products::list_skus(&state, &p, &id).await?))
}

/// Delete a SKU that has not been approved yet.
#[utoipa::path(delete, path = "/api/v1/seller/products/{id}/skus/{sku_id}", tag = "seller catalog", security(("api_key" = [])),
    params(("id" = String, Path, description = "product id"), ("sku_id" = String, Path, description = "SKU id")),
    responses(
    (status = 204, description = "deleted"),
    AuthProblems,
    NotFoundProblem,
    (status = 409, description = "`sku_active`, `under_review`", body = Problem, content_type = "application/problem+json"),
))]
async fn delete_sku(
    State(state): State<AppState>,
    SellerAuth(p): SellerAuth,
    Path((id, sku_id)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    products::delete_sku(&state, &p, &id, &sku_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Submit the product (or its revision) for review.
#[utoipa::path(post, path = "/api/v1/seller/products/{id}/submit", tag = "seller catalog", security(("api_key" = [])),
    params(("id" = String, Path, description = "product id")),
    responses(
    (status = 200, body = ProductView),
    AuthProblems,
    NotFoundProblem,
    (status = 409, description = "`seller_not_ready`, `under_review`, `nothing_to_submit`, `no_skus`, `endpoint_required`, `debug_run_required` (SaaS: no passing debug run against the current endpoint)", body = Problem, content_type = "application/problem+json"),
))]
async fn submit(
    State(state): State<AppState>,
    SellerAuth(p): SellerAuth,
    Path(id): Path<String>,
) -> ApiResult<Json<ProductView>> {
    Ok(Json(products::submit(&state, &p, &id).await?))
}

/// Take a listed product off sale.
#[utoipa::path(post, path = "/api/v1/seller/products/{id}/delist", tag = "seller catalog", security(("api_key" = [])),
    params(("id" = String, Path, description = "product id")),
    responses(
    (status = 200, body = ProductView),
    AuthProblems,
    NotFoundProblem,
    (status = 409, description = "`invalid_state`", body = Problem, content_type = "application/problem+json"),
))]
async fn delist(
    State(state): State<AppState>,
    SellerAuth(p): SellerAuth,
    Path(id): Path<String>,
) -> ApiResult<Json<ProductView>> {
    Ok(Json(products::delist(&state, &p, &id).await?))
}

/// Put a delisted product back on sale.
#[utoipa::path(post, path = "/api/v1/seller/products/{id}/relist", tag = "seller catalog", security(("api_key" = [])),
    params(("id" = String, Path, description = "product id")),
    responses(
    (status = 200, body = ProductView),
    AuthProblems,
    NotFoundProblem,
    (status = 409, description = "`invalid_state`", body = Problem, content_type = "application/problem+json"),
))]
async fn relist(
    State(state): State<AppState>,
    SellerAuth(p): SellerAuth,
    Path(id): Path<String>,
) -> ApiResult<Json<ProductView>> {
    Ok(Json(products::relist(&state, &p, &id).await?))
}

/// The product's reviews, newest first, with every decision and reason.
#[utoipa::path(get, path = "/api/v1/seller/products/{id}/reviews", tag = "seller catalog", security(("api_key" = [])),
    params(("id" = String, Path, description = "product id"), PageParams),
    responses(
    (status = 200, body = Page<ProductReviewView>),
    AuthProblems,
    NotFoundProblem,
))]
async fn reviews(
    State(state): State<AppState>,
    SellerAuth(p): SellerAuth,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<PageParams>,
) -> ApiResult<Json<Page<ProductReviewView>>> {
    Ok(Json(products::reviews_of(&state, &p, &id, q.paging()?).await?))
}

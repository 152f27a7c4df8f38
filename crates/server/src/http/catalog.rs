//! The public catalog: no authentication.

use crate::app::catalog::{self, CatalogItem, CatalogProduct, ProductSearchParams};
use crate::app::page::Page;
use crate::error::{ApiResult, Problem};
use crate::extract::ApiQuery;
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, State};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(search_products)).routes(routes!(get_product))
}

/// Search the listed products. Pages are stable: follow `next_cursor` to get
/// every match exactly once. Filters that match nothing (a `category` that
/// names no category, a minimum above the maximum) give an empty page.
#[utoipa::path(get, path = "/api/v1/catalog/products", tag = "catalog", params(ProductSearchParams), responses(
    (status = 200, body = Page<CatalogItem>),
    (status = 422, description = "a parameter is invalid (each is named)", body = Problem, content_type = "application/problem+json"),
))]
async fn search_products(
    State(state): State<AppState>,
    ApiQuery(params): ApiQuery<ProductSearchParams>,
) -> ApiResult<Json<Page<CatalogItem>>> {
    Ok(Json(catalog::search(&state, params).await?))
}

/// A listed product with its SKUs on sale.
#[utoipa::path(get, path = "/api/v1/catalog/products/{id}", tag = "catalog",
    params(("id" = String, Path, description = "product id")),
    responses(
        (status = 200, body = CatalogProduct),
        (status = 404, description = "no such listed product", body = Problem, content_type = "application/problem+json"),
    ))]
async fn get_product(State(state): State<AppState>, Path(id): Path<String>) -> ApiResult<Json<CatalogProduct>> {
    Ok(Json(catalog::product(&state, &id).await?))
}

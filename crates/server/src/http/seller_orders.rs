//! Sellers' orders: the orders containing the seller's products (only the
//! seller's own lines), filtered, and the same rows as CSV.

use crate::app::orders::seller::{self, SellerOrderParams, SellerOrderView};
use crate::app::page::Page;
use crate::auth::SellerAuth;
use crate::error::{ApiResult, AuthProblems, Problem};
use crate::extract::ApiQuery;
use crate::http::csv_attachment;
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderName, HeaderValue};
use axum::response::Response;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// Set to `true` when an export hit its row cap.
const TRUNCATED_HEADER: HeaderName = HeaderName::from_static("mercato-export-truncated");

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_orders)).routes(routes!(export_orders))
}

/// Orders containing the calling seller's products, newest first. Only the
/// seller's own lines are shown; `amount_minor` is their sum.
#[utoipa::path(get, path = "/api/v1/seller/orders", operation_id = "list_seller_orders", tag = "orders", security(("api_key" = [])),
    params(SellerOrderParams),
    responses(
        (status = 200, body = Page<SellerOrderView>),
        AuthProblems,
        (status = 422, description = "`validation_failed` naming the bad filter", body = Problem, content_type = "application/problem+json"),
    ))]
async fn list_orders(
    State(state): State<AppState>,
    SellerAuth(p): SellerAuth,
    ApiQuery(q): ApiQuery<SellerOrderParams>,
) -> ApiResult<Json<Page<SellerOrderView>>> {
    Ok(Json(seller::list(&state, &p, q).await?))
}

/// The same orders as CSV (RFC 4180, every field quoted, header row), one
/// row per order line, at most 10,000 rows (then the header
/// `Mercato-Export-Truncated: true` is set). Text starting with `=`, `+`,
/// `-` or `@` is prefixed with `'` so spreadsheets do not run it.
#[utoipa::path(get, path = "/api/v1/seller/orders/export.csv", tag = "orders", security(("api_key" = [])),
    params(SellerOrderParams),
    responses(
        (status = 200, description = "the orders as CSV", body = String, content_type = "text/csv"),
        AuthProblems,
        (status = 422, description = "`validation_failed` naming the bad filter", body = Problem, content_type = "application/problem+json"),
    ))]
async fn export_orders(
    State(state): State<AppState>,
    SellerAuth(p): SellerAuth,
    ApiQuery(q): ApiQuery<SellerOrderParams>,
) -> ApiResult<Response> {
    let export = seller::export(&state, &p, q).await?;
    let mut res = csv_attachment(export.csv.into(), "orders.csv");
    if export.truncated {
        res.headers_mut().insert(TRUNCATED_HEADER, HeaderValue::from_static("true"));
    }
    Ok(res)
}

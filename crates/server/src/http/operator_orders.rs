//! The operator's order view: all orders, filtered, and one order with its
//! subscriptions, ledger entries, seller calls, jobs and follow-up orders.

use crate::app::operator_orders::{self, OperatorOrderDetail, OperatorOrderParams, OperatorOrderView};
use crate::app::page::Page;
use crate::auth::OperatorAuth;
use crate::error::{ApiResult, AuthProblems, NotFoundProblem, Problem};
use crate::extract::ApiQuery;
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, State};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_orders)).routes(routes!(get_order))
}

/// Every buyer's orders, newest first, with all their lines; filtered by
/// status, buyer, seller or product (orders with a line of it) and creation
/// time (`created_from` inclusive, `created_to` exclusive).
#[utoipa::path(get, path = "/api/v1/operator/orders", operation_id = "list_operator_orders", tag = "orders", security(("api_key" = [])),
    params(OperatorOrderParams),
    responses(
        (status = 200, body = Page<OperatorOrderView>),
        AuthProblems,
        (status = 422, description = "`validation_failed` naming the bad filter, `limit` or `cursor`", body = Problem, content_type = "application/problem+json"),
    ))]
async fn list_orders(
    State(state): State<AppState>,
    OperatorAuth(_op): OperatorAuth,
    ApiQuery(q): ApiQuery<OperatorOrderParams>,
) -> ApiResult<Json<Page<OperatorOrderView>>> {
    Ok(Json(operator_orders::list(&state, q).await?))
}

/// One order with everything about its delivery: the subscriptions of its
/// lines (appInfo without the password), the ledger entries referencing it,
/// the calls made to the seller, the jobs (status, attempts, last error,
/// next run) and the follow-up orders of its subscriptions.
#[utoipa::path(get, path = "/api/v1/operator/orders/{id}", operation_id = "get_operator_order", tag = "orders", security(("api_key" = [])),
    params(("id" = String, Path, description = "order id")),
    responses(
        (status = 200, body = OperatorOrderDetail),
        AuthProblems,
        NotFoundProblem,
    ))]
async fn get_order(
    State(state): State<AppState>,
    OperatorAuth(_op): OperatorAuth,
    Path(id): Path<String>,
) -> ApiResult<Json<OperatorOrderDetail>> {
    Ok(Json(operator_orders::get(&state, &id).await?))
}

//! A SaaS product's debug runs: the debug cases run against its seller
//! endpoint, which must pass before the product can be submitted.

use crate::app::debug_runs::{self, DebugRunView};
use crate::app::page::Page;
use crate::auth::SellerAuth;
use crate::error::{ApiResult, AuthProblems, NotFoundProblem, Problem};
use crate::extract::ApiQuery;
use crate::http::accounts::PageParams;
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, State};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(run)).routes(routes!(list))
}

/// Run the product's debug cases (testFlag 1) against its endpoint and store
/// the result: newInstance, refreshInstance, updateInstanceStatus and
/// releaseInstance when the product has a period SKU, else newInstance and
/// releaseInstance. A failing case is a 200 with `passed: false` and the
/// case's detail. A SaaS product can be submitted only after a passing run
/// against its current endpoint.
#[utoipa::path(post, path = "/api/v1/seller/products/{id}/debug-run", tag = "seller catalog", security(("api_key" = [])),
    params(("id" = String, Path, description = "product id")),
    responses(
    (status = 200, body = DebugRunView),
    AuthProblems,
    NotFoundProblem,
    (status = 409, description = "`not_applicable` (not SaaS), `endpoint_required`, `debug_run_in_progress`", body = Problem, content_type = "application/problem+json"),
))]
async fn run(
    State(state): State<AppState>,
    SellerAuth(p): SellerAuth,
    Path(id): Path<String>,
) -> ApiResult<Json<DebugRunView>> {
    Ok(Json(debug_runs::run(&state, &p, &id).await?))
}

/// The product's debug runs, newest first.
#[utoipa::path(get, path = "/api/v1/seller/products/{id}/debug-runs", operation_id = "list_debug_runs", tag = "seller catalog", security(("api_key" = [])),
    params(("id" = String, Path, description = "product id"), PageParams),
    responses(
    (status = 200, body = Page<DebugRunView>),
    AuthProblems,
    NotFoundProblem,
    (status = 422, body = Problem, content_type = "application/problem+json"),
))]
async fn list(
    State(state): State<AppState>,
    SellerAuth(p): SellerAuth,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<PageParams>,
) -> ApiResult<Json<Page<DebugRunView>>> {
    Ok(Json(debug_runs::list(&state, &p, &id, q.paging()?).await?))
}

//! The partner's money: its statements of shares (客户服务商账单) and its
//! performance (业绩) per month, as JSON or CSV.

use crate::app::page::Page;
use crate::app::settlement::partners::{
    self, PartnerStatementDetail, PartnerStatementParams, PartnerStatementView, PerformanceParams, PerformanceRow,
};
use crate::auth::PartnerAuth;
use crate::error::{ApiResult, AuthProblems, NotFoundProblem, Problem};
use crate::extract::ApiQuery;
use crate::http::csv_attachment;
use crate::state::AppState;
use axum::Json;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::response::Response;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_statements))
        .routes(routes!(get_statement))
        .routes(routes!(performance))
        .routes(routes!(performance_csv))
}

/// Your statements of shares, newest first: one per settled period and
/// currency with attributed sales or clawbacks.
#[utoipa::path(get, path = "/api/v1/partner/statements", operation_id = "list_partner_statements", tag = "partners", security(("api_key" = [])),
    params(PartnerStatementParams),
    responses(
        (status = 200, body = Page<PartnerStatementView>),
        AuthProblems,
        (status = 422, description = "bad `status`, `limit` or `cursor`", body = Problem, content_type = "application/problem+json"),
    ))]
async fn list_statements(
    State(state): State<AppState>,
    PartnerAuth(p): PartnerAuth,
    ApiQuery(q): ApiQuery<PartnerStatementParams>,
) -> ApiResult<Json<Page<PartnerStatementView>>> {
    Ok(Json(partners::list(&state, Some(&p), q).await?))
}

/// One of your statements with its lines.
#[utoipa::path(get, path = "/api/v1/partner/statements/{id}", operation_id = "get_partner_statement", tag = "partners", security(("api_key" = [])),
    params(("id" = String, Path, description = "statement id (`pst_...`)")),
    responses((status = 200, body = PartnerStatementDetail), AuthProblems, NotFoundProblem))]
async fn get_statement(
    State(state): State<AppState>,
    PartnerAuth(p): PartnerAuth,
    Path(id): Path<String>,
) -> ApiResult<Json<PartnerStatementDetail>> {
    Ok(Json(partners::detail(&state, Some(&p), &id).await?))
}

/// Your performance (业绩) per month and currency: paid orders attributed
/// to you, their customers, GMV and your shares, net of refunds.
#[utoipa::path(get, path = "/api/v1/partner/performance", tag = "partners", security(("api_key" = [])),
    params(PerformanceParams),
    responses(
        (status = 200, body = Vec<PerformanceRow>),
        AuthProblems,
        (status = 422, description = "`from` or `to` not a month, `to` before `from`, or more than 36 months", body = Problem, content_type = "application/problem+json"),
    ))]
async fn performance(
    State(state): State<AppState>,
    PartnerAuth(p): PartnerAuth,
    ApiQuery(q): ApiQuery<PerformanceParams>,
) -> ApiResult<Json<Vec<PerformanceRow>>> {
    Ok(Json(partners::performance(&state, &p, &q).await?))
}

/// Your performance as CSV (RFC 4180, header row, amounts bare integers
/// in minor units).
#[utoipa::path(get, path = "/api/v1/partner/performance.csv", tag = "partners", security(("api_key" = [])),
    params(PerformanceParams),
    responses(
        (status = 200, description = "one row per month and currency", body = String, content_type = "text/csv"),
        AuthProblems,
        (status = 422, description = "`from` or `to` not a month, `to` before `from`, or more than 36 months", body = Problem, content_type = "application/problem+json"),
    ))]
async fn performance_csv(
    State(state): State<AppState>,
    PartnerAuth(p): PartnerAuth,
    ApiQuery(q): ApiQuery<PerformanceParams>,
) -> ApiResult<Response> {
    let rows = partners::performance(&state, &p, &q).await?;
    Ok(csv_attachment(Body::from(partners::performance_csv(&rows)), "performance.csv"))
}

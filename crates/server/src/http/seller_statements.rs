//! The seller's statements (结算单): one per billing period and currency,
//! with every settled line.

use crate::app::page::Page;
use crate::app::settlement::exports;
use crate::app::settlement::lifecycle::{self, StatementNote};
use crate::app::settlement::{
    self, StatementDetail, StatementParams, StatementView, TransactionParams, TransactionView,
};
use crate::auth::SellerAuth;
use crate::error::{ApiResult, AuthProblems, NotFoundProblem, Problem};
use crate::extract::{ApiJson, ApiQuery};
use crate::http::accounts::PageParams;
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
        .routes(routes!(confirm_statement))
        .routes(routes!(dispute_statement))
        .routes(routes!(list_transactions))
        .routes(routes!(export_transactions))
}

/// Your statements, newest first, optionally of one period.
#[utoipa::path(get, path = "/api/v1/seller/statements", operation_id = "list_seller_statements", tag = "settlement", security(("api_key" = [])),
    params(StatementParams),
    responses(
        (status = 200, body = Page<StatementView>),
        AuthProblems,
        (status = 422, description = "bad `period`, `limit` or `cursor`", body = Problem, content_type = "application/problem+json"),
    ))]
async fn list_statements(
    State(state): State<AppState>,
    SellerAuth(p): SellerAuth,
    ApiQuery(q): ApiQuery<StatementParams>,
) -> ApiResult<Json<Page<StatementView>>> {
    Ok(Json(settlement::statements(&state, Some(&p.account_id), q).await?))
}

/// One of your statements with a page of its lines: delivered order lines,
/// paid usage and clawbacks of refunds, in settled order.
#[utoipa::path(get, path = "/api/v1/seller/statements/{id}", operation_id = "get_seller_statement", tag = "settlement", security(("api_key" = [])),
    params(("id" = String, Path, description = "statement id"), PageParams),
    responses(
        (status = 200, body = StatementDetail),
        AuthProblems,
        NotFoundProblem,
        (status = 422, description = "bad `limit` or `cursor`", body = Problem, content_type = "application/problem+json"),
    ))]
async fn get_statement(
    State(state): State<AppState>,
    SellerAuth(p): SellerAuth,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<PageParams>,
) -> ApiResult<Json<StatementDetail>> {
    Ok(Json(settlement::statement(&state, Some(&p.account_id), &id, q.paging()?).await?))
}

/// Confirm your statement: it goes to the operators' payment approval.
#[utoipa::path(post, path = "/api/v1/seller/statements/{id}/confirm", tag = "settlement", security(("api_key" = [])),
    params(("id" = String, Path, description = "statement id")),
    responses(
        (status = 200, body = StatementDetail),
        AuthProblems,
        NotFoundProblem,
        (status = 409, description = "`out_of_order` naming the status; `statement_changed`", body = Problem, content_type = "application/problem+json"),
    ))]
async fn confirm_statement(
    State(state): State<AppState>,
    SellerAuth(p): SellerAuth,
    Path(id): Path<String>,
) -> ApiResult<Json<StatementDetail>> {
    Ok(Json(lifecycle::confirm(&state, &p, &id).await?))
}

/// Dispute your statement with a reason; an operator answers and reissues it.
#[utoipa::path(post, path = "/api/v1/seller/statements/{id}/dispute", tag = "settlement", security(("api_key" = [])),
    params(("id" = String, Path, description = "statement id")),
    request_body = StatementNote,
    responses(
        (status = 200, body = StatementDetail),
        AuthProblems,
        NotFoundProblem,
        (status = 409, description = "`out_of_order` naming the status; `statement_changed`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "no reason, or too long", body = Problem, content_type = "application/problem+json"),
    ))]
async fn dispute_statement(
    State(state): State<AppState>,
    SellerAuth(p): SellerAuth,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<StatementNote>,
) -> ApiResult<Json<StatementDetail>> {
    Ok(Json(lifecycle::dispute(&state, &p, &id, req).await?))
}

/// Your transaction details (交易明细): every settled line (sales, usage,
/// clawbacks) with its statement and period, filtered by period, order,
/// customer, product or kind; in statement and settled order. A statement's
/// lines sum to its totals.
#[utoipa::path(get, path = "/api/v1/seller/transactions", operation_id = "list_seller_transactions", tag = "settlement", security(("api_key" = [])),
    params(TransactionParams),
    responses(
        (status = 200, body = Page<TransactionView>),
        AuthProblems,
        (status = 422, description = "bad `period`, `kind`, `limit` or `cursor`", body = Problem, content_type = "application/problem+json"),
    ))]
async fn list_transactions(
    State(state): State<AppState>,
    SellerAuth(p): SellerAuth,
    ApiQuery(q): ApiQuery<TransactionParams>,
) -> ApiResult<Json<Page<TransactionView>>> {
    Ok(Json(settlement::transactions(&state, Some(&p.account_id), q).await?))
}

/// Your transaction details as CSV (RFC 4180, header row; text quoted and
/// defused against spreadsheet formulas, amounts bare integers in minor
/// units): every line matching the filters, streamed as it is read.
#[utoipa::path(get, path = "/api/v1/seller/transactions/export.csv", operation_id = "export_seller_transactions", tag = "settlement", security(("api_key" = [])),
    params(TransactionParams),
    responses(
        (status = 200, description = "the lines as CSV", body = String, content_type = "text/csv"),
        AuthProblems,
        (status = 422, description = "bad `period`, `kind`, `product_type` or `limit`", body = Problem, content_type = "application/problem+json"),
    ))]
async fn export_transactions(
    State(state): State<AppState>,
    SellerAuth(p): SellerAuth,
    ApiQuery(q): ApiQuery<TransactionParams>,
) -> ApiResult<Response> {
    let body = exports::transactions_csv(&state, Some(p.account_id), q)?;
    Ok(csv_attachment(Body::from_stream(body), "transactions.csv"))
}

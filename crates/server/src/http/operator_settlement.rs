//! The operators' settlement: runs per billing period and every seller's
//! statements.

use crate::app::page::Page;
use crate::app::settlement::exports;
use crate::app::settlement::lifecycle::{self, RecordPayout, StatementNote};
use crate::app::settlement::{
    self, SettlementRunView, StartSettlement, StatementDetail, StatementParams, StatementView, TransactionParams,
    TransactionView,
};
use crate::auth::OperatorAuth;
use crate::error::{ApiResult, AuthProblems, NotFoundProblem, Problem};
use crate::extract::{ApiJson, ApiQuery};
use crate::http::accounts::PageParams;
use crate::http::csv_attachment;
use crate::state::AppState;
use axum::Json;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::http::{HeaderName, HeaderValue};
use axum::response::Response;
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_runs, start_run))
        .routes(routes!(list_statements))
        .routes(routes!(get_statement))
        .routes(routes!(reissue_statement))
        .routes(routes!(approve_statement))
        .routes(routes!(pay_statement))
        .routes(routes!(payout_failed))
        .routes(routes!(list_transactions))
        .routes(routes!(export_transactions))
        .routes(routes!(bank_file))
}

/// Settlement runs, newest period first.
#[utoipa::path(get, path = "/api/v1/operator/settlement-runs", tag = "settlement", security(("api_key" = [])),
    params(PageParams),
    responses(
        (status = 200, body = Page<SettlementRunView>),
        AuthProblems,
        (status = 422, description = "bad `limit` or `cursor`", body = Problem, content_type = "application/problem+json"),
    ))]
async fn list_runs(
    State(state): State<AppState>,
    OperatorAuth(_op): OperatorAuth,
    ApiQuery(q): ApiQuery<PageParams>,
) -> ApiResult<Json<Page<SettlementRunView>>> {
    Ok(Json(settlement::runs(&state, q.paging()?).await?))
}

/// Settle a closed period (the scheduler settles the latest one by itself):
/// 201 with the run made now, 200 with the run made earlier (a period is
/// settled once, however often or on how many nodes it is asked).
#[utoipa::path(post, path = "/api/v1/operator/settlement-runs", tag = "settlement", security(("api_key" = [])),
    request_body = StartSettlement,
    responses(
        (status = 201, body = SettlementRunView),
        (status = 200, description = "settled before", body = SettlementRunView),
        AuthProblems,
        (status = 409, description = "`period_open`: the period has not ended, or its cut-off has not passed", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`period` is not YYYY-MM", body = Problem, content_type = "application/problem+json"),
    ))]
async fn start_run(
    State(state): State<AppState>,
    OperatorAuth(op): OperatorAuth,
    ApiJson(req): ApiJson<StartSettlement>,
) -> ApiResult<(StatusCode, Json<SettlementRunView>)> {
    let (run, created) = settlement::start(&state, &op, req).await?;
    Ok((if created { StatusCode::CREATED } else { StatusCode::OK }, Json(run)))
}

/// Every seller's statements, newest first, optionally of one period.
#[utoipa::path(get, path = "/api/v1/operator/statements", operation_id = "list_operator_statements", tag = "settlement", security(("api_key" = [])),
    params(StatementParams),
    responses(
        (status = 200, body = Page<StatementView>),
        AuthProblems,
        (status = 422, description = "bad `period`, `limit` or `cursor`", body = Problem, content_type = "application/problem+json"),
    ))]
async fn list_statements(
    State(state): State<AppState>,
    OperatorAuth(_op): OperatorAuth,
    ApiQuery(q): ApiQuery<StatementParams>,
) -> ApiResult<Json<Page<StatementView>>> {
    Ok(Json(settlement::statements(&state, None, q).await?))
}

/// Any statement with a page of its lines.
#[utoipa::path(get, path = "/api/v1/operator/statements/{id}", operation_id = "get_operator_statement", tag = "settlement", security(("api_key" = [])),
    params(("id" = String, Path, description = "statement id"), PageParams),
    responses(
        (status = 200, body = StatementDetail),
        AuthProblems,
        NotFoundProblem,
        (status = 422, description = "bad `limit` or `cursor`", body = Problem, content_type = "application/problem+json"),
    ))]
async fn get_statement(
    State(state): State<AppState>,
    OperatorAuth(_op): OperatorAuth,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<PageParams>,
) -> ApiResult<Json<StatementDetail>> {
    Ok(Json(settlement::statement(&state, None, &id, q.paging()?).await?))
}

/// Answer a disputed statement: it goes back to the seller.
#[utoipa::path(post, path = "/api/v1/operator/statements/{id}/reissue", tag = "settlement", security(("api_key" = [])),
    params(("id" = String, Path, description = "statement id")),
    request_body = StatementNote,
    responses(
        (status = 200, body = StatementDetail),
        AuthProblems,
        NotFoundProblem,
        (status = 409, description = "`out_of_order`: not disputed; `statement_changed`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "no answer, or too long", body = Problem, content_type = "application/problem+json"),
    ))]
async fn reissue_statement(
    State(state): State<AppState>,
    OperatorAuth(op): OperatorAuth,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<StatementNote>,
) -> ApiResult<Json<StatementDetail>> {
    Ok(Json(lifecycle::reissue(&state, &op, &id, req).await?))
}

/// Approve the payment of a confirmed statement (会签); not by the operator
/// who issued it.
#[utoipa::path(post, path = "/api/v1/operator/statements/{id}/approve", tag = "settlement", security(("api_key" = [])),
    params(("id" = String, Path, description = "statement id")),
    responses(
        (status = 200, body = StatementDetail),
        AuthProblems,
        NotFoundProblem,
        (status = 409, description = "`out_of_order`: not confirmed; `statement_changed`", body = Problem, content_type = "application/problem+json"),
    ))]
async fn approve_statement(
    State(state): State<AppState>,
    OperatorAuth(op): OperatorAuth,
    Path(id): Path<String>,
) -> ApiResult<Json<StatementDetail>> {
    Ok(Json(lifecycle::approve(&state, &op, &id).await?))
}

/// Record the payout of an approved statement (`manual`: the bank transfer's
/// reference); posts the payout entry (seller payable to platform cash).
#[utoipa::path(post, path = "/api/v1/operator/statements/{id}/payout", tag = "settlement", security(("api_key" = [])),
    params(("id" = String, Path, description = "statement id")),
    request_body = RecordPayout,
    responses(
        (status = 200, body = StatementDetail),
        AuthProblems,
        NotFoundProblem,
        (status = 409, description = "`out_of_order`: not approved; `nothing_to_pay` (net not positive); `statement_changed`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "bad provider or reference", body = Problem, content_type = "application/problem+json"),
        (status = 502, description = "`payout_failed`: the provider did not make the payout (nothing recorded)", body = Problem, content_type = "application/problem+json"),
    ))]
async fn pay_statement(
    State(state): State<AppState>,
    OperatorAuth(op): OperatorAuth,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<RecordPayout>,
) -> ApiResult<Json<StatementDetail>> {
    Ok(Json(lifecycle::pay(&state, &op, &id, req).await?))
}

/// The bank returned a payout: its entry is reversed and the statement is
/// approved again.
#[utoipa::path(post, path = "/api/v1/operator/statements/{id}/payout-failed", tag = "settlement", security(("api_key" = [])),
    params(("id" = String, Path, description = "statement id")),
    request_body = StatementNote,
    responses(
        (status = 200, body = StatementDetail),
        AuthProblems,
        NotFoundProblem,
        (status = 409, description = "`out_of_order`: not paid; `statement_changed`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "no reason, or too long", body = Problem, content_type = "application/problem+json"),
    ))]
async fn payout_failed(
    State(state): State<AppState>,
    OperatorAuth(op): OperatorAuth,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<StatementNote>,
) -> ApiResult<Json<StatementDetail>> {
    Ok(Json(lifecycle::payout_failed(&state, &op, &id, req).await?))
}

/// Every seller's settled lines, filtered like the sellers' transaction details.
#[utoipa::path(get, path = "/api/v1/operator/transactions", operation_id = "list_operator_transactions", tag = "settlement", security(("api_key" = [])),
    params(TransactionParams),
    responses(
        (status = 200, body = Page<TransactionView>),
        AuthProblems,
        (status = 422, description = "bad `period`, `kind`, `limit` or `cursor`", body = Problem, content_type = "application/problem+json"),
    ))]
async fn list_transactions(
    State(state): State<AppState>,
    OperatorAuth(_op): OperatorAuth,
    ApiQuery(q): ApiQuery<TransactionParams>,
) -> ApiResult<Json<Page<TransactionView>>> {
    Ok(Json(settlement::transactions(&state, None, q).await?))
}

/// Every seller's transaction details as CSV, streamed (see the sellers' export).
#[utoipa::path(get, path = "/api/v1/operator/transactions/export.csv", operation_id = "export_operator_transactions", tag = "settlement", security(("api_key" = [])),
    params(TransactionParams),
    responses(
        (status = 200, description = "the lines as CSV", body = String, content_type = "text/csv"),
        AuthProblems,
        (status = 422, description = "bad `period`, `kind`, `product_type` or `limit`", body = Problem, content_type = "application/problem+json"),
    ))]
async fn export_transactions(
    State(state): State<AppState>,
    OperatorAuth(_op): OperatorAuth,
    ApiQuery(q): ApiQuery<TransactionParams>,
) -> ApiResult<Response> {
    let body = exports::transactions_csv(&state, None, q)?;
    Ok(csv_attachment(Body::from_stream(body), "transactions.csv"))
}

/// The bank file for a batch transfer: one row per approved statement with a
/// positive net (optionally of one period), to the seller's certified bank
/// account, the statement id as payment reference. Statements whose seller
/// has no certified bank account are left out; the header
/// `Mercato-Without-Bank-Account` counts them. Record each transfer the bank
/// made with `POST .../statements/{id}/payout`.
#[utoipa::path(get, path = "/api/v1/operator/payouts/bank-file.csv", tag = "settlement", security(("api_key" = [])),
    params(BankFileParams),
    responses(
        (status = 200, description = "the transfers as CSV", body = String, content_type = "text/csv"),
        AuthProblems,
        (status = 422, description = "bad `period`", body = Problem, content_type = "application/problem+json"),
    ))]
async fn bank_file(
    State(state): State<AppState>,
    OperatorAuth(_op): OperatorAuth,
    ApiQuery(q): ApiQuery<BankFileParams>,
) -> ApiResult<Response> {
    let file = exports::bank_file(&state, q.period).await?;
    let mut res = csv_attachment(Body::from(file.csv), "payouts.csv");
    res.headers_mut().insert(WITHOUT_BANK_ACCOUNT, HeaderValue::from(file.without_bank_account));
    Ok(res)
}

const WITHOUT_BANK_ACCOUNT: HeaderName = HeaderName::from_static("mercato-without-bank-account");

/// `GET /api/v1/operator/payouts/bank-file.csv` filter.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct BankFileParams {
    /// Only this period's statements (`YYYY-MM`).
    #[serde(default)]
    #[param(pattern = "^2[0-9]{3}-(0[1-9]|1[0-2])$")]
    pub period: Option<String>,
}

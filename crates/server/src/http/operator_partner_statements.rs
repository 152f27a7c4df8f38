//! Operators pay partners: the partner statements the settlement run
//! issued, the partner's invoice recorded as received, then the payout.

use crate::app::page::Page;
use crate::app::settlement::lifecycle::RecordPayout;
use crate::app::settlement::partners::{
    self, PartnerStatementDetail, PartnerStatementParams, PartnerStatementView, ReceiveInvoice,
};
use crate::auth::OperatorAuth;
use crate::error::{ApiResult, AuthProblems, NotFoundProblem, Problem};
use crate::extract::{ApiJson, ApiQuery};
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, State};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_statements))
        .routes(routes!(get_statement))
        .routes(routes!(receive_invoice))
        .routes(routes!(pay_statement))
}

/// Partner statements, newest first, optionally in one status.
#[utoipa::path(get, path = "/api/v1/operator/partner-statements", operation_id = "list_operator_partner_statements", tag = "partners", security(("api_key" = [])),
    params(PartnerStatementParams),
    responses(
        (status = 200, body = Page<PartnerStatementView>),
        AuthProblems,
        (status = 422, description = "bad `status`, `limit` or `cursor`", body = Problem, content_type = "application/problem+json"),
    ))]
async fn list_statements(
    State(state): State<AppState>,
    OperatorAuth(_op): OperatorAuth,
    ApiQuery(q): ApiQuery<PartnerStatementParams>,
) -> ApiResult<Json<Page<PartnerStatementView>>> {
    Ok(Json(partners::list(&state, None, q).await?))
}

/// One partner statement with its lines.
#[utoipa::path(get, path = "/api/v1/operator/partner-statements/{id}", operation_id = "get_operator_partner_statement", tag = "partners", security(("api_key" = [])),
    params(("id" = String, Path, description = "statement id (`pst_...`)")),
    responses((status = 200, body = PartnerStatementDetail), AuthProblems, NotFoundProblem))]
async fn get_statement(
    State(state): State<AppState>,
    OperatorAuth(_op): OperatorAuth,
    Path(id): Path<String>,
) -> ApiResult<Json<PartnerStatementDetail>> {
    Ok(Json(partners::detail(&state, None, &id).await?))
}

/// Record the partner's invoice for the statement as received: only then
/// can it be paid.
#[utoipa::path(post, path = "/api/v1/operator/partner-statements/{id}/invoice-received", operation_id = "receive_partner_invoice", tag = "partners", security(("api_key" = [])),
    params(("id" = String, Path, description = "statement id (`pst_...`)")),
    request_body = ReceiveInvoice,
    responses(
        (status = 200, body = PartnerStatementDetail),
        AuthProblems,
        NotFoundProblem,
        (status = 409, description = "`out_of_order` (already received or paid); `statement_changed`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`invoice_number` empty or too long", body = Problem, content_type = "application/problem+json"),
    ))]
async fn receive_invoice(
    State(state): State<AppState>,
    OperatorAuth(p): OperatorAuth,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<ReceiveInvoice>,
) -> ApiResult<Json<PartnerStatementDetail>> {
    Ok(Json(partners::receive_invoice(&state, &p, &id, req).await?))
}

/// Record the payout of a statement whose invoice was received; posts the
/// payout entry (the partner's payable to the platform's cash).
#[utoipa::path(post, path = "/api/v1/operator/partner-statements/{id}/payout", operation_id = "pay_partner_statement", tag = "partners", security(("api_key" = [])),
    params(("id" = String, Path, description = "statement id (`pst_...`)")),
    request_body = RecordPayout,
    responses(
        (status = 200, body = PartnerStatementDetail),
        AuthProblems,
        NotFoundProblem,
        (status = 409, description = "`invoice_not_received`; `out_of_order` (already paid); `nothing_to_pay`; `statement_changed`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`reference` empty or too long", body = Problem, content_type = "application/problem+json"),
        (status = 502, description = "`payout_failed`: the provider refused", body = Problem, content_type = "application/problem+json"),
    ))]
async fn pay_statement(
    State(state): State<AppState>,
    OperatorAuth(p): OperatorAuth,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<RecordPayout>,
) -> ApiResult<Json<PartnerStatementDetail>> {
    Ok(Json(partners::pay(&state, &p, &id, req).await?))
}

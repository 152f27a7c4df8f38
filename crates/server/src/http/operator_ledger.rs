//! Operator finance: crediting wallets, the ledger's trial balance and
//! entries, commission rates.

use crate::app::ledger::{
    self, CommissionRate, CommissionRateList, EntryFilter, EntryView, SetCommissionRate, TrialBalance,
};
use crate::app::page::{Page, Paging};
use crate::app::wallet::{self, CreditRequest, CreditResponse};
use crate::auth::OperatorAuth;
use crate::error::{ApiResult, AuthProblems, Problem};
use crate::extract::{ApiJson, ApiQuery, query_num};
use crate::http::idempotency::Idempotency;
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::response::Response;
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(credit_wallet))
        .routes(routes!(trial_balance))
        .routes(routes!(entries))
        .routes(routes!(list_rates, set_rate))
}

/// Credit a buyer's wallet (a `manual` payment). Send an `Idempotency-Key`
/// header to make retries safe: a retry returns the first response (with
/// `Idempotent-Replayed: true`) and credits once.
#[utoipa::path(post, path = "/api/v1/operator/wallets/{buyer_id}/credit", tag = "operator finance", security(("api_key" = [])),
    params(
        ("buyer_id" = String, Path, description = "the buyer's account id"),
        ("Idempotency-Key" = Option<String>, Header, description = "1-255 visible ASCII characters; remembered for 24 hours", min_length = 1, max_length = 255, pattern = "^[!-~]+$"),
    ),
    request_body = CreditRequest,
    responses(
        (status = 201, body = CreditResponse),
        AuthProblems,
        (status = 404, description = "no such buyer (or the account is not a buyer)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`idempotency_key_in_use`: the first request with this key is still running", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed`, or `idempotency_key_reused` for a key used with a different request", body = Problem, content_type = "application/problem+json"),
    ))]
async fn credit_wallet(
    State(state): State<AppState>,
    OperatorAuth(p): OperatorAuth,
    Path(buyer_id): Path<String>,
    idempotency: Idempotency,
    ApiJson(req): ApiJson<CreditRequest>,
) -> ApiResult<Response> {
    let once = idempotency.bind(&p.account_id, &req)?;
    let credited =
        once.run(&state, StatusCode::CREATED, async |tx| wallet::credit(&state, tx, &p, &buyer_id, req).await).await?;
    Ok(credited.into_response())
}

/// Every ledger account's balance (`balance_minor` = debit - credit); the
/// totals are zero in a sound ledger.
#[utoipa::path(get, path = "/api/v1/operator/ledger/trial-balance", tag = "operator finance", security(("api_key" = [])),
    responses(
        (status = 200, body = TrialBalance),
        AuthProblems,
    ))]
async fn trial_balance(
    State(state): State<AppState>,
    OperatorAuth(_op): OperatorAuth,
) -> ApiResult<Json<TrialBalance>> {
    Ok(Json(ledger::trial_balance(&state).await?))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct EntryParams {
    /// Only entries with a line on this account, e.g. `buyer_wallet:acc_...`.
    #[serde(default)]
    #[param(schema_with = account_schema)]
    account: Option<String>,
    /// Only entries with this reference (payment, order or refund id).
    #[serde(default)]
    #[param(schema_with = reference_schema)]
    reference: Option<String>,
    /// 1-100, default 20.
    #[serde(default, deserialize_with = "query_num::opt_u64")]
    #[param(value_type = Option<u64>, minimum = 1, maximum = 100, default = 20)]
    limit: Option<u64>,
    /// `next_cursor` from the previous page.
    #[serde(default)]
    cursor: Option<String>,
}

fn account_schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
    mercato_domain::schema::to_schema(serde_json::json!({
        "type": "string",
        "pattern": mercato_domain::ledger::account_filter_pattern(),
        "description": "Only entries with a line on this account, e.g. `buyer_wallet:acc_...`.",
    }))
}

fn reference_schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
    mercato_domain::schema::to_schema(serde_json::json!({
        "type": "string",
        "maxLength": mercato_domain::ledger::REFERENCE_MAX,
        "description": "Only entries with this reference (payment, order or refund id).",
    }))
}

/// Journal entries with their lines, newest first.
#[utoipa::path(get, path = "/api/v1/operator/ledger/entries", tag = "operator finance", security(("api_key" = [])),
    params(EntryParams),
    responses(
        (status = 200, body = Page<EntryView>),
        AuthProblems,
        (status = 422, body = Problem, content_type = "application/problem+json"),
    ))]
async fn entries(
    State(state): State<AppState>,
    OperatorAuth(_op): OperatorAuth,
    ApiQuery(q): ApiQuery<EntryParams>,
) -> ApiResult<Json<Page<EntryView>>> {
    let paging = Paging::new(q.limit, q.cursor)?;
    let filter = EntryFilter { account: q.account, reference: q.reference };
    Ok(Json(ledger::list_entries(&state, filter, paging).await?))
}

/// Commission rates per product type and cooperation model.
#[utoipa::path(get, path = "/api/v1/operator/commission-rates", tag = "operator finance", security(("api_key" = [])),
    responses(
        (status = 200, body = CommissionRateList),
        AuthProblems,
    ))]
async fn list_rates(
    State(state): State<AppState>,
    OperatorAuth(_op): OperatorAuth,
) -> ApiResult<Json<CommissionRateList>> {
    Ok(Json(ledger::list_rates(&state).await?))
}

/// Set the commission rate for a product type and cooperation model (applies to later sales).
#[utoipa::path(put, path = "/api/v1/operator/commission-rates", tag = "operator finance", security(("api_key" = [])),
    request_body = SetCommissionRate,
    responses(
        (status = 200, body = CommissionRate),
        AuthProblems,
        (status = 422, body = Problem, content_type = "application/problem+json"),
    ))]
async fn set_rate(
    State(state): State<AppState>,
    OperatorAuth(_op): OperatorAuth,
    ApiJson(req): ApiJson<SetCommissionRate>,
) -> ApiResult<Json<CommissionRate>> {
    Ok(Json(ledger::set_rate(&state, req).await?))
}

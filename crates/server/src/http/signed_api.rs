//! The sellers' open API (spec §6), signed with AK/SK (SDK-HMAC-SHA256) and
//! answered in the `{"error_code", "error_msg"}` envelope; see
//! [`crate::app::signed_api`].

use crate::app::signed_api::{self, Envelope, OpenApiError, OpenApiResult, OrderQueryResponse, SignedRequest};
use crate::app::usage::intake::{self, UsagePushRequest, UsagePushResponse};
use crate::state::AppState;
use axum::Json;
use axum::extract::{Query, Request, State};
use bytes::Bytes;
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(order_query)).routes(routes!(usage_push))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct OrderQueryParams {
    /// The order (required).
    order_id: Option<String>,
    /// Only this line of the order.
    order_line_id: Option<String>,
}

/// Order query for sellers: the order's lines sold by the caller and the buyer. Signed with the seller's AK/SK
/// (`Authorization: SDK-HMAC-SHA256 Access=…, SignedHeaders=…, Signature=…` and a signed `X-Sdk-Date`).
#[utoipa::path(get, path = "/api/mkp-openapi-public/global/v1/order/query", tag = "open api", security(("sdk_hmac" = [])),
    params(OrderQueryParams,
        ("X-Sdk-Date" = String, Header, description = "yyyyMMdd'T'HHmmss'Z', within 15 minutes"),
        ("Authorization" = String, Header, description = "SDK-HMAC-SHA256 Access=<AK>, SignedHeaders=<list>, Signature=<hex>")),
    responses(
        (status = 200, body = OrderQueryResponse),
        (status = 400, description = "MKT.0100 orderId missing", body = Envelope),
        (status = 401, description = "MKT.0102 signature check failed; MKT.0154 unknown or revoked AK", body = Envelope),
        (status = 403, description = "MKT.0150 another seller's order", body = Envelope),
        (status = 404, description = "MKT.9001 no such (paid) order or line", body = Envelope),
    ))]
async fn order_query(
    State(state): State<AppState>,
    Query(q): Query<OrderQueryParams>,
    request: Request,
) -> OpenApiResult<Json<OrderQueryResponse>> {
    let (seller_id, _) = signed(&state, request).await?;
    Ok(Json(signed_api::query_order(&state, &seller_id, q.order_id.as_deref(), q.order_line_id.as_deref()).await?))
}

/// Usage push (话单) for pay-per-use instances: up to 1000 records per call, shape-checked at once and stored
/// before the answer; business validation happens later. A retried push of the same records stores nothing new.
/// Signed like the order query; the body's SHA-256 is part of the signature.
#[utoipa::path(post, path = "/api/mkp-openapi-public/global/v1/isv/usage-data", tag = "open api", security(("sdk_hmac" = [])),
    params(
        ("X-Sdk-Date" = String, Header, description = "yyyyMMdd'T'HHmmss'Z', within 15 minutes"),
        ("Authorization" = String, Header, description = "SDK-HMAC-SHA256 Access=<AK>, SignedHeaders=<list>, Signature=<hex>")),
    request_body(content = UsagePushRequest, content_type = "application/json"),
    responses(
        (status = 200, description = "MKT.0000; `accepted` new records, `already_received` records stored earlier", body = UsagePushResponse),
        (status = 400, description = "MKT.0100 malformed body, no records, a bad or missing value or a metering_sn repeated in the batch (named as usage_records[i].field); MKT.0101 unknown field; MKT.9003 more than 1000 records. Nothing is stored.", body = Envelope),
        (status = 401, description = "MKT.0102 signature check failed; MKT.0154 unknown or revoked AK", body = Envelope),
    ))]
async fn usage_push(State(state): State<AppState>, request: Request) -> OpenApiResult<Json<UsagePushResponse>> {
    let (seller_id, body) = signed(&state, request).await?;
    Ok(Json(intake::push(&state, &seller_id, &body).await?))
}

/// Reads the body and checks the AK/SK signature over the whole request:
/// the calling seller and the body, or the envelope error to answer.
async fn signed(state: &AppState, request: Request) -> OpenApiResult<(String, Bytes)> {
    let (parts, body) = request.into_parts();
    let body = axum::body::to_bytes(body, state.config.body_limit_bytes).await.map_err(|_| {
        OpenApiError::new(
            axum::http::StatusCode::BAD_REQUEST,
            signed_api::INVALID_INPUT,
            "unreadable or too large request body",
        )
    })?;
    let req = SignedRequest {
        method: parts.method.as_str(),
        path: parts.uri.path(),
        raw_query: parts.uri.query().unwrap_or_default(),
        headers: &parts.headers,
        body: &body,
    };
    let seller_id = signed_api::authenticate(state, &req).await?;
    Ok((seller_id, body))
}

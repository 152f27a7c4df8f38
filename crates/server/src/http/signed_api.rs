//! The sellers' open API (spec §6), signed with AK/SK (SDK-HMAC-SHA256, see
//! `koo::gateway`) and answered in the `{"error_code", "error_msg"}` envelope
//! with an HTTP status chosen by the code: MKT.0100/0101/9003 400, MKT.0102
//! and MKT.0154 401, MKT.0150 403, MKT.9001 404, MKT.0999 500.
//!
//! `X-Sdk-Date` must be within 15 minutes of the marketplace's wall-clock
//! time (not `state.now()`: the seller signs with its real clock, and an
//! operator test clock would otherwise refuse every call).

use crate::app::credentials;
use crate::app::licenses::{self, ActivateRequest, HeartbeatRequest, HeartbeatResponse};
use crate::app::signed_api::{self, Envelope, OpenApiError, OpenApiResult, OrderQueryResponse};
use crate::app::usage::intake::{self, UsagePushRequest, UsagePushResponse};
use crate::state::AppState;
use axum::Json;
use axum::extract::{Query, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use chrono::{DateTime, NaiveDateTime, Utc};
use koo::gateway::{self, Authorization, DATE_FORMAT, DATE_HEADER, GatewayCode};
use serde::Deserialize;
use subtle::ConstantTimeEq;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(order_query))
        .routes(routes!(usage_push))
        .routes(routes!(license_activate))
        .routes(routes!(license_heartbeat))
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

/// License activation by the seller's software: the first activation of a code the caller issued completes the
/// purchase's supervision (the order completes); a repeated activation answers MKT.0000 and changes nothing.
/// Signed like the order query.
#[utoipa::path(post, path = "/api/mkp-openapi-public/global/v1/license/activate", tag = "open api", security(("sdk_hmac" = [])),
    params(
        ("X-Sdk-Date" = String, Header, description = "yyyyMMdd'T'HHmmss'Z', within 15 minutes"),
        ("Authorization" = String, Header, description = "SDK-HMAC-SHA256 Access=<AK>, SignedHeaders=<list>, Signature=<hex>")),
    request_body(content = ActivateRequest, content_type = "application/json"),
    responses(
        (status = 200, description = "MKT.0000", body = Envelope),
        (status = 400, description = "MKT.0100 malformed body or value; MKT.0101 unknown field", body = Envelope),
        (status = 401, description = "MKT.0102 signature check failed; MKT.0154 unknown or revoked AK", body = Envelope),
        (status = 403, description = "MKT.0150 another seller's license, or a released one", body = Envelope),
        (status = 404, description = "MKT.9001 no such license", body = Envelope),
    ))]
async fn license_activate(State(state): State<AppState>, request: Request) -> OpenApiResult<Json<Envelope>> {
    let (seller_id, body) = signed(&state, request).await?;
    licenses::activate(&state, &seller_id, &body).await?;
    Ok(Json(Envelope { error_code: GatewayCode::Success.as_str().into(), error_msg: "success".into() }))
}

/// License heartbeat: the code's state from its subscription (ALIVE, EXPIRED, RELEASED) and its expiry; the latest
/// `heartbeatInfo` is kept. Signed like the order query.
#[utoipa::path(post, path = "/api/mkp-openapi-public/global/v1/license/heartbeat", tag = "open api", security(("sdk_hmac" = [])),
    params(
        ("X-Sdk-Date" = String, Header, description = "yyyyMMdd'T'HHmmss'Z', within 15 minutes"),
        ("Authorization" = String, Header, description = "SDK-HMAC-SHA256 Access=<AK>, SignedHeaders=<list>, Signature=<hex>")),
    request_body(content = HeartbeatRequest, content_type = "application/json"),
    responses(
        (status = 200, description = "MKT.0000 with the state", body = HeartbeatResponse),
        (status = 400, description = "MKT.0100 malformed body or value; MKT.0101 unknown field", body = Envelope),
        (status = 401, description = "MKT.0102 signature check failed; MKT.0154 unknown or revoked AK", body = Envelope),
        (status = 403, description = "MKT.0150 another seller's license", body = Envelope),
        (status = 404, description = "MKT.9001 no such license", body = Envelope),
    ))]
async fn license_heartbeat(State(state): State<AppState>, request: Request) -> OpenApiResult<Json<HeartbeatResponse>> {
    let (seller_id, body) = signed(&state, request).await?;
    Ok(Json(licenses::heartbeat(&state, &seller_id, &body).await?))
}

/// Reads the body and checks the AK/SK signature over the whole request:
/// the calling seller and the body, or the envelope error to answer.
async fn signed(state: &AppState, request: Request) -> OpenApiResult<(String, Bytes)> {
    let (parts, body) = request.into_parts();
    let body = axum::body::to_bytes(body, state.config.body_limit_bytes)
        .await
        .map_err(|_| OpenApiError::new(GatewayCode::InvalidInput, "unreadable or too large request body"))?;
    let req = SignedRequest {
        method: parts.method.as_str(),
        path: parts.uri.path(),
        raw_query: parts.uri.query().unwrap_or_default(),
        headers: &parts.headers,
        body: &body,
    };
    let seller_id = authenticate(state, &req).await?;
    Ok((seller_id, body))
}

/// How far `X-Sdk-Date` may be from the marketplace's clock, either way.
pub const MAX_SKEW_SECS: i64 = 15 * 60;

/// A request as the verifier sees it.
struct SignedRequest<'a> {
    method: &'a str,
    path: &'a str,
    raw_query: &'a str,
    headers: &'a HeaderMap,
    body: &'a [u8],
}

fn bad_signature(msg: impl Into<String>) -> OpenApiError {
    OpenApiError::new(GatewayCode::BadSignature, msg)
}

fn parse_sdk_date(value: &str) -> Option<DateTime<Utc>> {
    NaiveDateTime::parse_from_str(value, DATE_FORMAT).ok().map(|d| d.and_utc())
}

/// Checks everything but the secret: returns the parsed header and the
/// string to sign.
fn prepare(req: &SignedRequest<'_>, now: DateTime<Utc>) -> OpenApiResult<(Authorization, String)> {
    let auth = req
        .headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(gateway::parse_authorization)
        .ok_or_else(|| bad_signature("missing or malformed SDK-HMAC-SHA256 Authorization header"))?;
    if !auth.signed_headers.iter().any(|h| h == DATE_HEADER) {
        return Err(bad_signature("X-Sdk-Date must be a signed header"));
    }
    let mut pairs = Vec::with_capacity(auth.signed_headers.len());
    for name in &auth.signed_headers {
        let values: Vec<&str> = req.headers.get_all(name.as_str()).iter().filter_map(|v| v.to_str().ok()).collect();
        if values.is_empty() {
            return Err(bad_signature(format!("signed header {name} is missing")));
        }
        pairs.push((name.clone(), values.join(",")));
    }
    let date_text = req.headers.get(DATE_HEADER).and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
    let date = parse_sdk_date(&date_text).ok_or_else(|| bad_signature("X-Sdk-Date must be yyyyMMdd'T'HHmmss'Z'"))?;
    if (now - date).num_seconds().abs() > MAX_SKEW_SECS {
        return Err(bad_signature("X-Sdk-Date is more than 15 minutes from the marketplace's clock"));
    }
    let canonical = gateway::canonical_request(req.method, req.path, req.raw_query, &pairs, req.body);
    Ok((auth, gateway::string_to_sign(&date_text, &canonical)))
}

/// Verifies the request's signature; returns the calling seller's id.
async fn authenticate(state: &AppState, req: &SignedRequest<'_>) -> OpenApiResult<String> {
    let (auth, to_sign) = prepare(req, Utc::now())?;
    let Some((seller_id, secret)) = credentials::active_secret(state, &auth.access).await? else {
        return Err(OpenApiError::new(GatewayCode::InvalidToken, "unknown or revoked access key"));
    };
    let expected = gateway::signature(&secret, &to_sign);
    if !bool::from(expected.as_bytes().ct_eq(auth.signature.to_ascii_lowercase().as_bytes())) {
        return Err(bad_signature("signature mismatch"));
    }
    credentials::touch(state, &auth.access).await?;
    Ok(seller_id)
}

/// The HTTP status each code is answered with.
fn status_of(code: GatewayCode) -> StatusCode {
    match code {
        GatewayCode::Success => StatusCode::OK,
        GatewayCode::InvalidInput | GatewayCode::InvalidParameter | GatewayCode::TooManyRecords => {
            StatusCode::BAD_REQUEST
        }
        GatewayCode::BadSignature | GatewayCode::InvalidToken => StatusCode::UNAUTHORIZED,
        GatewayCode::IllegalOperation => StatusCode::FORBIDDEN,
        GatewayCode::NotFound => StatusCode::NOT_FOUND,
        GatewayCode::Internal => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

impl IntoResponse for OpenApiError {
    fn into_response(self) -> Response {
        (status_of(self.code), Json(self.envelope())).into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sdk_dates_parse_in_the_gateway_format_only() {
        assert_eq!(parse_sdk_date("20261122T043000Z").unwrap().to_rfc3339(), "2026-11-22T04:30:00+00:00");
        assert!(parse_sdk_date("2026-11-22").is_none());
    }
}

//! The sellers' open API (seller interface spec §6): calls signed with the
//! seller's AK/SK in the API-gateway scheme "SDK-HMAC-SHA256", answered in
//! KooGallery's envelope `{"error_code": "MKT.xxxx", "error_msg": ...}`.
//!
//! Signing (as the gateway SDKs do):
//!
//! ```text
//! canonical request = METHOD \n
//!                     path, each segment percent-encoded, with a trailing `/` \n
//!                     query pairs percent-encoded, sorted, `k=v` joined by `&` \n
//!                     signed headers as `name:value\n` lines (lower-cased names, trimmed values) \n
//!                     signed-header names joined by `;` \n
//!                     hex sha256(body)
//! string to sign    = "SDK-HMAC-SHA256\n" + X-Sdk-Date + "\n" + hex sha256(canonical request)
//! Authorization     = SDK-HMAC-SHA256 Access=<AK>, SignedHeaders=<list>, Signature=<hex hmac-sha256(SK, string to sign)>
//! ```
//!
//! Percent-encoding keeps `A-Z a-z 0-9 - _ . ~` and writes everything else
//! as upper-case `%XX`. The headers block ends each line with `\n` before the
//! join, so an empty line separates it from the list, exactly like the SDKs.
//! `X-Sdk-Date` (`yyyyMMdd'T'HHmmss'Z'`) must be signed and within 15 minutes
//! of the marketplace's wall-clock time (not `state.now()`: the seller signs
//! with its real clock, and an operator test clock would otherwise refuse
//! every call).
//!
//! Codes used: MKT.0000 success; MKT.0100 a missing or invalid parameter
//! (400); MKT.0102 a missing, malformed, stale or wrong signature (401);
//! MKT.0154 an unknown or revoked AK (401); MKT.0150 an order with no line of
//! the caller's (403); MKT.9001 no such order or order line, or an order not
//! paid yet (404); MKT.0999 an internal error (500).

use crate::app::credentials;
use crate::state::AppState;
use axum::Json;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, NaiveDateTime, Utc};
use hmac::{Hmac, Mac};
use mercato_store::repo::orders as order_repo;
use serde::Serialize;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use utoipa::ToSchema;

pub const ALGORITHM: &str = "SDK-HMAC-SHA256";
pub const DATE_HEADER: &str = "x-sdk-date";
pub const DATE_FORMAT: &str = "%Y%m%dT%H%M%SZ";
/// How far `X-Sdk-Date` may be from the marketplace's clock, either way.
pub const MAX_SKEW_SECS: i64 = 15 * 60;

pub const SUCCESS: &str = "MKT.0000";
pub const INVALID_INPUT: &str = "MKT.0100";
pub const BAD_SIGNATURE: &str = "MKT.0102";
pub const ILLEGAL_OPERATION: &str = "MKT.0150";
pub const INVALID_TOKEN: &str = "MKT.0154";
pub const INTERNAL: &str = "MKT.0999";
pub const NOT_FOUND: &str = "MKT.9001";

/// The open API's error answer.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Envelope {
    /// `MKT.0000` on success.
    pub error_code: String,
    pub error_msg: String,
}

/// An open-API failure: an HTTP status and an envelope.
#[derive(Debug)]
pub struct OpenApiError {
    pub status: StatusCode,
    pub envelope: Envelope,
}

impl OpenApiError {
    pub fn new(status: StatusCode, code: &str, msg: impl Into<String>) -> Self {
        Self { status, envelope: Envelope { error_code: code.into(), error_msg: msg.into() } }
    }
    fn signature(msg: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, BAD_SIGNATURE, msg)
    }
}

impl IntoResponse for OpenApiError {
    fn into_response(self) -> Response {
        (self.status, Json(self.envelope)).into_response()
    }
}

impl From<crate::app::error::AppError> for OpenApiError {
    fn from(e: crate::app::error::AppError) -> Self {
        tracing::error!(error = %e.report(), "open API internal error");
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, INTERNAL, "internal error")
    }
}

impl From<mercato_store::StoreError> for OpenApiError {
    fn from(e: mercato_store::StoreError) -> Self {
        crate::app::error::AppError::from(e).into()
    }
}

pub type OpenApiResult<T> = Result<T, OpenApiError>;

// ---- signing: pure functions ----

fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let Ok(v) = u8::from_str_radix(std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("zz"), 16)
        {
            out.push(v);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The canonical path: each segment decoded then re-encoded, with a trailing `/`.
pub fn canonical_path(path: &str) -> String {
    let encoded: Vec<String> = path.split('/').map(|seg| percent_encode(&percent_decode(seg))).collect();
    let mut p = encoded.join("/");
    if !p.ends_with('/') {
        p.push('/');
    }
    p
}

/// The canonical query from a raw query string: pairs decoded, re-encoded,
/// sorted, joined by `&`.
pub fn canonical_query(raw: &str) -> String {
    let mut pairs: Vec<(String, String)> = raw
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (percent_encode(&percent_decode(k)), percent_encode(&percent_decode(v)))
        })
        .collect();
    pairs.sort();
    pairs.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("&")
}

fn hex_sha256(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

/// The canonical request. `headers` are the signed headers' (name, value)
/// pairs in any case; they are lower-cased, trimmed and sorted here.
pub fn canonical_request(
    method: &str,
    path: &str,
    raw_query: &str,
    headers: &[(String, String)],
    body: &[u8],
) -> String {
    let mut hs: Vec<(String, String)> =
        headers.iter().map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_string())).collect();
    hs.sort();
    let block: String = hs.iter().map(|(n, v)| format!("{n}:{v}\n")).collect();
    let list = hs.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>().join(";");
    format!(
        "{}\n{}\n{}\n{}\n{}\n{}",
        method.to_ascii_uppercase(),
        canonical_path(path),
        canonical_query(raw_query),
        block,
        list,
        hex_sha256(body)
    )
}

pub fn string_to_sign(sdk_date: &str, canonical_request: &str) -> String {
    format!("{ALGORITHM}\n{sdk_date}\n{}", hex_sha256(canonical_request.as_bytes()))
}

/// hex HMAC-SHA256(secret, string to sign).
pub fn signature(secret: &str, string_to_sign: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key length");
    mac.update(string_to_sign.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// A parsed `Authorization` header.
#[derive(Debug, PartialEq, Eq)]
pub struct Authorization {
    pub access: String,
    pub signed_headers: Vec<String>,
    pub signature: String,
}

pub fn parse_authorization(value: &str) -> Option<Authorization> {
    let rest = value.trim().strip_prefix(ALGORITHM)?.trim_start();
    let (mut access, mut signed, mut sig) = (None, None, None);
    for part in rest.split(',') {
        let (k, v) = part.trim().split_once('=')?;
        match k.trim() {
            "Access" => access = Some(v.trim().to_string()),
            "SignedHeaders" => signed = Some(v.trim().to_string()),
            "Signature" => sig = Some(v.trim().to_string()),
            _ => return None,
        }
    }
    let signed_headers: Vec<String> =
        signed?.split(';').map(|h| h.trim().to_ascii_lowercase()).filter(|h| !h.is_empty()).collect();
    let (access, signature) = (access?, sig?);
    if access.is_empty() || signature.is_empty() || signed_headers.is_empty() {
        return None;
    }
    Some(Authorization { access, signed_headers, signature })
}

pub fn parse_sdk_date(value: &str) -> Option<DateTime<Utc>> {
    NaiveDateTime::parse_from_str(value, DATE_FORMAT).ok().map(|d| d.and_utc())
}

/// A request as the verifier sees it.
pub struct SignedRequest<'a> {
    pub method: &'a str,
    pub path: &'a str,
    pub raw_query: &'a str,
    pub headers: &'a HeaderMap,
    pub body: &'a [u8],
}

/// Checks everything but the secret: returns the parsed header, the date
/// and the canonical request to sign.
pub fn prepare(req: &SignedRequest<'_>, now: DateTime<Utc>) -> OpenApiResult<(Authorization, String)> {
    let auth = req
        .headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(parse_authorization)
        .ok_or_else(|| OpenApiError::signature("missing or malformed SDK-HMAC-SHA256 Authorization header"))?;
    if !auth.signed_headers.iter().any(|h| h == DATE_HEADER) {
        return Err(OpenApiError::signature("X-Sdk-Date must be a signed header"));
    }
    let mut pairs = Vec::with_capacity(auth.signed_headers.len());
    for name in &auth.signed_headers {
        let values: Vec<&str> = req.headers.get_all(name.as_str()).iter().filter_map(|v| v.to_str().ok()).collect();
        if values.is_empty() {
            return Err(OpenApiError::signature(format!("signed header {name} is missing")));
        }
        pairs.push((name.clone(), values.join(",")));
    }
    let date_text = req.headers.get(DATE_HEADER).and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
    let date =
        parse_sdk_date(&date_text).ok_or_else(|| OpenApiError::signature("X-Sdk-Date must be yyyyMMdd'T'HHmmss'Z'"))?;
    if (now - date).num_seconds().abs() > MAX_SKEW_SECS {
        return Err(OpenApiError::signature("X-Sdk-Date is more than 15 minutes from the marketplace's clock"));
    }
    let canonical = canonical_request(req.method, req.path, req.raw_query, &pairs, req.body);
    Ok((auth, string_to_sign(&date_text, &canonical)))
}

/// Verifies the request's signature; returns the calling seller's id.
pub async fn authenticate(state: &AppState, req: &SignedRequest<'_>) -> OpenApiResult<String> {
    let (auth, to_sign) = prepare(req, Utc::now())?;
    let Some((seller_id, secret)) = credentials::active_secret(state, &auth.access).await? else {
        return Err(OpenApiError::new(StatusCode::UNAUTHORIZED, INVALID_TOKEN, "unknown or revoked access key"));
    };
    let expected = signature(&secret, &to_sign);
    if !bool::from(expected.as_bytes().ct_eq(auth.signature.to_ascii_lowercase().as_bytes())) {
        return Err(OpenApiError::signature("signature mismatch"));
    }
    mercato_store::repo::credentials::touch(&state.db.conn, &auth.access, state.now()).await?;
    Ok(seller_id)
}

// ---- order query ----

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProductInfo {
    pub product_id: String,
    pub sku_code: String,
    /// The quantity bought.
    pub linear_value: i64,
    pub product_name: String,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OrderLineInfo {
    pub order_line_id: String,
    /// PERIOD, ONE_TIME, ON_DEMAND or ON_DEMAND_PKG.
    pub charging_mode: String,
    /// `month` or `year` for period lines.
    pub period_type: Option<String>,
    pub period_number: Option<i64>,
    /// `yyyyMMddHHmmss` UTC, once known.
    pub expire_time: Option<String>,
    pub product_info: Vec<ProductInfo>,
    /// ISO 4217 code.
    pub currency: String,
    /// The amount paid for the line, a decimal string in `currency`.
    pub currency_after_discount: String,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BuyerInfo {
    pub customer_id: String,
    pub customer_name: String,
    pub user_id: String,
    pub user_name: String,
    pub email: String,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OrderInfo {
    pub order_id: String,
    /// NEW (a new purchase).
    pub order_type: String,
    /// `yyyyMMddHHmmss` UTC.
    pub create_time: String,
    pub order_line: Vec<OrderLineInfo>,
    pub buyer_info: BuyerInfo,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OrderQueryResponse {
    pub error_code: String,
    pub error_msg: String,
    #[serde(rename = "orderInfo")]
    pub order_info: OrderInfo,
}

pub fn koo_time(t: DateTime<Utc>) -> String {
    t.format("%Y%m%d%H%M%S").to_string()
}

fn decimal_amount(minor: i64, currency: &str) -> String {
    let exp = mercato_domain::money::CURRENCIES.iter().find(|(c, _)| *c == currency).map_or(2, |(_, e)| *e);
    rust_decimal::Decimal::new(minor, exp).to_string()
}

/// The order as the calling seller may see it: only its own lines.
pub async fn query_order(
    state: &AppState,
    seller_id: &str,
    order_id: Option<&str>,
    line_id: Option<&str>,
) -> OpenApiResult<OrderQueryResponse> {
    let order_id = order_id
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| OpenApiError::new(StatusCode::BAD_REQUEST, INVALID_INPUT, "orderId is required"))?;
    let not_found = || OpenApiError::new(StatusCode::NOT_FOUND, NOT_FOUND, "no such order");
    let db = &state.db.conn;
    let order = order_repo::find_order(db, order_id).await?.ok_or_else(not_found)?;
    if order.paid_at.is_none() {
        return Err(not_found());
    }
    let mut lines = order_repo::lines_of(db, std::slice::from_ref(&order.id)).await?;
    if let Some(l) = line_id.map(str::trim).filter(|s| !s.is_empty()) {
        lines.retain(|x| x.id == l);
        if lines.is_empty() {
            return Err(OpenApiError::new(StatusCode::NOT_FOUND, NOT_FOUND, "no such order line"));
        }
    }
    lines.retain(|l| l.seller_id == seller_id);
    if lines.is_empty() {
        return Err(OpenApiError::new(StatusCode::FORBIDDEN, ILLEGAL_OPERATION, "the order is not one of yours"));
    }
    let subs = order_repo::subscriptions_of_orders(db, std::slice::from_ref(&order.id)).await?;
    let mut order_line = Vec::with_capacity(lines.len());
    for l in lines {
        let expire = subs.iter().find(|s| s.order_line_id == l.id).and_then(|s| s.expires_at).map(koo_time);
        order_line.push(OrderLineInfo {
            charging_mode: l.charging_mode.as_str().to_ascii_uppercase(),
            period_type: l.period.map(|p| p.as_str().to_string()),
            period_number: l.period_count,
            expire_time: expire,
            product_info: vec![ProductInfo {
                product_id: l.product_id.clone(),
                sku_code: l.sku_code.clone(),
                linear_value: l.quantity,
                product_name: l.product_name.clone(),
            }],
            currency: l.currency.clone(),
            currency_after_discount: decimal_amount(l.amount_minor, &l.currency),
            order_line_id: l.id,
        });
    }
    let buyer = order_repo::accounts_by_ids(db, std::slice::from_ref(&order.buyer_id)).await?.into_iter().next();
    let (name, email) = buyer.map(|b| (b.name, b.email)).unwrap_or_default();
    Ok(OrderQueryResponse {
        error_code: SUCCESS.into(),
        error_msg: "success".into(),
        order_info: OrderInfo {
            order_id: order.id.clone(),
            order_type: "NEW".into(),
            create_time: koo_time(order.created_at),
            order_line,
            buyer_info: BuyerInfo {
                customer_id: order.buyer_id.clone(),
                customer_name: name.clone(),
                user_id: order.buyer_id,
                user_name: name,
                email,
            },
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_request_matches_a_hand_computed_example() {
        let headers = vec![
            ("X-Sdk-Date".to_string(), "20261122T043000Z".to_string()),
            ("Host".to_string(), "mkt.example.com".to_string()),
        ];
        let c = canonical_request("get", "/api/x", "orderLineId=L%201&orderId=O1", &headers, b"");
        let expected = "GET\n/api/x/\norderId=O1&orderLineId=L%201\nhost:mkt.example.com\nx-sdk-date:20261122T043000Z\n\nhost;x-sdk-date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
        assert_eq!(c, expected);
        let s = string_to_sign("20261122T043000Z", &c);
        assert_eq!(s, format!("SDK-HMAC-SHA256\n20261122T043000Z\n{}", hex_sha256(expected.as_bytes())));
        // RFC 4231 test case 2 checks the HMAC itself.
        assert_eq!(
            signature("Jefe", "what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn paths_and_queries_are_normalised() {
        assert_eq!(canonical_path("/a/b/"), "/a/b/");
        assert_eq!(canonical_path("/a b"), "/a%20b/");
        assert_eq!(canonical_query("b=2&a=1&c"), "a=1&b=2&c=");
        assert_eq!(canonical_query("q=%7e+x"), "q=~%2Bx");
    }

    #[test]
    fn authorization_headers_parse() {
        let a =
            parse_authorization("SDK-HMAC-SHA256 Access=AK1, SignedHeaders=host;x-sdk-date, Signature=ab12").unwrap();
        assert_eq!(a.access, "AK1");
        assert_eq!(a.signed_headers, vec!["host", "x-sdk-date"]);
        assert_eq!(a.signature, "ab12");
        assert!(parse_authorization("Bearer x").is_none());
        assert!(parse_authorization("SDK-HMAC-SHA256 Access=AK1, Signature=ab").is_none());
        assert_eq!(parse_sdk_date("20261122T043000Z").unwrap().to_rfc3339(), "2026-11-22T04:30:00+00:00");
        assert!(parse_sdk_date("2026-11-22").is_none());
    }
}

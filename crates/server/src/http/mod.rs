//! The HTTP surface: one module per area, each exposing `routes()` whose
//! handlers are thin (parse, authorize by extractor, call `app::`, render).

pub mod accounts;
pub mod buyer_coupons;
pub mod buyer_invoices;
pub mod buyer_offers;
pub mod buyer_orders;
pub mod buyer_partner;
pub mod buyer_plan_changes;
pub mod buyer_supervisions;
pub mod buyer_unsubscribe;
pub mod buyer_usage;
pub mod buyer_wallet;
pub mod catalog;
pub mod categories;
mod errors;
pub mod idempotency;
pub mod issuer_invoices;
pub mod media;
pub mod notifications;
pub mod operator_ledger;
pub mod operator_onboarding;
pub mod operator_orders;
pub mod operator_partner_statements;
pub mod operator_partners;
pub mod operator_reviews;
pub mod operator_settlement;
pub mod operator_supervisions;
pub mod operator_test_clock;
pub mod ops;
pub mod partner_customers;
pub mod partner_deals;
pub mod partner_money;
pub mod partner_onboarding;
pub mod seller_coupons;
pub mod seller_credentials;
pub mod seller_debug_runs;
pub mod seller_demands;
pub mod seller_interface_messages;
pub mod seller_offers;
pub mod seller_onboarding;
pub mod seller_orders;
pub mod seller_products;
pub mod seller_statements;
pub mod seller_supervisions;
pub mod seller_usage;
pub mod signed_api;

use crate::api_doc::ApiDoc;
use crate::error::{ApiError, REQUEST_ID};
use crate::state::AppState;
use axum::Router;
use axum::extract::{DefaultBodyLimit, MatchedPath, Request, State};
use axum::http::{HeaderName, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use std::time::{Duration, Instant};
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::timeout::TimeoutLayer;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;

const REQUEST_ID_HEADER: HeaderName = HeaderName::from_static("x-request-id");

/// Every API route, with its OpenAPI description.
/// A CSV attachment (`body`: the whole text, or a stream of chunks).
pub(crate) fn csv_attachment(body: axum::body::Body, filename: &str) -> Response {
    use axum::http::{HeaderValue, header};
    let mut res = body.into_response();
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/csv; charset=utf-8"));
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{filename}\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    res
}

fn api() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(ops::routes())
        .merge(accounts::routes())
        .merge(seller_onboarding::routes())
        .merge(seller_credentials::routes())
        .merge(operator_onboarding::routes())
        .merge(categories::routes())
        .merge(seller_products::routes())
        .merge(operator_reviews::routes())
        .merge(media::routes())
        .merge(catalog::routes())
        .merge(buyer_wallet::routes())
        .merge(operator_ledger::routes())
        .merge(buyer_orders::routes())
        .merge(seller_orders::routes())
        .merge(operator_test_clock::routes())
        .merge(seller_debug_runs::routes())
        .merge(seller_interface_messages::routes())
        .merge(seller_usage::routes())
        .merge(signed_api::routes())
        .merge(notifications::routes())
        .merge(buyer_unsubscribe::routes())
        .merge(buyer_plan_changes::routes())
        .merge(operator_orders::routes())
        .merge(buyer_usage::routes())
        .merge(buyer_supervisions::routes())
        .merge(seller_supervisions::routes())
        .merge(operator_supervisions::routes())
        .merge(seller_statements::routes())
        .merge(operator_settlement::routes())
        .merge(buyer_invoices::routes())
        .merge(issuer_invoices::seller::routes())
        .merge(issuer_invoices::operator::routes())
        .merge(partner_money::routes())
        .merge(operator_partner_statements::routes())
        .merge(partner_onboarding::routes())
        .merge(partner_customers::routes())
        .merge(partner_deals::routes())
        .merge(buyer_partner::routes())
        .merge(operator_partners::routes())
        .merge(seller_demands::routes())
        .merge(seller_coupons::routes())
        .merge(buyer_coupons::routes())
        .merge(seller_offers::routes())
        .merge(buyer_offers::routes())
}

/// The OpenAPI document, as served and as committed under docs/.
pub fn openapi() -> utoipa::openapi::OpenApi {
    crate::api_doc::finish(api().split_for_parts().1)
}

pub fn router(state: AppState) -> Router {
    let (routes, spec) = api().split_for_parts();
    let spec = crate::api_doc::finish(spec);
    let spec_json = std::sync::Arc::new(spec.to_pretty_json().expect("the OpenAPI document serializes"));
    let timeout = Duration::from_secs(state.config.request_timeout_secs);
    routes
        .route(
            "/api/v1/openapi.json",
            axum::routing::get(move || {
                let body = spec_json.clone();
                async move { ([(axum::http::header::CONTENT_TYPE, "application/json")], body.as_str().to_owned()) }
            }),
        )
        .route_layer(middleware::from_fn(tag_route))
        .fallback(|| async { ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such endpoint") })
        .method_not_allowed_fallback(|| async {
            ApiError::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                "this endpoint does not accept that method",
            )
        })
        .layer(DefaultBodyLimit::max(state.config.body_limit_bytes))
        .layer(TimeoutLayer::with_status_code(StatusCode::SERVICE_UNAVAILABLE, timeout))
        .layer(CatchPanicLayer::custom(|_| ApiError::internal("a request handler panicked").into_response()))
        .layer(middleware::from_fn(problems_only))
        .layer(middleware::from_fn_with_state(state.clone(), observe))
        .layer(PropagateRequestIdLayer::new(REQUEST_ID_HEADER))
        .layer(SetRequestIdLayer::new(REQUEST_ID_HEADER, MakeRequestUuid))
        .with_state(state)
}

/// The matched route template, carried on the response for metrics.
#[derive(Clone)]
struct RouteTag(String);

async fn tag_route(path: MatchedPath, req: Request, next: Next) -> Response {
    let tag = RouteTag(path.as_str().to_string());
    let mut res = next.run(req).await;
    res.extensions_mut().insert(tag);
    res
}

/// Every error answer is a problem document: rejections made before a
/// handler runs (axum's extractors, e.g. a path segment that is not UTF-8;
/// the timeout layer) answer text/plain or nothing, and are rewritten here
/// with the same status and their text as the detail.
async fn problems_only(req: Request, next: Next) -> Response {
    let res = next.run(req).await;
    let status = res.status();
    // Only bare rejections: a JSON error of its own (the signed API answers
    // in the gateway's format) is left as it is.
    let bare =
        res.headers().get(axum::http::header::CONTENT_TYPE).is_none_or(|v| v.as_bytes().starts_with(b"text/plain"));
    if !(status.is_client_error() || status.is_server_error()) || !bare {
        return res;
    }
    // Rejection texts are short; anything longer is cut.
    let text = match axum::body::to_bytes(res.into_body(), 4096).await {
        Ok(bytes) => String::from_utf8_lossy(&bytes).trim().to_string(),
        Err(_) => String::new(),
    };
    let detail = if text.is_empty() { status.canonical_reason().unwrap_or("error").to_lowercase() } else { text };
    ApiError::new(status, rejection_code(status), detail).into_response()
}

/// A stable problem code for a status the router answered on its own.
fn rejection_code(status: StatusCode) -> &'static str {
    match status {
        StatusCode::BAD_REQUEST => "bad_request",
        StatusCode::NOT_FOUND => "not_found",
        StatusCode::METHOD_NOT_ALLOWED => "method_not_allowed",
        StatusCode::PAYLOAD_TOO_LARGE => "payload_too_large",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported_media_type",
        StatusCode::UNPROCESSABLE_ENTITY => "invalid_request",
        StatusCode::SERVICE_UNAVAILABLE => "unavailable",
        s if s.is_server_error() => "internal",
        _ => "rejected",
    }
}

/// Makes the request id available to error rendering, and records metrics
/// and one log line per request.
async fn observe(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let started = Instant::now();
    let id = req.headers().get(&REQUEST_ID_HEADER).and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let res = REQUEST_ID.scope(id.clone(), next.run(req)).await;
    let elapsed = started.elapsed();
    let route = res.extensions().get::<RouteTag>().map_or("unmatched", |t| t.0.as_str());
    state.metrics.record(method.as_str(), route, res.status().as_u16(), elapsed);
    tracing::info!(
        request_id = %id,
        method = %method,
        path = %path,
        status = res.status().as_u16(),
        ms = elapsed.as_secs_f64() * 1000.0,
        "request"
    );
    res
}

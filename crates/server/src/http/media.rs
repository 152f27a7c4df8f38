//! Product images: uploads by sellers and public serving.
//!
//! Uploads take the raw image as the body. They are exempt from the global
//! JSON body limit and read with the (larger) upload limit instead.

use crate::app::error::AppError;
use crate::app::media::{self, MediaView, Slot};
use crate::auth::SellerAuth;
use crate::error::{ApiError, ApiResult, AuthProblems, NotFoundProblem, Problem};
use crate::state::AppState;
use axum::Json;
use axum::body::Body;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<AppState> {
    let uploads =
        OpenApiRouter::new().routes(routes!(put_logo)).routes(routes!(add_image)).layer(DefaultBodyLimit::disable());
    OpenApiRouter::new().merge(uploads).routes(routes!(remove_image)).routes(routes!(serve))
}

fn too_large(limit: usize) -> ApiError {
    ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large", format!("uploads may be at most {limit} bytes"))
}

/// Reads the upload, refusing more than the configured upload limit.
pub(crate) async fn read_upload(state: &AppState, headers: &HeaderMap, body: Body) -> ApiResult<Bytes> {
    let limit = state.config.upload_limit_bytes;
    let declared =
        headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(too_large(limit));
    }
    axum::body::to_bytes(body, limit).await.map_err(|e| {
        let is_limit = std::error::Error::source(&e).is_some_and(|s| s.is::<http_body_util::LengthLimitError>())
            || e.to_string().contains("length limit");
        if is_limit {
            too_large(limit)
        } else {
            ApiError::from(AppError::bad_request("unreadable_body", format!("the request body could not be read: {e}")))
        }
    })
}

pub(crate) fn content_type(headers: &HeaderMap) -> Option<&str> {
    headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok())
}

/// Upload or replace the product's logo (raw PNG, JPEG, GIF or WebP body).
#[utoipa::path(put, path = "/api/v1/seller/products/{id}/logo", tag = "seller catalog", security(("api_key" = [])),
    params(("id" = String, Path, description = "product id")),
    request_body(description = "The image bytes", content(("image/png"), ("image/jpeg"), ("image/gif"), ("image/webp"))),
    responses(
    (status = 200, body = MediaView),
    AuthProblems,
    NotFoundProblem,
    (status = 409, description = "`under_review`", body = Problem, content_type = "application/problem+json"),
    (status = 413, description = "`payload_too_large`", body = Problem, content_type = "application/problem+json"),
    (status = 415, description = "`unsupported_media_type`: not an accepted image, or not the declared type", body = Problem, content_type = "application/problem+json"),
    (status = 422, description = "empty body", body = Problem, content_type = "application/problem+json"),
))]
async fn put_logo(
    State(state): State<AppState>,
    SellerAuth(p): SellerAuth,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<Json<MediaView>> {
    let bytes = read_upload(&state, &headers, body).await?;
    Ok(Json(media::upload(&state, &p, &id, Slot::Logo, content_type(&headers), &bytes).await?))
}

/// Add a screenshot (at most 8 per product).
#[utoipa::path(post, path = "/api/v1/seller/products/{id}/images", tag = "seller catalog", security(("api_key" = [])),
    params(("id" = String, Path, description = "product id")),
    request_body(description = "The image bytes", content(("image/png"), ("image/jpeg"), ("image/gif"), ("image/webp"))),
    responses(
    (status = 201, body = MediaView),
    AuthProblems,
    NotFoundProblem,
    (status = 409, description = "`too_many_images`, `under_review`", body = Problem, content_type = "application/problem+json"),
    (status = 413, description = "`payload_too_large`", body = Problem, content_type = "application/problem+json"),
    (status = 415, description = "`unsupported_media_type`", body = Problem, content_type = "application/problem+json"),
    (status = 422, description = "empty body", body = Problem, content_type = "application/problem+json"),
))]
async fn add_image(
    State(state): State<AppState>,
    SellerAuth(p): SellerAuth,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<(StatusCode, Json<MediaView>)> {
    let bytes = read_upload(&state, &headers, body).await?;
    Ok((StatusCode::CREATED, Json(media::upload(&state, &p, &id, Slot::Image, content_type(&headers), &bytes).await?)))
}

/// Remove a screenshot from the product.
#[utoipa::path(delete, path = "/api/v1/seller/products/{id}/images/{media_id}", tag = "seller catalog", security(("api_key" = [])),
    params(("id" = String, Path, description = "product id"), ("media_id" = String, Path, description = "image id")),
    responses(
    (status = 204, description = "removed"),
    AuthProblems,
    NotFoundProblem,
    (status = 409, description = "`under_review`", body = Problem, content_type = "application/problem+json"),
))]
async fn remove_image(
    State(state): State<AppState>,
    SellerAuth(p): SellerAuth,
    Path((id, media_id)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    media::remove_image(&state, &p, &id, &media_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// An uploaded image (public, cacheable forever: files never change).
#[utoipa::path(get, path = "/media/{media_id}", tag = "catalog",
    params(("media_id" = String, Path, description = "media id")),
    responses(
    (status = 200, description = "the image bytes", content_type = "image/*"),
    NotFoundProblem,
))]
async fn serve(State(state): State<AppState>, Path(media_id): Path<String>) -> ApiResult<Response> {
    let (ct, bytes) = media::read(&state, &media_id).await?;
    file_response(&ct, bytes, "public, max-age=31536000, immutable")
}

/// A stored file as the answer: its type, `cache` as Cache-Control, never
/// sniffed.
pub(crate) fn file_response(content_type: &str, bytes: Vec<u8>, cache: &'static str) -> ApiResult<Response> {
    let mut res = bytes.into_response();
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_str(content_type).map_err(ApiError::internal)?);
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    Ok(res)
}

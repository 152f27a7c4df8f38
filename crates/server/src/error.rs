//! One error type for the whole API, rendered as RFC 9457 problem details
//! (`application/problem+json`) with a stable `code`, the request id, and for
//! validation failures every invalid field.

use crate::app::error::AppError;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use mercato_domain::validation::{FieldError, Invalid};
use serde::Serialize;
use utoipa::ToSchema;

tokio::task_local! {
    /// The current request's id, set by the request-id middleware so errors
    /// can quote it without threading it through every handler.
    pub static REQUEST_ID: String;
}

/// A problem document (RFC 9457).
#[derive(Debug, Serialize, ToSchema)]
pub struct Problem {
    /// A URI naming the problem type (`about:blank` plus `code` is the contract).
    #[serde(rename = "type")]
    pub type_uri: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// Stable machine-readable code, e.g. `validation_failed`, `not_found`.
    pub code: String,
    pub request_id: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
}

/// The answers every authenticated endpoint may give before it runs, for the
/// OpenAPI document: `responses((status = 200, ...), AuthProblems)`.
#[derive(utoipa::IntoResponses)]
#[allow(dead_code)]
pub enum AuthProblems {
    /// No API key, or one that is invalid, revoked or expired.
    #[response(status = 401, content_type = "application/problem+json")]
    Unauthorized(Problem),
    /// The key's role may not call this endpoint.
    #[response(status = 403, content_type = "application/problem+json")]
    Forbidden(Problem),
}

/// 404: the resource does not exist or belongs to another tenant.
#[derive(utoipa::IntoResponses)]
#[allow(dead_code)]
pub enum NotFoundProblem {
    /// No such resource, or it belongs to another account.
    #[response(status = 404, content_type = "application/problem+json")]
    NotFound(Problem),
}

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub detail: String,
    pub errors: Vec<FieldError>,
    /// Sent as `Retry-After` (429s).
    pub retry_after_secs: Option<i64>,
}

pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, detail: impl Into<String>) -> Self {
        ApiError { status, code, detail: detail.into(), errors: Vec::new(), retry_after_secs: None }
    }

    /// Something broke on our side: log the cause, tell the client only that.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        tracing::error!(error = %cause, "internal error");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "an internal error occurred; quote the request id when reporting it",
        )
    }

    pub fn to_problem(&self) -> Problem {
        Problem {
            type_uri: "about:blank".into(),
            title: self.status.canonical_reason().unwrap_or("Error").into(),
            status: self.status.as_u16(),
            detail: self.detail.clone(),
            code: self.code.into(),
            request_id: REQUEST_ID.try_with(Clone::clone).unwrap_or_default(),
            errors: self.errors.clone(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = serde_json::to_vec(&self.to_problem()).unwrap_or_default();
        let mut response = (self.status, body).into_response();
        response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/problem+json"));
        if let Some(secs) = self.retry_after_secs {
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        response
    }
}

impl From<Invalid> for ApiError {
    fn from(i: Invalid) -> Self {
        AppError::invalid(i).into()
    }
}

impl From<anyhow::Error> for ApiError {
    fn from(e: anyhow::Error) -> Self {
        ApiError::internal(format!("{e:#}"))
    }
}

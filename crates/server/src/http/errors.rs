//! The one place a use case's [`AppError`] becomes an HTTP answer: each
//! refusal its status, a unique-constraint conflict 409, anything else a 500
//! whose cause chain is logged here (once) and never shown to the client.

use crate::app::error::{AppError, Refusal};
use crate::error::ApiError;
use axum::http::StatusCode;
use mercato_store::StoreError;

fn status(refusal: Refusal) -> StatusCode {
    match refusal {
        Refusal::BadRequest => StatusCode::BAD_REQUEST,
        Refusal::Unauthorized => StatusCode::UNAUTHORIZED,
        Refusal::PaymentRequired => StatusCode::PAYMENT_REQUIRED,
        Refusal::Forbidden => StatusCode::FORBIDDEN,
        Refusal::NotFound => StatusCode::NOT_FOUND,
        Refusal::Conflict => StatusCode::CONFLICT,
        Refusal::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
        Refusal::Unprocessable => StatusCode::UNPROCESSABLE_ENTITY,
        Refusal::BadGateway => StatusCode::BAD_GATEWAY,
        Refusal::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
    }
}

impl From<AppError> for ApiError {
    fn from(e: AppError) -> Self {
        match e {
            AppError::Refused { refusal, code, detail, errors } => {
                let retry_after_secs = match refusal {
                    Refusal::TooManyRequests { retry_after_secs } => Some(retry_after_secs),
                    _ => None,
                };
                ApiError { status: status(refusal), code, detail, errors, retry_after_secs }
            }
            AppError::Store(store) => ApiError::from(store),
            internal @ AppError::Internal(_) => ApiError::internal(internal.report()),
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Conflict(what) => {
                tracing::debug!(%what, "unique constraint");
                ApiError::from(AppError::conflict("conflict", "the request conflicts with existing data"))
            }
            other => ApiError::internal(AppError::Store(other).report()),
        }
    }
}

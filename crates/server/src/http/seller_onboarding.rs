//! Seller onboarding (入驻), business certification (商业信息认证) and the
//! seller agreement, from the seller's side.

use crate::app::onboarding::{self, AgreementView, CertificationView, OnboardingView};
use crate::auth::SellerAuth;
use crate::error::{ApiError, ApiResult, AuthProblems, Problem};
use crate::extract::{ApiJson, parse_json, read_body};
use crate::state::AppState;
use axum::Json;
use axum::extract::{FromRequest, Request, State};
use axum::http::{StatusCode, header};
use mercato_domain::onboarding::{CertificationForm, OnboardingForm};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(save_onboarding, get_onboarding))
        .routes(routes!(submit_onboarding))
        .routes(routes!(save_certification, get_certification))
        .routes(routes!(submit_certification))
        .routes(routes!(get_agreement))
        .routes(routes!(accept_agreement))
}

/// A body for actions that need no input: `{}` or no body at all.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EmptyBody {}

/// A JSON body that may be left out (no bytes at all counts as `T::default()`).
/// A body that is present must be JSON, as with `ApiJson`.
pub struct OptionalJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Default> FromRequest<S> for OptionalJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let content_type = req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).map(str::to_string);
        let bytes = read_body(req, state).await?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(OptionalJson(T::default()));
        }
        let is_json = content_type
            .as_deref()
            .and_then(|v| v.split(';').next())
            .map(|v| v.trim().eq_ignore_ascii_case("application/json") || v.trim().ends_with("+json"))
            .unwrap_or(false);
        if !is_json {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "send the body as JSON with Content-Type: application/json",
            ));
        }
        // `null` is the JSON for "no body" too.
        let body: Option<T> = parse_json(&bytes)?;
        Ok(OptionalJson(body.unwrap_or_default()))
    }
}

/// Create or edit the onboarding application. It stays a draft until
/// submitted; a rejected application becomes a draft again when edited.
#[utoipa::path(put, path = "/api/v1/seller/onboarding", tag = "seller onboarding", security(("api_key" = [])),
    request_body = OnboardingForm,
    responses(
        (status = 200, body = OnboardingView),
        AuthProblems,
        (status = 409, description = "`under_review` or `already_approved`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "every invalid field listed", body = Problem, content_type = "application/problem+json"),
    ))]
async fn save_onboarding(
    State(state): State<AppState>,
    SellerAuth(p): SellerAuth,
    ApiJson(form): ApiJson<OnboardingForm>,
) -> ApiResult<Json<OnboardingView>> {
    Ok(Json(onboarding::save_onboarding(&state, &p, form).await?))
}

/// The seller's onboarding application, with the last rejection reason.
#[utoipa::path(get, path = "/api/v1/seller/onboarding", tag = "seller onboarding", security(("api_key" = [])),
    responses(
        (status = 200, body = OnboardingView),
        AuthProblems,
        (status = 404, description = "nothing saved yet", body = Problem, content_type = "application/problem+json"),
    ))]
async fn get_onboarding(State(state): State<AppState>, SellerAuth(p): SellerAuth) -> ApiResult<Json<OnboardingView>> {
    Ok(Json(onboarding::get_onboarding(&state, &p).await?))
}

/// Submit the saved onboarding application for review.
#[utoipa::path(post, path = "/api/v1/seller/onboarding/submit", tag = "seller onboarding", security(("api_key" = [])),
    request_body(content = Option<EmptyBody>, description = "`{}` or no body"),
    responses(
        (status = 200, description = "submitted", body = OnboardingView),
        AuthProblems,
        (status = 409, description = "`nothing_to_submit`, `under_review` or `already_approved`", body = Problem, content_type = "application/problem+json"),
    ))]
async fn submit_onboarding(
    State(state): State<AppState>,
    SellerAuth(p): SellerAuth,
    OptionalJson(_body): OptionalJson<EmptyBody>,
) -> ApiResult<Json<OnboardingView>> {
    Ok(Json(onboarding::submit_onboarding(&state, &p).await?))
}

/// Create or edit the business certification (bank account and tax details).
/// The account number is stored encrypted and only ever shown masked.
#[utoipa::path(put, path = "/api/v1/seller/certification", tag = "seller onboarding", security(("api_key" = [])),
    request_body = CertificationForm,
    responses(
        (status = 200, body = CertificationView),
        AuthProblems,
        (status = 409, description = "`under_review` or `already_approved`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "every invalid field listed", body = Problem, content_type = "application/problem+json"),
    ))]
async fn save_certification(
    State(state): State<AppState>,
    SellerAuth(p): SellerAuth,
    ApiJson(form): ApiJson<CertificationForm>,
) -> ApiResult<Json<CertificationView>> {
    Ok(Json(onboarding::save_certification(&state, &p, form).await?))
}

/// The seller's business certification (bank account masked).
#[utoipa::path(get, path = "/api/v1/seller/certification", tag = "seller onboarding", security(("api_key" = [])),
    responses(
        (status = 200, body = CertificationView),
        AuthProblems,
        (status = 404, description = "nothing saved yet", body = Problem, content_type = "application/problem+json"),
    ))]
async fn get_certification(
    State(state): State<AppState>,
    SellerAuth(p): SellerAuth,
) -> ApiResult<Json<CertificationView>> {
    Ok(Json(onboarding::get_certification(&state, &p).await?))
}

/// Submit the saved business certification for review. Needs an approved
/// onboarding application.
#[utoipa::path(post, path = "/api/v1/seller/certification/submit", tag = "seller onboarding", security(("api_key" = [])),
    request_body(content = Option<EmptyBody>, description = "`{}` or no body"),
    responses(
        (status = 200, description = "submitted", body = CertificationView),
        AuthProblems,
        (status = 409, description = "`nothing_to_submit`, `onboarding_not_approved`, `under_review` or `already_approved`", body = Problem, content_type = "application/problem+json"),
    ))]
async fn submit_certification(
    State(state): State<AppState>,
    SellerAuth(p): SellerAuth,
    OptionalJson(_body): OptionalJson<EmptyBody>,
) -> ApiResult<Json<CertificationView>> {
    Ok(Json(onboarding::submit_certification(&state, &p).await?))
}

/// The current seller agreement version and when the seller accepted it.
#[utoipa::path(get, path = "/api/v1/seller/agreement", tag = "seller onboarding", security(("api_key" = [])),
    responses(
        (status = 200, body = AgreementView),
        AuthProblems,
    ))]
async fn get_agreement(State(state): State<AppState>, SellerAuth(p): SellerAuth) -> ApiResult<Json<AgreementView>> {
    Ok(Json(onboarding::get_agreement(&state, &p).await?))
}

/// Accept the current seller agreement. Idempotent: accepting again answers
/// with the first acceptance time.
#[utoipa::path(post, path = "/api/v1/seller/agreement/accept", tag = "seller onboarding", security(("api_key" = [])),
    request_body(content = Option<EmptyBody>, description = "`{}` or no body"),
    responses(
        (status = 200, body = AgreementView),
        AuthProblems,
    ))]
async fn accept_agreement(
    State(state): State<AppState>,
    SellerAuth(p): SellerAuth,
    OptionalJson(_body): OptionalJson<EmptyBody>,
) -> ApiResult<Json<AgreementView>> {
    Ok(Json(onboarding::accept_agreement(&state, &p).await?))
}

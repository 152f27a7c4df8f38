//! A partner's onboarding (入驻) and business certification: the seller
//! flow's applications and operator review (`/api/v1/operator/onboarding`,
//! `/api/v1/operator/certification`), from the partner's side. A partner
//! must be certified before it invites customers, asks for exclusive
//! discounts or files demands.

use crate::app::onboarding::{self, CertificationView, OnboardingView};
use crate::auth::PartnerAuth;
use crate::error::{ApiResult, AuthProblems, Problem};
use crate::extract::ApiJson;
use crate::http::seller_onboarding::{EmptyBody, OptionalJson};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use mercato_domain::onboarding::{CertificationForm, OnboardingForm};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(save_partner_onboarding, get_partner_onboarding))
        .routes(routes!(submit_partner_onboarding))
        .routes(routes!(save_partner_certification, get_partner_certification))
        .routes(routes!(submit_partner_certification))
}

/// Create or edit the partner's onboarding application (a draft until
/// submitted; editable again after a rejection).
#[utoipa::path(put, path = "/api/v1/partner/onboarding", tag = "partners", security(("api_key" = [])),
    request_body = OnboardingForm,
    responses(
        (status = 200, body = OnboardingView),
        AuthProblems,
        (status = 409, description = "`under_review` or `already_approved`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "every invalid field listed", body = Problem, content_type = "application/problem+json"),
    ))]
async fn save_partner_onboarding(
    State(state): State<AppState>,
    PartnerAuth(p): PartnerAuth,
    ApiJson(form): ApiJson<OnboardingForm>,
) -> ApiResult<Json<OnboardingView>> {
    Ok(Json(onboarding::save_onboarding(&state, &p, form).await?))
}

/// The partner's onboarding application, with the last rejection reason.
#[utoipa::path(get, path = "/api/v1/partner/onboarding", tag = "partners", security(("api_key" = [])),
    responses(
        (status = 200, body = OnboardingView),
        AuthProblems,
        (status = 404, description = "nothing saved yet", body = Problem, content_type = "application/problem+json"),
    ))]
async fn get_partner_onboarding(
    State(state): State<AppState>,
    PartnerAuth(p): PartnerAuth,
) -> ApiResult<Json<OnboardingView>> {
    Ok(Json(onboarding::get_onboarding(&state, &p).await?))
}

/// Submit the saved onboarding application for an operator's review.
#[utoipa::path(post, path = "/api/v1/partner/onboarding/submit", tag = "partners", security(("api_key" = [])),
    request_body(content = Option<EmptyBody>, description = "`{}` or no body"),
    responses(
        (status = 200, description = "submitted", body = OnboardingView),
        AuthProblems,
        (status = 409, description = "`nothing_to_submit`, `under_review` or `already_approved`", body = Problem, content_type = "application/problem+json"),
    ))]
async fn submit_partner_onboarding(
    State(state): State<AppState>,
    PartnerAuth(p): PartnerAuth,
    OptionalJson(_body): OptionalJson<EmptyBody>,
) -> ApiResult<Json<OnboardingView>> {
    Ok(Json(onboarding::submit_onboarding(&state, &p).await?))
}

/// Create or edit the partner's business certification (bank account and
/// tax details for its statements). The account number is stored encrypted
/// and only ever shown masked.
#[utoipa::path(put, path = "/api/v1/partner/certification", tag = "partners", security(("api_key" = [])),
    request_body = CertificationForm,
    responses(
        (status = 200, body = CertificationView),
        AuthProblems,
        (status = 409, description = "`under_review` or `already_approved`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "every invalid field listed", body = Problem, content_type = "application/problem+json"),
    ))]
async fn save_partner_certification(
    State(state): State<AppState>,
    PartnerAuth(p): PartnerAuth,
    ApiJson(form): ApiJson<CertificationForm>,
) -> ApiResult<Json<CertificationView>> {
    Ok(Json(onboarding::save_certification(&state, &p, form).await?))
}

/// The partner's business certification (bank account masked).
#[utoipa::path(get, path = "/api/v1/partner/certification", tag = "partners", security(("api_key" = [])),
    responses(
        (status = 200, body = CertificationView),
        AuthProblems,
        (status = 404, description = "nothing saved yet", body = Problem, content_type = "application/problem+json"),
    ))]
async fn get_partner_certification(
    State(state): State<AppState>,
    PartnerAuth(p): PartnerAuth,
) -> ApiResult<Json<CertificationView>> {
    Ok(Json(onboarding::get_certification(&state, &p).await?))
}

/// Submit the saved business certification for review. Needs an approved
/// onboarding application.
#[utoipa::path(post, path = "/api/v1/partner/certification/submit", tag = "partners", security(("api_key" = [])),
    request_body(content = Option<EmptyBody>, description = "`{}` or no body"),
    responses(
        (status = 200, description = "submitted", body = CertificationView),
        AuthProblems,
        (status = 409, description = "`nothing_to_submit`, `onboarding_not_approved`, `under_review` or `already_approved`", body = Problem, content_type = "application/problem+json"),
    ))]
async fn submit_partner_certification(
    State(state): State<AppState>,
    PartnerAuth(p): PartnerAuth,
    OptionalJson(_body): OptionalJson<EmptyBody>,
) -> ApiResult<Json<CertificationView>> {
    Ok(Json(onboarding::submit_certification(&state, &p).await?))
}

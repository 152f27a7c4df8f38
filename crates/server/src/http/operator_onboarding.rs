//! Operators review sellers' onboarding applications and business
//! certifications: queues, detail with decision history, approve, reject.

use crate::app::error::AppError;
use crate::app::onboarding::{
    self, CertificationReview, CertificationSummary, OnboardingReview, OnboardingSummary, RejectApplication,
};
use crate::app::page::{Page, Paging};
use crate::auth::OperatorAuth;
use crate::error::{ApiError, ApiResult, AuthProblems, NotFoundProblem, Problem};
use crate::extract::{ApiJson, ApiQuery, query_num};
use crate::http::seller_onboarding::{EmptyBody, OptionalJson};
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, State};
use mercato_domain::onboarding::ApplicationStatus;
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_onboarding))
        .routes(routes!(onboarding_review))
        .routes(routes!(approve_onboarding))
        .routes(routes!(reject_onboarding))
        .routes(routes!(list_certification))
        .routes(routes!(certification_review))
        .routes(routes!(approve_certification))
        .routes(routes!(reject_certification))
}

/// Filter and paging for the review queues.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct QueueParams {
    /// Only applications in this status: draft, submitted, approved or rejected.
    #[serde(default)]
    #[param(value_type = Option<ApplicationStatus>)]
    pub status: Option<String>,
    /// 1-100, default 20.
    #[serde(default, deserialize_with = "query_num::opt_u64")]
    #[param(value_type = Option<u64>, minimum = 1, maximum = 100, default = 20)]
    pub limit: Option<u64>,
    /// `next_cursor` from the previous page.
    #[serde(default)]
    pub cursor: Option<String>,
}

impl QueueParams {
    fn parse(self) -> ApiResult<(Option<ApplicationStatus>, Paging)> {
        let status = match self.status.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            None => None,
            Some(s) => Some(ApplicationStatus::parse(s).ok_or_else(|| {
                ApiError::from(AppError::field("status", format!("must be one of {}", ApplicationStatus::allowed())))
            })?),
        };
        Ok((status, Paging::new(self.limit, self.cursor)?))
    }
}

/// Onboarding applications, optionally of one status (e.g. `submitted`: the review queue).
#[utoipa::path(get, path = "/api/v1/operator/onboarding", tag = "operator onboarding", security(("api_key" = [])),
    params(QueueParams),
    responses(
        (status = 200, body = Page<OnboardingSummary>),
        AuthProblems,
        (status = 422, description = "unknown status or bad paging", body = Problem, content_type = "application/problem+json"),
    ))]
async fn list_onboarding(
    State(state): State<AppState>,
    OperatorAuth(_op): OperatorAuth,
    ApiQuery(q): ApiQuery<QueueParams>,
) -> ApiResult<Json<Page<OnboardingSummary>>> {
    let (status, paging) = q.parse()?;
    Ok(Json(onboarding::list_onboarding(&state, status, paging).await?))
}

/// A seller's onboarding application with its decision history (oldest first).
#[utoipa::path(get, path = "/api/v1/operator/onboarding/{seller_id}", tag = "operator onboarding", security(("api_key" = [])),
    params(("seller_id" = String, Path, description = "the seller's account id")),
    responses(
        (status = 200, body = OnboardingReview),
        AuthProblems,
        NotFoundProblem,
    ))]
async fn onboarding_review(
    State(state): State<AppState>,
    OperatorAuth(_op): OperatorAuth,
    Path(seller_id): Path<String>,
) -> ApiResult<Json<OnboardingReview>> {
    Ok(Json(onboarding::onboarding_review(&state, &seller_id).await?))
}

/// Approve a submitted onboarding application.
#[utoipa::path(post, path = "/api/v1/operator/onboarding/{seller_id}/approve", tag = "operator onboarding", security(("api_key" = [])),
    params(("seller_id" = String, Path, description = "the seller's account id")),
    request_body(content = Option<EmptyBody>, description = "`{}` or no body"),
    responses(
        (status = 200, body = OnboardingReview),
        AuthProblems,
        NotFoundProblem,
        (status = 409, description = "`not_submitted` or `already_approved` (also when another operator decided first)", body = Problem, content_type = "application/problem+json"),
    ))]
async fn approve_onboarding(
    State(state): State<AppState>,
    OperatorAuth(op): OperatorAuth,
    Path(seller_id): Path<String>,
    OptionalJson(_body): OptionalJson<EmptyBody>,
) -> ApiResult<Json<OnboardingReview>> {
    Ok(Json(onboarding::approve_onboarding(&state, &op, &seller_id).await?))
}

/// Reject a submitted onboarding application, saying why; the seller sees the
/// reason, edits and resubmits.
#[utoipa::path(post, path = "/api/v1/operator/onboarding/{seller_id}/reject", tag = "operator onboarding", security(("api_key" = [])),
    params(("seller_id" = String, Path, description = "the seller's account id")),
    request_body = RejectApplication,
    responses(
        (status = 200, body = OnboardingReview),
        AuthProblems,
        NotFoundProblem,
        (status = 409, description = "`not_submitted` or `already_approved` (also when another operator decided first)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "missing or too long reason", body = Problem, content_type = "application/problem+json"),
    ))]
async fn reject_onboarding(
    State(state): State<AppState>,
    OperatorAuth(op): OperatorAuth,
    Path(seller_id): Path<String>,
    ApiJson(req): ApiJson<RejectApplication>,
) -> ApiResult<Json<OnboardingReview>> {
    Ok(Json(onboarding::reject_onboarding(&state, &op, &seller_id, req).await?))
}

/// Business certifications, optionally of one status (e.g. `submitted`: the review queue).
#[utoipa::path(get, path = "/api/v1/operator/certification", tag = "operator onboarding", security(("api_key" = [])),
    params(QueueParams),
    responses(
        (status = 200, body = Page<CertificationSummary>),
        AuthProblems,
        (status = 422, description = "unknown status or bad paging", body = Problem, content_type = "application/problem+json"),
    ))]
async fn list_certification(
    State(state): State<AppState>,
    OperatorAuth(_op): OperatorAuth,
    ApiQuery(q): ApiQuery<QueueParams>,
) -> ApiResult<Json<Page<CertificationSummary>>> {
    let (status, paging) = q.parse()?;
    Ok(Json(onboarding::list_certification(&state, status, paging).await?))
}

/// A seller's business certification (bank account masked) with its decision
/// history (oldest first).
#[utoipa::path(get, path = "/api/v1/operator/certification/{seller_id}", tag = "operator onboarding", security(("api_key" = [])),
    params(("seller_id" = String, Path, description = "the seller's account id")),
    responses(
        (status = 200, body = CertificationReview),
        AuthProblems,
        NotFoundProblem,
    ))]
async fn certification_review(
    State(state): State<AppState>,
    OperatorAuth(_op): OperatorAuth,
    Path(seller_id): Path<String>,
) -> ApiResult<Json<CertificationReview>> {
    Ok(Json(onboarding::certification_review(&state, &seller_id).await?))
}

/// Approve a submitted business certification.
#[utoipa::path(post, path = "/api/v1/operator/certification/{seller_id}/approve", tag = "operator onboarding", security(("api_key" = [])),
    params(("seller_id" = String, Path, description = "the seller's account id")),
    request_body(content = Option<EmptyBody>, description = "`{}` or no body"),
    responses(
        (status = 200, body = CertificationReview),
        AuthProblems,
        NotFoundProblem,
        (status = 409, description = "`not_submitted` or `already_approved` (also when another operator decided first)", body = Problem, content_type = "application/problem+json"),
    ))]
async fn approve_certification(
    State(state): State<AppState>,
    OperatorAuth(op): OperatorAuth,
    Path(seller_id): Path<String>,
    OptionalJson(_body): OptionalJson<EmptyBody>,
) -> ApiResult<Json<CertificationReview>> {
    Ok(Json(onboarding::approve_certification(&state, &op, &seller_id).await?))
}

/// Reject a submitted business certification, saying why.
#[utoipa::path(post, path = "/api/v1/operator/certification/{seller_id}/reject", tag = "operator onboarding", security(("api_key" = [])),
    params(("seller_id" = String, Path, description = "the seller's account id")),
    request_body = RejectApplication,
    responses(
        (status = 200, body = CertificationReview),
        AuthProblems,
        NotFoundProblem,
        (status = 409, description = "`not_submitted` or `already_approved` (also when another operator decided first)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "missing or too long reason", body = Problem, content_type = "application/problem+json"),
    ))]
async fn reject_certification(
    State(state): State<AppState>,
    OperatorAuth(op): OperatorAuth,
    Path(seller_id): Path<String>,
    ApiJson(req): ApiJson<RejectApplication>,
) -> ApiResult<Json<CertificationReview>> {
    Ok(Json(onboarding::reject_certification(&state, &op, &seller_id, req).await?))
}

//! Sellers' open-API credentials (AK/SK).

use crate::app::credentials::{self, CreatedCredential, CredentialList};
use crate::auth::SellerAuth;
use crate::error::{ApiResult, AuthProblems, NotFoundProblem, Problem};
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(create, list)).routes(routes!(revoke))
}

/// Create an AK/SK pair for calling the open API (order query, usage push). The secret is shown once.
#[utoipa::path(post, path = "/api/v1/seller/open-api-credentials", operation_id = "create_open_api_credential", tag = "seller onboarding", security(("api_key" = [])),
    responses(
        (status = 201, body = CreatedCredential),
        AuthProblems,
        (status = 409, description = "`too_many_credentials`", body = Problem, content_type = "application/problem+json"),
    ))]
async fn create(
    State(state): State<AppState>,
    SellerAuth(p): SellerAuth,
) -> ApiResult<(StatusCode, Json<CreatedCredential>)> {
    Ok((StatusCode::CREATED, Json(credentials::create(&state, &p).await?)))
}

/// The seller's credentials, newest first; secrets are never shown again.
#[utoipa::path(get, path = "/api/v1/seller/open-api-credentials", operation_id = "list_open_api_credentials", tag = "seller onboarding", security(("api_key" = [])),
    responses(
        (status = 200, body = CredentialList),
        AuthProblems,
    ))]
async fn list(State(state): State<AppState>, SellerAuth(p): SellerAuth) -> ApiResult<Json<CredentialList>> {
    Ok(Json(credentials::list(&state, &p).await?))
}

/// Revoke a credential; calls signed with it are refused from now on.
#[utoipa::path(delete, path = "/api/v1/seller/open-api-credentials/{access_key_id}", tag = "seller onboarding", security(("api_key" = [])),
    params(("access_key_id" = String, Path, description = "the AK")),
    responses(
        (status = 204, description = "revoked"),
        AuthProblems,
        NotFoundProblem,
    ))]
async fn revoke(
    State(state): State<AppState>,
    SellerAuth(p): SellerAuth,
    Path(access_key_id): Path<String>,
) -> ApiResult<StatusCode> {
    credentials::revoke(&state, &p, &access_key_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

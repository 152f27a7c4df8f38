//! Accounts and API keys.

use crate::app::accounts::{
    self, AccountView, ApiKeyView, CreateKeyRequest, CreatedKey, LoginRequest, SignupRequest, SignupResponse,
};
use crate::app::page::{Page, Paging};
use crate::auth::AnyAuth;
use crate::error::{ApiResult, AuthProblems, NotFoundProblem, Problem};
use crate::extract::{ApiJson, ApiQuery, PeerAddr, query_num};
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(sign_up))
        .routes(routes!(log_in))
        .routes(routes!(me))
        .routes(routes!(create_key, list_keys))
        .routes(routes!(revoke_key))
}

/// Paging parameters shared by list endpoints.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageParams {
    /// 1-100, default 20.
    #[serde(default, deserialize_with = "query_num::opt_u64")]
    #[param(value_type = Option<u64>, minimum = 1, maximum = 100, default = 20)]
    pub limit: Option<u64>,
    /// `next_cursor` from the previous page.
    #[serde(default)]
    pub cursor: Option<String>,
}

impl PageParams {
    pub fn paging(self) -> ApiResult<Paging> {
        Ok(Paging::new(self.limit, self.cursor)?)
    }
}

/// Sign up as a buyer, seller or partner. Returns the account's first API key (shown once).
#[utoipa::path(post, path = "/api/v1/accounts", tag = "accounts", request_body = SignupRequest, responses(
    (status = 201, body = SignupResponse),
    (status = 409, description = "email taken", body = Problem, content_type = "application/problem+json"),
    (status = 422, body = Problem, content_type = "application/problem+json"),
))]
async fn sign_up(
    State(state): State<AppState>,
    ApiJson(req): ApiJson<SignupRequest>,
) -> ApiResult<(StatusCode, Json<SignupResponse>)> {
    Ok((StatusCode::CREATED, Json(accounts::sign_up(&state, req).await?)))
}

/// Exchange email and password for a new API key (it expires in 12 hours
/// unless `expires_in_days` says otherwise, at most 30). Failed logins are
/// throttled per account and per source address: past the limit, 429 with
/// `Retry-After`.
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "accounts", request_body = LoginRequest, responses(
    (status = 201, body = CreatedKey),
    (status = 401, description = "wrong email or password", body = Problem, content_type = "application/problem+json"),
    (status = 422, body = Problem, content_type = "application/problem+json"),
    (status = 429, description = "too many failed logins for this account or source; see Retry-After",
        body = Problem, content_type = "application/problem+json",
        headers(("Retry-After" = i64, description = "seconds until logins are accepted again"))),
))]
async fn log_in(
    State(state): State<AppState>,
    PeerAddr(source): PeerAddr,
    ApiJson(req): ApiJson<LoginRequest>,
) -> ApiResult<(StatusCode, Json<CreatedKey>)> {
    Ok((StatusCode::CREATED, Json(accounts::log_in(&state, req, source).await?)))
}

/// The calling account.
#[utoipa::path(get, path = "/api/v1/me", tag = "accounts", security(("api_key" = [])), responses(
    (status = 200, body = AccountView),
    AuthProblems,
))]
async fn me(State(state): State<AppState>, AnyAuth(p): AnyAuth) -> ApiResult<Json<AccountView>> {
    Ok(Json(accounts::me(&state, &p).await?))
}

/// Create another API key for the calling account (shown once).
#[utoipa::path(post, path = "/api/v1/api-keys", tag = "accounts", security(("api_key" = [])), request_body = CreateKeyRequest, responses(
    (status = 201, body = CreatedKey),
    AuthProblems,
    (status = 422, body = Problem, content_type = "application/problem+json"),
))]
async fn create_key(
    State(state): State<AppState>,
    AnyAuth(p): AnyAuth,
    ApiJson(req): ApiJson<CreateKeyRequest>,
) -> ApiResult<(StatusCode, Json<CreatedKey>)> {
    Ok((StatusCode::CREATED, Json(accounts::create_key(&state, &p, req).await?)))
}

/// The calling account's API keys, newest first (secrets are never shown again).
#[utoipa::path(get, path = "/api/v1/api-keys", tag = "accounts", security(("api_key" = [])), params(PageParams), responses(
    (status = 200, body = Page<ApiKeyView>),
    AuthProblems,
))]
async fn list_keys(
    State(state): State<AppState>,
    AnyAuth(p): AnyAuth,
    ApiQuery(q): ApiQuery<PageParams>,
) -> ApiResult<Json<Page<ApiKeyView>>> {
    Ok(Json(accounts::list_keys(&state, &p, q.paging()?).await?))
}

/// Revoke one of the calling account's keys. It stops working at once.
#[utoipa::path(delete, path = "/api/v1/api-keys/{id}", tag = "accounts", security(("api_key" = [])),
    params(("id" = String, Path, description = "API key id")),
    responses(
        (status = 204, description = "revoked"),
        AuthProblems,
        NotFoundProblem,
    ))]
async fn revoke_key(
    State(state): State<AppState>,
    AnyAuth(p): AnyAuth,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    accounts::revoke_key(&state, &p, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

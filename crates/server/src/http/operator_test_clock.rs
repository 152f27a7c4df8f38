//! The operator test clock: read and move the marketplace's time. Only when
//! the server runs with `--test-clock`; otherwise 404 `test_clock_disabled`.

use crate::app::test_clock::{self, TestClockChange, TestClockView};
use crate::auth::OperatorAuth;
use crate::error::{ApiResult, AuthProblems, Problem};
use crate::extract::ApiJson;
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(get_clock, move_clock))
}

/// The marketplace's current time on the test clock.
#[utoipa::path(get, path = "/api/v1/operator/test-clock", tag = "test clock", security(("api_key" = [])),
    responses(
        (status = 200, body = TestClockView),
        AuthProblems,
        (status = 404, description = "`test_clock_disabled`: the server does not run with --test-clock", body = Problem, content_type = "application/problem+json"),
    ))]
async fn get_clock(State(state): State<AppState>, OperatorAuth(_op): OperatorAuth) -> ApiResult<Json<TestClockView>> {
    Ok(Json(test_clock::current(&state).await?))
}

/// Move the test clock forward, by `advance_secs` or to `now`. Every node
/// sees the new time within 250 ms; due jobs, retries and periodic tasks
/// then run in it.
#[utoipa::path(post, path = "/api/v1/operator/test-clock", tag = "test clock", security(("api_key" = [])),
    request_body = TestClockChange,
    responses(
        (status = 200, body = TestClockView),
        AuthProblems,
        (status = 404, description = "`test_clock_disabled`: the server does not run with --test-clock", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`clock_backwards`: `now` is earlier than the current test-clock time; `clock_jump_too_large`: `now` is more than 10 years after it (the detail names it); `test_clock_busy`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed`: neither or both fields, `advance_secs` out of range", body = Problem, content_type = "application/problem+json"),
    ))]
async fn move_clock(
    State(state): State<AppState>,
    OperatorAuth(_op): OperatorAuth,
    ApiJson(req): ApiJson<TestClockChange>,
) -> ApiResult<Json<TestClockView>> {
    Ok(Json(test_clock::change(&state, req).await?))
}

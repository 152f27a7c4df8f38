//! In-app notifications of the calling account.

use crate::app::notifications::{self, NotificationView};
use crate::app::page::{Page, Paging};
use crate::auth::AnyAuth;
use crate::error::{ApiResult, AuthProblems, NotFoundProblem, Problem};
use crate::extract::ApiQuery;
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, State};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list)).routes(routes!(read))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct NotificationParams {
    /// 1-100, default 20.
    #[serde(default, deserialize_with = "crate::extract::query_num::opt_u64")]
    #[param(value_type = Option<u64>, minimum = 1, maximum = 100, default = 20)]
    pub limit: Option<u64>,
    /// `next_cursor` from the previous page.
    #[serde(default)]
    pub cursor: Option<String>,
}

/// Your notifications, newest first.
#[utoipa::path(get, path = "/api/v1/notifications", operation_id = "list_notifications", tag = "accounts", security(("api_key" = [])),
    params(NotificationParams),
    responses(
        (status = 200, body = Page<NotificationView>),
        AuthProblems,
        (status = 422, body = Problem, content_type = "application/problem+json"),
    ))]
async fn list(
    State(state): State<AppState>,
    AnyAuth(p): AnyAuth,
    ApiQuery(q): ApiQuery<NotificationParams>,
) -> ApiResult<Json<Page<NotificationView>>> {
    let paging = Paging::new(q.limit, q.cursor)?;
    Ok(Json(notifications::list(&state, &p, paging).await?))
}

/// Mark one of your notifications read (the first read time is kept).
#[utoipa::path(post, path = "/api/v1/notifications/{id}/read", tag = "accounts", security(("api_key" = [])),
    params(("id" = String, Path, description = "notification id")),
    responses(
        (status = 200, body = NotificationView),
        AuthProblems,
        NotFoundProblem,
    ))]
async fn read(
    State(state): State<AppState>,
    AnyAuth(p): AnyAuth,
    Path(id): Path<String>,
) -> ApiResult<Json<NotificationView>> {
    Ok(Json(notifications::mark_read(&state, &p, &id).await?))
}

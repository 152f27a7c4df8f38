//! The seller's production interface messages: every call the marketplace
//! made to its server, and re-sending a failed purchase.

use crate::app::page::Page;
use crate::app::subscriptions::fulfilment::{self, InterfaceMessageView, MessageFilter};
use crate::auth::SellerAuth;
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
    OpenApiRouter::new().routes(routes!(list)).routes(routes!(resend))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MessageParams {
    /// `failed` (refused, retryable, rejected) or `all` (default).
    #[serde(default)]
    #[param(inline)]
    pub status: Option<MessageFilter>,
    /// 1-100, default 20.
    #[serde(default, deserialize_with = "crate::extract::query_num::opt_u64")]
    #[param(value_type = Option<u64>, minimum = 1, maximum = 100, default = 20)]
    pub limit: Option<u64>,
    /// `next_cursor` from the previous page.
    #[serde(default)]
    pub cursor: Option<String>,
}

/// Your production interface messages (calls to your server), newest first.
#[utoipa::path(get, path = "/api/v1/seller/interface-messages", operation_id = "list_interface_messages", tag = "seller catalog", security(("api_key" = [])),
    params(MessageParams),
    responses(
    (status = 200, body = Page<InterfaceMessageView>),
    AuthProblems,
    (status = 422, body = Problem, content_type = "application/problem+json"),
))]
async fn list(
    State(state): State<AppState>,
    SellerAuth(p): SellerAuth,
    ApiQuery(q): ApiQuery<MessageParams>,
) -> ApiResult<Json<Page<InterfaceMessageView>>> {
    let paging = crate::app::page::Paging::new(q.limit, q.cursor)?;
    Ok(Json(fulfilment::list_messages(&state, &p, q.status.unwrap_or_default(), paging).await?))
}

/// Re-send the purchase of a message: its order line's fulfilment runs again
/// now (within the 3-hour purchase deadline). Returns the message.
#[utoipa::path(post, path = "/api/v1/seller/interface-messages/{id}/resend", tag = "seller catalog", security(("api_key" = [])),
    params(("id" = String, Path, description = "interface message id")),
    responses(
    (status = 200, body = InterfaceMessageView),
    AuthProblems,
    NotFoundProblem,
    (status = 409, description = "`already_fulfilled`, `purchase_failed`, `in_progress`", body = Problem, content_type = "application/problem+json"),
))]
async fn resend(
    State(state): State<AppState>,
    SellerAuth(p): SellerAuth,
    Path(id): Path<String>,
) -> ApiResult<Json<InterfaceMessageView>> {
    Ok(Json(fulfilment::resend(&state, &p, &id).await?))
}

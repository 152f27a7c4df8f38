//! The operators' side of service supervision: any supervision and its
//! timeline, the appeal queue, decisions on appeals and refunds once
//! delivery has started.

use crate::app::page::Page;
use crate::app::supervision::actions::{self, DecideAppeal};
use crate::app::supervision::attachments;
use crate::app::supervision::refund::{self, RefundRequest};
use crate::app::supervision::views::{self, SupervisionDetail, SupervisionParams, SupervisionView};
use crate::auth::OperatorAuth;
use crate::error::{ApiResult, AuthProblems, NotFoundProblem, Problem};
use crate::extract::{ApiJson, ApiQuery};
use crate::http::accounts::PageParams;
use crate::http::media::file_response;
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, State};
use axum::response::Response;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_supervisions))
        .routes(routes!(list_appeals))
        .routes(routes!(get_supervision))
        .routes(routes!(download_attachment))
        .routes(routes!(decide_appeal))
        .routes(routes!(refund_supervision))
}

/// Every supervision, newest first, filtered by status, order or product.
#[utoipa::path(get, path = "/api/v1/operator/supervisions", operation_id = "list_operator_supervisions", tag = "supervision", security(("api_key" = [])),
    params(SupervisionParams),
    responses(
        (status = 200, body = Page<SupervisionView>),
        AuthProblems,
        (status = 422, description = "unknown `status`, bad `limit` or `cursor`", body = Problem, content_type = "application/problem+json"),
    ))]
async fn list_supervisions(
    State(state): State<AppState>,
    OperatorAuth(p): OperatorAuth,
    ApiQuery(q): ApiQuery<SupervisionParams>,
) -> ApiResult<Json<Page<SupervisionView>>> {
    Ok(Json(views::list(&state, &p, q).await?))
}

/// The appeal queue: supervisions a seller appealed, waiting for a decision.
#[utoipa::path(get, path = "/api/v1/operator/supervision-appeals", tag = "supervision", security(("api_key" = [])),
    params(PageParams),
    responses(
        (status = 200, body = Page<SupervisionView>),
        AuthProblems,
        (status = 422, description = "bad `limit` or `cursor`", body = Problem, content_type = "application/problem+json"),
    ))]
async fn list_appeals(
    State(state): State<AppState>,
    OperatorAuth(p): OperatorAuth,
    ApiQuery(q): ApiQuery<PageParams>,
) -> ApiResult<Json<Page<SupervisionView>>> {
    Ok(Json(views::appeals(&state, &p, q.paging()?).await?))
}

/// Any supervision with its timeline and attachments.
#[utoipa::path(get, path = "/api/v1/operator/supervisions/{id}", operation_id = "get_operator_supervision", tag = "supervision", security(("api_key" = [])),
    params(("id" = String, Path, description = "supervision id")),
    responses((status = 200, body = SupervisionDetail), AuthProblems, NotFoundProblem))]
async fn get_supervision(
    State(state): State<AppState>,
    OperatorAuth(p): OperatorAuth,
    Path(id): Path<String>,
) -> ApiResult<Json<SupervisionDetail>> {
    Ok(Json(views::detail(&state, &p, &id).await?))
}

/// Download a file attached to any supervision.
#[utoipa::path(get, path = "/api/v1/operator/supervisions/{id}/attachments/{attachment_id}", operation_id = "download_operator_supervision_attachment", tag = "supervision", security(("api_key" = [])),
    params(("id" = String, Path, description = "supervision id"), ("attachment_id" = String, Path, description = "attachment id")),
    responses(
        (status = 200, description = "The file", content(("application/pdf"), ("image/png"), ("image/jpeg"), ("application/zip"), ("text/plain"))),
        AuthProblems,
        NotFoundProblem,
    ))]
async fn download_attachment(
    State(state): State<AppState>,
    OperatorAuth(p): OperatorAuth,
    Path((id, attachment_id)): Path<(String, String)>,
) -> ApiResult<Response> {
    let (ct, bytes) = attachments::download(&state, &p, &id, &attachment_id).await?;
    file_response(&ct, bytes, "private, no-store")
}

/// Decide an appeal, with a reason both sides see: `complete` accepts the
/// delivery on the buyer's behalf (the order completes), `send_back` returns
/// it to the buyer's acceptance.
#[utoipa::path(post, path = "/api/v1/operator/supervisions/{id}/decide", tag = "supervision", security(("api_key" = [])),
    params(("id" = String, Path, description = "supervision id")),
    request_body = DecideAppeal,
    responses(
        (status = 200, body = SupervisionDetail),
        AuthProblems,
        NotFoundProblem,
        (status = 409, description = "`out_of_order`: the supervision is not appealed; `supervision_changed`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "unknown decision, no reason, or too long", body = Problem, content_type = "application/problem+json"),
    ))]
async fn decide_appeal(
    State(state): State<AppState>,
    OperatorAuth(p): OperatorAuth,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<DecideAppeal>,
) -> ApiResult<Json<SupervisionDetail>> {
    Ok(Json(actions::decide(&state, &p, &id, req).await?))
}

/// Refund a supervised purchase that has not completed (a dispute decided
/// for the buyer): the whole payment goes back, the supervision closes.
#[utoipa::path(post, path = "/api/v1/operator/supervisions/{id}/refund", tag = "supervision", security(("api_key" = [])),
    params(("id" = String, Path, description = "supervision id")),
    request_body = RefundRequest,
    responses(
        (status = 200, body = SupervisionDetail),
        AuthProblems,
        NotFoundProblem,
        (status = 409, description = "`not_refundable` (completed or closed), `supervision_changed`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "no reason, or too long", body = Problem, content_type = "application/problem+json"),
    ))]
async fn refund_supervision(
    State(state): State<AppState>,
    OperatorAuth(p): OperatorAuth,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<RefundRequest>,
) -> ApiResult<Json<SupervisionDetail>> {
    Ok(Json(refund::refund(&state, &p, &id, req).await?))
}

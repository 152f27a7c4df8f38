//! The buyer's side of service supervision (服务监管): supervised deliveries
//! of what they bought, requirements, acceptance, rejection, withdrawal, and
//! the files both sides attached.

use crate::app::page::Page;
use crate::app::supervision::actions::{self, StepInput};
use crate::app::supervision::attachments;
use crate::app::supervision::refund::{self, RefundRequest};
use crate::app::supervision::views::{self, AttachmentView, SupervisionDetail, SupervisionParams, SupervisionView};
use crate::auth::BuyerAuth;
use crate::error::{ApiResult, AuthProblems, NotFoundProblem, Problem};
use crate::extract::{ApiJson, ApiQuery};
use crate::http::media::{content_type, file_response, read_upload};
use crate::state::AppState;
use axum::Json;
use axum::body::Body;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use mercato_domain::delivery::SupervisionAction;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<AppState> {
    let uploads = OpenApiRouter::new().routes(routes!(upload_attachment)).layer(DefaultBodyLimit::disable());
    OpenApiRouter::new()
        .merge(uploads)
        .routes(routes!(list_supervisions))
        .routes(routes!(get_supervision))
        .routes(routes!(download_attachment))
        .routes(routes!(submit_requirements))
        .routes(routes!(accept_delivery))
        .routes(routes!(reject_delivery))
        .routes(routes!(withdraw))
}

/// The calling buyer's supervised deliveries, newest first, with what the
/// buyer may do now (`actions`).
#[utoipa::path(get, path = "/api/v1/buyer/supervisions", operation_id = "list_buyer_supervisions", tag = "supervision", security(("api_key" = [])),
    params(SupervisionParams),
    responses(
        (status = 200, body = Page<SupervisionView>),
        AuthProblems,
        (status = 422, description = "unknown `status`, bad `limit` or `cursor`", body = Problem, content_type = "application/problem+json"),
    ))]
async fn list_supervisions(
    State(state): State<AppState>,
    BuyerAuth(p): BuyerAuth,
    ApiQuery(q): ApiQuery<SupervisionParams>,
) -> ApiResult<Json<Page<SupervisionView>>> {
    Ok(Json(views::list(&state, &p, q).await?))
}

/// One supervision with its timeline (who did what, when, with which note
/// and files) and its attachments.
#[utoipa::path(get, path = "/api/v1/buyer/supervisions/{id}", operation_id = "get_buyer_supervision", tag = "supervision", security(("api_key" = [])),
    params(("id" = String, Path, description = "supervision id")),
    responses((status = 200, body = SupervisionDetail), AuthProblems, NotFoundProblem))]
async fn get_supervision(
    State(state): State<AppState>,
    BuyerAuth(p): BuyerAuth,
    Path(id): Path<String>,
) -> ApiResult<Json<SupervisionDetail>> {
    Ok(Json(views::detail(&state, &p, &id).await?))
}

/// Attach a file (PDF, PNG, JPEG, zip or UTF-8 text, raw body, within the
/// upload limit) to use in a step.
#[utoipa::path(post, path = "/api/v1/buyer/supervisions/{id}/attachments", operation_id = "upload_buyer_supervision_attachment", tag = "supervision", security(("api_key" = [])),
    params(("id" = String, Path, description = "supervision id")),
    request_body(description = "The file's bytes", content(("application/pdf"), ("image/png"), ("image/jpeg"), ("application/zip"), ("text/plain"))),
    responses(
        (status = 200, body = AttachmentView),
        AuthProblems,
        NotFoundProblem,
        (status = 409, description = "`supervision_ended`, `too_many_attachments`", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "`payload_too_large`", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "`unsupported_media_type`: not an accepted type, or not the declared one", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "empty body", body = Problem, content_type = "application/problem+json"),
    ))]
async fn upload_attachment(
    State(state): State<AppState>,
    BuyerAuth(p): BuyerAuth,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<Json<AttachmentView>> {
    let bytes = read_upload(&state, &headers, body).await?;
    Ok(Json(attachments::upload(&state, &p, &id, content_type(&headers), &bytes).await?))
}

/// Download a file attached to the supervision.
#[utoipa::path(get, path = "/api/v1/buyer/supervisions/{id}/attachments/{attachment_id}", operation_id = "download_buyer_supervision_attachment", tag = "supervision", security(("api_key" = [])),
    params(("id" = String, Path, description = "supervision id"), ("attachment_id" = String, Path, description = "attachment id")),
    responses(
        (status = 200, description = "The file", content(("application/pdf"), ("image/png"), ("image/jpeg"), ("application/zip"), ("text/plain"))),
        AuthProblems,
        NotFoundProblem,
    ))]
async fn download_attachment(
    State(state): State<AppState>,
    BuyerAuth(p): BuyerAuth,
    Path((id, attachment_id)): Path<(String, String)>,
) -> ApiResult<Response> {
    let (ct, bytes) = attachments::download(&state, &p, &id, &attachment_id).await?;
    file_response(&ct, bytes, "private, no-store")
}

/// Submit the requirements of a manual service (提交需求): a note (required)
/// and attachments.
#[utoipa::path(post, path = "/api/v1/buyer/supervisions/{id}/submit-requirements", tag = "supervision", security(("api_key" = [])),
    params(("id" = String, Path, description = "supervision id")),
    request_body = StepInput,
    responses(
        (status = 200, body = SupervisionDetail),
        AuthProblems,
        NotFoundProblem,
        (status = 409, description = "`out_of_order` naming the current state; `supervision_changed`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "no note, too long, or an attachment that is not yours on this supervision", body = Problem, content_type = "application/problem+json"),
    ))]
async fn submit_requirements(
    State(state): State<AppState>,
    BuyerAuth(p): BuyerAuth,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<StepInput>,
) -> ApiResult<Json<SupervisionDetail>> {
    Ok(Json(actions::act(&state, &p, &id, SupervisionAction::SubmitRequirements, req).await?))
}

/// Accept the delivery (确认验收): the order completes.
#[utoipa::path(post, path = "/api/v1/buyer/supervisions/{id}/accept", operation_id = "accept_supervised_delivery", tag = "supervision", security(("api_key" = [])),
    params(("id" = String, Path, description = "supervision id")),
    request_body = StepInput,
    responses(
        (status = 200, body = SupervisionDetail),
        AuthProblems,
        NotFoundProblem,
        (status = 409, description = "`out_of_order` naming the current state; `supervision_changed`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "note too long, or an attachment that is not yours on this supervision", body = Problem, content_type = "application/problem+json"),
    ))]
async fn accept_delivery(
    State(state): State<AppState>,
    BuyerAuth(p): BuyerAuth,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<StepInput>,
) -> ApiResult<Json<SupervisionDetail>> {
    Ok(Json(actions::act(&state, &p, &id, SupervisionAction::Accept, req).await?))
}

/// Reject the delivery with a reason (note, required): back to the seller.
#[utoipa::path(post, path = "/api/v1/buyer/supervisions/{id}/reject", operation_id = "reject_supervised_delivery", tag = "supervision", security(("api_key" = [])),
    params(("id" = String, Path, description = "supervision id")),
    request_body = StepInput,
    responses(
        (status = 200, body = SupervisionDetail),
        AuthProblems,
        NotFoundProblem,
        (status = 409, description = "`out_of_order` naming the current state; `supervision_changed`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "no reason, too long, or an attachment that is not yours on this supervision", body = Problem, content_type = "application/problem+json"),
    ))]
async fn reject_delivery(
    State(state): State<AppState>,
    BuyerAuth(p): BuyerAuth,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<StepInput>,
) -> ApiResult<Json<SupervisionDetail>> {
    Ok(Json(actions::act(&state, &p, &id, SupervisionAction::Reject, req).await?))
}

/// Withdraw before delivery starts (a license: before it is activated): the
/// whole payment goes back to the wallet, the order is refunded, the
/// supervision closed. Later, only an operator refunds.
#[utoipa::path(post, path = "/api/v1/buyer/supervisions/{id}/withdraw", tag = "supervision", security(("api_key" = [])),
    params(("id" = String, Path, description = "supervision id")),
    request_body = RefundRequest,
    responses(
        (status = 200, body = SupervisionDetail),
        AuthProblems,
        NotFoundProblem,
        (status = 409, description = "`refund_needs_operator` (delivery started), `not_refundable` (completed or closed), `supervision_changed`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "no reason, or too long", body = Problem, content_type = "application/problem+json"),
    ))]
async fn withdraw(
    State(state): State<AppState>,
    BuyerAuth(p): BuyerAuth,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<RefundRequest>,
) -> ApiResult<Json<SupervisionDetail>> {
    Ok(Json(refund::refund(&state, &p, &id, req).await?))
}

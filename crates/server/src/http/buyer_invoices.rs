//! The buyer's invoices (开票 / 退票): request one for a paid order, read
//! them, download the PDF (or the credit note's), return an issued one.

use crate::app::invoices::lifecycle;
use crate::app::invoices::{
    self, InvoiceDetail, InvoiceParams, InvoiceReason, InvoiceView, Party, PdfFile, PdfParams, RequestInvoice,
};
use crate::app::page::Page;
use crate::auth::BuyerAuth;
use crate::error::{ApiError, ApiResult, AuthProblems, NotFoundProblem, Problem};
use crate::extract::{ApiJson, ApiQuery};
use crate::http::idempotency::Idempotency;
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(request_invoice, list_invoices))
        .routes(routes!(get_invoice))
        .routes(routes!(invoice_pdf))
        .routes(routes!(return_invoice))
}

/// A document as a download: `application/pdf`, named by its number.
pub(crate) fn pdf_response(file: PdfFile) -> ApiResult<Response> {
    let mut res = file.bytes.into_response();
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/pdf"));
    let disposition = format!("attachment; filename=\"{}\"", file.filename);
    h.insert(header::CONTENT_DISPOSITION, HeaderValue::from_str(&disposition).map_err(ApiError::internal)?);
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("private, no-store"));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    Ok(res)
}

/// Request an invoice of one of your paid orders with the title, tax id
/// and address to print. Joint-operation products are invoiced by the
/// platform, general-cooperation ones by their seller. Send an
/// `Idempotency-Key` header to make retries safe.
#[utoipa::path(post, path = "/api/v1/buyer/invoices", tag = "invoices", security(("api_key" = [])),
    params(("Idempotency-Key" = Option<String>, Header, description = "1-255 visible ASCII characters; remembered for 24 hours", min_length = 1, max_length = 255, pattern = "^[!-~]+$")),
    request_body = RequestInvoice,
    responses(
        (status = 201, body = InvoiceDetail),
        AuthProblems,
        (status = 404, description = "no such order of yours (`errors` names `order_id`)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`order_unpaid`; `already_invoiced` (the order has a requested or issued invoice); `not_invoiceable` (a refund order); `nothing_to_invoice` (free, or refunded in full); `idempotency_key_in_use`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed` naming `title`, `tax_id` or `address`; `idempotency_key_reused`", body = Problem, content_type = "application/problem+json"),
    ))]
async fn request_invoice(
    State(state): State<AppState>,
    BuyerAuth(p): BuyerAuth,
    idempotency: Idempotency,
    ApiJson(req): ApiJson<RequestInvoice>,
) -> ApiResult<Response> {
    let once = idempotency.bind(&p.account_id, &req)?;
    let made = once.run(&state, StatusCode::CREATED, async |tx| invoices::request(&state, tx, &p, req).await).await?;
    Ok(made.into_response())
}

/// Your invoices, newest first.
#[utoipa::path(get, path = "/api/v1/buyer/invoices", operation_id = "list_buyer_invoices", tag = "invoices", security(("api_key" = [])),
    params(InvoiceParams),
    responses(
        (status = 200, body = Page<InvoiceView>),
        AuthProblems,
        (status = 422, description = "bad `status`, `limit` or `cursor`", body = Problem, content_type = "application/problem+json"),
    ))]
async fn list_invoices(
    State(state): State<AppState>,
    BuyerAuth(p): BuyerAuth,
    ApiQuery(q): ApiQuery<InvoiceParams>,
) -> ApiResult<Json<Page<InvoiceView>>> {
    Ok(Json(invoices::list(&state, Party::Buyer(&p), q).await?))
}

/// One of your invoices with its lines and steps.
#[utoipa::path(get, path = "/api/v1/buyer/invoices/{id}", operation_id = "get_buyer_invoice", tag = "invoices", security(("api_key" = [])),
    params(("id" = String, Path, description = "invoice id")),
    responses((status = 200, body = InvoiceDetail), AuthProblems, NotFoundProblem))]
async fn get_invoice(
    State(state): State<AppState>,
    BuyerAuth(p): BuyerAuth,
    Path(id): Path<String>,
) -> ApiResult<Json<InvoiceDetail>> {
    Ok(Json(invoices::get(&state, Party::Buyer(&p), &id).await?))
}

/// The invoice as a PDF once issued, or with `?document=credit_note` the
/// credit note that cancels it once returned.
#[utoipa::path(get, path = "/api/v1/buyer/invoices/{id}/pdf", operation_id = "buyer_invoice_pdf", tag = "invoices", security(("api_key" = [])),
    params(("id" = String, Path, description = "invoice id"), PdfParams),
    responses(
        (status = 200, description = "the PDF", content_type = "application/pdf"),
        AuthProblems,
        NotFoundProblem,
        (status = 409, description = "`invoice_not_issued` (requested or rejected); `no_credit_note` (not returned)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "bad `document`", body = Problem, content_type = "application/problem+json"),
    ))]
async fn invoice_pdf(
    State(state): State<AppState>,
    BuyerAuth(p): BuyerAuth,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<PdfParams>,
) -> ApiResult<Response> {
    pdf_response(invoices::pdf(&state, Party::Buyer(&p), &id, q).await?)
}

/// Return an issued invoice (退票) with a reason: a credit note cancels it
/// and the order may be invoiced again. Send an `Idempotency-Key` header to
/// make retries safe.
#[utoipa::path(post, path = "/api/v1/buyer/invoices/{id}/return", tag = "invoices", security(("api_key" = [])),
    params(
        ("id" = String, Path, description = "invoice id"),
        ("Idempotency-Key" = Option<String>, Header, description = "1-255 visible ASCII characters; remembered for 24 hours", min_length = 1, max_length = 255, pattern = "^[!-~]+$"),
    ),
    request_body = InvoiceReason,
    responses(
        (status = 200, body = InvoiceDetail),
        AuthProblems,
        NotFoundProblem,
        (status = 409, description = "`out_of_order` (not issued); `invoice_changed`; `idempotency_key_in_use`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "no reason, or too long; `idempotency_key_reused`", body = Problem, content_type = "application/problem+json"),
    ))]
async fn return_invoice(
    State(state): State<AppState>,
    BuyerAuth(p): BuyerAuth,
    Path(id): Path<String>,
    idempotency: Idempotency,
    ApiJson(req): ApiJson<InvoiceReason>,
) -> ApiResult<Response> {
    let once = idempotency.bind(&p.account_id, &req)?;
    let done =
        once.run(&state, StatusCode::OK, async |tx| lifecycle::return_invoice(&state, tx, &p, &id, req).await).await?;
    Ok(done.into_response())
}

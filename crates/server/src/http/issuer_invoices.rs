//! The issuers' invoices: the platform's (joint-operation products; any
//! operator works them) and each seller's (its general-cooperation
//! products). Both work a queue of requests, issue or reject them and
//! download the PDFs; an invoice of another issuer is a 404. The two route
//! sets differ only in the path, the caller's role and the documentation,
//! so they are generated from one template.

/// The routes of one issuer role: list, get, PDF, issue, reject. Literal
/// arguments are taken as `tt` so that utoipa reads them as written.
macro_rules! issuer_routes {
    (
        auth: $auth:ident, party: $party:ident,
        list: [$list_path:tt, $list_id:tt, $list_doc:tt],
        get: [$get_path:tt, $get_id:tt],
        pdf: [$pdf_path:tt, $pdf_id:tt],
        issue: [$issue_path:tt, $issue_id:tt, $issue_doc:tt],
        reject: [$reject_path:tt, $reject_id:tt] $(,)?
    ) => {
        use crate::app::invoices::lifecycle;
        use crate::app::invoices::{self, InvoiceDetail, InvoiceParams, InvoiceReason, InvoiceView, Party, PdfParams};
        use crate::app::page::Page;
        use crate::auth::$auth;
        use crate::error::{ApiResult, AuthProblems, NotFoundProblem, Problem};
        use crate::extract::{ApiJson, ApiQuery};
        use crate::http::buyer_invoices::pdf_response;
        use crate::state::AppState;
        use axum::Json;
        use axum::extract::{Path, State};
        use axum::response::Response;
        use utoipa_axum::router::OpenApiRouter;
        use utoipa_axum::routes;

        pub fn routes() -> OpenApiRouter<AppState> {
            OpenApiRouter::new()
                .routes(routes!(list_invoices))
                .routes(routes!(get_invoice))
                .routes(routes!(invoice_pdf))
                .routes(routes!(issue_invoice))
                .routes(routes!(reject_invoice))
        }

        #[doc = $list_doc]
        #[utoipa::path(get, path = $list_path, operation_id = $list_id, tag = "invoices", security(("api_key" = [])),
            params(InvoiceParams),
            responses(
                (status = 200, body = Page<InvoiceView>),
                AuthProblems,
                (status = 422, description = "bad `status`, `limit` or `cursor`", body = Problem, content_type = "application/problem+json"),
            ))]
        async fn list_invoices(
            State(state): State<AppState>,
            $auth(p): $auth,
            ApiQuery(q): ApiQuery<InvoiceParams>,
        ) -> ApiResult<Json<Page<InvoiceView>>> {
            Ok(Json(invoices::list(&state, Party::$party(&p), q).await?))
        }

        /// One invoice with its lines and steps.
        #[utoipa::path(get, path = $get_path, operation_id = $get_id, tag = "invoices", security(("api_key" = [])),
            params(("id" = String, Path, description = "invoice id")),
            responses((status = 200, body = InvoiceDetail), AuthProblems, NotFoundProblem))]
        async fn get_invoice(
            State(state): State<AppState>,
            $auth(p): $auth,
            Path(id): Path<String>,
        ) -> ApiResult<Json<InvoiceDetail>> {
            Ok(Json(invoices::get(&state, Party::$party(&p), &id).await?))
        }

        /// The invoice as a PDF once issued, or with `?document=credit_note`
        /// its credit note once returned.
        #[utoipa::path(get, path = $pdf_path, operation_id = $pdf_id, tag = "invoices", security(("api_key" = [])),
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
            $auth(p): $auth,
            Path(id): Path<String>,
            ApiQuery(q): ApiQuery<PdfParams>,
        ) -> ApiResult<Response> {
            pdf_response(invoices::pdf(&state, Party::$party(&p), &id, q).await?)
        }

        #[doc = $issue_doc]
        #[utoipa::path(post, path = $issue_path, operation_id = $issue_id, tag = "invoices", security(("api_key" = [])),
            params(("id" = String, Path, description = "invoice id")),
            responses(
                (status = 200, body = InvoiceDetail),
                AuthProblems,
                NotFoundProblem,
                (status = 409, description = "`out_of_order` (not requested); `nothing_to_invoice` (refunded in full meanwhile: reject it); `invoice_changed`", body = Problem, content_type = "application/problem+json"),
            ))]
        async fn issue_invoice(
            State(state): State<AppState>,
            $auth(p): $auth,
            Path(id): Path<String>,
        ) -> ApiResult<Json<InvoiceDetail>> {
            Ok(Json(lifecycle::issue(&state, Party::$party(&p), &id).await?))
        }

        /// Reject a requested invoice with a reason (a wrong title or tax
        /// id); the buyer is notified and may request again.
        #[utoipa::path(post, path = $reject_path, operation_id = $reject_id, tag = "invoices", security(("api_key" = [])),
            params(("id" = String, Path, description = "invoice id")),
            request_body = InvoiceReason,
            responses(
                (status = 200, body = InvoiceDetail),
                AuthProblems,
                NotFoundProblem,
                (status = 409, description = "`out_of_order` (not requested); `invoice_changed`", body = Problem, content_type = "application/problem+json"),
                (status = 422, description = "no reason, or too long", body = Problem, content_type = "application/problem+json"),
            ))]
        async fn reject_invoice(
            State(state): State<AppState>,
            $auth(p): $auth,
            Path(id): Path<String>,
            ApiJson(req): ApiJson<InvoiceReason>,
        ) -> ApiResult<Json<InvoiceDetail>> {
            Ok(Json(lifecycle::reject(&state, Party::$party(&p), &id, req).await?))
        }
    };
}

/// The platform's invoices (joint-operation products), for operators.
pub mod operator {
    issuer_routes! {
        auth: OperatorAuth, party: Operator,
        list: ["/api/v1/operator/invoices", "list_operator_invoices",
            "Invoices the platform issues (orders of joint-operation products), newest first; `?status=requested` is the queue."],
        get: ["/api/v1/operator/invoices/{id}", "get_operator_invoice"],
        pdf: ["/api/v1/operator/invoices/{id}/pdf", "operator_invoice_pdf"],
        issue: ["/api/v1/operator/invoices/{id}/issue", "issue_operator_invoice",
            "Issue a requested invoice of a joint-operation product: it takes the platform's next number (`INV-<year>-<sequence>`) and the amounts as the ledger has them now; the buyer is notified. A seller's invoice (general cooperation) is a 404."],
        reject: ["/api/v1/operator/invoices/{id}/reject", "reject_operator_invoice"],
    }
}

/// A seller's invoices (its general-cooperation products).
pub mod seller {
    issuer_routes! {
        auth: SellerAuth, party: Seller,
        list: ["/api/v1/seller/invoices", "list_seller_invoices",
            "Invoices you issue (orders of your general-cooperation products), newest first; `?status=requested` is your queue."],
        get: ["/api/v1/seller/invoices/{id}", "get_seller_invoice"],
        pdf: ["/api/v1/seller/invoices/{id}/pdf", "seller_invoice_pdf"],
        issue: ["/api/v1/seller/invoices/{id}/issue", "issue_seller_invoice",
            "Issue a requested invoice of your general-cooperation product: it takes your next number (`INV-<year>-<sequence>`, your own sequence) and the amounts as the ledger has them now; the buyer is notified. Another seller's invoice, or a joint-operation one (the platform's), is a 404."],
        reject: ["/api/v1/seller/invoices/{id}/reject", "reject_seller_invoice"],
    }
}

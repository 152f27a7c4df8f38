//! Invoices (开票) and their return (退票), `mercato_domain::invoicing`.
//!
//! A buyer requests an invoice of a paid order with the title, tax id and
//! address to print. Who issues it follows the order's product: the
//! platform (an operator) for joint-operation products, the seller for
//! general-cooperation ones. Issuing takes the next number of the issuer's
//! yearly sequence in the same transaction and freezes the amounts as the
//! ledger has them then; the buyer is notified and may download the PDF
//! (`pdf`). The issuer may reject a request with a reason instead. The
//! buyer returns an issued invoice with a reason: the credit note (its own
//! number in the issuer's credit-note sequence) cancels it, and the order
//! may be invoiced again.
//!
//! **Amounts** (`money`): what the order's payment entry debited the
//! buyer's wallet, minus what was given back of it: refund entries posted
//! under the order (a failed delivery or withdrawn supervision, the whole
//! payment) and unsubscribe refunds (the `refunds` records of the
//! subscriptions the order paid for, spread over the subscription's paid
//! orders newest first: a refund gives back the time bought last). Tax
//! contained at the issuer's rate: a seller's certified `tax_rate_bp`, or
//! the platform's `invoice_tax_rate_bp`.
//!
//! **Once.** An order has at most one open (requested or issued) invoice: a
//! unique index on open invoices makes a concurrent second request fail as
//! 409 `already_invoiced` too. Every step is conditional on the invoice's
//! version (409 `invoice_changed` for the loser of a race); numbers come
//! from an increment of the issuer's sequence row in the issuing
//! transaction, so they are gapless and never given twice, and a unique
//! index on (issuer, number) guards them.

use crate::app::error::{AppError, AppResult};
use crate::app::page::{Page, Paging};
use crate::auth::Principal;
use crate::state::AppState;
use chrono::{DateTime, Utc};
use mercato_domain::delivery::Actor;
use mercato_domain::ids::{InvoiceId, NotificationId};
use mercato_domain::invoicing::{
    self, Addressee, InvoiceAction, InvoiceDocument, InvoiceIssuer, InvoiceStatus, PLATFORM_ISSUER_ID, amounts,
};
use mercato_domain::schema::{self, to_schema};
use mercato_store::entity::{invoice, invoice_event, invoice_line, notification};
use mercato_store::repo::invoices::{self as repo, Scope};
use mercato_store::repo::{notifications as notification_repo, orders as order_repo};
use mercato_store::{Executor, StoreError};
use serde::{Deserialize, Serialize};
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::Schema;
use utoipa::{IntoParams, ToSchema};

pub mod lifecycle;
mod money;
pub mod pdf;

pub const KIND_INVOICE_REQUESTED: &str = "invoice_requested";

/// Who is asking: the buyer, an operator (the platform's invoices) or a
/// seller (its own). Each sees only those invoices; another's is a 404.
#[derive(Debug, Clone, Copy)]
pub enum Party<'a> {
    Buyer(&'a Principal),
    Operator(&'a Principal),
    Seller(&'a Principal),
}

impl<'a> Party<'a> {
    fn scope(self) -> Scope<'a> {
        match self {
            Party::Buyer(p) => Scope::Buyer(&p.account_id),
            Party::Operator(_) => Scope::Issuer(PLATFORM_ISSUER_ID),
            Party::Seller(p) => Scope::Issuer(&p.account_id),
        }
    }

    fn actor(self) -> (Actor, Option<&'a str>) {
        match self {
            Party::Buyer(p) => (Actor::Buyer, Some(&p.account_id)),
            Party::Operator(p) => (Actor::Operator, Some(&p.account_id)),
            Party::Seller(p) => (Actor::Seller, Some(&p.account_id)),
        }
    }
}

/// `POST /api/v1/buyer/invoices`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RequestInvoice {
    /// A paid order of yours.
    pub order_id: String,
    /// The name to invoice (1-200 characters, one line).
    #[schema(schema_with = title_schema)]
    pub title: String,
    /// A unified social credit code (统一社会信用代码, 18 characters whose last
    /// is the GB 32100-2015 check character of the first 17: a wrong one is
    /// refused) or a VAT number (two-letter country prefix and 2-12 letters
    /// or digits); spaces are ignored, letters read as capitals.
    #[schema(schema_with = tax_id_schema)]
    pub tax_id: String,
    /// 1-500 characters.
    #[schema(schema_with = address_schema)]
    pub address: String,
}

fn title_schema() -> RefOr<Schema> {
    to_schema(invoicing::title_schema())
}

fn tax_id_schema() -> RefOr<Schema> {
    to_schema(invoicing::tax_id_schema())
}

fn address_schema() -> RefOr<Schema> {
    to_schema(schema::text(1, invoicing::ADDRESS_MAX))
}

fn reason_schema() -> RefOr<Schema> {
    to_schema(schema::text(1, invoicing::REASON_MAX))
}

/// A reason for returning or rejecting an invoice.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InvoiceReason {
    /// 1-500 characters, shown to both sides.
    #[schema(schema_with = reason_schema)]
    pub reason: String,
}

/// An invoice of one order.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct InvoiceView {
    /// `inv_...`.
    #[schema(value_type = String)]
    pub id: InvoiceId,
    pub order_id: String,
    pub buyer_id: String,
    /// `platform` (joint-operation products) or `seller` (general cooperation).
    pub issuer: InvoiceIssuer,
    /// `platform`, or the issuing seller's account id.
    pub issuer_id: String,
    pub status: InvoiceStatus,
    pub title: String,
    pub tax_id: String,
    pub address: String,
    pub currency: String,
    /// What the order's payment debited the buyer.
    pub paid_minor: i64,
    /// What was refunded of the order (as of the request, then of the issue).
    pub refunded_minor: i64,
    /// paid - refunded, tax included.
    pub total_minor: i64,
    /// The issuer's rate (basis points).
    pub tax_rate_bp: i64,
    /// The tax contained in the total.
    pub tax_minor: i64,
    /// `INV-<year>-<sequence>`, once issued.
    pub number: Option<String>,
    pub issued_at: Option<DateTime<Utc>>,
    /// `CN-<year>-<sequence>`, once returned.
    pub credit_note_number: Option<String>,
    pub credited_at: Option<DateTime<Utc>>,
    pub requested_at: DateTime<Utc>,
    /// When the current status began.
    pub status_since: DateTime<Utc>,
}

/// One line of an invoice (negated on the credit note).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct InvoiceLineView {
    pub line_no: i64,
    /// The product (and the kind of line, when not a purchase); `Refunded`
    /// for what was given back (negative).
    pub description: String,
    /// Empty on the refunded line.
    pub sku_code: String,
    pub amount_minor: i64,
}

/// One step of an invoice's lifecycle.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct InvoiceEventView {
    pub seq: i64,
    pub action: InvoiceAction,
    pub actor: Actor,
    pub actor_id: Option<String>,
    /// The status it led to.
    pub status: InvoiceStatus,
    /// The reason (return, reject) or the number given (issue).
    pub note: String,
    pub at: DateTime<Utc>,
}

/// An invoice with its lines and steps.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct InvoiceDetail {
    pub invoice: InvoiceView,
    pub lines: Vec<InvoiceLineView>,
    /// Oldest first.
    pub events: Vec<InvoiceEventView>,
}

/// Invoice list filters and the page.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct InvoiceParams {
    /// Only invoices in this status.
    #[serde(default)]
    #[param(value_type = Option<InvoiceStatus>)]
    pub status: Option<String>,
    /// 1-100, default 20.
    #[serde(default, deserialize_with = "crate::extract::query_num::opt_u64")]
    #[param(value_type = Option<u64>, minimum = 1, maximum = 100, default = 20)]
    pub limit: Option<u64>,
    /// `next_cursor` from the previous page.
    #[serde(default)]
    pub cursor: Option<String>,
}

fn view(i: invoice::Model) -> InvoiceView {
    InvoiceView {
        id: i.id,
        order_id: i.order_id,
        buyer_id: i.buyer_id,
        issuer: i.issuer,
        issuer_id: i.issuer_id,
        status: i.status,
        title: i.title,
        tax_id: i.tax_id,
        address: i.address,
        currency: i.currency,
        paid_minor: i.paid_minor,
        refunded_minor: i.refunded_minor,
        total_minor: i.total_minor,
        tax_rate_bp: i.tax_rate_bp,
        tax_minor: i.tax_minor,
        number: i.number,
        issued_at: i.issued_at,
        credit_note_number: i.credit_note_number,
        credited_at: i.credited_at,
        requested_at: i.requested_at,
        status_since: i.status_since,
    }
}

fn line_view(l: invoice_line::Model) -> InvoiceLineView {
    InvoiceLineView {
        line_no: l.line_no,
        description: l.description,
        sku_code: l.sku_code,
        amount_minor: l.amount_minor,
    }
}

fn event_view(e: invoice_event::Model) -> InvoiceEventView {
    InvoiceEventView {
        seq: e.seq,
        action: e.action,
        actor: e.actor,
        actor_id: e.actor_id,
        status: e.status,
        note: e.note,
        at: e.at,
    }
}

fn not_found() -> AppError {
    AppError::not_found("invoice")
}

/// The invoice `id` as `party` sees it (404 for a malformed id or another's).
async fn find(db: &impl Executor, party: Party<'_>, id: &str) -> AppResult<invoice::Model> {
    let id = InvoiceId::parse(id).ok_or_else(not_found)?;
    repo::find(db, party.scope(), &id).await?.ok_or_else(not_found)
}

/// The invoice with its lines and steps, read on `db`.
async fn detail_of(db: &impl Executor, inv: invoice::Model) -> AppResult<InvoiceDetail> {
    let lines = repo::lines(db, &inv.id).await?.into_iter().map(line_view).collect();
    let events = repo::events(db, &inv.id).await?.into_iter().map(event_view).collect();
    Ok(InvoiceDetail { invoice: view(inv), lines, events })
}

/// One invoice as `party` sees it.
pub async fn get(state: &AppState, party: Party<'_>, id: &str) -> AppResult<InvoiceDetail> {
    let inv = find(&state.db.conn, party, id).await?;
    detail_of(&state.db.conn, inv).await
}

/// The invoices `party` sees, newest first, optionally in one status.
pub async fn list(state: &AppState, party: Party<'_>, params: InvoiceParams) -> AppResult<Page<InvoiceView>> {
    let paging = Paging::new(params.limit, params.cursor)?;
    let status = crate::app::page::word_filter("status", params.status, InvoiceStatus::parse, InvoiceStatus::allowed)?;
    let before = crate::app::page::id_cursor(&paging, InvoiceId::parse)?;
    let rows = repo::list(&state.db.conn, party.scope(), status, before.as_ref(), paging.limit + 1).await?;
    Ok(paging.finish(rows, |i| i.id.to_string(), view))
}

/// A notification to `account_id` about `inv`.
fn notice(
    account_id: &str,
    inv: &invoice::Model,
    kind: &str,
    title: String,
    body: String,
    now: DateTime<Utc>,
) -> notification::Model {
    notification::Model {
        id: NotificationId::new().into(),
        account_id: account_id.to_string(),
        kind: kind.into(),
        title,
        body,
        reference: Some(inv.id.to_string()),
        created_at: now,
        read_at: None,
    }
}

/// The issuer's notification of a step that concerns it: none for the
/// platform (operators see the platform's queue), the seller's otherwise.
fn issuer_notice(
    inv: &invoice::Model,
    kind: &str,
    title: String,
    body: String,
    now: DateTime<Utc>,
) -> Option<notification::Model> {
    (inv.issuer == InvoiceIssuer::Seller).then(|| notice(&inv.issuer_id, inv, kind, title, body, now))
}

/// The buyer requests an invoice of a paid order, in `tx` (the caller
/// commits): 404 for an order that is not the buyer's, 409 `order_unpaid`,
/// `already_invoiced` (an open invoice exists), `not_invoiceable` (a refund
/// order), `nothing_to_invoice` (free, or refunded in full); 422 for a bad
/// title, tax id or address.
pub async fn request(
    state: &AppState,
    tx: &impl Executor,
    buyer: &Principal,
    req: RequestInvoice,
) -> AppResult<InvoiceDetail> {
    // The order first: a request naming no order of the buyer's is a 404
    // whatever else it says.
    let order = order_repo::find_order_for_buyer(tx, &buyer.account_id, &req.order_id).await?.ok_or_else(|| {
        AppError::about_field(crate::app::error::Refusal::NotFound, "not_found", "order_id", "no such order of yours")
    })?;
    let to = Addressee::parse(&req.title, &req.tax_id, &req.address)?;
    if !order.status.is_paid() {
        return Err(AppError::conflict("order_unpaid", format!("order {} is not paid; pay it first", order.id)));
    }
    if let Some(open) = repo::open_for_order(tx, &order.id).await? {
        return Err(already_invoiced(&order.id, Some(&open)));
    }
    let now = state.now();
    let m = money::of_order(state, tx, &order).await?;
    let a = amounts(m.paid_minor, m.refunded_minor, m.tax_rate_bp).map_err(money::refused)?;
    let id = InvoiceId::new();
    let row = invoice::Model {
        id: id.clone(),
        order_id: order.id.clone(),
        buyer_id: order.buyer_id.clone(),
        issuer: m.issuer,
        issuer_id: m.issuer_id.clone(),
        status: InvoiceStatus::Requested,
        steps: 1,
        title: to.title,
        tax_id: to.tax_id.as_str().to_string(),
        address: to.address,
        currency: order.currency.clone(),
        paid_minor: m.paid_minor,
        refunded_minor: m.refunded_minor,
        total_minor: a.total_minor,
        tax_rate_bp: a.tax_rate_bp,
        tax_minor: a.tax_minor,
        number: None,
        issued_at: None,
        credit_note_number: None,
        credited_at: None,
        requested_at: now,
        status_since: now,
    };
    let event = invoice_event::Model {
        invoice_id: id.clone(),
        seq: 1,
        action: InvoiceAction::Request,
        actor: Actor::Buyer,
        actor_id: Some(buyer.account_id.clone()),
        status: InvoiceStatus::Requested,
        note: String::new(),
        at: now,
    };
    match repo::insert(tx, row.clone(), m.rows(&id), event).await {
        Ok(()) => {}
        // A concurrent request of the same order committed first.
        Err(StoreError::Conflict(_)) => return Err(already_invoiced(&order.id, None)),
        Err(e) => return Err(e.into()),
    }
    let title = format!("Invoice requested for order {}", order.id);
    let body = format!("Invoice {id}: {} {} to issue to {}.", a.total_minor, row.currency, row.title);
    if let Some(n) = issuer_notice(&row, KIND_INVOICE_REQUESTED, title, body, now) {
        notification_repo::insert(tx, n).await?;
    }
    let inv = repo::find(tx, Scope::Buyer(&buyer.account_id), &id).await?.ok_or_else(not_found)?;
    detail_of(tx, inv).await
}

fn already_invoiced(order_id: &str, open: Option<&invoice::Model>) -> AppError {
    let which = open.map_or_else(String::new, |i| format!(" ({}, {})", i.id, i.status));
    AppError::conflict(
        "already_invoiced",
        format!(
            "order {order_id} already has an invoice{which}; return it (or wait for its rejection) to ask for another"
        ),
    )
}

/// The issue time's year and local date (`YYYY-MM-DD`) in the settlement
/// time zone: numbers restart each year there.
fn local_date(state: &AppState, t: DateTime<Utc>) -> (i32, String) {
    let p = state.config.settlement_timezone.period_of(t);
    let year = p.label[..4].parse().expect("a period label starts with its year");
    let day = (t - p.start).num_days() + 1;
    (year, format!("{}-{day:02}", p.label))
}

/// Which document of the invoice: `invoice` (default) or `credit_note`.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PdfParams {
    /// `invoice` (default, once issued) or `credit_note` (once returned).
    #[serde(default)]
    #[param(value_type = Option<InvoiceDocument>)]
    pub document: Option<String>,
}

/// A rendered document.
pub struct PdfFile {
    /// `INV-2026-000001.pdf`.
    pub filename: String,
    pub bytes: Vec<u8>,
}

/// The invoice's PDF, or its credit note's: 409 `invoice_not_issued` while
/// only requested (or rejected), `no_credit_note` for an invoice not returned.
pub async fn pdf(state: &AppState, party: Party<'_>, id: &str, params: PdfParams) -> AppResult<PdfFile> {
    let doc = match params.document.filter(|d| !d.is_empty()) {
        None => InvoiceDocument::Invoice,
        Some(d) => InvoiceDocument::parse(&d)
            .ok_or_else(|| AppError::field("document", format!("must be one of {}", InvoiceDocument::allowed())))?,
    };
    let db = &state.db.conn;
    let inv = find(db, party, id).await?;
    let (Some(number), Some(issued_at)) = (inv.number.clone(), inv.issued_at) else {
        return Err(AppError::conflict(
            "invoice_not_issued",
            format!("invoice {} is {}: there is no document until it is issued", inv.id, inv.status),
        ));
    };
    let credit = match doc {
        InvoiceDocument::Invoice => None,
        InvoiceDocument::CreditNote => match (inv.credit_note_number.clone(), inv.credited_at) {
            (Some(n), Some(at)) => Some((n, at)),
            _ => {
                return Err(AppError::conflict(
                    "no_credit_note",
                    format!("invoice {} is {}: a credit note exists once it is returned", inv.id, inv.status),
                ));
            }
        },
    };
    let issuer = money::issuer_party(state, db, &inv).await?;
    let lines = repo::lines(db, &inv.id).await?;
    let sign = if credit.is_some() { -1 } else { 1 };
    let (file_number, date_at) = credit.clone().unwrap_or((number.clone(), issued_at));
    let document = pdf::Document {
        kind: doc,
        number: file_number.clone(),
        issue_date: local_date(state, date_at).1,
        cancels: credit.map(|_| number),
        issuer_name: issuer.0,
        issuer_tax_id: issuer.1,
        title: inv.title.clone(),
        tax_id: inv.tax_id.clone(),
        address: inv.address.clone(),
        order_id: inv.order_id.clone(),
        currency: inv.currency.clone(),
        lines: lines
            .into_iter()
            .map(|l| pdf::Line {
                description: l.description,
                sku_code: l.sku_code,
                amount_minor: sign * l.amount_minor,
            })
            .collect(),
        total_minor: sign * inv.total_minor,
        tax_rate_bp: inv.tax_rate_bp,
        tax_minor: sign * inv.tax_minor,
    };
    Ok(PdfFile { filename: format!("{file_number}.pdf"), bytes: pdf::render(&document) })
}

//! An invoice after it is requested (`domain::invoicing::InvoiceStatus`):
//! its issuer issues it (the next number of the issuer's invoice sequence,
//! the amounts as the ledger has them now) or rejects the request with a
//! reason; the buyer returns an issued invoice with a reason, which makes
//! its credit note (the next number of the issuer's credit-note sequence).
//! Each step is one transaction, conditional on the version read (409
//! `invoice_changed` when another step came first; 409 `out_of_order`
//! naming the status for a step that does not apply), kept with its actor,
//! time and note; the buyer is told of an issue or a rejection, a seller
//! issuer of a return.

use super::{InvoiceDetail, InvoiceReason, Party, detail_of, find, issuer_notice, local_date, money, notice};
use crate::app::error::{AppError, AppResult};
use crate::auth::Principal;
use crate::state::AppState;
use chrono::{DateTime, Utc};
use mercato_domain::invoicing::{
    InvoiceAction, InvoiceDocument, InvoiceStatus, amounts, checked_reason, document_number,
};
use mercato_store::Executor;
use mercato_store::entity::{invoice, invoice_event, notification};
use mercato_store::repo::invoices::{self as repo, Changes, Money};
use mercato_store::repo::{notifications as notification_repo, orders as order_repo};

pub const KIND_INVOICE_ISSUED: &str = "invoice_issued";
pub const KIND_INVOICE_REJECTED: &str = "invoice_rejected";
pub const KIND_INVOICE_RETURNED: &str = "invoice_returned";

/// 409 `out_of_order` naming the status, when `action` does not apply.
fn applies(inv: &invoice::Model, action: InvoiceAction) -> AppResult<InvoiceStatus> {
    inv.status.next(action).map_err(|e| AppError::conflict("out_of_order", e.to_string()))
}

/// Records `action` on `inv` in `tx` with `changes`: the transition and the
/// event, conditional on the version read.
async fn apply(
    tx: &impl Executor,
    inv: &invoice::Model,
    action: InvoiceAction,
    by: Party<'_>,
    note: String,
    changes: Changes,
    now: DateTime<Utc>,
) -> AppResult<InvoiceStatus> {
    let to = applies(inv, action)?;
    let (actor, actor_id) = by.actor();
    let event = invoice_event::Model {
        invoice_id: inv.id.clone(),
        seq: inv.steps + 1,
        action,
        actor,
        actor_id: actor_id.map(str::to_string),
        status: to,
        note,
        at: now,
    };
    if !repo::step(tx, event, changes).await? {
        return Err(AppError::conflict("invoice_changed", "the invoice changed meanwhile; read it again"));
    }
    Ok(to)
}

fn buyer_notice(
    inv: &invoice::Model,
    kind: &str,
    title: String,
    body: String,
    now: DateTime<Utc>,
) -> notification::Model {
    notice(&inv.buyer_id, inv, kind, title, body, now)
}

async fn reread(tx: &impl Executor, party: Party<'_>, inv: &invoice::Model) -> AppResult<InvoiceDetail> {
    let fresh = find(tx, party, inv.id.as_str()).await?;
    detail_of(tx, fresh).await
}

/// The issuer (an operator for the platform's invoices, a seller for its
/// own) issues a requested invoice: its number, the amounts as of now, and
/// the buyer is notified. 409 `nothing_to_invoice` when the order was
/// refunded in full meanwhile (reject it instead).
pub async fn issue(state: &AppState, issuer: Party<'_>, id: &str) -> AppResult<InvoiceDetail> {
    let now = state.now();
    let tx = state.db.write().await?;
    let inv = find(&tx, issuer, id).await?;
    applies(&inv, InvoiceAction::Issue)?;
    let order = order_repo::find_order(&tx, &inv.order_id)
        .await?
        .ok_or_else(|| AppError::inconsistent(format!("invoice {} without its order", inv.id)))?;
    let m = money::of_order(state, &tx, &order).await?;
    let a = amounts(m.paid_minor, m.refunded_minor, m.tax_rate_bp).map_err(money::refused)?;
    let (year, _) = local_date(state, now);
    let seq = repo::next_number(&tx, &inv.issuer_id, InvoiceDocument::Invoice, year).await?;
    let number = document_number(InvoiceDocument::Invoice, year, seq);
    let changes = Changes {
        issued: Some((number.clone(), now)),
        credited: None,
        money: Some(Money {
            paid_minor: m.paid_minor,
            refunded_minor: m.refunded_minor,
            total_minor: a.total_minor,
            tax_rate_bp: a.tax_rate_bp,
            tax_minor: a.tax_minor,
            lines: m.rows(&inv.id),
        }),
    };
    apply(&tx, &inv, InvoiceAction::Issue, issuer, number.clone(), changes, now).await?;
    let title = format!("Invoice {number} is issued");
    let body = format!(
        "Invoice {number} of order {}: {} {} (minor units), tax contained {}. Download it from invoice {}.",
        inv.order_id, a.total_minor, inv.currency, a.tax_minor, inv.id
    );
    notification_repo::insert(&tx, buyer_notice(&inv, KIND_INVOICE_ISSUED, title, body, now)).await?;
    let detail = reread(&tx, issuer, &inv).await?;
    tx.commit().await?;
    Ok(detail)
}

/// The issuer rejects a requested invoice with a reason (a wrong title or
/// tax id, say); the buyer is notified and may request again.
pub async fn reject(state: &AppState, issuer: Party<'_>, id: &str, req: InvoiceReason) -> AppResult<InvoiceDetail> {
    let now = state.now();
    let tx = state.db.write().await?;
    let inv = find(&tx, issuer, id).await?;
    applies(&inv, InvoiceAction::Reject)?;
    let reason = checked_reason(&req.reason)?;
    apply(&tx, &inv, InvoiceAction::Reject, issuer, reason.clone(), Changes::default(), now).await?;
    let title = format!("Your invoice request for order {} was rejected", inv.order_id);
    let body = format!("Invoice {}: {reason}", inv.id);
    notification_repo::insert(&tx, buyer_notice(&inv, KIND_INVOICE_REJECTED, title, body, now)).await?;
    let detail = reread(&tx, issuer, &inv).await?;
    tx.commit().await?;
    Ok(detail)
}

/// The buyer returns an issued invoice (退票) with a reason, in `tx` (the
/// caller commits): the credit note takes the issuer's next credit-note
/// number and the order may be invoiced again.
pub async fn return_invoice(
    state: &AppState,
    tx: &impl Executor,
    buyer: &Principal,
    id: &str,
    req: InvoiceReason,
) -> AppResult<InvoiceDetail> {
    let now = state.now();
    let party = Party::Buyer(buyer);
    let inv = find(tx, party, id).await?;
    applies(&inv, InvoiceAction::Return)?;
    let reason = checked_reason(&req.reason)?;
    let (year, _) = local_date(state, now);
    let seq = repo::next_number(tx, &inv.issuer_id, InvoiceDocument::CreditNote, year).await?;
    let number = document_number(InvoiceDocument::CreditNote, year, seq);
    let changes = Changes { credited: Some((number.clone(), now)), ..Changes::default() };
    apply(tx, &inv, InvoiceAction::Return, party, reason.clone(), changes, now).await?;
    let cancelled = inv.number.as_deref().unwrap_or_default();
    let title = format!("Invoice {cancelled} was returned");
    let body = format!("Credit note {number} cancels invoice {cancelled} (order {}): {reason}", inv.order_id);
    if let Some(n) = issuer_notice(&inv, KIND_INVOICE_RETURNED, title, body, now) {
        notification_repo::insert(tx, n).await?;
    }
    reread(tx, party, &inv).await
}

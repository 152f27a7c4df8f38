//! What an order's invoice says, read from the ledger: what the order's
//! payment entry debited the buyer, what was given back of it, the lines,
//! who issues it and at which rate (see the module above).

use crate::app::error::{AppError, AppResult};
use crate::state::AppState;
use mercato_domain::ids::InvoiceId;
use mercato_domain::invoicing::{InvoiceAmountError, InvoiceIssuer, PLATFORM_ISSUER_ID, allocate_newest_first};
use mercato_domain::ledger::buyer_wallet;
use mercato_domain::onboarding::ApplicationStatus;
use mercato_domain::orders::{LineKind, OrderStatus};
use mercato_store::Executor;
use mercato_store::entity::{invoice, invoice_line, order, order_line};
use mercato_store::repo::invoices as repo;
use mercato_store::repo::{accounts, ledger as ledger_repo, orders as order_repo, refunds as refund_repo, sellers};
use std::collections::HashMap;

/// The description of the line that takes off what was refunded.
pub const REFUNDED_LINE: &str = "Refunded";

/// An order's invoiceable money and issuer.
#[derive(Debug, Clone)]
pub(super) struct OrderMoney {
    pub issuer: InvoiceIssuer,
    pub issuer_id: String,
    pub paid_minor: i64,
    pub refunded_minor: i64,
    pub tax_rate_bp: i64,
    /// (description, SKU code, amount): the order's lines, then the
    /// refunded part (negative) if any.
    pub lines: Vec<(String, String, i64)>,
}

impl OrderMoney {
    pub fn rows(&self, id: &InvoiceId) -> Vec<invoice_line::Model> {
        self.lines
            .iter()
            .enumerate()
            .map(|(i, (description, sku_code, amount))| invoice_line::Model {
                invoice_id: id.clone(),
                line_no: i as i64 + 1,
                description: description.clone(),
                sku_code: sku_code.clone(),
                amount_minor: *amount,
            })
            .collect()
    }
}

/// 409 `nothing_to_invoice` for an order with nothing left; a rate out of
/// range is a bad configuration or certification row.
pub(super) fn refused(e: InvoiceAmountError) -> AppError {
    match e {
        InvoiceAmountError::NothingLeft { .. } => AppError::conflict("nothing_to_invoice", e.to_string()),
        e => AppError::inconsistent(e),
    }
}

fn describe(l: &order_line::Model) -> String {
    match l.kind {
        LineKind::Purchase => l.product_name.clone(),
        kind => format!("{} ({})", l.product_name, kind.as_str().replace('_', " ")),
    }
}

/// Reads the invoice of `order` (paid) as the ledger has it now: 409
/// `not_invoiceable` for a refund order, `nothing_to_invoice` for a free one.
pub(super) async fn of_order(state: &AppState, db: &impl Executor, order: &order::Model) -> AppResult<OrderMoney> {
    let lines = order_repo::lines_of(db, std::slice::from_ref(&order.id)).await?;
    if lines.iter().any(|l| l.kind == LineKind::Unsubscribe) {
        return Err(AppError::conflict(
            "not_invoiceable",
            format!("order {} is a refund; the invoice of the order it refunds accounts for it", order.id),
        ));
    }
    let first = lines.first().ok_or_else(|| AppError::inconsistent(format!("order {} has no lines", order.id)))?;
    let issuer = InvoiceIssuer::for_cooperation(first.cooperation);
    if lines.iter().any(|l| l.cooperation != first.cooperation || l.seller_id != first.seller_id) {
        return Err(AppError::inconsistent(format!("order {} mixes sellers or cooperation modes", order.id)));
    }
    let Some(entry) = &order.payment_entry_id else {
        return Err(AppError::conflict(
            "nothing_to_invoice",
            format!("order {} was free: nothing to invoice", order.id),
        ));
    };
    let wallet = buyer_wallet(&order.buyer_id);
    let paid: i64 = ledger_repo::lines_of(db, std::slice::from_ref(entry))
        .await?
        .iter()
        .filter(|l| l.account == wallet)
        .map(|l| l.debit_minor - l.credit_minor)
        .sum();
    let line_sum: i64 = lines.iter().map(|l| l.amount_minor).sum();
    if line_sum != paid {
        return Err(AppError::inconsistent(format!(
            "order {} lines add up to {line_sum} but its payment debited {paid}",
            order.id
        )));
    }
    let reversed: i64 = repo::reversal_lines(db, &order.id)
        .await?
        .iter()
        .filter(|l| l.account == wallet)
        .map(|l| l.credit_minor - l.debit_minor)
        .sum();
    let refunded = reversed + unsubscribe_refunds(db, &lines).await?;
    let (issuer_id, rate) = match issuer {
        InvoiceIssuer::Platform => (PLATFORM_ISSUER_ID.to_string(), state.config.invoice_tax_rate_bp.bp()),
        InvoiceIssuer::Seller => {
            let cert = sellers::find_certification(db, &first.seller_id).await?;
            let rate = cert.filter(|c| c.status == ApplicationStatus::Approved).map_or(0, |c| c.tax_rate_bp);
            (first.seller_id.clone(), rate)
        }
    };
    let mut out: Vec<(String, String, i64)> =
        lines.iter().map(|l| (describe(l), l.sku_code.clone(), l.amount_minor)).collect();
    if refunded > 0 {
        out.push((REFUNDED_LINE.to_string(), String::new(), -refunded));
    }
    Ok(OrderMoney { issuer, issuer_id, paid_minor: paid, refunded_minor: refunded, tax_rate_bp: rate, lines: out })
}

/// The part of the unsubscribe refunds of the subscriptions `lines` paid
/// for that falls on `lines`: each subscription's refunds spread over the
/// lines that paid for it (orders given back in full left out), newest first.
async fn unsubscribe_refunds(db: &impl Executor, lines: &[order_line::Model]) -> AppResult<i64> {
    let purchases: Vec<String> = lines.iter().filter(|l| l.kind == LineKind::Purchase).map(|l| l.id.clone()).collect();
    let named: Vec<String> = lines.iter().filter_map(|l| l.renews_subscription_id.clone()).collect();
    let mine: Vec<&str> = lines.iter().map(|l| l.id.as_str()).collect();
    let mut statuses: HashMap<String, OrderStatus> = HashMap::new();
    let mut total = 0;
    for sub in repo::subscriptions_of_lines(db, &purchases, &named).await? {
        let refunds: i64 = refund_repo::refunds_of(db, &sub.id).await?.iter().map(|r| r.amount_minor).sum();
        if refunds == 0 {
            continue;
        }
        let mut paying = Vec::new();
        for l in refund_repo::paid_lines(db, &sub).await? {
            let status = match statuses.get(&l.order_id) {
                Some(s) => *s,
                None => {
                    let o = order_repo::find_order(db, &l.order_id)
                        .await?
                        .ok_or_else(|| AppError::inconsistent(format!("order line {} without its order", l.id)))?;
                    statuses.insert(o.id.clone(), o.status);
                    o.status
                }
            };
            if status.is_paid() && status != OrderStatus::Refunded && l.amount_minor > 0 {
                paying.push(l);
            }
        }
        let amounts: Vec<i64> = paying.iter().map(|l| l.amount_minor).collect();
        let shares = allocate_newest_first(&amounts, refunds);
        total += paying.iter().zip(shares).filter(|(l, _)| mine.contains(&l.id.as_str())).map(|(_, s)| s).sum::<i64>();
    }
    Ok(total)
}

/// The issuer's name and tax id as printed: the platform's from the
/// configuration; a seller's account name and registration number.
pub(super) async fn issuer_party(
    state: &AppState,
    db: &impl Executor,
    inv: &invoice::Model,
) -> AppResult<(String, Option<String>)> {
    match inv.issuer {
        InvoiceIssuer::Platform => {
            let tax_id = Some(state.config.invoice_platform_tax_id.trim().to_string()).filter(|t| !t.is_empty());
            Ok((state.config.invoice_platform_name.clone(), tax_id))
        }
        InvoiceIssuer::Seller => {
            let name = accounts::find(db, &inv.issuer_id)
                .await?
                .map(|a| a.name)
                .ok_or_else(|| AppError::inconsistent(format!("invoice {} names a missing seller", inv.id)))?;
            let reg = sellers::find_onboarding(db, &inv.issuer_id).await?.map(|o| o.registration_number);
            Ok((name, reg.filter(|r| !r.is_empty())))
        }
    }
}

//! Partners' settlement (`domain::channel::partner_statements`): the
//! settlement run writes one statement per partner and currency with
//! attributed sales or clawbacks in the period; an operator records the
//! partner's invoice as received, then the payout (one balanced `payout`
//! entry: debit `partner_payable:<partner>`, credit
//! `platform_cash:<provider>`). And the partner's performance (业绩): per
//! month, the orders, customers, GMV and shares of its attributed sales.

use super::payouts::{self, PayoutRequest};
use crate::app::csv;
use crate::app::error::{AppError, AppResult};
use crate::app::ledger::post_entry;
use crate::app::page::{self, Page, Paging};
use crate::auth::Principal;
use crate::state::AppState;
use chrono::{DateTime, Utc};
use mercato_domain::channel::partner_statements::{INVOICE_NUMBER_MAX, PartnerStatementAction};
use mercato_domain::channel::partners::PartnerStatementStatus;
use mercato_domain::ids::{NotificationId, PartnerStatementId};
use mercato_domain::ledger::{Entry, EntryKind, Line, partner_payable, platform_cash};
use mercato_domain::settlement::{Period, StatementLineKind};
use mercato_store::Executor;
use mercato_store::entity::{notification, partner_statement, partner_statement_line};
use mercato_store::repo::{notifications as notification_repo, partner_settlement as repo};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use utoipa::{IntoParams, ToSchema};

/// Notification kind sent to a partner when its statement is issued.
pub const KIND_PARTNER_STATEMENT_ISSUED: &str = "partner_statement_issued";

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct PartnerStatementView {
    /// `pst_...`.
    pub id: String,
    pub partner_id: String,
    /// `YYYY-MM`.
    pub period: String,
    pub currency: String,
    /// What the partner's customers paid for the attributed sales, net of refunds.
    pub sales_minor: i64,
    /// The partner's shares net of clawbacks: what it is paid.
    pub share_minor: i64,
    pub lines: i64,
    pub status: PartnerStatementStatus,
    pub invoice_number: Option<String>,
    pub invoice_received_at: Option<DateTime<Utc>>,
    pub paid_at: Option<DateTime<Utc>>,
    pub payout_entry_id: Option<String>,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct PartnerStatementLineView {
    pub seq: i64,
    /// `sale` or `clawback`.
    pub kind: StatementLineKind,
    pub order_id: String,
    pub order_line_id: String,
    pub buyer_id: String,
    pub product_id: String,
    pub settled_at: DateTime<Utc>,
    pub sales_minor: i64,
    pub share_minor: i64,
    /// The ledger entry the money moved in.
    pub entry_id: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct PartnerStatementDetail {
    pub statement: PartnerStatementView,
    pub lines: Vec<PartnerStatementLineView>,
}

/// `POST /api/v1/operator/partner-statements/{id}/invoice-received`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReceiveInvoice {
    /// The number of the partner's invoice (1-64 characters).
    #[schema(min_length = 1, max_length = 64)]
    pub invoice_number: String,
}

fn view(s: partner_statement::Model) -> PartnerStatementView {
    PartnerStatementView {
        id: s.id.to_string(),
        partner_id: s.partner_id,
        period: s.period,
        currency: s.currency,
        sales_minor: s.sales_minor,
        share_minor: s.share_minor,
        lines: s.lines,
        status: s.status,
        invoice_number: s.invoice_number,
        invoice_received_at: s.invoice_received_at,
        paid_at: s.paid_at,
        payout_entry_id: s.payout_entry_id,
        created_at: s.created_at,
    }
}

fn line_view(l: partner_statement_line::Model) -> PartnerStatementLineView {
    PartnerStatementLineView {
        seq: l.seq,
        kind: l.kind,
        order_id: l.order_id,
        order_line_id: l.order_line_id,
        buyer_id: l.buyer_id,
        product_id: l.product_id,
        settled_at: l.settled_at,
        sales_minor: l.sales_minor,
        share_minor: l.share_minor,
        entry_id: l.entry_id,
    }
}

/// Writes the period's partner statements in the run's transaction: one per
/// partner and currency with sources. Returns (statements, lines).
pub(crate) async fn settle(tx: &impl Executor, period: &Period, now: DateTime<Utc>) -> AppResult<(i64, i64)> {
    let sources = repo::sources(tx, period.start, period.end).await?;
    let mut statements: Vec<partner_statement::Model> = Vec::new();
    let mut lines = Vec::with_capacity(sources.len());
    for s in sources {
        let same = statements.last().is_some_and(|st| st.partner_id == s.partner_id && st.currency == s.currency);
        if !same {
            statements.push(partner_statement::Model {
                id: PartnerStatementId::new(),
                partner_id: s.partner_id.clone(),
                period: period.label.clone(),
                currency: s.currency.clone(),
                sales_minor: 0,
                share_minor: 0,
                lines: 0,
                status: PartnerStatementStatus::Issued,
                invoice_number: None,
                invoice_received_at: None,
                invoice_received_by: None,
                payout_entry_id: None,
                paid_at: None,
                created_at: now,
            });
        }
        let st = statements.last_mut().ok_or_else(|| AppError::internal("no statement"))?;
        st.sales_minor += s.sales_minor;
        st.share_minor += s.share_minor;
        st.lines += 1;
        lines.push(partner_statement_line::Model {
            statement_id: st.id.clone(),
            seq: st.lines,
            kind: s.kind,
            order_id: s.order_id,
            order_line_id: s.order_line_id,
            buyer_id: s.buyer_id,
            product_id: s.product_id,
            settled_at: s.settled_at,
            sales_minor: s.sales_minor,
            share_minor: s.share_minor,
            entry_id: s.entry_id,
        });
    }
    let notices = statements
        .iter()
        .map(|st| notification::Model {
            id: NotificationId::new().into(),
            account_id: st.partner_id.clone(),
            kind: KIND_PARTNER_STATEMENT_ISSUED.into(),
            title: format!("Your {} partner statement ({}) is issued", st.period, st.currency),
            body: format!(
                "Statement {}: {} lines, shares {} {} (minor units). Send your invoice for it to be paid.",
                st.id, st.lines, st.share_minor, st.currency
            ),
            reference: Some(st.id.to_string()),
            created_at: now,
            read_at: None,
        })
        .collect();
    let counts = (statements.len() as i64, lines.len() as i64);
    repo::insert(tx, statements, lines).await?;
    notification_repo::insert_many(tx, notices).await?;
    Ok(counts)
}

/// Partner statement filters and the page.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PartnerStatementParams {
    /// Only statements in this status.
    #[serde(default)]
    #[param(value_type = Option<PartnerStatementStatus>)]
    pub status: Option<String>,
    /// 1-100, default 20.
    #[serde(default, deserialize_with = "crate::extract::query_num::opt_u64")]
    #[param(value_type = Option<u64>, minimum = 1, maximum = 100, default = 20)]
    pub limit: Option<u64>,
    /// `next_cursor` from the previous page.
    #[serde(default)]
    pub cursor: Option<String>,
}

/// Statements, newest first: the partner's own, or (operators) everyone's;
/// optionally in one status.
pub async fn list(
    state: &AppState,
    partner: Option<&Principal>,
    q: PartnerStatementParams,
) -> AppResult<Page<PartnerStatementView>> {
    let status = page::word_filter("status", q.status, PartnerStatementStatus::parse, PartnerStatementStatus::allowed)?;
    let paging = Paging::new(q.limit, q.cursor)?;
    let before = page::id_cursor(&paging, PartnerStatementId::parse)?;
    let owner = partner.map(|p| p.account_id.as_str());
    let rows = repo::list(&state.db.conn, owner, status, before.as_ref(), paging.limit + 1).await?;
    Ok(paging.finish(rows, |s| s.id.to_string(), view))
}

async fn find(db: &impl Executor, partner: Option<&Principal>, id: &str) -> AppResult<partner_statement::Model> {
    let id = PartnerStatementId::parse(id).ok_or_else(|| AppError::not_found("statement"))?;
    repo::find(db, partner.map(|p| p.account_id.as_str()), &id).await?.ok_or_else(|| AppError::not_found("statement"))
}

/// One statement with its lines (a partner sees only its own: 404 otherwise).
pub async fn detail(state: &AppState, partner: Option<&Principal>, id: &str) -> AppResult<PartnerStatementDetail> {
    let s = find(&state.db.conn, partner, id).await?;
    let lines = repo::lines_of(&state.db.conn, &s.id).await?;
    Ok(PartnerStatementDetail { statement: view(s), lines: lines.into_iter().map(line_view).collect() })
}

fn applies(s: &partner_statement::Model, action: PartnerStatementAction) -> AppResult<PartnerStatementStatus> {
    s.status.next(action).map_err(|why| {
        let code = if s.status == PartnerStatementStatus::Issued { "invoice_not_received" } else { "out_of_order" };
        AppError::conflict(code, why)
    })
}

fn changed() -> AppError {
    AppError::conflict("statement_changed", "the statement changed meanwhile; read it again")
}

/// An operator records the partner's invoice for the statement as received.
pub async fn receive_invoice(
    state: &AppState,
    op: &Principal,
    id: &str,
    req: ReceiveInvoice,
) -> AppResult<PartnerStatementDetail> {
    let number = req.invoice_number.trim();
    if number.is_empty() || number.chars().count() > INVOICE_NUMBER_MAX {
        return Err(AppError::field("invoice_number", format!("1-{INVOICE_NUMBER_MAX} characters")));
    }
    let tx = state.db.write().await?;
    let s = find(&tx, None, id).await?;
    let to =
        s.status.next(PartnerStatementAction::ReceiveInvoice).map_err(|why| AppError::conflict("out_of_order", why))?;
    if !repo::receive_invoice(&tx, &s.id, s.status, to, number, &op.account_id, state.now()).await? {
        return Err(changed());
    }
    tx.commit().await?;
    detail(state, None, id).await
}

/// An operator records the payout of a statement whose invoice was
/// received (409 `invoice_not_received` before), posting its entry.
pub async fn pay(
    state: &AppState,
    _op: &Principal,
    id: &str,
    req: super::lifecycle::RecordPayout,
) -> AppResult<PartnerStatementDetail> {
    let reference = req.checked_reference()?;
    let now = state.now();
    let tx = state.db.write().await?;
    let s = find(&tx, None, id).await?;
    let to = applies(&s, PartnerStatementAction::Pay)?;
    if s.share_minor <= 0 {
        return Err(AppError::conflict(
            "nothing_to_pay",
            format!("the statement's share is {} {}: nothing is paid out", s.share_minor, s.currency),
        ));
    }
    let sid = s.id.to_string();
    let request = PayoutRequest {
        statement_id: &sid,
        seller_id: &s.partner_id,
        amount_minor: s.share_minor,
        currency: &s.currency,
        reference: &reference,
    };
    let sent = payouts::send(req.provider, request).await?;
    let lines = vec![
        Line::debit(partner_payable(&s.partner_id), &s.currency, s.share_minor),
        Line::credit(platform_cash(req.provider.as_str()), &s.currency, s.share_minor),
    ];
    let memo = format!("payout of partner statement {sid} ({}), {} {}", s.period, req.provider, sent.reference);
    let entry = Entry::new(EntryKind::Payout, &sid, memo, lines).map_err(AppError::internal)?;
    let entry_id = post_entry(&tx, &entry, now).await?;
    if !repo::mark_paid(&tx, &s.id, s.status, to, &entry_id, now).await? {
        return Err(changed());
    }
    tx.commit().await?;
    detail(state, None, id).await
}

// ---------------------------------------------------------------- performance

/// `GET /api/v1/partner/performance`: months `from` to `to` (`YYYY-MM`,
/// inclusive, in the settlement time zone; at most 36 months).
#[derive(Debug, Clone, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PerformanceParams {
    /// First month, `YYYY-MM`.
    #[param(pattern = "^[0-9]{4}-[0-9]{2}$")]
    pub from: String,
    /// Last month, `YYYY-MM` (inclusive).
    #[param(pattern = "^[0-9]{4}-[0-9]{2}$")]
    pub to: String,
}

/// A partner's results for one month and currency (业绩).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct PerformanceRow {
    /// `YYYY-MM`.
    pub period: String,
    pub currency: String,
    /// Paid orders attributed to the partner.
    pub orders: i64,
    /// Distinct customers who placed them.
    pub customers: i64,
    /// What those customers paid, less what was refunded since.
    pub gmv_minor: i64,
    /// The partner's shares of those sales, less what refunds took back.
    pub share_minor: i64,
}

/// Months longest asked at once.
const PERFORMANCE_MONTHS_MAX: i64 = 36;

/// The partner's performance per month and currency (see [`PerformanceRow`]).
pub async fn performance(
    state: &AppState,
    partner: &Principal,
    p: &PerformanceParams,
) -> AppResult<Vec<PerformanceRow>> {
    let cal = state.config.settlement_timezone;
    let from = cal.period(&p.from).ok_or_else(|| AppError::field("from", "must be a month, YYYY-MM"))?;
    let to = cal.period(&p.to).ok_or_else(|| AppError::field("to", "must be a month, YYYY-MM"))?;
    if to.start < from.start {
        return Err(AppError::field("to", "must not be before from"));
    }
    let index = |label: &str| label[..4].parse::<i64>().unwrap_or(0) * 12 + label[5..].parse::<i64>().unwrap_or(0);
    if index(&to.label) - index(&from.label) >= PERFORMANCE_MONTHS_MAX {
        return Err(AppError::field("to", format!("at most {PERFORMANCE_MONTHS_MAX} months at once")));
    }
    let sales = repo::attributed_sales(&state.db.conn, &partner.account_id, from.start, to.end).await?;
    #[derive(Default)]
    struct Month {
        orders: BTreeSet<String>,
        customers: BTreeSet<String>,
        gmv_minor: i64,
        share_minor: i64,
    }
    let mut months: BTreeMap<(String, String), Month> = BTreeMap::new();
    for s in sales {
        let m = months.entry((cal.period_of(s.paid_at).label, s.currency.clone())).or_default();
        m.orders.insert(s.order_id);
        m.customers.insert(s.buyer_id);
        m.gmv_minor += s.amount_minor - s.refunded_minor;
        m.share_minor += s.share_minor - s.share_refunded_minor;
    }
    Ok(months
        .into_iter()
        .map(|((period, currency), m)| PerformanceRow {
            period,
            currency,
            orders: m.orders.len() as i64,
            customers: m.customers.len() as i64,
            gmv_minor: m.gmv_minor,
            share_minor: m.share_minor,
        })
        .collect())
}

/// The performance as CSV (one row per month and currency).
pub fn performance_csv(rows: &[PerformanceRow]) -> String {
    let mut out = csv::header(&["period", "currency", "orders", "customers", "gmv_minor", "share_minor"]);
    for r in rows {
        csv::push_row(
            &mut out,
            [
                csv::text(&r.period),
                csv::text(&r.currency),
                csv::number(r.orders),
                csv::number(r.customers),
                csv::number(r.gmv_minor),
                csv::number(r.share_minor),
            ],
        );
    }
    out
}

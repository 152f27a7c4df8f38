//! Settlement runs and seller statements (结算, 出账).
//!
//! A run settles one billing period (`mercato_domain::settlement`): every
//! order line whose delivery completed in it (`line_deliveries`), every usage
//! charge paid in it, and every unsubscribe refund made in it (a clawback:
//! negative), grouped into one statement per seller and currency with the
//! totals and the tax contained at the seller's certified rate. Lines not
//! delivered by the period's end settle in the period they are delivered in.
//!
//! One write transaction per run, which first claims the period
//! (`settlement_runs`, keyed by period): running it twice, or on two nodes at
//! once, writes one set of statements (the second run waits for the first on
//! the key and finds it). Each source is settled once ever (a unique index on
//! the statement lines' sources). The scheduler settles every period whose
//! end plus `settlement_cutoff_hours` has passed, oldest first; operators
//! may settle one (`POST /api/v1/operator/settlement-runs`). Sellers are
//! notified of each statement (`statement_issued`).

use crate::app::error::{AppError, AppResult};
use crate::app::page::{Page, Paging};
use crate::auth::Principal;
use crate::state::AppState;
use chrono::{DateTime, Utc};
use mercato_domain::catalog::ProductType;
use mercato_domain::delivery::Actor;
use mercato_domain::ids::{NotificationId, StatementId};
use mercato_domain::settlement::{
    Calendar, LineAmounts, Period, SettlementError, StatementAction, StatementLineKind, StatementStatus, totals,
};
use mercato_store::entity::{notification, settlement_run, statement, statement_event, statement_line};
use mercato_store::repo::notifications as notification_repo;
use mercato_store::repo::settlement as repo;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

pub mod exports;
pub mod lifecycle;
pub mod partners;
pub mod payouts;
pub mod reconcile;

/// The periodic task that settles the latest closed period.
pub const SETTLEMENT_TASK: &str = "settlement_run";
pub const KIND_STATEMENT_ISSUED: &str = "statement_issued";

/// A period's settlement.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SettlementRunView {
    /// `YYYY-MM` in the settlement time zone.
    pub period: String,
    pub period_start: DateTime<Utc>,
    /// Exclusive.
    pub period_end: DateTime<Utc>,
    pub statements: i64,
    pub lines: i64,
    /// The operator who started it (absent: the scheduler).
    pub started_by: Option<String>,
    pub created_at: DateTime<Utc>,
}

/// A seller's statement for one period and currency.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct StatementView {
    /// `stm_...`.
    pub id: String,
    pub seller_id: String,
    pub period: String,
    pub currency: String,
    pub status: StatementStatus,
    /// What buyers paid (clawbacks subtracted).
    pub gross_minor: i64,
    pub commission_minor: i64,
    /// The seller's share: gross - commission; what is paid out.
    pub net_minor: i64,
    /// The seller's certified tax rate (basis points).
    pub tax_rate_bp: i64,
    /// The tax contained in the net.
    pub tax_minor: i64,
    pub lines: i64,
    pub issued_at: DateTime<Utc>,
    /// The operator whose run issued it (absent: the scheduler).
    pub issued_by: Option<String>,
    /// When the current status began.
    pub status_since: DateTime<Utc>,
    /// The payout provider's reference, once paid.
    pub payout_reference: Option<String>,
}

/// One step of a statement's lifecycle.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct StatementEventView {
    pub seq: i64,
    pub action: StatementAction,
    pub actor: Actor,
    pub actor_id: Option<String>,
    /// The status it led to.
    pub status: StatementStatus,
    pub note: String,
    pub at: DateTime<Utc>,
}

/// One settled source.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct StatementLineView {
    /// 1-based, in settled order.
    pub seq: i64,
    pub kind: StatementLineKind,
    /// The order line (sale), `instance@period start` (usage) or the refund order (clawback).
    pub source_id: String,
    pub order_id: Option<String>,
    /// The customer.
    pub buyer_id: String,
    pub product_id: String,
    pub product_type: ProductType,
    pub settled_at: DateTime<Utc>,
    pub gross_minor: i64,
    pub commission_minor: i64,
    pub net_minor: i64,
}

/// A statement and a page of its lines.
#[derive(Debug, Serialize, ToSchema)]
pub struct StatementDetail {
    pub statement: StatementView,
    /// Its lifecycle, oldest first.
    pub events: Vec<StatementEventView>,
    pub lines: Page<StatementLineView>,
}

/// `POST /api/v1/operator/settlement-runs`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StartSettlement {
    /// `YYYY-MM`: a period whose end plus the cut-off has passed.
    #[schema(pattern = "^2[0-9]{3}-(0[1-9]|1[0-2])$")]
    pub period: String,
}

/// Statement list filters.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StatementParams {
    /// Only this period (`YYYY-MM`).
    #[serde(default)]
    #[param(pattern = "^2[0-9]{3}-(0[1-9]|1[0-2])$")]
    pub period: Option<String>,
    /// 1-100, default 20.
    #[serde(default, deserialize_with = "crate::extract::query_num::opt_u64")]
    #[param(value_type = Option<u64>, minimum = 1, maximum = 100, default = 20)]
    pub limit: Option<u64>,
    /// `next_cursor` from the previous page.
    #[serde(default)]
    pub cursor: Option<String>,
}

fn calendar(state: &AppState) -> Calendar {
    state.config.settlement_timezone
}

fn cutoff(state: &AppState) -> chrono::Duration {
    chrono::Duration::hours(state.config.settlement_cutoff_hours.into())
}

fn run_view(r: settlement_run::Model) -> SettlementRunView {
    SettlementRunView {
        period: r.period,
        period_start: r.period_start,
        period_end: r.period_end,
        statements: r.statements,
        lines: r.lines,
        started_by: r.started_by,
        created_at: r.created_at,
    }
}

fn statement_view(s: statement::Model) -> StatementView {
    StatementView {
        id: s.id,
        seller_id: s.seller_id,
        period: s.period,
        currency: s.currency,
        status: s.status,
        gross_minor: s.gross_minor,
        commission_minor: s.commission_minor,
        net_minor: s.net_minor,
        tax_rate_bp: s.tax_rate_bp,
        tax_minor: s.tax_minor,
        lines: s.lines,
        status_since: s.status_since.unwrap_or(s.issued_at),
        issued_at: s.issued_at,
        issued_by: s.issued_by,
        payout_reference: s.payout_reference,
    }
}

fn event_view(e: statement_event::Model) -> StatementEventView {
    StatementEventView {
        seq: e.seq,
        action: e.action,
        actor: e.actor,
        actor_id: e.actor_id,
        status: e.status,
        note: e.note,
        at: e.at,
    }
}

fn line_view(l: statement_line::Model) -> StatementLineView {
    StatementLineView {
        seq: l.seq,
        kind: l.kind,
        source_id: l.source_id,
        order_id: l.order_id,
        buyer_id: l.buyer_id,
        product_id: l.product_id,
        product_type: l.product_type,
        settled_at: l.settled_at,
        gross_minor: l.gross_minor,
        commission_minor: l.commission_minor,
        net_minor: l.gross_minor - l.commission_minor,
    }
}

/// Settles `period` (see the module documentation); the run and whether
/// this call made it.
pub async fn settle(
    state: &AppState,
    period: &Period,
    started_by: Option<&str>,
) -> AppResult<(SettlementRunView, bool)> {
    let now = state.now();
    let tx = state.db.write().await?;
    let run = settlement_run::Model {
        period: period.label.clone(),
        period_start: period.start,
        period_end: period.end,
        statements: 0,
        lines: 0,
        started_by: started_by.map(str::to_string),
        created_at: now,
    };
    if !repo::claim_run(&tx, run.clone()).await? {
        drop(tx);
        let existing = repo::find_run(&state.db.conn, &period.label)
            .await?
            .ok_or_else(|| AppError::inconsistent("a claimed settlement run is missing"))?;
        return Ok((run_view(existing), false));
    }
    let rates = repo::tax_rates(&tx).await?;
    let groups = repo::source_groups(&tx, period.start, period.end).await?;
    let (mut rows, mut issued, mut notices) = (Vec::new(), Vec::new(), Vec::new());
    for g in groups {
        let rate = rates.get(&g.seller_id).copied().unwrap_or(0);
        let sums = LineAmounts { gross_minor: g.gross_minor, commission_minor: g.commission_minor };
        let t = totals(&[sums], rate).map_err(|e: SettlementError| AppError::inconsistent(e))?;
        let id = String::from(StatementId::new());
        issued.push(statement_event::Model {
            statement_id: id.clone(),
            seq: 1,
            action: StatementAction::Issue,
            actor: if started_by.is_some() { Actor::Operator } else { Actor::Marketplace },
            actor_id: started_by.map(str::to_string),
            status: StatementStatus::Issued,
            note: format!("settlement run {}", period.label),
            at: now,
        });
        notices.push(notification::Model {
            id: NotificationId::new().into(),
            account_id: g.seller_id.clone(),
            kind: KIND_STATEMENT_ISSUED.into(),
            title: format!("Your {} statement ({}) is issued", period.label, g.currency),
            body: format!(
                "Statement {id}: {} lines, net payable {} {} (minor units), tax contained {}.",
                g.lines, t.net_minor, g.currency, t.tax_minor
            ),
            reference: Some(id.clone()),
            created_at: now,
            read_at: None,
        });
        rows.push(statement::Model {
            id,
            seller_id: g.seller_id,
            period: period.label.clone(),
            currency: g.currency,
            status: StatementStatus::Issued,
            gross_minor: t.gross_minor,
            commission_minor: t.commission_minor,
            net_minor: t.net_minor,
            tax_rate_bp: rate,
            tax_minor: t.tax_minor,
            lines: g.lines,
            issued_at: now,
            issued_by: started_by.map(str::to_string),
            steps: 1,
            status_since: Some(now),
            payout_reference: None,
            payout_entry_id: None,
        });
    }
    let statements = rows.len() as i64;
    let lines: i64 = rows.iter().map(|r| r.lines).sum();
    repo::insert_statements(&tx, rows).await?;
    // The lines are read again from the sources; on PostgreSQL another
    // transaction's commit could come in between (a delivery timed inside
    // the closed period committing late). The counts must agree, or the run
    // is undone and left to the next attempt.
    let written = repo::insert_lines(&tx, &period.label, period.start, period.end).await?;
    if written != lines as u64 {
        return Err(AppError::conflict(
            "sources_changed",
            format!(
                "what is settleable in {} changed during the run ({lines} lines summed, {written} written); \
                 nothing was written, run it again",
                period.label
            ),
        ));
    }
    repo::insert_events(&tx, issued).await?;
    notification_repo::insert_many(&tx, notices).await?;
    let (partner_statements, partner_lines) = partners::settle(&tx, period, now).await?;
    repo::finish_run(&tx, &period.label, statements, lines).await?;
    tx.commit().await?;
    tracing::info!(period = %period.label, statements, lines, partner_statements, partner_lines, "settlement run");
    let done = SettlementRunView { statements, lines, ..run_view(run) };
    Ok((done, true))
}

/// An operator settles a closed period (409 `period_open` otherwise).
pub async fn start(state: &AppState, op: &Principal, req: StartSettlement) -> AppResult<(SettlementRunView, bool)> {
    let cal = calendar(state);
    let period = cal
        .period(&req.period)
        .ok_or_else(|| AppError::field("period", "must be YYYY-MM (years 2000-2999, months 01-12)"))?;
    let latest = cal.settleable(state.now(), cutoff(state));
    if period.start > latest.start {
        return Err(AppError::conflict(
            "period_open",
            format!(
                "{} can be settled once it has ended and the cut-off has passed; the latest closed period is {}",
                period.label, latest.label
            ),
        ));
    }
    settle(state, &period, Some(&op.account_id)).await
}

/// The scheduler's run: every closed period not settled yet, oldest first,
/// from the first settleable event on (a clock that jumps months, a node
/// down over a month end, or an operator settling a later period first
/// leaves none behind); the runs this call made.
pub async fn scheduled(state: &AppState) -> AppResult<Vec<SettlementRunView>> {
    let cal = calendar(state);
    let latest = cal.settleable(state.now(), cutoff(state));
    let Some(first) = repo::earliest_source(&state.db.conn).await? else { return Ok(Vec::new()) };
    let mut next = cal.period_of(first);
    let mut made = Vec::new();
    while next.start <= latest.start {
        if repo::find_run(&state.db.conn, &next.label).await?.is_none() {
            let (run, created) = settle(state, &next, None).await?;
            if created {
                made.push(run);
            }
        }
        next = cal.next(&next);
    }
    Ok(made)
}

pub async fn runs(state: &AppState, paging: Paging) -> AppResult<Page<SettlementRunView>> {
    let rows = repo::list_runs(&state.db.conn, paging.cursor.as_deref(), paging.limit + 1).await?;
    Ok(paging.finish(rows, |r| r.period.clone(), run_view))
}

pub(super) fn checked_period(period: Option<String>) -> AppResult<Option<String>> {
    match period.filter(|p| !p.is_empty()) {
        Some(p) if Calendar::default().period(&p).is_none() => Err(AppError::field("period", "must be YYYY-MM")),
        other => Ok(other),
    }
}

/// Statements: a seller's own (`seller_id`), or every seller's.
pub async fn statements(
    state: &AppState,
    seller_id: Option<&str>,
    params: StatementParams,
) -> AppResult<Page<StatementView>> {
    let paging = Paging::new(params.limit, params.cursor)?;
    let period = checked_period(params.period)?;
    if paging.cursor.as_deref().is_some_and(|c| !StatementId::is_valid(c)) {
        return Err(AppError::field("cursor", "is not a cursor this API returned"));
    }
    let rows =
        repo::list_statements(&state.db.conn, seller_id, period.as_deref(), paging.cursor.as_deref(), paging.limit + 1)
            .await?;
    Ok(paging.finish(rows, |s| s.id.clone(), statement_view))
}

/// One statement with a page of its lines (cursor: the last line's `seq`).
pub async fn statement(
    state: &AppState,
    seller_id: Option<&str>,
    id: &str,
    paging: Paging,
) -> AppResult<StatementDetail> {
    if !StatementId::is_valid(id) {
        return Err(AppError::not_found("statement"));
    }
    let s =
        repo::find_statement(&state.db.conn, seller_id, id).await?.ok_or_else(|| AppError::not_found("statement"))?;
    let after = match paging.cursor.as_deref() {
        None => 0,
        Some(c) => c.parse::<i64>().map_err(|_| AppError::field("cursor", "is not a cursor this API returned"))?,
    };
    let rows = repo::statement_lines(&state.db.conn, &s.id, after, paging.limit + 1).await?;
    let lines = paging.finish(rows, |l| l.seq.to_string(), line_view);
    let events = repo::events(&state.db.conn, &s.id).await?.into_iter().map(event_view).collect();
    Ok(StatementDetail { statement: statement_view(s), events, lines })
}

/// One settled line with its statement: a row of the transaction details
/// (交易明细).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct TransactionView {
    pub statement_id: String,
    pub seller_id: String,
    pub period: String,
    pub currency: String,
    #[serde(flatten)]
    pub line: StatementLineView,
}

/// Transaction-detail filters (all optional) and the page.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TransactionParams {
    /// Only this period (`YYYY-MM`).
    #[serde(default)]
    #[param(pattern = "^2[0-9]{3}-(0[1-9]|1[0-2])$")]
    pub period: Option<String>,
    /// Only this order's lines.
    #[serde(default)]
    #[param(pattern = "^[!-~]+$", max_length = 64)]
    pub order_id: Option<String>,
    /// Only this customer's (buyer account id).
    #[serde(default)]
    #[param(pattern = "^[!-~]+$", max_length = 64)]
    pub customer: Option<String>,
    /// Only this product's.
    #[serde(default)]
    #[param(pattern = "^[!-~]+$", max_length = 64)]
    pub product_id: Option<String>,
    /// Only this product type's.
    #[serde(default)]
    #[param(value_type = Option<ProductType>)]
    pub product_type: Option<String>,
    /// Only `sale`, `usage` or `clawback` lines.
    #[serde(default)]
    #[param(value_type = Option<StatementLineKind>)]
    pub kind: Option<String>,
    /// 1-100, default 20.
    #[serde(default, deserialize_with = "crate::extract::query_num::opt_u64")]
    #[param(value_type = Option<u64>, minimum = 1, maximum = 100, default = 20)]
    pub limit: Option<u64>,
    /// `next_cursor` from the previous page.
    #[serde(default)]
    pub cursor: Option<String>,
}

/// Settled lines, statement by statement in settled order: a seller's own
/// (`seller_id`), or every seller's. Their sums are the statements' totals.
pub async fn transactions(
    state: &AppState,
    seller_id: Option<&str>,
    mut params: TransactionParams,
) -> AppResult<Page<TransactionView>> {
    let paging = Paging::new(params.limit.take(), params.cursor.take())?;
    let filter = line_filter(params)?;
    let bad_cursor = || AppError::field("cursor", "is not a cursor this API returned");
    let after = match paging.cursor.as_deref() {
        None => None,
        Some(c) => {
            let (id, seq) = c.split_once(':').ok_or_else(bad_cursor)?;
            if !StatementId::is_valid(id) {
                return Err(bad_cursor());
            }
            Some((id, seq.parse::<i64>().map_err(|_| bad_cursor())?))
        }
    };
    let rows = repo::settled_lines(&state.db.conn, seller_id, &filter, after, paging.limit + 1).await?;
    Ok(paging.finish(rows, |(s, l)| format!("{}:{}", s.id, l.seq), transaction_view))
}

pub(super) fn transaction_view((s, l): (statement::Model, statement_line::Model)) -> TransactionView {
    TransactionView {
        statement_id: s.id,
        seller_id: s.seller_id,
        period: s.period,
        currency: s.currency,
        line: line_view(l),
    }
}

/// The filters of the transaction details, checked (422 naming the field).
pub(super) fn line_filter(params: TransactionParams) -> AppResult<repo::LineFilter> {
    let period = checked_period(params.period)?;
    let kind = match params.kind.filter(|k| !k.is_empty()) {
        None => None,
        Some(k) => Some(
            StatementLineKind::parse(&k)
                .ok_or_else(|| AppError::field("kind", format!("must be one of {}", StatementLineKind::allowed())))?,
        ),
    };
    let product_type = match params.product_type.filter(|t| !t.is_empty()) {
        None => None,
        Some(t) => Some(
            ProductType::parse(&t)
                .ok_or_else(|| AppError::field("product_type", format!("must be one of {}", ProductType::allowed())))?,
        ),
    };
    Ok(repo::LineFilter {
        period,
        order_id: params.order_id,
        buyer_id: params.customer,
        product_id: params.product_id,
        product_type,
        kind,
    })
}

//! A statement after it is issued (`domain::settlement::StatementStatus`):
//! the seller confirms or disputes it with a reason (an unanswered one is
//! confirmed after `statement_confirm_days`); an operator answers a dispute
//! by reissuing it; an operator other than the one who issued it approves the
//! payment (403 `approver_is_issuer` otherwise); the payout is recorded with
//! the provider's reference and posts one balanced `payout` entry (the
//! seller's payable to the platform's cash at the provider) in the same
//! transaction; a payout the bank returned is reversed and the statement is
//! approved again. Each step is one transaction, conditional on the version
//! read (409 `statement_changed` when another step came first), kept with
//! its actor, time and note, and the seller is notified.

use super::payouts::{self, PayoutRequest};
use super::{StatementDetail, statement};
use crate::app::error::{AppError, AppResult, Refusal};
use crate::app::ledger::{post_entry, post_mirror};
use crate::app::page::Paging;
use crate::auth::Principal;
use crate::state::AppState;
use chrono::{DateTime, Utc};
use mercato_domain::delivery::Actor;
use mercato_domain::ids::{NotificationId, StatementId};
use mercato_domain::ledger::{Entry, EntryKind, Line, platform_cash, seller_payable};
use mercato_domain::settlement::{PayoutMethod, StatementAction, StatementStatus};
use mercato_store::Executor;
use mercato_store::entity::{notification, statement as statement_row, statement_event};
use mercato_store::repo::notifications as notification_repo;
use mercato_store::repo::settlement as repo;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The periodic task that confirms unanswered statements.
pub const AUTO_CONFIRM_TASK: &str = "statement_auto_confirm";
/// Longest note accepted.
pub const NOTE_MAX: usize = 2_000;

/// A reason or answer.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StatementNote {
    /// 1-2000 characters, shown to both sides.
    #[schema(min_length = 1, max_length = 2000)]
    pub note: String,
}

/// `POST /api/v1/operator/statements/{id}/payout`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RecordPayout {
    pub provider: PayoutMethod,
    /// The provider's reference for the transfer (1-100 characters).
    #[schema(min_length = 1, max_length = 100)]
    pub reference: String,
}

impl RecordPayout {
    /// The provider's reference, trimmed: 1-100 characters (422 otherwise).
    pub fn checked_reference(&self) -> AppResult<String> {
        let reference = self.reference.trim();
        if reference.is_empty() || reference.chars().count() > 100 {
            return Err(AppError::field("reference", "1-100 characters"));
        }
        Ok(reference.to_string())
    }
}

/// 409 `out_of_order` naming the status, when `action` does not apply to `s`.
fn applies(s: &statement_row::Model, action: StatementAction) -> AppResult<StatementStatus> {
    s.status.next(action).map_err(|e| AppError::conflict("out_of_order", e.to_string()))
}

fn checked_note(note: &str) -> AppResult<String> {
    let note = note.trim();
    if note.is_empty() || note.chars().count() > NOTE_MAX {
        return Err(AppError::field("note", format!("1-{NOTE_MAX} characters")));
    }
    Ok(note.to_string())
}

async fn find(db: &impl Executor, seller: Option<&str>, id: &str) -> AppResult<statement_row::Model> {
    if !StatementId::is_valid(id) {
        return Err(AppError::not_found("statement"));
    }
    repo::find_statement(db, seller, id).await?.ok_or_else(|| AppError::not_found("statement"))
}

/// Applies `action` to `s` in `tx`: the transition, the event, the
/// notification; the payout fields when given.
async fn apply(
    tx: &impl Executor,
    s: &statement_row::Model,
    action: StatementAction,
    by: (Actor, Option<&str>),
    note: String,
    payout: Option<(Option<String>, Option<String>)>,
    now: DateTime<Utc>,
) -> AppResult<StatementStatus> {
    let to = applies(s, action)?;
    let event = statement_event::Model {
        statement_id: s.id.clone(),
        seq: s.steps + 1,
        action,
        actor: by.0,
        actor_id: by.1.map(str::to_string),
        status: to,
        note: note.clone(),
        at: now,
    };
    if !repo::step(tx, event, payout).await? {
        return Err(AppError::conflict("statement_changed", "the statement changed meanwhile; read it again"));
    }
    let n = notification::Model {
        id: NotificationId::new().into(),
        account_id: s.seller_id.clone(),
        kind: format!("statement_{action}"),
        title: format!("Your {} statement ({}) is {to}", s.period, s.currency),
        body: if note.is_empty() { format!("Statement {}.", s.id) } else { format!("Statement {}: {note}", s.id) },
        reference: Some(s.id.clone()),
        created_at: now,
        read_at: None,
    };
    notification_repo::insert(tx, n).await?;
    Ok(to)
}

async fn detail(state: &AppState, seller: Option<&str>, id: &str) -> AppResult<StatementDetail> {
    statement(state, seller, id, Paging::new(None, None)?).await
}

/// The seller confirms its statement.
pub async fn confirm(state: &AppState, seller: &Principal, id: &str) -> AppResult<StatementDetail> {
    let tx = state.db.write().await?;
    let s = find(&tx, Some(&seller.account_id), id).await?;
    apply(
        &tx,
        &s,
        StatementAction::Confirm,
        (Actor::Seller, Some(&seller.account_id)),
        String::new(),
        None,
        state.now(),
    )
    .await?;
    tx.commit().await?;
    detail(state, Some(&seller.account_id), id).await
}

/// The seller disputes its statement, with a reason.
pub async fn dispute(state: &AppState, seller: &Principal, id: &str, req: StatementNote) -> AppResult<StatementDetail> {
    let tx = state.db.write().await?;
    let s = find(&tx, Some(&seller.account_id), id).await?;
    applies(&s, StatementAction::Dispute)?;
    let note = checked_note(&req.note)?;
    apply(&tx, &s, StatementAction::Dispute, (Actor::Seller, Some(&seller.account_id)), note, None, state.now())
        .await?;
    tx.commit().await?;
    detail(state, Some(&seller.account_id), id).await
}

/// An operator answers a dispute: the statement goes back to the seller.
pub async fn reissue(state: &AppState, op: &Principal, id: &str, req: StatementNote) -> AppResult<StatementDetail> {
    let tx = state.db.write().await?;
    let s = find(&tx, None, id).await?;
    applies(&s, StatementAction::Reissue)?;
    let note = checked_note(&req.note)?;
    apply(&tx, &s, StatementAction::Reissue, (Actor::Operator, Some(&op.account_id)), note, None, state.now()).await?;
    tx.commit().await?;
    detail(state, None, id).await
}

/// An operator approves the payment; not the one who issued the statement.
pub async fn approve(state: &AppState, op: &Principal, id: &str) -> AppResult<StatementDetail> {
    let tx = state.db.write().await?;
    let s = find(&tx, None, id).await?;
    applies(&s, StatementAction::Approve)?;
    if s.issued_by.as_deref() == Some(op.account_id.as_str()) {
        return Err(AppError::new(
            Refusal::Forbidden,
            "approver_is_issuer",
            "you issued this statement; another operator approves it",
        ));
    }
    apply(&tx, &s, StatementAction::Approve, (Actor::Operator, Some(&op.account_id)), String::new(), None, state.now())
        .await?;
    tx.commit().await?;
    detail(state, None, id).await
}

/// The payout entry of `s`: the seller's payable to the provider's cash.
fn payout_entry(s: &statement_row::Model, method: PayoutMethod) -> AppResult<Entry> {
    let lines = vec![
        Line {
            account: seller_payable(&s.seller_id),
            currency: s.currency.clone(),
            debit_minor: s.net_minor,
            credit_minor: 0,
        },
        Line {
            account: platform_cash(method.as_str()),
            currency: s.currency.clone(),
            debit_minor: 0,
            credit_minor: s.net_minor,
        },
    ];
    let memo = format!("payout of statement {} ({})", s.id, s.period);
    Entry::new(EntryKind::Payout, &s.id, memo, lines).map_err(AppError::internal)
}

/// Records the payout of an approved statement and posts its entry.
pub async fn pay(state: &AppState, op: &Principal, id: &str, req: RecordPayout) -> AppResult<StatementDetail> {
    let reference = req.checked_reference()?;
    let now = state.now();
    let tx = state.db.write().await?;
    let s = find(&tx, None, id).await?;
    applies(&s, StatementAction::Pay)?;
    if s.net_minor <= 0 {
        return Err(AppError::conflict(
            "nothing_to_pay",
            format!("the statement's net is {} {}: nothing is paid out", s.net_minor, s.currency),
        ));
    }
    let request = PayoutRequest {
        statement_id: &s.id,
        seller_id: &s.seller_id,
        amount_minor: s.net_minor,
        currency: &s.currency,
        reference: &reference,
    };
    let sent = payouts::send(req.provider, request).await?;
    let reference = sent.reference;
    let entry = post_entry(&tx, &payout_entry(&s, req.provider)?, now).await?;
    let note = format!("{} {}", req.provider, reference);
    let payout = Some((Some(reference), Some(entry)));
    apply(&tx, &s, StatementAction::Pay, (Actor::Operator, Some(&op.account_id)), note, payout, now).await?;
    tx.commit().await?;
    detail(state, None, id).await
}

/// A payout the bank returned: its entry is reversed and the statement is
/// approved again, to be paid again.
pub async fn payout_failed(
    state: &AppState,
    op: &Principal,
    id: &str,
    req: StatementNote,
) -> AppResult<StatementDetail> {
    let now = state.now();
    let tx = state.db.write().await?;
    let s = find(&tx, None, id).await?;
    applies(&s, StatementAction::PayoutFailed)?;
    let note = checked_note(&req.note)?;
    // The payout entry undone line for line, whichever provider made it.
    let paid =
        s.payout_entry_id.as_deref().ok_or_else(|| AppError::inconsistent("a paid statement has no payout entry"))?;
    let memo = format!("payout of statement {} returned", s.id);
    post_mirror(&tx, paid, EntryKind::Adjustment, &s.id, memo, now).await?;
    let cleared = Some((None, None));
    apply(&tx, &s, StatementAction::PayoutFailed, (Actor::Operator, Some(&op.account_id)), note, cleared, now).await?;
    tx.commit().await?;
    detail(state, None, id).await
}

/// Confirms statements left unanswered for `statement_confirm_days`; how many.
pub async fn auto_confirm(state: &AppState) -> AppResult<usize> {
    let now = state.now();
    let before = now - chrono::Duration::days(state.config.statement_confirm_days.into());
    let mut done = 0;
    for s in repo::unanswered(&state.db.conn, before).await? {
        let tx = state.db.write().await?;
        let note = format!("no answer in {} days", state.config.statement_confirm_days);
        match apply(&tx, &s, StatementAction::AutoConfirm, (Actor::Marketplace, None), note, None, now).await {
            Ok(_) => {
                tx.commit().await?;
                done += 1;
            }
            // Answered meanwhile.
            Err(e) if matches!(e.code(), "statement_changed" | "out_of_order") => {}
            Err(e) => return Err(e),
        }
    }
    Ok(done)
}

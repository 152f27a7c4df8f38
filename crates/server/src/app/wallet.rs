//! Buyers' wallets: prepaid money the platform owes each buyer, one
//! `buyer_wallet:<buyer_id>` ledger account per currency. Operators credit
//! them (through the `manual` payment provider); orders spend from them by
//! posting entries (`app::ledger::post_entry`), which can never overdraw.

use crate::app::error::{AppError, AppResult};
use crate::app::page::{Page, Paging};
use crate::app::payments::{self, PaymentView, TopUp};
use crate::auth::Principal;
use crate::state::AppState;
use chrono::{DateTime, Utc};
use mercato_domain::account::Role;
use mercato_domain::ledger::{EntryKind, buyer_wallet};
use mercato_domain::money::{self, MAX_PRICE_MINOR};
use mercato_domain::validation::Checker;
use mercato_store::repo::{accounts, ledger as repo};
use mercato_store::{Executor, Tx};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use utoipa::ToSchema;

pub const REASON_MAX: usize = 500;

/// Money available in one currency.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct WalletBalance {
    pub currency: String,
    pub available_minor: i64,
}

/// A buyer's wallet: one balance per currency ever used (empty when none).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Wallet {
    pub balances: Vec<WalletBalance>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreditRequest {
    /// 1 to 10^12 minor units.
    #[schema(minimum = 1, maximum = 1_000_000_000_000_i64)]
    pub amount_minor: i64,
    /// ISO 4217, one of the marketplace's currencies.
    #[schema(value_type = mercato_domain::money::Currency)]
    pub currency: String,
    /// Why the operator credits the wallet (1-500 characters); kept as the payment's reference.
    #[schema(
        pattern = r"^[^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*[^\s\u0000-\u001F\u007F-\u009F][^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*$",
        max_length = 500
    )]
    pub reason: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CreditResponse {
    pub payment: PaymentView,
    /// The journal entry that moved the money.
    pub entry_id: Option<String>,
    /// The wallet's balance in the credited currency afterwards.
    pub balance: WalletBalance,
}

/// One movement of a buyer's wallet. `amount_minor` is signed: positive
/// money in (top-up, refund), negative money out (payment).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct WalletTransaction {
    pub entry_id: String,
    pub kind: EntryKind,
    pub reference: String,
    pub memo: String,
    pub amount_minor: i64,
    pub currency: String,
    pub created_at: DateTime<Utc>,
}

fn validate(req: &CreditRequest) -> AppResult<()> {
    let mut c = Checker::new();
    c.check(
        (1..=MAX_PRICE_MINOR).contains(&req.amount_minor),
        "amount_minor",
        format!("must be between 1 and {MAX_PRICE_MINOR} minor units"),
    );
    c.check(money::is_currency(&req.currency), "currency", format!("must be one of {}", money::currency_codes()));
    c.text("reason", &req.reason, 1, REASON_MAX);
    Ok(c.finish()?)
}

/// Credits a buyer's wallet on an operator's word: records a `manual`
/// payment and the top-up entry in `tx`, and pays the usage charges the
/// wallet owed (their instances are unfrozen through the outbox).
pub async fn credit(
    state: &AppState,
    tx: &Tx,
    operator: &Principal,
    buyer_id: &str,
    req: CreditRequest,
) -> AppResult<CreditResponse> {
    validate(&req)?;
    let is_buyer = accounts::find(tx, buyer_id).await?.is_some_and(|a| a.role == Role::Buyer);
    if !is_buyer {
        return Err(AppError::not_found("buyer"));
    }
    let provider = payments::provider("manual").ok_or_else(|| AppError::internal("manual provider missing"))?;
    let now = state.now();
    let top_up = TopUp {
        buyer_id,
        amount_minor: req.amount_minor,
        currency: &req.currency,
        reason: &req.reason,
        created_by: &operator.account_id,
    };
    let (payment, entry_id) = payments::top_up(tx, provider, top_up, now).await?;
    // Usage charges the wallet could not pay are paid first (and the
    // instances they froze unfrozen), in the same transaction.
    crate::app::usage::rating::settle_arrears(tx, buyer_id, &req.currency, now).await?;
    let available_minor = available(tx, buyer_id, &req.currency).await?;
    Ok(CreditResponse { payment, entry_id, balance: WalletBalance { currency: req.currency.clone(), available_minor } })
}

/// What `buyer_id` can spend in `currency` (0 when the wallet was never used).
pub async fn available(db: &impl Executor, buyer_id: &str, currency: &str) -> AppResult<i64> {
    Ok(repo::balance(db, &buyer_wallet(buyer_id), currency).await?.map_or(0, |b| b.credit_minor - b.debit_minor))
}

pub async fn wallet(state: &AppState, buyer: &Principal) -> AppResult<Wallet> {
    let rows = repo::account_balances(&state.db.conn, &buyer_wallet(&buyer.account_id)).await?;
    Ok(Wallet {
        balances: rows
            .into_iter()
            .map(|b| WalletBalance { available_minor: b.credit_minor - b.debit_minor, currency: b.currency })
            .collect(),
    })
}

/// The buyer's wallet movements, newest first. The cursor is
/// `<entry id>.<line number>` of the last item.
pub async fn transactions(state: &AppState, buyer: &Principal, paging: Paging) -> AppResult<Page<WalletTransaction>> {
    let before = match paging.cursor.as_deref() {
        None => None,
        Some(c) => Some(parse_cursor(c).ok_or_else(|| AppError::field("cursor", "is not a cursor this API returned"))?),
    };
    let db = &state.db.conn;
    let lines = repo::account_lines(db, &buyer_wallet(&buyer.account_id), before, paging.limit + 1).await?;
    let ids: Vec<String> = lines.iter().map(|l| l.entry_id.clone()).collect();
    let entries: HashMap<String, _> =
        repo::find_entries(db, &ids).await?.into_iter().map(|e| (e.id.clone(), e)).collect();
    let mut rows = Vec::with_capacity(lines.len());
    for l in lines {
        let e = entries
            .get(&l.entry_id)
            .ok_or_else(|| AppError::internal(format!("line of missing entry {}", l.entry_id)))?;
        rows.push((
            format!("{}.{}", l.entry_id, l.line_no),
            WalletTransaction {
                entry_id: l.entry_id.clone(),
                kind: e.kind,
                reference: e.reference.clone(),
                memo: e.memo.clone(),
                amount_minor: l.credit_minor - l.debit_minor,
                currency: l.currency,
                created_at: e.created_at,
            },
        ));
    }
    Ok(paging.finish(rows, |(cursor, _)| cursor.clone(), |(_, t)| t))
}

fn parse_cursor(cursor: &str) -> Option<(&str, i64)> {
    let (entry, line) = cursor.rsplit_once('.')?;
    Some((entry, line.parse().ok()?))
}

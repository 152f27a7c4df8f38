//! The ledger as the application uses it: posting entries inside a business
//! transaction, the operator's views (trial balance, entries), the integrity
//! check behind `mercato ledger check`, and commission rates.
//!
//! The rules (accounts, normal sides, balancing) live in
//! `mercato_domain::ledger`; storage in `mercato_store::repo::ledger`.

use crate::app::error::{AppError, AppResult, Refusal};
use crate::app::page::{Page, Paging};
use crate::app::settlement::reconcile::{PeriodReconciliation, reconcile};
use crate::state::AppState;
use chrono::{DateTime, Utc};
use mercato_domain::catalog::{Cooperation, ProductType};
use mercato_domain::ids::EntryId;
use mercato_domain::ledger::{AccountKind, DEFAULT_GENERAL_RATE_BP, DEFAULT_JOINT_RATE_BP, Entry, Line, account_kind};
use mercato_domain::ledger::{BP_WHOLE, EntryKind, REFERENCE_MAX};
use mercato_store::entity::{commission_rate, ledger_entry, ledger_line};
use mercato_store::error::StoreResult;
use mercato_store::repo::ledger::{self as repo, Posted, commission};
use mercato_store::{Db, Executor};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;
use utoipa::ToSchema;

/// Posts `entry` in the caller's transaction `tx` and returns its id. Call it
/// in the same transaction as the business change the money belongs to.
///
/// An entry that would take a buyer wallet below zero is refused with 402
/// `insufficient_funds`: the caller must then drop (roll back) `tx`, which
/// undoes everything else it wrote. Safe under concurrency on both backends
/// (see `repo::ledger::post`).
pub async fn post_entry(tx: &impl Executor, entry: &Entry, now: DateTime<Utc>) -> AppResult<String> {
    let id = String::from(EntryId::new());
    match repo::post(tx, &id, now, entry).await? {
        Posted::Done => Ok(id),
        Posted::Overdrawn { account, currency } => Err(insufficient_funds(&account, &currency)),
    }
}

/// Posts the refund that undoes the stored entry `entry_id` line for line
/// (a full refund of a payment), under `reference`.
pub async fn post_reversal(
    tx: &impl Executor,
    entry_id: &str,
    reference: &str,
    memo: String,
    now: DateTime<Utc>,
) -> AppResult<String> {
    post_mirror(tx, entry_id, EntryKind::Refund, reference, memo, now).await
}

/// Posts an entry of `kind` that undoes the stored entry `entry_id` line
/// for line, under `reference`.
pub async fn post_mirror(
    tx: &impl Executor,
    entry_id: &str,
    kind: EntryKind,
    reference: &str,
    memo: String,
    now: DateTime<Utc>,
) -> AppResult<String> {
    let lines = repo::lines_of(tx, &[entry_id.to_string()]).await?;
    let reversed = lines
        .iter()
        .map(|l| Line {
            account: l.account.clone(),
            currency: l.currency.clone(),
            debit_minor: l.credit_minor,
            credit_minor: l.debit_minor,
        })
        .collect();
    let entry = Entry::new(kind, reference, memo, reversed).map_err(AppError::internal)?;
    post_entry(tx, &entry, now).await
}

/// 402: the wallet does not hold enough.
pub fn insufficient_funds(account: &str, currency: &str) -> AppError {
    let whose = mercato_domain::ledger::wallet_owner(account).map_or("the wallet", |_| "your wallet");
    AppError::new(
        Refusal::PaymentRequired,
        "insufficient_funds",
        format!("{whose} does not hold enough {currency}; top it up first"),
    )
}

/// One account's running balance. `balance_minor` = debit - credit.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct TrialAccount {
    pub account: String,
    pub currency: String,
    pub debit_minor: i64,
    pub credit_minor: i64,
    pub balance_minor: i64,
}

/// Sums of one currency over all accounts; `balance_minor` is always 0.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CurrencyTotal {
    pub currency: String,
    pub debit_minor: i64,
    pub credit_minor: i64,
    pub balance_minor: i64,
}

/// Every account's balance. `total_minor` is the signed sum of all balances
/// (across currencies, as api.md asks): 0 in a sound ledger. Because summing
/// different currencies means little on its own, `totals_by_currency` gives
/// the per-currency sums, each of which is 0 too.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct TrialBalance {
    pub accounts: Vec<TrialAccount>,
    pub total_minor: i64,
    pub totals_by_currency: Vec<CurrencyTotal>,
    /// Settlement against the ledger per period and currency: the
    /// statements' net equals what the sellers' payables moved in the
    /// entries settled into the period; paid statements and payouts in force.
    pub settlement: Vec<PeriodReconciliation>,
    /// What does not reconcile (empty when settlement agrees with the ledger).
    pub settlement_problems: Vec<String>,
}

pub async fn trial_balance(state: &AppState) -> AppResult<TrialBalance> {
    let rows = repo::balances(&state.db.conn).await?;
    let mut per_currency: BTreeMap<String, (i128, i128)> = BTreeMap::new();
    let mut accounts = Vec::with_capacity(rows.len());
    for r in rows {
        let t = per_currency.entry(r.currency.clone()).or_default();
        t.0 += i128::from(r.debit_minor);
        t.1 += i128::from(r.credit_minor);
        accounts.push(TrialAccount {
            balance_minor: r.debit_minor - r.credit_minor,
            account: r.account,
            currency: r.currency,
            debit_minor: r.debit_minor,
            credit_minor: r.credit_minor,
        });
    }
    let narrow = |v: i128| i64::try_from(v).map_err(|_| AppError::internal("ledger totals overflow i64"));
    let mut total: i128 = 0;
    let mut totals_by_currency = Vec::new();
    for (currency, (d, c)) in per_currency {
        total += d - c;
        totals_by_currency.push(CurrencyTotal {
            currency,
            debit_minor: narrow(d)?,
            credit_minor: narrow(c)?,
            balance_minor: narrow(d - c)?,
        });
    }
    let settled = reconcile(&state.db.conn).await?;
    Ok(TrialBalance {
        accounts,
        total_minor: narrow(total)?,
        totals_by_currency,
        settlement: settled.periods,
        settlement_problems: settled.problems,
    })
}

/// A journal entry with its lines.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct EntryView {
    pub id: String,
    pub kind: EntryKind,
    pub reference: String,
    pub memo: String,
    pub created_at: DateTime<Utc>,
    pub lines: Vec<Line>,
}

/// Filters for the entries list.
#[derive(Debug, Clone, Default)]
pub struct EntryFilter {
    pub account: Option<String>,
    pub reference: Option<String>,
}

pub async fn list_entries(state: &AppState, filter: EntryFilter, paging: Paging) -> AppResult<Page<EntryView>> {
    let mut problems = mercato_domain::validation::Checker::new();
    let account = filter.account.filter(|a| !a.is_empty());
    let reference = filter.reference.filter(|r| !r.is_empty());
    if let Some(a) = &account {
        problems.check(account_kind(a).is_some(), "account", "must be a ledger account such as buyer_wallet:<id>");
    }
    if let Some(r) = &reference {
        problems.check(
            r.chars().count() <= REFERENCE_MAX,
            "reference",
            format!("must be at most {REFERENCE_MAX} characters"),
        );
    }
    problems.finish()?;
    let db = &state.db.conn;
    let rows =
        repo::list_entries(db, account.as_deref(), reference.as_deref(), paging.cursor.as_deref(), paging.limit + 1)
            .await?;
    let views = with_lines(db, rows).await?;
    Ok(paging.finish(views, |e| e.id.clone(), |e| e))
}

/// Every entry with `reference` (an order's or payment's), oldest first: for
/// showing an order's money movements.
pub async fn entries_for_reference(db: &impl Executor, reference: &str) -> AppResult<Vec<EntryView>> {
    let mut rows = repo::list_entries(db, None, Some(reference), None, 1000).await?;
    rows.reverse();
    with_lines(db, rows).await
}

async fn with_lines(db: &impl Executor, rows: Vec<ledger_entry::Model>) -> AppResult<Vec<EntryView>> {
    let ids: Vec<String> = rows.iter().map(|e| e.id.clone()).collect();
    let mut lines: BTreeMap<String, Vec<Line>> = BTreeMap::new();
    for l in repo::lines_of(db, &ids).await? {
        lines.entry(l.entry_id.clone()).or_default().push(line_view(l));
    }
    Ok(rows
        .into_iter()
        .map(|e| EntryView {
            lines: lines.remove(&e.id).unwrap_or_default(),
            id: e.id,
            kind: e.kind,
            reference: e.reference,
            memo: e.memo,
            created_at: e.created_at,
        })
        .collect())
}

fn line_view(l: ledger_line::Model) -> Line {
    Line { account: l.account, currency: l.currency, debit_minor: l.debit_minor, credit_minor: l.credit_minor }
}

/// The outcome of [`check`]: what was examined and every discrepancy found.
#[derive(Debug, Clone, Default)]
pub struct CheckReport {
    pub entries: u64,
    pub accounts: usize,
    /// (currency, Σdebit, Σcredit) over all lines.
    pub totals: Vec<(String, i128, i128)>,
    /// Settlement against the ledger, per period and currency.
    pub settlement: Vec<PeriodReconciliation>,
    pub problems: Vec<String>,
}

impl CheckReport {
    pub fn is_ok(&self) -> bool {
        self.problems.is_empty()
    }
}

impl fmt::Display for CheckReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "ledger: {} entries, {} account balances", self.entries, self.accounts)?;
        for (currency, d, c) in &self.totals {
            writeln!(f, "  {currency}: debits {d}, credits {c}, difference {}", d - c)?;
        }
        for p in &self.settlement {
            writeln!(
                f,
                "  settlement {} {}: {} statement(s) net {}, sellers' payables moved {}, {} paid with {} payout(s) in force",
                p.period, p.currency, p.statements, p.net_minor, p.ledger_net_minor, p.paid, p.payouts_in_force
            )?;
        }
        if self.problems.is_empty() {
            write!(
                f,
                "OK: every entry balances, every balance equals its lines, the total is zero; every statement \
                 equals its lines and the payable movements settled into it, every paid one has one payout"
            )
        } else {
            writeln!(f, "{} problem(s):", self.problems.len())?;
            for p in &self.problems {
                writeln!(f, "  - {p}")?;
            }
            write!(f, "FAILED")
        }
    }
}

/// Proves the ledger sound, reading only: every entry has two or more
/// well-formed lines balancing per currency, every stored balance equals the
/// sums of its lines (and no balance lacks lines or vice versa), the grand
/// totals are zero per currency, account codes are valid and no wallet is
/// negative. Run it in one transaction for a consistent snapshot.
pub async fn check(db: &impl Executor) -> StoreResult<CheckReport> {
    let mut report = CheckReport { entries: repo::count_entries(db).await?, ..Default::default() };
    let problems = &mut report.problems;
    for key in repo::short_entries(db).await? {
        problems.push(format!("entry {key} has fewer than two lines"));
    }
    for key in repo::entries_with_bad_lines(db).await? {
        problems.push(format!("entry {key} has a line that is not exactly one positive debit or credit"));
    }
    for s in repo::unbalanced_entries(db).await? {
        problems.push(format!(
            "entry {} does not balance in {}: debits {} vs credits {}",
            s.key, s.currency, s.debit_minor, s.credit_minor
        ));
    }
    let mut from_lines: BTreeMap<(String, String), (i64, i64)> = repo::sums_by_account(db)
        .await?
        .into_iter()
        .map(|s| ((s.key, s.currency), (s.debit_minor, s.credit_minor)))
        .collect();
    let mut totals: BTreeMap<String, (i128, i128)> = BTreeMap::new();
    for ((_, currency), (d, c)) in &from_lines {
        let t = totals.entry(currency.clone()).or_default();
        t.0 += i128::from(*d);
        t.1 += i128::from(*c);
    }
    let balances = repo::balances(db).await?;
    report.accounts = balances.len();
    for b in balances {
        let kind = account_kind(&b.account);
        if kind.is_none() {
            problems.push(format!("`{}` is not a valid account code", b.account));
        }
        if kind == Some(AccountKind::BuyerWallet) && b.credit_minor < b.debit_minor {
            problems.push(format!("wallet {} is negative in {}", b.account, b.currency));
        }
        let expected = from_lines.remove(&(b.account.clone(), b.currency.clone())).unwrap_or((0, 0));
        if expected != (b.debit_minor, b.credit_minor) {
            problems.push(format!(
                "{} {}: stored debit {} credit {}, lines sum to debit {} credit {}",
                b.account, b.currency, b.debit_minor, b.credit_minor, expected.0, expected.1
            ));
        }
    }
    for ((account, currency), (d, c)) in from_lines {
        problems.push(format!("{account} {currency}: lines sum to debit {d} credit {c} but no balance is stored"));
    }
    for (currency, (d, c)) in &totals {
        if d != c {
            problems.push(format!("{currency}: total debits {d} differ from total credits {c}"));
        }
    }
    report.totals = totals.into_iter().map(|(c, (d, cr))| (c, d, cr)).collect();
    let settled = reconcile(db).await?;
    report.problems.extend(settled.problems);
    report.settlement = settled.periods;
    Ok(report)
}

/// [`check`] over one consistent snapshot of `db`, while postings go on: a
/// read-only REPEATABLE READ transaction on PostgreSQL; on SQLite (WAL) a
/// read transaction keeps the snapshot of its first read.
pub async fn check_db(db: &Db) -> StoreResult<CheckReport> {
    let tx = db.snapshot().await?;
    let report = check(&tx).await?;
    tx.rollback().await?;
    Ok(report)
}

/// [`check_db`] on the server's database.
pub async fn check_state(state: &AppState) -> AppResult<CheckReport> {
    Ok(check_db(&state.db).await?)
}

/// The commission the platform keeps on a product type under a cooperation model.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CommissionRate {
    pub product_type: ProductType,
    pub cooperation: Cooperation,
    /// Basis points of the sale price: 0-10000 (10000 = 100%).
    pub rate_bp: i64,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CommissionRateList {
    pub items: Vec<CommissionRate>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetCommissionRate {
    pub product_type: ProductType,
    pub cooperation: Cooperation,
    /// 0-10000 basis points.
    #[schema(minimum = 0, maximum = 10000)]
    pub rate_bp: i64,
}

fn rate_view(r: commission_rate::Model) -> CommissionRate {
    CommissionRate {
        product_type: r.product_type,
        cooperation: r.cooperation,
        rate_bp: r.rate_bp,
        updated_at: r.updated_at,
    }
}

pub async fn list_rates(state: &AppState) -> AppResult<CommissionRateList> {
    let rows = commission::list(&state.db.conn).await?;
    Ok(CommissionRateList { items: rows.into_iter().map(rate_view).collect() })
}

pub async fn set_rate(state: &AppState, req: SetCommissionRate) -> AppResult<CommissionRate> {
    if !(0..=BP_WHOLE).contains(&req.rate_bp) {
        return Err(AppError::field("rate_bp", format!("must be between 0 and {BP_WHOLE} basis points")));
    }
    let row = commission_rate::Model {
        product_type: req.product_type,
        cooperation: req.cooperation,
        rate_bp: req.rate_bp,
        updated_at: state.now(),
    };
    let tx = state.db.write().await?;
    commission::upsert(&tx, row.clone()).await?;
    tx.commit().await?;
    Ok(rate_view(row))
}

/// The rate (basis points) for a sale of `product_type` under `cooperation`;
/// the documented default when no rate is stored.
pub async fn commission_rate(
    db: &impl Executor,
    product_type: ProductType,
    cooperation: Cooperation,
) -> AppResult<i64> {
    let stored = commission::find(db, product_type, cooperation).await?;
    Ok(stored.map_or(
        match cooperation {
            Cooperation::Joint => DEFAULT_JOINT_RATE_BP,
            Cooperation::General => DEFAULT_GENERAL_RATE_BP,
        },
        |r| r.rate_bp,
    ))
}

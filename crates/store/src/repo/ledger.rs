//! The ledger's storage: posting entries (lines plus running balances in the
//! caller's transaction), reading entries and balances, and the sums that
//! `mercato ledger check` compares. Also payments and commission rates, the
//! other money tables.

use crate::entity::{commission_rate, ledger_balance as bal, ledger_entry as entry, ledger_line as line, payment};
use crate::error::StoreResult;
use chrono::{DateTime, Utc};
use mercato_domain::catalog::{Cooperation, ProductType};
use mercato_domain::ledger::{AccountKind, Entry, account_kind};
use sea_orm::ExprTrait;
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, FromQueryResult, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect, QueryTrait, Statement,
};

/// What posting did.
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
pub enum Posted {
    /// The entry, its lines and the balances are written.
    Done,
    /// The entry would take a buyer wallet below zero. Some balances may
    /// already be updated: the caller must roll its transaction back.
    Overdrawn { account: String, currency: String },
}

/// Posts a balanced entry in the caller's transaction: the running
/// balances, the entry row and its lines.
///
/// Buyer wallets can never go negative, even with concurrent spenders on
/// either backend: a wallet that the entry reduces is changed by a guarded
/// `UPDATE ... WHERE credit_minor - debit_minor >= <reduction>`. PostgreSQL
/// re-checks that condition on the latest row version after waiting for a
/// concurrent writer's row lock, and SQLite's writers are serialized
/// (`Db::write`), so two payments cannot both pass the check on the same
/// money. Zero rows updated -> [`Posted::Overdrawn`].
///
/// Balances are updated in (account, currency) order, so concurrent postings
/// lock balance rows in one global order and cannot deadlock each other.
/// Accounts other than wallets add to one of [`BALANCE_SLOTS`] rows picked at
/// random, so payments to one seller do not queue on a single row lock.
pub async fn post(db: &impl ConnectionTrait, id: &str, at: DateTime<Utc>, e: &Entry) -> StoreResult<Posted> {
    let deltas = e.deltas().map_err(|err| crate::StoreError::Corrupt(err.to_string()))?;
    for ((account, currency), (debit, credit)) in deltas {
        let is_wallet = account_kind(&account) == Some(AccountKind::BuyerWallet);
        if is_wallet && debit > credit {
            if !spend_from(db, &account, &currency, debit, credit).await? {
                return Ok(Posted::Overdrawn { account, currency });
            }
        } else {
            add_to_balance(db, &account, &currency, debit, credit).await?;
        }
    }
    entry::Entity::insert(entry::ActiveModel {
        id: Set(id.to_string()),
        kind: Set(e.kind()),
        reference: Set(e.reference().to_string()),
        memo: Set(e.memo().to_string()),
        created_at: Set(at),
    })
    .exec_without_returning(db)
    .await?;
    let lines = e.lines().iter().enumerate().map(|(i, l)| line::ActiveModel {
        entry_id: Set(id.to_string()),
        line_no: Set(i as i64 + 1),
        account: Set(l.account.clone()),
        currency: Set(l.currency.clone()),
        debit_minor: Set(l.debit_minor),
        credit_minor: Set(l.credit_minor),
    });
    line::Entity::insert_many(lines).exec_without_returning(db).await?;
    Ok(Posted::Done)
}

/// The guarded update: applies (d, c) to a credit-normal balance only if it
/// stays non-negative. False when it would not (or the balance does not exist).
async fn spend_from(db: &impl ConnectionTrait, account: &str, currency: &str, d: i64, c: i64) -> StoreResult<bool> {
    let updated = bal::Entity::update_many()
        .col_expr(bal::Column::DebitMinor, Expr::col(bal::Column::DebitMinor).add(d))
        .col_expr(bal::Column::CreditMinor, Expr::col(bal::Column::CreditMinor).add(c))
        .filter(bal::Column::Account.eq(account))
        .filter(bal::Column::Currency.eq(currency))
        .filter(bal::Column::Slot.eq(0))
        .filter(Expr::col(bal::Column::CreditMinor).sub(Expr::col(bal::Column::DebitMinor)).gte(d - c))
        .exec(db)
        .await?;
    Ok(updated.rows_affected > 0)
}

/// Balance rows per non-wallet account and currency.
pub const BALANCE_SLOTS: i64 = 16;

/// Adds to a running balance, creating the row on first use. `INSERT ... ON
/// CONFLICT DO UPDATE` with increments is atomic on both backends. Wallets
/// keep slot 0 (the overdraft guard reads one row); other accounts spread.
async fn add_to_balance(db: &impl ConnectionTrait, account: &str, currency: &str, d: i64, c: i64) -> StoreResult<()> {
    let slot = if account_kind(account) == Some(AccountKind::BuyerWallet) {
        0
    } else {
        rand::Rng::gen_range(&mut rand::thread_rng(), 0..BALANCE_SLOTS)
    };
    let on_conflict = OnConflict::columns([bal::Column::Account, bal::Column::Currency, bal::Column::Slot])
        .value(bal::Column::DebitMinor, Expr::cust("ledger_balance_slots.debit_minor + excluded.debit_minor"))
        .value(bal::Column::CreditMinor, Expr::cust("ledger_balance_slots.credit_minor + excluded.credit_minor"))
        .to_owned();
    bal::Entity::insert(bal::ActiveModel {
        account: Set(account.to_string()),
        currency: Set(currency.to_string()),
        slot: Set(slot),
        debit_minor: Set(d),
        credit_minor: Set(c),
    })
    .on_conflict(on_conflict)
    .exec_without_returning(db)
    .await?;
    Ok(())
}

/// A running balance: the sum of its slots.
#[derive(Debug, Clone, PartialEq, Eq, FromQueryResult)]
pub struct Balance {
    pub account: String,
    pub currency: String,
    pub debit_minor: i64,
    pub credit_minor: i64,
}

/// Balances summed over slots, optionally of one account (and currency).
async fn summed(db: &impl ConnectionTrait, account: Option<&str>, currency: Option<&str>) -> StoreResult<Vec<Balance>> {
    let mut q = bal::Entity::find()
        .select_only()
        .column(bal::Column::Account)
        .column(bal::Column::Currency)
        // SUM of BIGINT is NUMERIC on PostgreSQL, hence the casts.
        .column_as(Expr::cust("CAST(SUM(debit_minor) AS BIGINT)"), "debit_minor")
        .column_as(Expr::cust("CAST(SUM(credit_minor) AS BIGINT)"), "credit_minor");
    if let Some(a) = account {
        q = q.filter(bal::Column::Account.eq(a));
    }
    if let Some(c) = currency {
        q = q.filter(bal::Column::Currency.eq(c));
    }
    Ok(q.group_by(bal::Column::Account)
        .group_by(bal::Column::Currency)
        .order_by_asc(bal::Column::Account)
        .order_by_asc(bal::Column::Currency)
        .into_model::<Balance>()
        .all(db)
        .await?)
}

/// Every running balance, by account then currency.
pub async fn balances(db: &impl ConnectionTrait) -> StoreResult<Vec<Balance>> {
    summed(db, None, None).await
}

/// One account's balances, one per currency it has used.
pub async fn account_balances(db: &impl ConnectionTrait, account: &str) -> StoreResult<Vec<Balance>> {
    summed(db, Some(account), None).await
}

pub async fn balance(db: &impl ConnectionTrait, account: &str, currency: &str) -> StoreResult<Option<Balance>> {
    Ok(summed(db, Some(account), Some(currency)).await?.pop())
}

/// Entries newest first, optionally only those touching `account` or with
/// `reference`, `limit` at a time after `before` (an entry id).
pub async fn list_entries(
    db: &impl ConnectionTrait,
    account: Option<&str>,
    reference: Option<&str>,
    before: Option<&str>,
    limit: u64,
) -> StoreResult<Vec<entry::Model>> {
    let mut q = entry::Entity::find();
    if let Some(a) = account {
        let touching = line::Entity::find()
            .select_only()
            .column(line::Column::EntryId)
            .filter(line::Column::Account.eq(a))
            .as_query()
            .to_owned();
        q = q.filter(entry::Column::Id.in_subquery(touching));
    }
    if let Some(r) = reference {
        q = q.filter(entry::Column::Reference.eq(r));
    }
    if let Some(b) = before {
        q = q.filter(entry::Column::Id.lt(b));
    }
    Ok(q.order_by_desc(entry::Column::Id).limit(limit).all(db).await?)
}

pub async fn find_entries(db: &impl ConnectionTrait, ids: &[String]) -> StoreResult<Vec<entry::Model>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(entry::Entity::find().filter(entry::Column::Id.is_in(ids.iter().cloned())).all(db).await?)
}

/// The lines of the given entries, in entry and line order.
pub async fn lines_of(db: &impl ConnectionTrait, entry_ids: &[String]) -> StoreResult<Vec<line::Model>> {
    if entry_ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(line::Entity::find()
        .filter(line::Column::EntryId.is_in(entry_ids.iter().cloned()))
        .order_by_asc(line::Column::EntryId)
        .order_by_asc(line::Column::LineNo)
        .all(db)
        .await?)
}

/// One account's lines, newest first, `limit` at a time after `before`
/// ((entry id, line number) of the last line seen).
pub async fn account_lines(
    db: &impl ConnectionTrait,
    account: &str,
    before: Option<(&str, i64)>,
    limit: u64,
) -> StoreResult<Vec<line::Model>> {
    let mut q = line::Entity::find().filter(line::Column::Account.eq(account));
    if let Some((entry_id, line_no)) = before {
        q = q.filter(
            Expr::col(line::Column::EntryId)
                .lt(entry_id)
                .or(Expr::col(line::Column::EntryId).eq(entry_id).and(Expr::col(line::Column::LineNo).lt(line_no))),
        );
    }
    Ok(q.order_by_desc(line::Column::EntryId).order_by_desc(line::Column::LineNo).limit(limit).all(db).await?)
}

/// Σdebit and Σcredit of one account in one currency (or of one entry in
/// one currency), as computed from the lines.
#[derive(Debug, Clone, PartialEq, Eq, FromQueryResult)]
pub struct Sums {
    pub key: String,
    pub currency: String,
    pub debit_minor: i64,
    pub credit_minor: i64,
}

/// SUM of BIGINT is NUMERIC on PostgreSQL, hence the casts.
const SUMS_BY_ACCOUNT: &str = "SELECT account AS key, currency, \
     CAST(SUM(debit_minor) AS BIGINT) AS debit_minor, CAST(SUM(credit_minor) AS BIGINT) AS credit_minor \
     FROM ledger_lines GROUP BY account, currency ORDER BY account, currency";

const UNBALANCED_ENTRIES: &str = "SELECT entry_id AS key, currency, \
     CAST(SUM(debit_minor) AS BIGINT) AS debit_minor, CAST(SUM(credit_minor) AS BIGINT) AS credit_minor \
     FROM ledger_lines GROUP BY entry_id, currency HAVING SUM(debit_minor) <> SUM(credit_minor) ORDER BY entry_id";

/// Entries with fewer than two lines (an entry always has at least two).
const SHORT_ENTRIES: &str = "SELECT e.id AS key FROM ledger_entries e LEFT JOIN ledger_lines l ON l.entry_id = e.id \
     GROUP BY e.id HAVING COUNT(l.entry_id) < 2 ORDER BY e.id";

/// Lines that are not exactly one positive side (the table's CHECK should
/// make this impossible; the check command trusts nothing).
const BAD_LINES: &str = "SELECT entry_id AS key FROM ledger_lines \
     WHERE NOT ((debit_minor > 0 AND credit_minor = 0) OR (debit_minor = 0 AND credit_minor > 0)) ORDER BY entry_id";

#[derive(Debug, FromQueryResult)]
struct Key {
    key: String,
}

/// Per account and currency, the sums of the lines.
/// How many journal entries there are.
pub async fn count_entries(db: &impl ConnectionTrait) -> StoreResult<u64> {
    Ok(entry::Entity::find().count(db).await?)
}

pub async fn sums_by_account(db: &impl ConnectionTrait) -> StoreResult<Vec<Sums>> {
    let stmt = Statement::from_string(db.get_database_backend(), SUMS_BY_ACCOUNT);
    Ok(Sums::find_by_statement(stmt).all(db).await?)
}

/// Per entry and currency where debits and credits differ.
pub async fn unbalanced_entries(db: &impl ConnectionTrait) -> StoreResult<Vec<Sums>> {
    let stmt = Statement::from_string(db.get_database_backend(), UNBALANCED_ENTRIES);
    Ok(Sums::find_by_statement(stmt).all(db).await?)
}

pub async fn short_entries(db: &impl ConnectionTrait) -> StoreResult<Vec<String>> {
    keys(db, SHORT_ENTRIES).await
}

/// Ids of entries with a malformed line.
pub async fn entries_with_bad_lines(db: &impl ConnectionTrait) -> StoreResult<Vec<String>> {
    keys(db, BAD_LINES).await
}

async fn keys(db: &impl ConnectionTrait, sql: &str) -> StoreResult<Vec<String>> {
    let stmt = Statement::from_string(db.get_database_backend(), sql);
    Ok(Key::find_by_statement(stmt).all(db).await?.into_iter().map(|k| k.key).collect())
}

/// Payments through payment providers.
pub mod payments {
    use super::*;

    pub async fn insert(db: &impl ConnectionTrait, p: payment::Model) -> StoreResult<()> {
        payment::Entity::insert(payment::ActiveModel {
            id: Set(p.id),
            provider: Set(p.provider),
            buyer_id: Set(p.buyer_id),
            amount_minor: Set(p.amount_minor),
            currency: Set(p.currency),
            status: Set(p.status),
            provider_ref: Set(p.provider_ref),
            reason: Set(p.reason),
            created_by: Set(p.created_by),
            created_at: Set(p.created_at),
        })
        .exec_without_returning(db)
        .await?;
        Ok(())
    }

    pub async fn find(db: &impl ConnectionTrait, id: &str) -> StoreResult<Option<payment::Model>> {
        Ok(payment::Entity::find_by_id(id.to_string()).one(db).await?)
    }
}

/// Commission rates per product type and cooperation model.
pub mod commission {
    use super::*;

    pub async fn list(db: &impl ConnectionTrait) -> StoreResult<Vec<commission_rate::Model>> {
        Ok(commission_rate::Entity::find()
            .order_by_asc(commission_rate::Column::ProductType)
            .order_by_asc(commission_rate::Column::Cooperation)
            .all(db)
            .await?)
    }

    pub async fn find(
        db: &impl ConnectionTrait,
        product_type: ProductType,
        cooperation: Cooperation,
    ) -> StoreResult<Option<commission_rate::Model>> {
        Ok(commission_rate::Entity::find_by_id((product_type, cooperation)).one(db).await?)
    }

    /// Sets (creating if needed) one rate.
    pub async fn upsert(db: &impl ConnectionTrait, row: commission_rate::Model) -> StoreResult<()> {
        let on_conflict =
            OnConflict::columns([commission_rate::Column::ProductType, commission_rate::Column::Cooperation])
                .update_columns([commission_rate::Column::RateBp, commission_rate::Column::UpdatedAt])
                .to_owned();
        commission_rate::Entity::insert(commission_rate::ActiveModel {
            product_type: Set(row.product_type),
            cooperation: Set(row.cooperation),
            rate_bp: Set(row.rate_bp),
            updated_at: Set(row.updated_at),
        })
        .on_conflict(on_conflict)
        .exec_without_returning(db)
        .await?;
        Ok(())
    }
}

//! Invoices: the requests, their lines and steps, each issuer's numbering,
//! and what the ledger says an order paid and got back.
//!
//! Every query on invoices takes a [`Scope`]: a buyer sees its own, an
//! issuer (the platform, or one seller) the ones it issues. A step is a
//! conditional update on the invoice's `steps` (see [`step`]); numbers are
//! taken by an increment of the issuer's sequence row in the same
//! transaction ([`next_number`]), so of two transactions issuing at once
//! the second waits for the first's row and continues after its number.

use crate::entity::{invoice, invoice_event, invoice_line, invoice_sequence, ledger_entry, ledger_line, subscription};
use crate::error::StoreResult;
use chrono::{DateTime, Utc};
use mercato_domain::ids::InvoiceId;
use mercato_domain::invoicing::{InvoiceDocument, InvoiceStatus};
use mercato_domain::ledger::EntryKind;
use sea_orm::ExprTrait;
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

/// Whose invoices a query sees.
#[derive(Debug, Clone, Copy)]
pub enum Scope<'a> {
    /// The buyer's (account id).
    Buyer(&'a str),
    /// The ones this issuer issues (`platform` or a seller's account id).
    Issuer(&'a str),
}

fn scoped(q: sea_orm::Select<invoice::Entity>, scope: Scope<'_>) -> sea_orm::Select<invoice::Entity> {
    match scope {
        Scope::Buyer(b) => q.filter(invoice::Column::BuyerId.eq(b)),
        Scope::Issuer(i) => q.filter(invoice::Column::IssuerId.eq(i)),
    }
}

/// Inserts a requested invoice with its lines and first event. A second
/// open invoice of the order is refused by the unique index
/// (`StoreError::Conflict`).
pub async fn insert(
    db: &impl ConnectionTrait,
    inv: invoice::Model,
    lines: Vec<invoice_line::Model>,
    event: invoice_event::Model,
) -> StoreResult<()> {
    let model: invoice::ActiveModel = inv.into();
    invoice::Entity::insert(model.reset_all()).exec_without_returning(db).await?;
    insert_lines(db, lines).await?;
    insert_event(db, event).await
}

async fn insert_lines(db: &impl ConnectionTrait, lines: Vec<invoice_line::Model>) -> StoreResult<()> {
    if lines.is_empty() {
        return Ok(());
    }
    let models = lines.into_iter().map(|l| invoice_line::ActiveModel::from(l).reset_all());
    invoice_line::Entity::insert_many(models).exec_without_returning(db).await?;
    Ok(())
}

async fn insert_event(db: &impl ConnectionTrait, event: invoice_event::Model) -> StoreResult<()> {
    let model: invoice_event::ActiveModel = event.into();
    invoice_event::Entity::insert(model.reset_all()).exec_without_returning(db).await?;
    Ok(())
}

pub async fn find(db: &impl ConnectionTrait, scope: Scope<'_>, id: &InvoiceId) -> StoreResult<Option<invoice::Model>> {
    Ok(scoped(invoice::Entity::find_by_id(id.clone()), scope).one(db).await?)
}

/// Invoices newest first, `limit` at a time below `before`.
pub async fn list(
    db: &impl ConnectionTrait,
    scope: Scope<'_>,
    status: Option<InvoiceStatus>,
    before: Option<&InvoiceId>,
    limit: u64,
) -> StoreResult<Vec<invoice::Model>> {
    let mut q = scoped(invoice::Entity::find(), scope);
    if let Some(s) = status {
        q = q.filter(invoice::Column::Status.eq(s));
    }
    if let Some(b) = before {
        q = q.filter(invoice::Column::Id.lt(b.clone()));
    }
    Ok(q.order_by_desc(invoice::Column::Id).limit(limit).all(db).await?)
}

/// The order's invoice that is requested or issued, if any.
pub async fn open_for_order(db: &impl ConnectionTrait, order_id: &str) -> StoreResult<Option<invoice::Model>> {
    let open: Vec<InvoiceStatus> = InvoiceStatus::ALL.iter().copied().filter(|s| s.is_open()).collect();
    Ok(invoice::Entity::find()
        .filter(invoice::Column::OrderId.eq(order_id))
        .filter(invoice::Column::Status.is_in(open))
        .one(db)
        .await?)
}

pub async fn lines(db: &impl ConnectionTrait, id: &InvoiceId) -> StoreResult<Vec<invoice_line::Model>> {
    Ok(invoice_line::Entity::find()
        .filter(invoice_line::Column::InvoiceId.eq(id.clone()))
        .order_by_asc(invoice_line::Column::LineNo)
        .all(db)
        .await?)
}

/// An invoice's steps, oldest first.
pub async fn events(db: &impl ConnectionTrait, id: &InvoiceId) -> StoreResult<Vec<invoice_event::Model>> {
    Ok(invoice_event::Entity::find()
        .filter(invoice_event::Column::InvoiceId.eq(id.clone()))
        .order_by_asc(invoice_event::Column::Seq)
        .all(db)
        .await?)
}

/// The money columns an issue writes again (what the ledger says at the
/// time of issue).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Money {
    pub paid_minor: i64,
    pub refunded_minor: i64,
    pub total_minor: i64,
    pub tax_rate_bp: i64,
    pub tax_minor: i64,
    pub lines: Vec<invoice_line::Model>,
}

/// What a step writes besides the status.
#[derive(Debug, Clone, Default)]
pub struct Changes {
    /// The invoice's number and issue time.
    pub issued: Option<(String, DateTime<Utc>)>,
    /// The credit note's number and time.
    pub credited: Option<(String, DateTime<Utc>)>,
    pub money: Option<Money>,
}

/// Records an invoice's step: moves it to `event.status` when it is still
/// at version `event.seq - 1`, with `changes`, and appends the event. False
/// when another step came first (nothing written).
pub async fn step(db: &impl ConnectionTrait, event: invoice_event::Model, changes: Changes) -> StoreResult<bool> {
    let mut update = invoice::Entity::update_many()
        .col_expr(invoice::Column::Status, Expr::value(event.status))
        .col_expr(invoice::Column::Steps, Expr::value(event.seq))
        .col_expr(invoice::Column::StatusSince, Expr::value(event.at));
    if let Some((number, at)) = changes.issued {
        update = update
            .col_expr(invoice::Column::Number, Expr::value(number))
            .col_expr(invoice::Column::IssuedAt, Expr::value(at));
    }
    if let Some((number, at)) = changes.credited {
        update = update
            .col_expr(invoice::Column::CreditNoteNumber, Expr::value(number))
            .col_expr(invoice::Column::CreditedAt, Expr::value(at));
    }
    if let Some(m) = &changes.money {
        update = update
            .col_expr(invoice::Column::PaidMinor, Expr::value(m.paid_minor))
            .col_expr(invoice::Column::RefundedMinor, Expr::value(m.refunded_minor))
            .col_expr(invoice::Column::TotalMinor, Expr::value(m.total_minor))
            .col_expr(invoice::Column::TaxRateBp, Expr::value(m.tax_rate_bp))
            .col_expr(invoice::Column::TaxMinor, Expr::value(m.tax_minor));
    }
    let res = update
        .filter(invoice::Column::Id.eq(event.invoice_id.clone()))
        .filter(invoice::Column::Steps.eq(event.seq - 1))
        .exec(db)
        .await?;
    if res.rows_affected == 0 {
        return Ok(false);
    }
    if let Some(m) = changes.money {
        invoice_line::Entity::delete_many()
            .filter(invoice_line::Column::InvoiceId.eq(event.invoice_id.clone()))
            .exec(db)
            .await?;
        insert_lines(db, m.lines).await?;
    }
    insert_event(db, event).await?;
    Ok(true)
}

/// Takes the next number of `issuer_id`'s `doc` series in `year` (1 for
/// the first). Call it in the transaction that writes the number: a
/// rolled-back transaction gives its number back, a concurrent one waits
/// for this one's row and then takes the number after.
pub async fn next_number(
    db: &impl ConnectionTrait,
    issuer_id: &str,
    doc: InvoiceDocument,
    year: i32,
) -> StoreResult<i64> {
    let key = (issuer_id.to_string(), doc.series().to_string(), i64::from(year));
    let first =
        invoice_sequence::Model { issuer_id: key.0.clone(), series: key.1.clone(), year: key.2, last_number: 0 };
    let model: invoice_sequence::ActiveModel = first.into();
    invoice_sequence::Entity::insert(model.reset_all())
        .on_conflict(
            OnConflict::columns([
                invoice_sequence::Column::IssuerId,
                invoice_sequence::Column::Series,
                invoice_sequence::Column::Year,
            ])
            .do_nothing()
            .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    invoice_sequence::Entity::update_many()
        .col_expr(invoice_sequence::Column::LastNumber, Expr::col(invoice_sequence::Column::LastNumber).add(1))
        .filter(invoice_sequence::Column::IssuerId.eq(key.0.as_str()))
        .filter(invoice_sequence::Column::Series.eq(key.1.as_str()))
        .filter(invoice_sequence::Column::Year.eq(key.2))
        .exec(db)
        .await?;
    let row = invoice_sequence::Entity::find_by_id(key)
        .one(db)
        .await?
        .ok_or_else(|| crate::StoreError::Corrupt("an invoice sequence row vanished while it was taken".into()))?;
    Ok(row.last_number)
}

/// The lines of the refund entries posted under `order_id` (the whole
/// payment given back: a failed delivery, a withdrawn supervision, a
/// failed upgrade).
pub async fn reversal_lines(db: &impl ConnectionTrait, order_id: &str) -> StoreResult<Vec<ledger_line::Model>> {
    let entries: Vec<String> = ledger_entry::Entity::find()
        .filter(ledger_entry::Column::Kind.eq(EntryKind::Refund))
        .filter(ledger_entry::Column::Reference.eq(order_id))
        .all(db)
        .await?
        .into_iter()
        .map(|e| e.id)
        .collect();
    if entries.is_empty() {
        return Ok(Vec::new());
    }
    Ok(ledger_line::Entity::find().filter(ledger_line::Column::EntryId.is_in(entries)).all(db).await?)
}

/// The subscriptions the given order lines paid for: a purchase line's
/// own, and the one a renewal, upgrade or conversion line names.
pub async fn subscriptions_of_lines(
    db: &impl ConnectionTrait,
    line_ids: &[String],
    named: &[String],
) -> StoreResult<Vec<subscription::Model>> {
    if line_ids.is_empty() && named.is_empty() {
        return Ok(Vec::new());
    }
    Ok(subscription::Entity::find()
        .filter(
            subscription::Column::OrderLineId
                .is_in(line_ids.iter().cloned())
                .or(subscription::Column::Id.is_in(named.iter().cloned())),
        )
        .order_by_asc(subscription::Column::Id)
        .all(db)
        .await?)
}

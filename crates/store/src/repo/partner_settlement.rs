//! Partners' money: the attributed sales and clawbacks a period settles
//! for partners (`domain::channel::partner_statements`), their statements
//! and lines, the statement steps, and the rows of a partner's performance.

use super::settlement::numbered;
use crate::entity::{partner_statement, partner_statement_line};
use crate::error::StoreResult;
use chrono::{DateTime, Utc};
use mercato_domain::channel::partners::PartnerStatementStatus;
use mercato_domain::ids::PartnerStatementId;
use mercato_domain::ledger::{AccountKind, EntryKind};
use mercato_domain::orders::OrderStatus;
use mercato_domain::settlement::StatementLineKind;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, FromQueryResult, QueryFilter, QueryOrder, QuerySelect,
    Statement,
};

/// One attributed sale or clawback settled in a period.
#[derive(Debug, Clone, PartialEq, Eq, FromQueryResult)]
pub struct PartnerSource {
    pub partner_id: String,
    pub currency: String,
    pub kind: StatementLineKind,
    pub order_id: String,
    pub order_line_id: String,
    pub buyer_id: String,
    pub product_id: String,
    pub settled_at: DateTime<Utc>,
    pub sales_minor: i64,
    pub share_minor: i64,
    pub entry_id: Option<String>,
}

/// What settles for partners in `[start, end)`, in partner, currency and
/// settled order: attributed order lines whose delivery completed (what
/// the customer paid; the share the payment entry credited the partner),
/// and unsubscribe refunds of such lines (negative).
pub async fn sources(
    db: &impl ConnectionTrait,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
) -> StoreResult<Vec<PartnerSource>> {
    let backend = db.get_database_backend();
    let (sale, clawback) = (StatementLineKind::Sale.as_str(), StatementLineKind::Clawback.as_str());
    let (partner, refund) = (AccountKind::PartnerPayable.as_str(), EntryKind::Refund.as_str());
    let byte_order = if backend == sea_orm::DbBackend::Postgres { " COLLATE \"C\"" } else { "" };
    let sql = format!(
        "SELECT * FROM ( \
         SELECT l.partner_id, l.currency, '{sale}' AS kind, o.id AS order_id, l.id AS order_line_id, o.buyer_id, \
             l.product_id, d.delivered_at AS settled_at, l.amount_minor AS sales_minor, \
             CAST(COALESCE((SELECT SUM(c.credit_minor - c.debit_minor) FROM ledger_lines c \
                 WHERE c.entry_id = o.payment_entry_id AND c.account = '{partner}:' || l.partner_id), 0) AS BIGINT) \
                 AS share_minor, \
             o.payment_entry_id AS entry_id \
         FROM line_deliveries d JOIN order_lines l ON l.id = d.order_line_id JOIN orders o ON o.id = d.order_id \
         WHERE d.delivered_at >= $1 AND d.delivered_at < $2 AND l.partner_id IS NOT NULL \
             AND o.payment_entry_id IS NOT NULL AND l.amount_minor <> 0 \
         UNION ALL \
         SELECT l.partner_id, r.currency, '{clawback}', r.order_id, r.order_line_id, r.buyer_id, l.product_id, \
             r.created_at, -r.amount_minor, -r.partner_minor, \
             (SELECT MIN(e.id) FROM ledger_entries e WHERE e.reference = r.order_id AND e.kind = '{refund}') \
         FROM refunds r JOIN order_lines l ON l.id = r.order_line_id \
         WHERE r.created_at >= $1 AND r.created_at < $2 AND l.partner_id IS NOT NULL AND r.amount_minor > 0 \
         ) s ORDER BY s.partner_id{byte_order}, s.currency, s.settled_at, s.kind DESC, s.order_line_id{byte_order}"
    );
    let stmt = Statement::from_sql_and_values(backend, numbered(&sql, backend), [start.into(), end.into()]);
    Ok(PartnerSource::find_by_statement(stmt).all(db).await?)
}

pub async fn insert(
    db: &impl ConnectionTrait,
    statements: Vec<partner_statement::Model>,
    lines: Vec<partner_statement_line::Model>,
) -> StoreResult<()> {
    for chunk in statements.chunks(500) {
        let models = chunk.iter().cloned().map(|s| partner_statement::ActiveModel::from(s).reset_all());
        partner_statement::Entity::insert_many(models).exec_without_returning(db).await?;
    }
    for chunk in lines.chunks(500) {
        let models = chunk.iter().cloned().map(|l| partner_statement_line::ActiveModel::from(l).reset_all());
        partner_statement_line::Entity::insert_many(models).exec_without_returning(db).await?;
    }
    Ok(())
}

/// Statements, newest first, of one partner or all, in one status or all,
/// after the cursor (a statement id).
pub async fn list(
    db: &impl ConnectionTrait,
    partner_id: Option<&str>,
    status: Option<PartnerStatementStatus>,
    before: Option<&PartnerStatementId>,
    limit: u64,
) -> StoreResult<Vec<partner_statement::Model>> {
    let mut q = partner_statement::Entity::find();
    if let Some(p) = partner_id {
        q = q.filter(partner_statement::Column::PartnerId.eq(p));
    }
    if let Some(s) = status {
        q = q.filter(partner_statement::Column::Status.eq(s));
    }
    if let Some(b) = before {
        q = q.filter(partner_statement::Column::Id.lt(b.clone()));
    }
    Ok(q.order_by_desc(partner_statement::Column::Id).limit(limit).all(db).await?)
}

/// A statement by id, the partner's own when `partner_id` is given.
pub async fn find(
    db: &impl ConnectionTrait,
    partner_id: Option<&str>,
    id: &PartnerStatementId,
) -> StoreResult<Option<partner_statement::Model>> {
    let mut q = partner_statement::Entity::find_by_id(id.clone());
    if let Some(p) = partner_id {
        q = q.filter(partner_statement::Column::PartnerId.eq(p));
    }
    Ok(q.one(db).await?)
}

pub async fn lines_of(
    db: &impl ConnectionTrait,
    id: &PartnerStatementId,
) -> StoreResult<Vec<partner_statement_line::Model>> {
    Ok(partner_statement_line::Entity::find()
        .filter(partner_statement_line::Column::StatementId.eq(id.clone()))
        .order_by_asc(partner_statement_line::Column::Seq)
        .all(db)
        .await?)
}

/// Records the partner's invoice, conditional on the statement being `from`.
pub async fn receive_invoice(
    db: &impl ConnectionTrait,
    id: &PartnerStatementId,
    from: PartnerStatementStatus,
    to: PartnerStatementStatus,
    number: &str,
    by: &str,
    now: DateTime<Utc>,
) -> StoreResult<bool> {
    let res = partner_statement::Entity::update_many()
        .col_expr(partner_statement::Column::Status, Expr::value(to))
        .col_expr(partner_statement::Column::InvoiceNumber, Expr::value(number))
        .col_expr(partner_statement::Column::InvoiceReceivedBy, Expr::value(by))
        .col_expr(partner_statement::Column::InvoiceReceivedAt, Expr::value(now))
        .filter(partner_statement::Column::Id.eq(id.clone()))
        .filter(partner_statement::Column::Status.eq(from))
        .exec(db)
        .await?;
    Ok(res.rows_affected == 1)
}

/// Records the payout, conditional on the statement being `from`.
pub async fn mark_paid(
    db: &impl ConnectionTrait,
    id: &PartnerStatementId,
    from: PartnerStatementStatus,
    to: PartnerStatementStatus,
    entry_id: &str,
    now: DateTime<Utc>,
) -> StoreResult<bool> {
    let res = partner_statement::Entity::update_many()
        .col_expr(partner_statement::Column::Status, Expr::value(to))
        .col_expr(partner_statement::Column::PayoutEntryId, Expr::value(entry_id))
        .col_expr(partner_statement::Column::PaidAt, Expr::value(now))
        .filter(partner_statement::Column::Id.eq(id.clone()))
        .filter(partner_statement::Column::Status.eq(from))
        .exec(db)
        .await?;
    Ok(res.rows_affected == 1)
}

/// One paid order line attributed to a partner, for its performance.
#[derive(Debug, Clone, PartialEq, Eq, FromQueryResult)]
pub struct AttributedSale {
    pub order_id: String,
    pub buyer_id: String,
    pub paid_at: DateTime<Utc>,
    pub currency: String,
    pub amount_minor: i64,
    pub share_minor: i64,
    /// Refunded of the line so far, and the share taken back with it.
    pub refunded_minor: i64,
    pub share_refunded_minor: i64,
}

/// The partner's attributed purchase lines of orders paid in `[from, to)`,
/// with the share each payment credited and what refunds took back.
pub async fn attributed_sales(
    db: &impl ConnectionTrait,
    partner_id: &str,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> StoreResult<Vec<AttributedSale>> {
    let backend = db.get_database_backend();
    let (partner, refunded) = (AccountKind::PartnerPayable.as_str(), OrderStatus::Refunded.as_str());
    let sql = format!(
        "SELECT o.id AS order_id, o.buyer_id, o.paid_at, l.currency, l.amount_minor, \
             CAST(COALESCE((SELECT SUM(c.credit_minor - c.debit_minor) FROM ledger_lines c \
                 WHERE c.entry_id = o.payment_entry_id AND c.account = '{partner}:' || l.partner_id), 0) AS BIGINT) \
                 AS share_minor, \
             CAST(COALESCE((SELECT SUM(r.amount_minor) FROM refunds r JOIN subscriptions s ON s.id = r.subscription_id \
                 WHERE s.order_line_id = l.id), 0) AS BIGINT) AS refunded_minor, \
             CAST(COALESCE((SELECT SUM(r.partner_minor) FROM refunds r JOIN subscriptions s ON s.id = r.subscription_id \
                 WHERE s.order_line_id = l.id), 0) AS BIGINT) AS share_refunded_minor \
         FROM order_lines l JOIN orders o ON o.id = l.order_id \
         WHERE l.partner_id = $1 AND o.paid_at >= $2 AND o.paid_at < $3 AND o.payment_entry_id IS NOT NULL \
             AND o.status <> '{refunded}' \
         ORDER BY o.paid_at, o.id"
    );
    let stmt =
        Statement::from_sql_and_values(backend, numbered(&sql, backend), [partner_id.into(), from.into(), to.into()]);
    Ok(AttributedSale::find_by_statement(stmt).all(db).await?)
}

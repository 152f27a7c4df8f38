//! Settlement: what became settleable in a period (delivered order lines,
//! paid usage, refunds of delivered purchases), and the runs, statements and
//! statement lines written from it. A period's run row is inserted first in
//! the run's transaction, so a second or concurrent run of the period finds
//! it (or waits for it on the key) and writes nothing.

use crate::entity::{
    line_delivery, refund, seller_certification, settlement_run, statement, statement_event, statement_line,
    usage_charge,
};
use crate::error::StoreResult;
use chrono::{DateTime, Utc};
use mercato_domain::catalog::ProductType;
use mercato_domain::ledger::{AccountKind, EntryKind};
use mercato_domain::onboarding::ApplicationStatus;
use mercato_domain::settlement::StatementLineKind;
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, FromQueryResult, QueryFilter, QueryOrder,
    QuerySelect, QueryTrait, Statement,
};
use std::collections::HashMap;

/// `$n` placeholders as the backend numbers them (SQLite: `?n`).
pub(crate) fn numbered(sql: &str, backend: DbBackend) -> String {
    match backend {
        DbBackend::Postgres => sql.to_string(),
        _ => sql.replace('$', "?"),
    }
}

/// Everything that became settleable in `[$1, $2)`, one row per source:
/// order lines whose delivery completed (the line's gross: what the seller
/// and the platform split, `domain::channel::pricing`; the commission is
/// the gross less what the payment entry credited the seller, so a
/// partner's share, carved out of the commission, does not touch the
/// seller; free lines and unpaid orders settle nothing), usage lines of
/// charges paid, unsubscribe refunds (negative: what they took back from
/// the seller and the platform, not the partner's part).
/// `rank` orders the kinds at one instant: sales, usage, clawbacks.
fn sources_sql(backend: DbBackend) -> String {
    let (sale, usage, clawback) =
        (StatementLineKind::Sale.as_str(), StatementLineKind::Usage.as_str(), StatementLineKind::Clawback.as_str());
    let refund = EntryKind::Refund.as_str();
    let seller_payable = AccountKind::SellerPayable.as_str();
    // A usage line's source: `instance@period start` in RFC 3339, as SQLite
    // stores the time already; PostgreSQL spells it out.
    let usage_source = match backend {
        DbBackend::Postgres => {
            "u.instance_id || '@' || to_char(u.period_start AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS') || '+00:00'"
        }
        _ => "u.instance_id || '@' || u.period_start",
    };
    format!(
        "SELECT 0 AS rank, '{sale}' AS kind, l.id AS source_id, l.seller_id, l.currency, o.id AS order_id, \
             o.buyer_id, l.product_id, l.product_type, d.delivered_at AS settled_at, l.gross_minor AS gross_minor, \
             l.gross_minor - COALESCE((SELECT SUM(c.credit_minor - c.debit_minor) FROM ledger_lines c \
                 WHERE c.entry_id = o.payment_entry_id AND c.account = '{seller_payable}:' || l.seller_id), 0) \
                 AS commission_minor, \
             o.payment_entry_id AS entry_id \
         FROM line_deliveries d JOIN order_lines l ON l.id = d.order_line_id JOIN orders o ON o.id = d.order_id \
         WHERE d.delivered_at >= $1 AND d.delivered_at < $2 AND o.payment_entry_id IS NOT NULL \
             AND l.amount_minor <> 0 \
         UNION ALL \
         SELECT 1, '{usage}', {usage_source}, u.seller_id, u.currency, NULL, u.buyer_id, u.product_id, \
             p.product_type, c.paid_at, u.amount_minor, u.commission_minor, c.entry_id \
         FROM usage_charges c JOIN usage_lines u ON u.charge_id = c.id JOIN products p ON p.id = u.product_id \
         WHERE c.status = '{CHARGE_PAID}' AND c.paid_at >= $1 AND c.paid_at < $2 AND u.amount_minor <> 0 \
         UNION ALL \
         SELECT 2, '{clawback}', r.order_id, l.seller_id, r.currency, r.order_id, r.buyer_id, l.product_id, \
             l.product_type, r.created_at, -(r.seller_minor + r.commission_minor), -r.commission_minor, \
             (SELECT MIN(e.id) FROM ledger_entries e WHERE e.reference = r.order_id AND e.kind = '{refund}') \
         FROM refunds r JOIN order_lines l ON l.id = r.order_line_id \
         WHERE r.created_at >= $1 AND r.created_at < $2 AND r.amount_minor > 0"
    )
}

const CHARGE_PAID: &str = "paid";

/// What one seller is owed in one currency for a period, summed over its
/// sources.
#[derive(Debug, Clone, PartialEq, Eq, FromQueryResult)]
pub struct SourceGroup {
    pub seller_id: String,
    pub currency: String,
    pub gross_minor: i64,
    pub commission_minor: i64,
    pub lines: i64,
}

/// The period's sources summed per seller and currency (one aggregate,
/// nothing per source leaves the database), in seller and currency order.
pub async fn source_groups(
    db: &impl ConnectionTrait,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
) -> StoreResult<Vec<SourceGroup>> {
    let backend = db.get_database_backend();
    let sql = format!(
        "SELECT s.seller_id, s.currency, CAST(SUM(s.gross_minor) AS BIGINT) AS gross_minor, \
             CAST(SUM(s.commission_minor) AS BIGINT) AS commission_minor, CAST(COUNT(*) AS BIGINT) AS lines \
         FROM ({}) s GROUP BY s.seller_id, s.currency ORDER BY s.seller_id, s.currency",
        sources_sql(backend)
    );
    let stmt = Statement::from_sql_and_values(backend, numbered(&sql, backend), [start.into(), end.into()]);
    Ok(SourceGroup::find_by_statement(stmt).all(db).await?)
}

/// Writes the period's sources as the lines of its statements (written
/// first, one per seller and currency): numbered per statement in settled
/// order (at one instant sales, usage, clawbacks; then by source id, byte
/// order), in one statement. Returns the lines written.
pub async fn insert_lines(
    db: &impl ConnectionTrait,
    period: &str,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
) -> StoreResult<u64> {
    let backend = db.get_database_backend();
    if backend == DbBackend::Postgres {
        // The statements were just written in this transaction; without
        // fresh statistics the planner takes the table for empty and loops
        // over the sources once per statement.
        db.execute_unprepared("ANALYZE statements").await?;
    }
    let byte_order = if backend == DbBackend::Postgres { " COLLATE \"C\"" } else { "" };
    let sql = format!(
        "INSERT INTO statement_lines (statement_id, seq, kind, source_id, order_id, buyer_id, product_id, \
             product_type, settled_at, gross_minor, commission_minor, entry_id) \
         SELECT st.id, ROW_NUMBER() OVER (PARTITION BY st.id ORDER BY s.settled_at, s.rank, s.source_id{byte_order}), \
             s.kind, s.source_id, s.order_id, s.buyer_id, s.product_id, s.product_type, s.settled_at, \
             s.gross_minor, s.commission_minor, s.entry_id \
         FROM ({}) s JOIN statements st ON st.seller_id = s.seller_id AND st.currency = s.currency \
             AND st.period = $3",
        sources_sql(backend)
    );
    let stmt =
        Statement::from_sql_and_values(backend, numbered(&sql, backend), [start.into(), end.into(), period.into()]);
    Ok(db.execute_raw(stmt).await?.rows_affected())
}

/// Sellers' tax rates from their approved business certification.
pub async fn tax_rates(db: &impl ConnectionTrait) -> StoreResult<HashMap<String, i64>> {
    Ok(seller_certification::Entity::find()
        .filter(seller_certification::Column::Status.eq(ApplicationStatus::Approved))
        .all(db)
        .await?
        .into_iter()
        .map(|c| (c.seller_id, c.tax_rate_bp))
        .collect())
}

/// Claims the period for this run; false when a run of it exists (or
/// committed first while this one waited on the key).
pub async fn claim_run(db: &impl ConnectionTrait, run: settlement_run::Model) -> StoreResult<bool> {
    let model: settlement_run::ActiveModel = run.into();
    let added = settlement_run::Entity::insert(model.reset_all())
        .on_conflict(OnConflict::column(settlement_run::Column::Period).do_nothing().to_owned())
        .exec_without_returning(db)
        .await?;
    Ok(added > 0)
}

/// Records the run's counts once its statements are written.
pub async fn finish_run(db: &impl ConnectionTrait, period: &str, statements: i64, lines: i64) -> StoreResult<()> {
    use sea_orm::sea_query::Expr;
    settlement_run::Entity::update_many()
        .col_expr(settlement_run::Column::Statements, Expr::value(statements))
        .col_expr(settlement_run::Column::Lines, Expr::value(lines))
        .filter(settlement_run::Column::Period.eq(period))
        .exec(db)
        .await?;
    Ok(())
}

/// Writes a run's statements (their lines follow with [`insert_lines`]).
pub async fn insert_statements(db: &impl ConnectionTrait, rows: Vec<statement::Model>) -> StoreResult<()> {
    for chunk in rows.chunks(500) {
        let models = chunk.iter().cloned().map(|s| statement::ActiveModel::from(s).reset_all());
        statement::Entity::insert_many(models).exec_without_returning(db).await?;
    }
    Ok(())
}

/// When the first settleable thing happened (a delivery, a paid usage
/// charge, a refund), if anything did.
pub async fn earliest_source(db: &impl ConnectionTrait) -> StoreResult<Option<DateTime<Utc>>> {
    let delivery = line_delivery::Entity::find().order_by_asc(line_delivery::Column::DeliveredAt).one(db).await?;
    let charge = usage_charge::Entity::find()
        .filter(usage_charge::Column::PaidAt.is_not_null())
        .order_by_asc(usage_charge::Column::PaidAt)
        .one(db)
        .await?;
    let refund = refund::Entity::find().order_by_asc(refund::Column::CreatedAt).one(db).await?;
    Ok([delivery.map(|d| d.delivered_at), charge.and_then(|c| c.paid_at), refund.map(|r| r.created_at)]
        .into_iter()
        .flatten()
        .min())
}

pub async fn find_run(db: &impl ConnectionTrait, period: &str) -> StoreResult<Option<settlement_run::Model>> {
    Ok(settlement_run::Entity::find_by_id(period.to_string()).one(db).await?)
}

/// Runs, newest period first, periods below `before`.
pub async fn list_runs(
    db: &impl ConnectionTrait,
    before: Option<&str>,
    limit: u64,
) -> StoreResult<Vec<settlement_run::Model>> {
    let mut q = settlement_run::Entity::find();
    if let Some(b) = before {
        q = q.filter(settlement_run::Column::Period.lt(b));
    }
    Ok(q.order_by_desc(settlement_run::Column::Period).limit(limit).all(db).await?)
}

/// Statements, newest first; a seller's own when `seller_id` is given.
pub async fn list_statements(
    db: &impl ConnectionTrait,
    seller_id: Option<&str>,
    period: Option<&str>,
    before: Option<&str>,
    limit: u64,
) -> StoreResult<Vec<statement::Model>> {
    let mut q = statement::Entity::find();
    if let Some(s) = seller_id {
        q = q.filter(statement::Column::SellerId.eq(s));
    }
    if let Some(p) = period {
        q = q.filter(statement::Column::Period.eq(p));
    }
    if let Some(b) = before {
        q = q.filter(statement::Column::Id.lt(b));
    }
    Ok(q.order_by_desc(statement::Column::Id).limit(limit).all(db).await?)
}

/// One statement, a seller's own when `seller_id` is given.
pub async fn find_statement(
    db: &impl ConnectionTrait,
    seller_id: Option<&str>,
    id: &str,
) -> StoreResult<Option<statement::Model>> {
    let mut q = statement::Entity::find_by_id(id.to_string());
    if let Some(s) = seller_id {
        q = q.filter(statement::Column::SellerId.eq(s));
    }
    Ok(q.one(db).await?)
}

/// A statement's lines in order, after `after_seq`.
pub async fn statement_lines(
    db: &impl ConnectionTrait,
    statement_id: &str,
    after_seq: i64,
    limit: u64,
) -> StoreResult<Vec<statement_line::Model>> {
    Ok(statement_line::Entity::find()
        .filter(statement_line::Column::StatementId.eq(statement_id))
        .filter(statement_line::Column::Seq.gt(after_seq))
        .order_by_asc(statement_line::Column::Seq)
        .limit(limit)
        .all(db)
        .await?)
}

/// Records a statement's step: moves it to `event.status` when it is still
/// at version `event.seq - 1` (payout fields as given) and appends the
/// event. False when another step came first (nothing written).
pub async fn step(
    db: &impl ConnectionTrait,
    event: statement_event::Model,
    payout: Option<(Option<String>, Option<String>)>,
) -> StoreResult<bool> {
    use sea_orm::sea_query::Expr;
    let mut update = statement::Entity::update_many()
        .col_expr(statement::Column::Status, Expr::value(event.status))
        .col_expr(statement::Column::Steps, Expr::value(event.seq))
        .col_expr(statement::Column::StatusSince, Expr::value(event.at));
    if let Some((reference, entry)) = payout {
        update = update
            .col_expr(statement::Column::PayoutReference, Expr::value(reference))
            .col_expr(statement::Column::PayoutEntryId, Expr::value(entry));
    }
    let res = update
        .filter(statement::Column::Id.eq(&event.statement_id))
        .filter(statement::Column::Steps.eq(event.seq - 1))
        .exec(db)
        .await?;
    if res.rows_affected == 0 {
        return Ok(false);
    }
    insert_event(db, event).await?;
    Ok(true)
}

pub async fn insert_event(db: &impl ConnectionTrait, event: statement_event::Model) -> StoreResult<()> {
    insert_events(db, vec![event]).await
}

pub async fn insert_events(db: &impl ConnectionTrait, events: Vec<statement_event::Model>) -> StoreResult<()> {
    for chunk in events.chunks(500) {
        let models = chunk.iter().cloned().map(|e| statement_event::ActiveModel::from(e).reset_all());
        statement_event::Entity::insert_many(models).exec_without_returning(db).await?;
    }
    Ok(())
}

/// A statement's steps, oldest first.
pub async fn events(db: &impl ConnectionTrait, statement_id: &str) -> StoreResult<Vec<statement_event::Model>> {
    Ok(statement_event::Entity::find()
        .filter(statement_event::Column::StatementId.eq(statement_id))
        .order_by_asc(statement_event::Column::Seq)
        .all(db)
        .await?)
}

/// Issued statements whose status began before `before` (to auto-confirm).
pub async fn unanswered(db: &impl ConnectionTrait, before: DateTime<Utc>) -> StoreResult<Vec<statement::Model>> {
    Ok(statement::Entity::find()
        .filter(statement::Column::Status.eq(mercato_domain::settlement::StatementStatus::Issued))
        .filter(statement::Column::StatusSince.lt(before))
        .order_by_asc(statement::Column::Id)
        .limit(1000)
        .all(db)
        .await?)
}

/// Approved statements with a positive net (to pay), oldest first, with
/// their sellers' approved certification (None: no certified bank account).
pub async fn payable_statements(
    db: &impl ConnectionTrait,
    period: Option<&str>,
) -> StoreResult<Vec<(statement::Model, Option<seller_certification::Model>)>> {
    let mut q = statement::Entity::find()
        .filter(statement::Column::Status.eq(mercato_domain::settlement::StatementStatus::Approved))
        .filter(statement::Column::NetMinor.gt(0));
    if let Some(p) = period {
        q = q.filter(statement::Column::Period.eq(p));
    }
    let due = q.order_by_asc(statement::Column::Period).order_by_asc(statement::Column::Id).all(db).await?;
    let sellers: Vec<String> = due.iter().map(|s| s.seller_id.clone()).collect();
    let mut banks: HashMap<String, seller_certification::Model> = HashMap::new();
    for chunk in sellers.chunks(5_000) {
        let found = seller_certification::Entity::find()
            .filter(seller_certification::Column::SellerId.is_in(chunk.to_vec()))
            .filter(seller_certification::Column::Status.eq(ApplicationStatus::Approved))
            .all(db)
            .await?;
        banks.extend(found.into_iter().map(|c| (c.seller_id.clone(), c)));
    }
    Ok(due
        .into_iter()
        .map(|s| {
            let bank = banks.get(&s.seller_id).cloned();
            (s, bank)
        })
        .collect())
}

/// One statement against the ledger (see [`reconciliation`]).
#[derive(Debug, Clone, PartialEq, Eq, FromQueryResult)]
pub struct StatementLedger {
    pub statement_id: String,
    pub period: String,
    pub seller_id: String,
    pub currency: String,
    pub status: mercato_domain::settlement::StatementStatus,
    pub net_minor: i64,
    /// Σ (gross - commission) of its lines.
    pub lines_net_minor: i64,
    /// Lines that name no ledger entry.
    pub unlinked_lines: i64,
    /// What the seller's payable moved in its lines' entries (credit - debit).
    pub ledger_net_minor: i64,
    /// Entries posted for it: payouts, and their returns (adjustments).
    pub payout_entries: i64,
    pub returned_entries: i64,
    /// What its recorded payout entry took from the seller's payable.
    pub payout_minor: i64,
}

/// Every statement with its lines' sum, what the seller's payable moved in
/// the ledger entries of its lines, and its payout entries; by period.
pub async fn reconciliation(db: &impl ConnectionTrait) -> StoreResult<Vec<StatementLedger>> {
    let (payout, adjustment) = (EntryKind::Payout.as_str(), EntryKind::Adjustment.as_str());
    let payable = "'seller_payable:' || s.seller_id";
    let sql = format!(
        "SELECT s.id AS statement_id, s.period, s.seller_id, s.currency, s.status, s.net_minor, \
             CAST(COALESCE((SELECT SUM(l.gross_minor - l.commission_minor) FROM statement_lines l \
                 WHERE l.statement_id = s.id), 0) AS BIGINT) AS lines_net_minor, \
             CAST((SELECT COUNT(*) FROM statement_lines l WHERE l.statement_id = s.id AND l.entry_id IS NULL) \
                 AS BIGINT) AS unlinked_lines, \
             CAST(COALESCE((SELECT SUM(ll.credit_minor - ll.debit_minor) FROM ledger_lines ll \
                 WHERE ll.account = {payable} AND ll.currency = s.currency AND ll.entry_id IN \
                     (SELECT l.entry_id FROM statement_lines l WHERE l.statement_id = s.id)), 0) AS BIGINT) \
                 AS ledger_net_minor, \
             CAST((SELECT COUNT(*) FROM ledger_entries e WHERE e.reference = s.id AND e.kind = '{payout}') AS BIGINT) \
                 AS payout_entries, \
             CAST((SELECT COUNT(*) FROM ledger_entries e WHERE e.reference = s.id AND e.kind = '{adjustment}') \
                 AS BIGINT) AS returned_entries, \
             CAST(COALESCE((SELECT SUM(pl.debit_minor - pl.credit_minor) FROM ledger_lines pl \
                 WHERE pl.entry_id = s.payout_entry_id AND pl.account = {payable}), 0) AS BIGINT) AS payout_minor \
         FROM statements s ORDER BY s.period, s.currency, s.id"
    );
    let backend = db.get_database_backend();
    Ok(StatementLedger::find_by_statement(Statement::from_string(backend, sql)).all(db).await?)
}

/// Filters of settled lines (transaction details).
#[derive(Debug, Clone, Default)]
pub struct LineFilter {
    pub period: Option<String>,
    pub order_id: Option<String>,
    pub buyer_id: Option<String>,
    pub product_id: Option<String>,
    pub product_type: Option<ProductType>,
    pub kind: Option<StatementLineKind>,
}

/// Settled lines with their statements, in (statement, seq) order after
/// `after`; a seller's own when `seller_id` is given.
pub async fn settled_lines(
    db: &impl ConnectionTrait,
    seller_id: Option<&str>,
    filter: &LineFilter,
    after: Option<(&str, i64)>,
    limit: u64,
) -> StoreResult<Vec<(statement::Model, statement_line::Model)>> {
    use sea_orm::Condition;
    let mut statements = statement::Entity::find().select_only().column(statement::Column::Id);
    if let Some(s) = seller_id {
        statements = statements.filter(statement::Column::SellerId.eq(s));
    }
    if let Some(p) = &filter.period {
        statements = statements.filter(statement::Column::Period.eq(p.as_str()));
    }
    let mut q =
        statement_line::Entity::find().filter(statement_line::Column::StatementId.in_subquery(statements.into_query()));
    if let Some(o) = &filter.order_id {
        q = q.filter(statement_line::Column::OrderId.eq(o.as_str()));
    }
    if let Some(b) = &filter.buyer_id {
        q = q.filter(statement_line::Column::BuyerId.eq(b.as_str()));
    }
    if let Some(p) = &filter.product_id {
        q = q.filter(statement_line::Column::ProductId.eq(p.as_str()));
    }
    if let Some(t) = filter.product_type {
        q = q.filter(statement_line::Column::ProductType.eq(t));
    }
    if let Some(k) = filter.kind {
        q = q.filter(statement_line::Column::Kind.eq(k));
    }
    if let Some((id, seq)) = after {
        q = q.filter(Condition::any().add(statement_line::Column::StatementId.gt(id)).add(
            Condition::all().add(statement_line::Column::StatementId.eq(id)).add(statement_line::Column::Seq.gt(seq)),
        ));
    }
    let lines = q
        .order_by_asc(statement_line::Column::StatementId)
        .order_by_asc(statement_line::Column::Seq)
        .limit(limit)
        .all(db)
        .await?;
    // Only the page's statements.
    let mut ids: Vec<String> = lines.iter().map(|l| l.statement_id.clone()).collect();
    ids.dedup();
    let statements: HashMap<String, statement::Model> = statement::Entity::find()
        .filter(statement::Column::Id.is_in(ids))
        .all(db)
        .await?
        .into_iter()
        .map(|s| (s.id.clone(), s))
        .collect();
    Ok(lines.into_iter().filter_map(|l| statements.get(&l.statement_id).cloned().map(|s| (s, l))).collect())
}

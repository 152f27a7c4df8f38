//! Settlement: what became settleable in a period (delivered order lines,
//! paid usage, refunds of delivered purchases), and the runs, statements and
//! statement lines written from it. A period's run row is inserted first in
//! the run's transaction, so a second or concurrent run of the period finds
//! it (or waits for it on the key) and writes nothing.

use crate::entity::{
    ledger_line, line_delivery, order, order_line, refund, seller_certification, settlement_run, statement,
    statement_event, statement_line, usage_charge, usage_line,
};
use crate::error::StoreResult;
use chrono::{DateTime, Utc};
use mercato_domain::ledger::PLATFORM_COMMISSION;
use mercato_domain::onboarding::ApplicationStatus;
use mercato_domain::settlement::StatementLineKind;
use sea_orm::sea_query::OnConflict;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use std::collections::HashMap;

/// One settleable source, before it is grouped into statements.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    pub kind: StatementLineKind,
    pub source_id: String,
    pub seller_id: String,
    pub currency: String,
    pub order_id: Option<String>,
    pub buyer_id: String,
    pub product_id: String,
    pub settled_at: DateTime<Utc>,
    pub gross_minor: i64,
    pub commission_minor: i64,
}

/// Everything that became settleable in `[start, end)`: order lines whose
/// delivery completed, usage charges paid, unsubscribe refunds (negative).
pub async fn sources(db: &impl ConnectionTrait, start: DateTime<Utc>, end: DateTime<Utc>) -> StoreResult<Vec<Source>> {
    let mut out = Vec::new();

    // Delivered order lines: the paid amount, the commission its payment
    // entry credited (free lines have no entry and settle nothing).
    let delivered = line_delivery::Entity::find()
        .filter(line_delivery::Column::DeliveredAt.gte(start))
        .filter(line_delivery::Column::DeliveredAt.lt(end))
        .all(db)
        .await?;
    let line_ids: Vec<String> = delivered.iter().map(|d| d.order_line_id.clone()).collect();
    let order_ids: Vec<String> = delivered.iter().map(|d| d.order_id.clone()).collect();
    let lines: HashMap<String, order_line::Model> = order_line::Entity::find()
        .filter(order_line::Column::Id.is_in(line_ids))
        .all(db)
        .await?
        .into_iter()
        .map(|l| (l.id.clone(), l))
        .collect();
    let orders: HashMap<String, order::Model> = order::Entity::find()
        .filter(order::Column::Id.is_in(order_ids))
        .all(db)
        .await?
        .into_iter()
        .map(|o| (o.id.clone(), o))
        .collect();
    let entries: Vec<String> = orders.values().filter_map(|o| o.payment_entry_id.clone()).collect();
    let mut commission: HashMap<String, i64> = HashMap::new();
    for l in ledger_line::Entity::find()
        .filter(ledger_line::Column::EntryId.is_in(entries))
        .filter(ledger_line::Column::Account.eq(PLATFORM_COMMISSION))
        .all(db)
        .await?
    {
        *commission.entry(l.entry_id).or_default() += l.credit_minor - l.debit_minor;
    }
    for d in delivered {
        let (Some(line), Some(o)) = (lines.get(&d.order_line_id), orders.get(&d.order_id)) else { continue };
        let Some(entry) = &o.payment_entry_id else { continue };
        if line.amount_minor == 0 {
            continue;
        }
        out.push(Source {
            kind: StatementLineKind::Sale,
            source_id: line.id.clone(),
            seller_id: line.seller_id.clone(),
            currency: line.currency.clone(),
            order_id: Some(o.id.clone()),
            buyer_id: o.buyer_id.clone(),
            product_id: line.product_id.clone(),
            settled_at: d.delivered_at,
            gross_minor: line.amount_minor,
            commission_minor: commission.get(entry).copied().unwrap_or_default(),
        });
    }

    // Usage rated into charges the buyer paid in the period.
    let charges: HashMap<String, usage_charge::Model> = usage_charge::Entity::find()
        .filter(usage_charge::Column::Status.eq("paid"))
        .filter(usage_charge::Column::PaidAt.gte(start))
        .filter(usage_charge::Column::PaidAt.lt(end))
        .all(db)
        .await?
        .into_iter()
        .map(|c| (c.id.clone(), c))
        .collect();
    let ids: Vec<String> = charges.keys().cloned().collect();
    for u in usage_line::Entity::find().filter(usage_line::Column::ChargeId.is_in(ids)).all(db).await? {
        let Some(charge) = u.charge_id.as_ref().and_then(|c| charges.get(c)) else { continue };
        if u.amount_minor == 0 {
            continue;
        }
        out.push(Source {
            kind: StatementLineKind::Usage,
            source_id: format!("{}@{}", u.instance_id, u.period_start.to_rfc3339()),
            seller_id: u.seller_id,
            currency: u.currency,
            order_id: None,
            buyer_id: u.buyer_id,
            product_id: u.product_id,
            settled_at: charge.paid_at.unwrap_or(charge.created_at),
            gross_minor: u.amount_minor,
            commission_minor: u.commission_minor,
        });
    }

    // Refunds of delivered purchases (unsubscribe): clawed back.
    let refunds = refund::Entity::find()
        .filter(refund::Column::CreatedAt.gte(start))
        .filter(refund::Column::CreatedAt.lt(end))
        .all(db)
        .await?;
    let refunded_lines: Vec<String> = refunds.iter().map(|r| r.order_line_id.clone()).collect();
    let refunded: HashMap<String, order_line::Model> = order_line::Entity::find()
        .filter(order_line::Column::Id.is_in(refunded_lines))
        .all(db)
        .await?
        .into_iter()
        .map(|l| (l.id.clone(), l))
        .collect();
    for r in refunds.into_iter().filter(|r| r.amount_minor > 0) {
        let Some(line) = refunded.get(&r.order_line_id) else { continue };
        out.push(Source {
            kind: StatementLineKind::Clawback,
            source_id: r.order_id.clone(),
            seller_id: line.seller_id.clone(),
            currency: r.currency,
            order_id: Some(r.order_id),
            buyer_id: r.buyer_id,
            product_id: line.product_id.clone(),
            settled_at: r.created_at,
            gross_minor: -r.amount_minor,
            commission_minor: -r.commission_minor,
        });
    }
    // Settled order; at one instant sales, then usage, then clawbacks.
    let rank = |k: StatementLineKind| StatementLineKind::ALL.iter().position(|x| *x == k);
    out.sort_by(|a, b| (a.settled_at, rank(a.kind), &a.source_id).cmp(&(b.settled_at, rank(b.kind), &b.source_id)));
    Ok(out)
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

pub async fn insert_statement(
    db: &impl ConnectionTrait,
    s: statement::Model,
    lines: Vec<statement_line::Model>,
) -> StoreResult<()> {
    let model: statement::ActiveModel = s.into();
    statement::Entity::insert(model.reset_all()).exec_without_returning(db).await?;
    for chunk in lines.chunks(500) {
        let models = chunk.iter().cloned().map(|l| statement_line::ActiveModel::from(l).reset_all());
        statement_line::Entity::insert_many(models).exec_without_returning(db).await?;
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
    let model: statement_event::ActiveModel = event.into();
    statement_event::Entity::insert(model.reset_all()).exec_without_returning(db).await?;
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

/// Filters of settled lines (transaction details).
#[derive(Debug, Clone, Default)]
pub struct LineFilter {
    pub period: Option<String>,
    pub order_id: Option<String>,
    pub buyer_id: Option<String>,
    pub product_id: Option<String>,
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
    let mut sq = statement::Entity::find();
    if let Some(s) = seller_id {
        sq = sq.filter(statement::Column::SellerId.eq(s));
    }
    if let Some(p) = &filter.period {
        sq = sq.filter(statement::Column::Period.eq(p.as_str()));
    }
    let statements: HashMap<String, statement::Model> =
        sq.all(db).await?.into_iter().map(|s| (s.id.clone(), s)).collect();
    let mut q = statement_line::Entity::find()
        .filter(statement_line::Column::StatementId.is_in(statements.keys().cloned().collect::<Vec<_>>()));
    if let Some(o) = &filter.order_id {
        q = q.filter(statement_line::Column::OrderId.eq(o.as_str()));
    }
    if let Some(b) = &filter.buyer_id {
        q = q.filter(statement_line::Column::BuyerId.eq(b.as_str()));
    }
    if let Some(p) = &filter.product_id {
        q = q.filter(statement_line::Column::ProductId.eq(p.as_str()));
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
    Ok(lines.into_iter().filter_map(|l| statements.get(&l.statement_id).cloned().map(|s| (s, l))).collect())
}

//! Settlement against the ledger, for `mercato ledger check` and the
//! operators' trial balance. For every statement: its lines add up to its
//! net; every line names the ledger entry its money moved in; the seller's
//! payable moved exactly the net in those entries (the sale's payment
//! credited it, the usage charge's credited it, the refund's debited it); a
//! paid statement has exactly one payout entry in force (payouts minus
//! returned ones) that took the net from the payable, any other has none.
//! Summed per period and currency: the statements' net equals the payable
//! movements settled into the period.

use mercato_domain::settlement::StatementStatus;
use mercato_store::error::StoreResult;
use mercato_store::repo::settlement as repo;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use utoipa::ToSchema;

/// One period and currency of settlement against the ledger.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct PeriodReconciliation {
    pub period: String,
    pub currency: String,
    pub statements: i64,
    /// Σ of the statements' net.
    pub net_minor: i64,
    /// Σ of what the sellers' payables moved in the settled lines' entries.
    pub ledger_net_minor: i64,
    pub paid: i64,
    /// Payout entries in force (posted minus returned).
    pub payouts_in_force: i64,
}

#[derive(Debug, Clone, Default)]
pub struct Reconciliation {
    pub periods: Vec<PeriodReconciliation>,
    pub problems: Vec<String>,
}

pub async fn reconcile(db: &impl mercato_store::Executor) -> StoreResult<Reconciliation> {
    let mut periods: BTreeMap<(String, String), PeriodReconciliation> = BTreeMap::new();
    let mut problems = Vec::new();
    for s in repo::reconciliation(db).await? {
        let id = &s.statement_id;
        if s.lines_net_minor != s.net_minor {
            problems
                .push(format!("statement {id}: its lines add up to {}, its net is {}", s.lines_net_minor, s.net_minor));
        }
        if s.unlinked_lines > 0 {
            problems.push(format!("statement {id}: {} line(s) name no ledger entry", s.unlinked_lines));
        }
        if s.ledger_net_minor != s.net_minor {
            problems.push(format!(
                "statement {id} ({}): net {} {} but the seller's payable moved {} in its lines' entries",
                s.period, s.net_minor, s.currency, s.ledger_net_minor
            ));
        }
        let in_force = s.payout_entries - s.returned_entries;
        let paid = s.status == StatementStatus::Paid;
        if paid && (in_force != 1 || s.payout_minor != s.net_minor) {
            problems.push(format!(
                "statement {id} is paid with {in_force} payout entr(ies) in force taking {} (net {})",
                s.payout_minor, s.net_minor
            ));
        }
        if !paid && in_force != 0 {
            problems.push(format!("statement {id} is {} but has {in_force} payout entr(ies) in force", s.status));
        }
        let p = periods.entry((s.period.clone(), s.currency.clone())).or_insert_with(|| PeriodReconciliation {
            period: s.period.clone(),
            currency: s.currency.clone(),
            statements: 0,
            net_minor: 0,
            ledger_net_minor: 0,
            paid: 0,
            payouts_in_force: 0,
        });
        p.statements += 1;
        p.net_minor += s.net_minor;
        p.ledger_net_minor += s.ledger_net_minor;
        p.paid += i64::from(paid);
        p.payouts_in_force += in_force;
    }
    Ok(Reconciliation { periods: periods.into_values().collect(), problems })
}

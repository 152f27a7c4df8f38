//! The four things a chaos run proves afterwards, each from the system's own
//! records: the marketplace's database, the reference seller's database,
//! and `mercato ledger check` run as a separate process.
//!
//! 1. **Every paid order reached a final state**: no order is left paid,
//!    fulfilling or failed-but-not-refunded, and every order the driver
//!    was told it paid exists and is completed or refunded (none lost).
//! 2. **Exactly one instance per order line** on the seller: every
//!    provisioned purchase has exactly one instance there, with the id the
//!    marketplace holds; a refunded purchase left no live instance; the
//!    seller has no instance for an order line the marketplace does not know.
//! 3. **Usage totals equal the records pushed**: as many records stored as
//!    were acknowledged, all valid, their sum equal to what was pushed, and
//!    all of them rated.
//! 4. **`mercato ledger check` is green.**

use super::node::{Store, run_to_end};
use mercato_domain::orders::{OrderStatus, SubscriptionStatus};
use mercato_isv::SellerStore;
use mercato_isv::store::InstanceStatus;
use mercato_store::Db;
use mercato_store::bench::{chaos as facts, rated, usage_records};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use std::path::Path;

/// One invariant's verdict, with the figures behind it.
#[derive(Debug, Clone, Serialize)]
pub struct Check {
    pub name: &'static str,
    pub ok: bool,
    pub detail: String,
}

impl Check {
    fn new(name: &'static str, problems: Vec<String>, fine: String) -> Check {
        match problems.len() {
            0 => Check { name, ok: true, detail: fine },
            n => {
                let shown: Vec<_> = problems.into_iter().take(5).collect();
                let more = if n > shown.len() { format!(" (and {} more)", n - shown.len()) } else { String::new() };
                Check { name, ok: false, detail: format!("{}{more}", shown.join("; ")) }
            }
        }
    }
}

/// What the seller's database holds, as figures.
#[derive(Debug, Default, Clone, Serialize)]
pub struct SellerFigures {
    pub instances: u64,
    pub released: u64,
    /// newInstance calls received (retries included) and the most one order
    /// line received.
    pub new_instance_calls: u64,
    pub max_calls_per_line: u64,
}

/// Check 1, over `paid` (the orders the driver was told it paid).
pub async fn orders_final(db: &Db, paid: &[String]) -> anyhow::Result<(Check, BTreeMap<String, u64>)> {
    let statuses = facts::order_statuses(db).await?;
    let mut by_status = BTreeMap::new();
    for s in statuses.values() {
        *by_status.entry(s.as_str().to_string()).or_insert(0u64) += 1;
    }
    let mut problems: Vec<String> =
        facts::paid_orders_not_final(db).await?.into_iter().map(|(id, s)| format!("order {id} is still {s}")).collect();
    for id in paid {
        if !statuses.contains_key(id) {
            problems.push(format!("order {id} was paid but is lost"));
        }
    }
    let final_ = |s: &str| by_status.get(s).copied().unwrap_or(0);
    let fine = format!(
        "{} orders paid by the driver; {} completed (auto-renewals included), {} refunded, none left open",
        paid.len(),
        final_(OrderStatus::Completed.as_str()),
        final_(OrderStatus::Refunded.as_str())
    );
    Ok((Check::new("every paid order reached a final state", problems, fine), by_status))
}

/// Check 2.
pub async fn one_instance_per_line(db: &Db, seller: &SellerStore) -> anyhow::Result<(Check, SellerFigures)> {
    let purchases = facts::purchases(db).await?;
    // Test instances are the debug runs' (the conformance checker's), not orders'.
    let instances: Vec<_> = seller.all_instances().await?.into_iter().filter(|i| !i.test_flag).collect();
    let calls = seller.new_instance_calls().await?;
    let figures = SellerFigures {
        instances: instances.len() as u64,
        released: instances.iter().filter(|i| i.status == InstanceStatus::Released).count() as u64,
        new_instance_calls: calls.iter().map(|(_, n)| *n as u64).sum(),
        max_calls_per_line: calls.iter().map(|(_, n)| *n as u64).max().unwrap_or(0),
    };
    let mut at_seller: HashMap<(&str, &str), Vec<&mercato_isv::store::Instance>> = HashMap::new();
    for i in &instances {
        at_seller.entry((i.order_id.as_str(), i.order_line_id.as_str())).or_default().push(i);
    }
    let mut problems = Vec::new();
    let mut provisioned = 0;
    for p in &purchases {
        let line = p.order_line_id.as_str();
        let held = at_seller.remove(&(p.order_id.as_str(), line)).unwrap_or_default();
        let live: Vec<_> = held.iter().filter(|i| i.status != InstanceStatus::Released).collect();
        match (p.status, &p.instance_id) {
            (SubscriptionStatus::Provisioning, _) => problems.push(format!("order line {line} is still provisioning")),
            (SubscriptionStatus::Failed, _) if !live.is_empty() => problems
                .push(format!("order line {line} was refunded, but the seller still holds {}", live[0].instance_id)),
            (SubscriptionStatus::Failed, _) => {}
            (_, None) => problems.push(format!("order line {line} is {} without an instance", p.status)),
            (_, Some(id)) => {
                provisioned += 1;
                match held.as_slice() {
                    [one] if &one.instance_id == id => {}
                    [] => problems.push(format!("order line {line} has instance {id}, the seller has none")),
                    [one] => problems
                        .push(format!("order line {line} has instance {id}, the seller has {}", one.instance_id)),
                    many => problems.push(format!("order line {line} has {} instances at the seller", many.len())),
                }
            }
        }
    }
    for ((_, line), held) in at_seller {
        problems.push(format!(
            "the seller holds {} for order line {line}, unknown to the marketplace",
            held[0].instance_id
        ));
    }
    let fine = format!(
        "{provisioned} provisioned order lines, one instance each at the seller ({} newInstance calls, at most {} for one line)",
        figures.new_instance_calls, figures.max_calls_per_line
    );
    Ok((Check::new("exactly one instance per order line", problems, fine), figures))
}

/// Check 3, against `records` acknowledged with values summing to `e4`.
pub async fn usage_totals(db: &Db, records: u64, e4: i64) -> anyhow::Result<Check> {
    let by_status = usage_records::usage_records_by_status(db).await?;
    let valid = usage_records::valid_usage_totals(db).await?;
    let lines = rated::usage_lines(db).await?;
    let rated_records: i64 = lines.iter().map(|l| l.records).sum();
    let rated_e4: i64 = lines.iter().map(|l| l.quantity_e4).sum();
    let stored: u64 = by_status.values().sum();
    let mut problems = Vec::new();
    if stored != records {
        problems.push(format!("{records} records pushed, {stored} stored"));
    }
    let not_valid: Vec<_> = by_status.iter().filter(|(s, _)| s.as_str() != "valid").collect();
    if !not_valid.is_empty() {
        problems.push(format!("records not valid: {not_valid:?}"));
    }
    if valid.usage_e4 != e4 {
        problems.push(format!("pushed Σ {}, valid Σ {}", units(e4), units(valid.usage_e4)));
    }
    if rated_records as u64 != valid.rows || rated_e4 != valid.usage_e4 {
        problems.push(format!(
            "{} valid records (Σ {}), {rated_records} rated (Σ {})",
            valid.rows,
            units(valid.usage_e4),
            units(rated_e4)
        ));
    }
    let fine = format!("{records} records pushed, stored, valid and rated; Σ {} GB each way", units(e4));
    Ok(Check::new("usage totals equal the records pushed", problems, fine))
}

/// 0.0001 units as a decimal.
fn units(e4: i64) -> String {
    format!("{}.{:04}", e4 / 10_000, (e4 % 10_000).abs())
}

/// Check 4: `mercato ledger check` on the store, as its own process.
pub fn ledger(work_dir: &Path, store: &Store) -> Check {
    let name = "mercato ledger check is green";
    match run_to_end(work_dir, store, &["ledger", "check"]) {
        Ok((ok, out)) => {
            let summary = out.lines().filter(|l| !l.trim().is_empty()).collect::<Vec<_>>().join(" / ");
            Check { name, ok, detail: summary }
        }
        Err(e) => Check { name, ok: false, detail: format!("{e:#}") },
    }
}

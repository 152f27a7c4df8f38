//! Rating and charging pay-per-use usage, period by period (rules:
//! `mercato_domain::rating`).
//!
//! **When a period is rated.** A period of a billing kind (hourly, daily) is
//! final once it is closed (`CloseRule`, configurable) and every record
//! received before its close is validated (no 'received' record older than
//! the close). Each billing kind keeps a mark (`usage_rating_marks`): every
//! period before it is rated. [`rate_due`] rates the periods after the mark
//! oldest first, each in ONE write transaction that writes its lines, the
//! package draws, the buyers' charges and ledger entries, any freeze, and
//! moves the mark. Under the rating lock (PostgreSQL advisory lock; SQLite
//! write transactions are serial), a second node or a repeated run finds the
//! mark moved and rates nothing: a period is charged exactly once. Empty
//! stretches are skipped in one step (see `next_period`).
//!
//! **Lines.** One per instance with valid usage in the period. The buyer's
//! quota packages of the same product cover it first, earliest-expiring
//! first; an on-demand instance's overage is priced at its SKU's unit price,
//! rounded once per line; a package's own instance (records naming a
//! `relate_pkg_instance` on an on_demand_pkg instance: a package that stops
//! when used up) is never charged: when its package is used up it is frozen
//! (`frozen_for = 'package_used_up'`, updateInstanceStatus FREEZE).
//!
//! **Charges.** A buyer's lines with an amount in one period and currency
//! make one charge, paid by one `usage_charge` ledger entry (wallet -> each
//! seller's payable + the platform's commission at the product's rate). A
//! wallet that cannot pay, or a buyer who already owes, leaves the charge in
//! 'arrears' and freezes the buyer's on-demand instances in it
//! (`frozen_for = 'arrears'`, FREEZE through the outbox). A wallet top-up
//! pays the arrears oldest first ([`settle_arrears`], in the top-up's
//! transaction); once nothing is owed the instances frozen for arrears are
//! unfrozen (UNFREEZE through the outbox).

use crate::app::error::{AppError, AppResult};
use crate::app::orders::transition_subscription;
use crate::app::subscriptions::lifecycle::{FREEZE_INSTANCE, UNFREEZE_INSTANCE, enqueue_status_call};
use crate::state::AppState;
use chrono::{DateTime, Duration, Utc};
use mercato_domain::catalog::{Billing, ChargingMode, Cooperation, ProductType, SkuSpec};
use mercato_domain::ids::UsageChargeId;
use mercato_domain::ledger::{Entry, EntryKind, Line, PLATFORM_COMMISSION, buyer_wallet, seller_payable};
use mercato_domain::orders::{SubscriptionEvent, SubscriptionStatus};
use mercato_domain::rating::{self, PackageBalance};
use mercato_domain::usage::InstanceFacts;
use mercato_store::entity::{order_line, subscription, usage_charge, usage_line, usage_package, usage_package_draw};
use mercato_store::error::StoreResult;
use mercato_store::repo::orders::spec_line_id;
use mercato_store::repo::usage as usage_repo;
use mercato_store::repo::usage_rating::{self as repo, CHARGE_ARREARS, CHARGE_PAID, PeriodBounds};
use mercato_store::{Executor, Tx, savepoint};
use std::collections::{BTreeMap, HashMap, HashSet};

/// What one [`rate_due`] pass did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct RatingReport {
    /// Periods rated (hourly and daily, empty ones included).
    pub periods: u64,
    /// Usage records rated.
    pub records: u64,
    /// Lines written (one per instance and period with usage).
    pub lines: u64,
    /// Charges paid from wallets.
    pub paid: u64,
    /// Charges left in arrears.
    pub arrears: u64,
}

impl RatingReport {
    fn add(&mut self, o: RatingReport) {
        self.periods += o.periods;
        self.records += o.records;
        self.lines += o.lines;
        self.paid += o.paid;
        self.arrears += o.arrears;
    }
}

/// Why usage froze a subscription (`subscriptions.frozen_for`).
pub const FROZEN_FOR_ARREARS: &str = "arrears";
pub const FROZEN_FOR_PACKAGE_USED_UP: &str = "package_used_up";

/// The periodic task that rates and charges closed periods.
pub const RATE_TASK: &str = "usage_rate";

/// Rates and charges every closed period whose records are all validated,
/// oldest first, each period in one write transaction. Safe to run on
/// several nodes at once: a period is rated and charged exactly once.
pub async fn rate_due(state: &AppState) -> AppResult<RatingReport> {
    let mut report = RatingReport::default();
    for billing in Billing::ALL {
        while let Some(r) = rate_next(state, *billing).await? {
            report.add(r);
        }
    }
    if report.arrears > 0 || report.lines > 0 {
        crate::app::outbox::wake(state);
    }
    Ok(report)
}

/// How far back an unrated mark starts: older records cannot be valid.
const FIRST_MARK_DAYS: i64 = mercato_domain::usage::MAX_AGE_DAYS + 1;

/// Rates the next final period of `billing`, if there is one.
async fn rate_next(state: &AppState, billing: Billing) -> AppResult<Option<RatingReport>> {
    let now = state.now();
    let close = state.config.close_rule();
    let tx = state.db.write().await?;
    repo::lock_rating(&tx).await?;
    let Some(start) = next_period(&tx, billing, &close, now).await? else {
        tx.commit().await?;
        return Ok(None);
    };
    let end = start + rating::period_length(billing);
    let bounds = PeriodBounds { billing, start, end, closes_at: close.closes_at(billing, start) };
    let report = rate_period(&tx, bounds, now).await?;
    repo::set_rated_until(&tx, billing, end).await?;
    tx.commit().await?;
    Ok(Some(report))
}

/// The first period of `billing` after the mark that is final and may hold
/// records; moves the mark over empty final periods on the way. None when
/// nothing final is left.
async fn next_period(
    tx: &Tx,
    billing: Billing,
    close: &rating::CloseRule,
    now: DateTime<Utc>,
) -> StoreResult<Option<DateTime<Utc>>> {
    let len = rating::period_length(billing);
    let grace = close.closes_at(billing, now) - rating::period_length(billing) - now;
    // Final periods close no later than the oldest unvalidated record.
    let horizon = repo::oldest_received(tx).await?.map_or(now, |t| t.min(now));
    let first_open = rating::period_start(billing, horizon - len - grace) + len;
    let mark = match repo::rated_until(tx, billing).await? {
        Some(m) => m,
        None => rating::period_start(billing, now - Duration::days(FIRST_MARK_DAYS)),
    };
    if mark >= first_open {
        return Ok(None);
    }
    // A record of period P is received before P closes, so no period ending
    // more than one close-grace before the first valid record received
    // since the mark holds any: skip them.
    let start = match repo::first_valid_received(tx, billing, mark).await? {
        Some(r) => mark.max(rating::period_start(billing, r - len - grace)),
        None => first_open,
    };
    if start >= first_open {
        repo::set_rated_until(tx, billing, first_open).await?;
        return Ok(None);
    }
    Ok(Some(start))
}

/// An instance as rating and validation see it: its subscription, the order
/// line of its current specification and that line's SKU.
pub(crate) struct Instance {
    pub sub: subscription::Model,
    pub line: order_line::Model,
    pub spec: SkuSpec,
}

impl Instance {
    fn billing(&self) -> Billing {
        self.spec.metering.as_ref().map_or(Billing::Hourly, |m| m.billing)
    }
}

/// The instances with these ids (unknown ids are left out).
pub(crate) async fn instances(db: &impl Executor, ids: &[String]) -> StoreResult<HashMap<String, Instance>> {
    let subs = usage_repo::subscriptions_of_instances(db, ids).await?;
    let subs: Vec<subscription::Model> = subs.into_iter().filter(|s| s.instance_id.is_some()).collect();
    specs_of(db, subs).await.map(|v| {
        v.into_iter().filter_map(|i| Some((i.sub.instance_id.clone()?, i))).collect::<HashMap<String, Instance>>()
    })
}

/// Joins subscriptions with their current specification lines.
async fn specs_of(db: &impl Executor, subs: Vec<subscription::Model>) -> StoreResult<Vec<Instance>> {
    let line_ids: Vec<String> = subs.iter().map(|s| spec_line_id(s).to_string()).collect();
    let mut lines: HashMap<String, order_line::Model> =
        repo::order_lines(db, &line_ids).await?.into_iter().map(|l| (l.id.clone(), l)).collect();
    let mut out = Vec::with_capacity(subs.len());
    for sub in subs {
        let Some(line) = lines.remove(spec_line_id(&sub)) else { continue };
        let spec = line.sku_spec.clone();
        out.push(Instance { sub, line, spec });
    }
    Ok(out)
}

/// What the validator needs of the instances with these ids.
pub(crate) async fn instance_facts(db: &impl Executor, ids: &[String]) -> StoreResult<HashMap<String, InstanceFacts>> {
    Ok(instances(db, ids)
        .await?
        .into_iter()
        .map(|(id, i)| {
            let billing = i.billing();
            let released_at = (i.sub.status == SubscriptionStatus::Released).then_some(i.sub.updated_at);
            let facts = InstanceFacts {
                seller_id: i.sub.seller_id,
                buyer_id: i.sub.buyer_id,
                product_id: i.sub.product_id,
                charging_mode: i.sub.charging_mode,
                billing,
                starts_at: i.sub.starts_at,
                released_at,
            };
            (id, facts)
        })
        .collect())
}

/// A line being rated, with what the charge needs.
struct Rated {
    line: usage_line::Model,
    cooperation: Cooperation,
    product_type: ProductType,
}

/// Rates one final period in `tx`: lines, draws, charges, freezes.
async fn rate_period(tx: &Tx, p: PeriodBounds, now: DateTime<Utc>) -> AppResult<RatingReport> {
    let mut report = RatingReport { periods: 1, ..RatingReport::default() };
    let usage = repo::period_usage(tx, p).await?;
    if usage.is_empty() {
        return Ok(report);
    }
    let ids: Vec<String> = usage.iter().map(|u| u.instance_id.clone()).collect();
    let instances = instances(tx, &ids).await?;
    let mut packages = Packages::load(tx, instances.values(), p.start, p.end).await?;
    let mut rated: Vec<Rated> = Vec::with_capacity(usage.len());
    let mut draws = Vec::new();
    let mut used_up: Vec<&subscription::Model> = Vec::new();
    for u in &usage {
        let Some(inst) = instances.get(&u.instance_id) else {
            // Validated against a subscription that no longer exists: keep
            // the money rules honest and leave the usage unrated, loudly.
            tracing::error!(instance = %u.instance_id, period = %p.start, "usage of an unknown instance not rated");
            continue;
        };
        let key = (inst.sub.buyer_id.clone(), inst.sub.product_id.clone());
        let pool = packages.balances.entry(key).or_default();
        let own_package = inst.sub.charging_mode == ChargingMode::OnDemandPkg;
        let draw = if own_package {
            // A package's own instance uses that package only.
            match pool.iter().position(|b| b.id == inst.sub.id) {
                Some(i) => rating::draw(u.quantity_e4, std::slice::from_mut(&mut pool[i])),
                None => rating::draw(u.quantity_e4, &mut []),
            }
        } else {
            rating::draw(u.quantity_e4, pool)
        };
        for (package_id, q) in &draw.taken {
            *packages.used.entry(package_id.clone()).or_default() += q;
            draws.push(usage_package_draw::Model {
                package_id: package_id.clone(),
                instance_id: u.instance_id.clone(),
                period_start: p.start,
                quantity_e4: *q,
            });
        }
        let (unit_price, amount_minor) = match (inst.sub.charging_mode, &inst.spec.metering) {
            (ChargingMode::OnDemand, Some(m)) => {
                let price = rating::parse_unit_price(&m.unit_price)
                    .map_err(|e| AppError::internal(format!("unit price of {}: {e}", inst.line.id)))?;
                let exponent = mercato_domain::money::exponent(&inst.line.currency)
                    .ok_or_else(|| AppError::internal(format!("currency {}", inst.line.currency)))?;
                let amount = rating::amount_minor(draw.overage_e4, price, exponent)
                    .ok_or_else(|| AppError::internal(format!("usage amount of {} overflows", u.instance_id)))?;
                (Some(m.unit_price.clone()), amount)
            }
            _ => {
                // A package's own instance: it stops when used up.
                if packages.remaining(&inst.sub.id) <= 0 {
                    used_up.push(&inst.sub);
                }
                (None, 0)
            }
        };
        report.records += u.records as u64;
        rated.push(Rated {
            line: usage_line::Model {
                instance_id: u.instance_id.clone(),
                period_start: p.start,
                billing: p.billing,
                subscription_id: inst.sub.id.clone(),
                buyer_id: inst.sub.buyer_id.clone(),
                seller_id: inst.sub.seller_id.clone(),
                product_id: inst.sub.product_id.clone(),
                records: u.records,
                quantity_e4: u.quantity_e4,
                package_e4: draw.covered_e4(),
                overage_e4: draw.overage_e4,
                unit_price,
                amount_minor,
                commission_minor: 0,
                currency: inst.line.currency.clone(),
                charge_id: None,
                rated_at: now,
            },
            cooperation: inst.line.cooperation,
            product_type: inst.line.product_type,
        });
    }
    let charged = charge(tx, &mut rated, p, now).await?;
    report.paid = charged.paid;
    report.arrears = charged.arrears;
    report.lines = rated.len() as u64;
    repo::insert_lines(tx, rated.into_iter().map(|r| r.line).collect()).await?;
    repo::insert_draws(tx, draws).await?;
    for (id, used) in &packages.used {
        repo::add_package_use(tx, id, *used).await?;
    }
    for sub in used_up {
        freeze(tx, sub, FROZEN_FOR_PACKAGE_USED_UP, &format!("{}:package-used-up", sub.id), now).await?;
    }
    let subs: HashMap<&str, &subscription::Model> = instances.values().map(|i| (i.sub.id.as_str(), &i.sub)).collect();
    for (sub_id, charge_id) in charged.freeze {
        if let Some(sub) = subs.get(sub_id.as_str()) {
            freeze(tx, sub, FROZEN_FOR_ARREARS, &format!("{sub_id}:arrears:{charge_id}"), now).await?;
        }
    }
    Ok(report)
}

/// The packages lines of one period may draw on.
struct Packages {
    /// Per (buyer, product): the balances left.
    balances: HashMap<(String, String), Vec<PackageBalance>>,
    /// Drawn in this period, per package.
    used: BTreeMap<String, i64>,
}

impl Packages {
    async fn load<'a>(
        tx: &Tx,
        instances: impl Iterator<Item = &'a Instance>,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> AppResult<Packages> {
        let (mut buyers, mut products) = (HashSet::new(), HashSet::new());
        for i in instances {
            buyers.insert(i.sub.buyer_id.clone());
            products.insert(i.sub.product_id.clone());
        }
        let (buyers, products): (Vec<String>, Vec<String>) =
            (buyers.into_iter().collect(), products.into_iter().collect());
        let subs = repo::package_subscriptions(tx, &buyers, &products, from, to).await?;
        let subs = specs_of(tx, subs).await?;
        let ids: Vec<String> = subs.iter().map(|i| i.sub.id.clone()).collect();
        let mut known: HashMap<String, usage_package::Model> =
            repo::packages(tx, &ids).await?.into_iter().map(|p| (p.subscription_id.clone(), p)).collect();
        let mut new_rows = Vec::new();
        for i in &subs {
            if known.contains_key(&i.sub.id) {
                continue;
            }
            let (Some(pkg), Some(expires_at)) = (&i.spec.package, i.sub.expires_at) else { continue };
            // Quotas have at most 4 decimals (QUOTA_SCALE), like usage values.
            let quota_e4 = mercato_domain::usage::parse_usage_value(&pkg.quota)
                .map_err(|e| AppError::internal(format!("package quota of {}: {e}", i.line.id)))?;
            let row = usage_package::Model {
                subscription_id: i.sub.id.clone(),
                buyer_id: i.sub.buyer_id.clone(),
                product_id: i.sub.product_id.clone(),
                instance_id: i.sub.instance_id.clone(),
                quota_e4,
                used_e4: 0,
                starts_at: i.sub.starts_at,
                expires_at,
            };
            known.insert(row.subscription_id.clone(), row.clone());
            new_rows.push(row);
        }
        repo::insert_packages(tx, new_rows).await?;
        let mut balances: HashMap<(String, String), Vec<PackageBalance>> = HashMap::new();
        for p in known.into_values() {
            balances.entry((p.buyer_id.clone(), p.product_id.clone())).or_default().push(PackageBalance {
                id: p.subscription_id,
                expires_at: p.expires_at,
                remaining_e4: p.quota_e4 - p.used_e4,
            });
        }
        Ok(Packages { balances, used: BTreeMap::new() })
    }

    /// What is left of package `id` after this period's draws so far.
    fn remaining(&self, id: &str) -> i64 {
        self.balances.values().flatten().find(|b| b.id == id).map_or(0, |b| b.remaining_e4)
    }
}

/// What charging one period did.
#[derive(Default)]
struct Charged {
    paid: u64,
    arrears: u64,
    /// (subscription id, charge id) to freeze for arrears.
    freeze: Vec<(String, String)>,
}

/// Groups the period's lines with an amount into one charge per buyer and
/// currency, sets each line's commission and charge id, pays each charge
/// from the wallet or leaves it in arrears, and stores the charges.
async fn charge(tx: &Tx, rated: &mut [Rated], p: PeriodBounds, now: DateTime<Utc>) -> AppResult<Charged> {
    let mut rates: HashMap<(ProductType, Cooperation), i64> = HashMap::new();
    let mut groups: BTreeMap<(String, String), Vec<usize>> = BTreeMap::new();
    for (n, r) in rated.iter_mut().enumerate() {
        if r.line.amount_minor == 0 {
            continue;
        }
        let key = (r.product_type, r.cooperation);
        let rate_bp = match rates.get(&key) {
            Some(bp) => *bp,
            None => {
                let bp = crate::app::ledger::commission_rate(tx, key.0, key.1).await?;
                rates.insert(key, bp);
                bp
            }
        };
        let (_, commission) = mercato_domain::ledger::split_commission(r.line.amount_minor, rate_bp)
            .map_err(|e| AppError::internal(e.to_string()))?;
        r.line.commission_minor = commission;
        groups.entry((r.line.buyer_id.clone(), r.line.currency.clone())).or_default().push(n);
    }
    let buyers: Vec<String> = groups.keys().map(|(b, _)| b.clone()).collect();
    let owing: HashSet<String> = repo::buyers_in_arrears(tx, &buyers).await?.into_iter().collect();
    let mut out = Charged::default();
    let mut charges = Vec::with_capacity(groups.len());
    for ((buyer_id, currency), members) in groups {
        let id = String::from(UsageChargeId::new());
        let parts: Vec<&usage_line::Model> = members.iter().map(|n| &rated[*n].line).collect();
        let amount_minor: i64 = parts.iter().map(|l| l.amount_minor).sum();
        // A buyer who owes pays the older debt first (at the next top-up).
        let entry_id = if owing.contains(&buyer_id) {
            None
        } else {
            let entry = charge_entry(&id, &buyer_id, &currency, p.billing, p.start, &parts)?;
            try_pay(tx, &entry, now).await?
        };
        let status = if entry_id.is_some() { CHARGE_PAID } else { CHARGE_ARREARS };
        if entry_id.is_some() {
            out.paid += 1;
        } else {
            out.arrears += 1;
            let mut subs: Vec<String> = parts.iter().map(|l| l.subscription_id.clone()).collect();
            subs.sort_unstable();
            subs.dedup();
            out.freeze.extend(subs.into_iter().map(|s| (s, id.clone())));
        }
        for n in &members {
            rated[*n].line.charge_id = Some(id.clone());
        }
        charges.push(usage_charge::Model {
            id,
            buyer_id,
            billing: p.billing,
            period_start: p.start,
            currency,
            amount_minor,
            status: status.to_string(),
            paid_at: entry_id.is_some().then_some(now),
            entry_id,
            created_at: now,
        });
    }
    repo::insert_charges(tx, charges).await?;
    Ok(out)
}

/// Posts `entry` in a savepoint of `tx`: Some(entry id) when the wallet
/// paid, None when it cannot (nothing of the attempt is kept).
async fn try_pay(tx: &Tx, entry: &Entry, now: DateTime<Utc>) -> AppResult<Option<String>> {
    let savepoint = savepoint(tx).await?;
    match crate::app::ledger::post_entry(&savepoint, entry, now).await {
        Ok(id) => {
            savepoint.commit().await?;
            Ok(Some(id))
        }
        Err(e) if e.code() == "insufficient_funds" => Ok(None),
        Err(e) => Err(e),
    }
}

/// The ledger entry of a charge: the buyer's wallet pays every line; each
/// seller's payable takes its lines less commission; the platform the
/// commission.
fn charge_entry(
    charge_id: &str,
    buyer_id: &str,
    currency: &str,
    billing: Billing,
    period_start: DateTime<Utc>,
    lines: &[&usage_line::Model],
) -> AppResult<Entry> {
    let total: i64 = lines.iter().map(|l| l.amount_minor).sum();
    let commission: i64 = lines.iter().map(|l| l.commission_minor).sum();
    let mut sellers: BTreeMap<&str, i64> = BTreeMap::new();
    for l in lines {
        *sellers.entry(&l.seller_id).or_default() += l.amount_minor - l.commission_minor;
    }
    let mut entry_lines = vec![Line::debit(buyer_wallet(buyer_id), currency, total)];
    for (seller, part) in sellers {
        if part > 0 {
            entry_lines.push(Line::credit(seller_payable(seller), currency, part));
        }
    }
    if commission > 0 {
        entry_lines.push(Line::credit(PLATFORM_COMMISSION, currency, commission));
    }
    let memo = format!("usage charge, {billing} period from {}", period_start.to_rfc3339());
    Entry::new(EntryKind::UsageCharge, charge_id, memo, entry_lines).map_err(|e| AppError::internal(e.to_string()))
}

/// Freezes an active subscription for usage (`why`) and enqueues
/// updateInstanceStatus FREEZE; one already frozen or released is left as
/// it is.
async fn freeze(tx: &Tx, sub: &subscription::Model, why: &str, reference: &str, now: DateTime<Utc>) -> AppResult<()> {
    match transition_subscription(tx, &sub.id, SubscriptionEvent::Freeze, now).await {
        Ok(_) => {}
        Err(e) if e.code() == "invalid_transition" => return Ok(()),
        Err(e) => return Err(e),
    }
    repo::set_frozen_for(tx, &sub.id, Some(why)).await?;
    enqueue_status_call(tx, sub, FREEZE_INSTANCE, reference, now).await
}

/// What a top-up settled.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Settled {
    /// Arrears charges paid now.
    pub paid: u64,
    /// Subscriptions unfrozen because nothing is owed any more.
    pub unfrozen: u64,
}

/// Pays the buyer's arrears in `currency` oldest first, in the caller's
/// transaction (the top-up's), as far as the wallet reaches; when the buyer
/// owes nothing more, unfreezes the subscriptions usage froze for arrears.
/// Each charge is marked paid before its entry is posted, conditionally on
/// still being in arrears, so two concurrent top-ups pay it once.
pub async fn settle_arrears(tx: &Tx, buyer_id: &str, currency: &str, now: DateTime<Utc>) -> AppResult<Settled> {
    let mut out = Settled::default();
    let mut last_paid = None;
    for c in repo::arrears(tx, buyer_id, Some(currency)).await? {
        let lines = repo::lines_of_charge(tx, &c.id).await?;
        let parts: Vec<&usage_line::Model> = lines.iter().collect();
        let entry = charge_entry(&c.id, buyer_id, currency, c.billing, c.period_start, &parts)?;
        let savepoint = savepoint(tx).await?;
        // Claim the charge first (its row lock orders concurrent top-ups),
        // then post and record the entry.
        if !repo::claim_arrears(&savepoint, &c.id, now).await? {
            continue;
        }
        match crate::app::ledger::post_entry(&savepoint, &entry, now).await {
            Ok(entry_id) => {
                repo::set_entry(&savepoint, &c.id, &entry_id).await?;
                savepoint.commit().await?;
                out.paid += 1;
                last_paid = Some(c.id.clone());
            }
            Err(e) if e.code() == "insufficient_funds" => break,
            Err(e) => return Err(e),
        }
    }
    let Some(last_paid) = last_paid else { return Ok(out) };
    if !repo::arrears(tx, buyer_id, None).await?.is_empty() {
        return Ok(out);
    }
    for sub in repo::frozen_for(tx, buyer_id, FROZEN_FOR_ARREARS).await? {
        match transition_subscription(tx, &sub.id, SubscriptionEvent::Unfreeze, now).await {
            Ok(_) => {}
            Err(e) if e.code() == "invalid_transition" => continue,
            Err(e) => return Err(e),
        }
        repo::set_frozen_for(tx, &sub.id, None).await?;
        let reference = format!("{}:arrears-paid:{last_paid}", sub.id);
        enqueue_status_call(tx, &sub, UNFREEZE_INSTANCE, &reference, now).await?;
        out.unfrozen += 1;
    }
    Ok(out)
}

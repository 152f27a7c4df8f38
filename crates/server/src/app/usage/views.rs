//! What rated pay-per-use usage looks like to buyers and sellers: usage per
//! period of one subscription (buyer) or instance (seller), the buyer's usage
//! charges with their lines, and the buyer's quota packages.
//!
//! Rules:
//! - Only rated periods appear (rows of `usage_lines`, written by
//!   [`crate::app::usage::rating`] once a period closes); a period without
//!   valid usage has no item.
//! - `granularity` is `hour` or `day` and defaults to the SKU's billing.
//!   `day` sums the hourly lines of each UTC day; `hour` on a daily-billed
//!   subscription is a 409 `granularity_unavailable` (its usage is only
//!   known per day: the subscription decides, not the request's shape).
//! - `from` / `to` are RFC 3339 times, `to` exclusive; `to` defaults to the
//!   marketplace clock and `from` to 7 days before `to`. A range that ends
//!   at or before it starts is empty (no items, `to` = `from`); one longer
//!   than [`MAX_RANGE_DAYS`] days is answered for its first
//!   [`MAX_RANGE_DAYS`] days (ask again from the answer's `to`). Both are
//!   then widened to whole periods of the granularity (`from` down, `to`
//!   up), so every item is a complete period and the answer says which
//!   range it covers. At most 94 x 24 items, so the answer is not paged.
//! - Quantities are decimal text with at most 4 decimals; amounts are integer
//!   minor units summed from the lines (each line was rounded once when it
//!   was rated, so a day's amount is the sum of its hours' amounts).
//! - Another buyer's subscription or charge, another seller's instance: 404,
//!   as for one that does not exist.

use crate::app::error::{AppError, AppResult, Refusal};
use crate::app::page::{Page, Paging};
use crate::state::AppState;
use chrono::{DateTime, Duration, DurationRound, Utc};
use mercato_domain::catalog::{Billing, ChargingMode, SkuSpec};
use mercato_domain::orders::SubscriptionStatus;
use mercato_domain::usage::{format_usage_e4, parse_usage_value};
use mercato_domain::validation::Checker;
use mercato_store::entity::{order_line, subscription, usage_charge, usage_line};
use mercato_store::repo::orders as orders_repo;
use mercato_store::repo::usage_views as repo;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use utoipa::{IntoParams, ToSchema};

/// The longest range one request may ask for.
pub const MAX_RANGE_DAYS: i64 = 93;
/// The range asked for when `from` is absent: this many days before `to`.
pub const DEFAULT_RANGE_DAYS: i64 = 7;

/// How usage is grouped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Granularity {
    Hour,
    Day,
}

impl Granularity {
    fn length(self) -> Duration {
        match self {
            Granularity::Hour => Duration::hours(1),
            Granularity::Day => Duration::days(1),
        }
    }

    fn of(billing: Billing) -> Granularity {
        match billing {
            Billing::Hourly => Granularity::Hour,
            Billing::Daily => Granularity::Day,
        }
    }
}

/// The time range and grouping of a usage view.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UsageRangeParams {
    /// `hour` or `day`; default: the SKU's billing (`day` sums hours into UTC days).
    #[serde(default)]
    pub granularity: Option<Granularity>,
    /// RFC 3339 start (inclusive); default: 7 days before `to`.
    #[serde(default)]
    #[param(value_type = Option<DateTime<Utc>>)]
    pub from: Option<String>,
    /// RFC 3339 end (exclusive); default: now. At most 93 days after `from`
    /// are answered (the answer's `to` says where it stops); a `to` at or
    /// before `from` is an empty range.
    #[serde(default)]
    #[param(value_type = Option<DateTime<Utc>>)]
    pub to: Option<String>,
}

/// Usage in one period (an hour or a UTC day).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct UsagePeriodView {
    pub period_start: DateTime<Utc>,
    /// Exclusive.
    pub period_end: DateTime<Utc>,
    /// Valid usage records rated in the period.
    pub records: i64,
    /// All usage, decimal text with at most 4 decimals, in the SKU's unit.
    #[schema(example = "12.3456")]
    pub quantity: String,
    /// The part quota packages covered.
    pub package_quantity: String,
    /// The part charged at the unit price (or, on a package's own instance, not covered).
    pub overage_quantity: String,
    /// What the overage cost.
    pub amount_minor: i64,
    pub currency: String,
}

/// A seller's view of one period of an instance's usage: the buyer's view
/// plus whose it is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct SellerUsagePeriodView {
    #[serde(flatten)]
    pub period: UsagePeriodView,
    pub buyer_id: String,
    pub subscription_id: String,
}

/// The sums of the items of a usage view.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct UsageTotalView {
    pub records: i64,
    pub quantity: String,
    pub package_quantity: String,
    pub overage_quantity: String,
    pub amount_minor: i64,
    pub currency: String,
}

/// A buyer's usage of one pay-per-use subscription.
#[derive(Debug, Serialize, ToSchema)]
pub struct SubscriptionUsageView {
    pub subscription_id: String,
    pub instance_id: Option<String>,
    pub product_id: String,
    /// How the SKU is billed: `hourly` or `daily`.
    pub billing: Billing,
    pub granularity: Granularity,
    /// The range covered (widened to whole periods).
    pub from: DateTime<Utc>,
    /// Exclusive.
    pub to: DateTime<Utc>,
    /// Periods with rated usage, oldest first.
    pub items: Vec<UsagePeriodView>,
    pub total: UsageTotalView,
}

/// A seller's usage of one of its instances.
#[derive(Debug, Serialize, ToSchema)]
pub struct InstanceUsageView {
    pub instance_id: String,
    pub subscription_id: String,
    pub buyer_id: String,
    pub product_id: String,
    /// `hourly` or `daily`.
    pub billing: Billing,
    pub granularity: Granularity,
    pub from: DateTime<Utc>,
    /// Exclusive.
    pub to: DateTime<Utc>,
    /// Periods with rated usage, oldest first.
    pub items: Vec<SellerUsagePeriodView>,
    pub total: UsageTotalView,
}

/// A resolved range: whole periods of `granularity` in `[from, to)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Range {
    granularity: Granularity,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
}

fn parse_time(c: &mut Checker, field: &str, text: Option<&str>) -> Option<Option<DateTime<Utc>>> {
    match text.map(str::trim).filter(|t| !t.is_empty()) {
        None => Some(None),
        Some(t) => match DateTime::parse_from_rfc3339(t) {
            Ok(v) => Some(Some(v.with_timezone(&Utc))),
            Err(_) => {
                c.add(field, "must be an RFC 3339 time such as 2026-11-22T00:00:00Z");
                None
            }
        },
    }
}

fn trunc(t: DateTime<Utc>, g: Granularity) -> DateTime<Utc> {
    t.duration_trunc(g.length()).unwrap_or(t)
}

fn round_up(t: DateTime<Utc>, g: Granularity) -> DateTime<Utc> {
    let down = trunc(t, g);
    if down == t { t } else { down + g.length() }
}

/// Checks the parameters against the subscription's billing (every invalid
/// field at once) and widens the range to whole periods.
fn resolve(p: &UsageRangeParams, billing: Billing, now: DateTime<Utc>) -> AppResult<Range> {
    let mut c = Checker::new();
    let from = parse_time(&mut c, "from", p.from.as_deref());
    let to = parse_time(&mut c, "to", p.to.as_deref());
    let (Some(from), Some(to)) = (from, to) else {
        return Err(AppError::invalid(c.finish().expect_err("a time failed to parse")));
    };
    let granularity = p.granularity.unwrap_or(Granularity::of(billing));
    if granularity == Granularity::Hour && billing == Billing::Daily {
        return Err(AppError::about_field(
            Refusal::Conflict,
            "granularity_unavailable",
            "granularity",
            "this subscription is billed daily, so its usage is known per day only; use day",
        ));
    }
    let to = to.unwrap_or(now);
    let from = from.unwrap_or(to - Duration::days(DEFAULT_RANGE_DAYS));
    if to <= from {
        // Nothing lies between: an empty range, like any filter that matches nothing.
        let start = trunc(from, granularity);
        return Ok(Range { granularity, from: start, to: start });
    }
    let to = to.min(from + Duration::days(MAX_RANGE_DAYS));
    Ok(Range { granularity, from: trunc(from, granularity), to: round_up(to, granularity) })
}

/// One period's sums.
#[derive(Debug, Clone, Default)]
struct Sums {
    records: i64,
    quantity_e4: i64,
    package_e4: i64,
    overage_e4: i64,
    amount_minor: i64,
}

impl Sums {
    fn add(&mut self, l: &usage_line::Model) -> AppResult<()> {
        let add = |a: i64, b: i64| a.checked_add(b).ok_or_else(|| AppError::internal("usage sum overflows i64"));
        self.records = add(self.records, l.records)?;
        self.quantity_e4 = add(self.quantity_e4, l.quantity_e4)?;
        self.package_e4 = add(self.package_e4, l.package_e4)?;
        self.overage_e4 = add(self.overage_e4, l.overage_e4)?;
        self.amount_minor = add(self.amount_minor, l.amount_minor)?;
        Ok(())
    }

    fn total(&self, currency: String) -> UsageTotalView {
        UsageTotalView {
            records: self.records,
            quantity: format_usage_e4(self.quantity_e4),
            package_quantity: format_usage_e4(self.package_e4),
            overage_quantity: format_usage_e4(self.overage_e4),
            amount_minor: self.amount_minor,
            currency,
        }
    }
}

/// A period of summed lines.
struct Period {
    start: DateTime<Utc>,
    currency: String,
    subscription_id: String,
    buyer_id: String,
    sums: Sums,
}

/// Groups lines (oldest first) into periods of the granularity; also returns
/// the sums of all of them.
fn group(lines: &[usage_line::Model], g: Granularity) -> AppResult<(Vec<Period>, Sums)> {
    let mut periods: Vec<Period> = Vec::new();
    let mut total = Sums::default();
    for l in lines {
        let start = trunc(l.period_start, g);
        let same = periods.last().is_some_and(|p| p.start == start && p.currency == l.currency);
        if !same {
            periods.push(Period {
                start,
                currency: l.currency.clone(),
                subscription_id: l.subscription_id.clone(),
                buyer_id: l.buyer_id.clone(),
                sums: Sums::default(),
            });
        }
        if let Some(p) = periods.last_mut() {
            p.sums.add(l)?;
        }
        total.add(l)?;
    }
    Ok((periods, total))
}

fn period_view(p: &Period, g: Granularity) -> UsagePeriodView {
    UsagePeriodView {
        period_start: p.start,
        period_end: p.start + g.length(),
        records: p.sums.records,
        quantity: format_usage_e4(p.sums.quantity_e4),
        package_quantity: format_usage_e4(p.sums.package_e4),
        overage_quantity: format_usage_e4(p.sums.overage_e4),
        amount_minor: p.sums.amount_minor,
        currency: p.currency.clone(),
    }
}

/// The subscription's current specification line (after plan changes, else
/// the purchase line), which holds its SKU.
async fn spec_line(state: &AppState, sub: &subscription::Model) -> AppResult<order_line::Model> {
    orders_repo::find_line(&state.db.conn, orders_repo::spec_line_id(sub))
        .await?
        .ok_or_else(|| AppError::inconsistent("subscription without line"))
}

fn is_metered(sub: &subscription::Model) -> bool {
    matches!(sub.charging_mode, ChargingMode::OnDemand | ChargingMode::OnDemandPkg)
}

fn not_metered() -> AppError {
    AppError::new(
        Refusal::Conflict,
        "not_pay_per_use",
        "this subscription is not pay-per-use or a quota package; it has no usage",
    )
}

/// The SKU's billing; a quota package's own instance, whose SKU has no
/// metering, is rated per hour.
fn billing_of(spec: &SkuSpec) -> Billing {
    spec.metering.as_ref().map(|m| m.billing).unwrap_or(Billing::Hourly)
}

/// The buyer's usage of one of its pay-per-use subscriptions.
pub async fn subscription_usage(
    state: &AppState,
    buyer_id: &str,
    subscription_id: &str,
    params: &UsageRangeParams,
) -> AppResult<SubscriptionUsageView> {
    let sub = orders_repo::find_subscription_for_buyer(&state.db.conn, buyer_id, subscription_id)
        .await?
        .ok_or_else(|| AppError::not_found("subscription"))?;
    if !is_metered(&sub) {
        return Err(not_metered());
    }
    let line = spec_line(state, &sub).await?;
    let billing = billing_of(&line.sku_spec);
    let range = resolve(params, billing, state.now())?;
    let lines = repo::lines_of_subscription(&state.db.conn, buyer_id, &sub.id, range.from, range.to).await?;
    let (periods, total) = group(&lines, range.granularity)?;
    Ok(SubscriptionUsageView {
        subscription_id: sub.id,
        instance_id: sub.instance_id,
        product_id: sub.product_id,
        billing,
        granularity: range.granularity,
        from: range.from,
        to: range.to,
        items: periods.iter().map(|p| period_view(p, range.granularity)).collect(),
        total: total.total(line.currency),
    })
}

/// The seller's usage of one of its instances.
pub async fn instance_usage(
    state: &AppState,
    seller_id: &str,
    instance_id: &str,
    params: &UsageRangeParams,
) -> AppResult<InstanceUsageView> {
    let sub = repo::seller_subscription_of_instance(&state.db.conn, seller_id, instance_id)
        .await?
        .ok_or_else(|| AppError::not_found("instance"))?;
    if !is_metered(&sub) {
        return Err(not_metered());
    }
    let line = spec_line(state, &sub).await?;
    let billing = billing_of(&line.sku_spec);
    let range = resolve(params, billing, state.now())?;
    let lines = repo::lines_of_instance(&state.db.conn, seller_id, instance_id, range.from, range.to).await?;
    let (periods, total) = group(&lines, range.granularity)?;
    let g = range.granularity;
    Ok(InstanceUsageView {
        instance_id: instance_id.to_string(),
        subscription_id: sub.id,
        buyer_id: sub.buyer_id,
        product_id: sub.product_id,
        billing,
        granularity: g,
        from: range.from,
        to: range.to,
        items: periods
            .into_iter()
            .map(|p| SellerUsagePeriodView {
                period: period_view(&p, g),
                buyer_id: p.buyer_id,
                subscription_id: p.subscription_id,
            })
            .collect(),
        total: total.total(line.currency),
    })
}

// ------------------------------------------------------------------ charges

/// A charge's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ChargeStatus {
    /// Paid from the wallet by the ledger entry `entry_id`.
    Paid,
    /// Owed: paid when the buyer tops up.
    Arrears,
}

impl ChargeStatus {
    fn as_str(self) -> &'static str {
        match self {
            ChargeStatus::Paid => "paid",
            ChargeStatus::Arrears => "arrears",
        }
    }
}

/// A buyer's usage charge: the sum of its usage lines of one closed period
/// and currency.
#[derive(Debug, Serialize, ToSchema)]
pub struct UsageChargeView {
    pub id: String,
    pub billing: Billing,
    pub period_start: DateTime<Utc>,
    /// Exclusive.
    pub period_end: DateTime<Utc>,
    pub currency: String,
    pub amount_minor: i64,
    /// `paid` or `arrears`.
    pub status: String,
    /// The ledger entry that paid it.
    pub entry_id: Option<String>,
    pub created_at: DateTime<Utc>,
    pub paid_at: Option<DateTime<Utc>>,
}

/// One instance's rated usage in a charge.
#[derive(Debug, Serialize, ToSchema)]
pub struct UsageChargeLineView {
    pub instance_id: String,
    pub subscription_id: String,
    pub product_id: String,
    pub period_start: DateTime<Utc>,
    pub records: i64,
    #[schema(example = "12.3456")]
    pub quantity: String,
    pub package_quantity: String,
    pub overage_quantity: String,
    /// The unit price the overage was charged at (decimal text, major units).
    #[schema(example = "0.0005")]
    pub unit_price: Option<String>,
    pub amount_minor: i64,
}

/// A charge with its lines.
#[derive(Debug, Serialize, ToSchema)]
pub struct UsageChargeDetailView {
    #[serde(flatten)]
    pub charge: UsageChargeView,
    pub lines: Vec<UsageChargeLineView>,
}

fn charge_view(c: usage_charge::Model) -> UsageChargeView {
    let length = match c.billing {
        Billing::Daily => Duration::days(1),
        Billing::Hourly => Duration::hours(1),
    };
    UsageChargeView {
        id: c.id,
        billing: c.billing,
        period_start: c.period_start,
        period_end: c.period_start + length,
        currency: c.currency,
        amount_minor: c.amount_minor,
        status: c.status,
        entry_id: c.entry_id,
        created_at: c.created_at,
        paid_at: c.paid_at,
    }
}

/// Charge-list cursor: `<period_start in µs>_<charge id>` of the last item.
fn charge_cursor(c: &usage_charge::Model) -> String {
    format!("{}_{}", c.period_start.timestamp_micros(), c.id)
}

fn parse_charge_cursor(cursor: &str) -> AppResult<repo::ChargeBefore<'_>> {
    let bad = || AppError::field("cursor", "is not a cursor this API returned");
    let (micros, id) = cursor.split_once('_').ok_or_else(bad)?;
    let period_start = DateTime::from_timestamp_micros(micros.parse().map_err(|_| bad())?).ok_or_else(bad)?;
    if id.is_empty() {
        return Err(bad());
    }
    Ok(repo::ChargeBefore { period_start, id })
}

/// The buyer's usage charges, newest period first.
pub async fn list_charges(
    state: &AppState,
    buyer_id: &str,
    status: Option<ChargeStatus>,
    paging: Paging,
) -> AppResult<Page<UsageChargeView>> {
    let before = paging.cursor.as_deref().map(parse_charge_cursor).transpose()?;
    let rows = repo::list_charges(&state.db.conn, buyer_id, status.map(ChargeStatus::as_str), before, paging.limit + 1)
        .await?;
    Ok(paging.finish(rows, charge_cursor, charge_view))
}

/// One of the buyer's charges with its lines.
pub async fn get_charge(state: &AppState, buyer_id: &str, id: &str) -> AppResult<UsageChargeDetailView> {
    let c =
        repo::find_charge(&state.db.conn, buyer_id, id).await?.ok_or_else(|| AppError::not_found("usage charge"))?;
    let lines = repo::lines_of_charge(&state.db.conn, &c.id).await?;
    Ok(UsageChargeDetailView {
        charge: charge_view(c),
        lines: lines
            .into_iter()
            .map(|l| UsageChargeLineView {
                instance_id: l.instance_id,
                subscription_id: l.subscription_id,
                product_id: l.product_id,
                period_start: l.period_start,
                records: l.records,
                quantity: format_usage_e4(l.quantity_e4),
                package_quantity: format_usage_e4(l.package_e4),
                overage_quantity: format_usage_e4(l.overage_e4),
                unit_price: l.unit_price,
                amount_minor: l.amount_minor,
            })
            .collect(),
    })
}

// ----------------------------------------------------------------- packages

/// A quota package and how much of it rating has used.
#[derive(Debug, Serialize, ToSchema)]
pub struct UsagePackageView {
    pub subscription_id: String,
    pub product_id: String,
    pub product_name: String,
    /// The package's own instance.
    pub instance_id: Option<String>,
    /// The subscription's status.
    pub status: SubscriptionStatus,
    /// Units included, decimal text.
    #[schema(example = "1000")]
    pub quota: String,
    /// Units drawn by rated usage so far.
    pub used: String,
    /// quota - used (never below 0).
    pub remaining: String,
    pub starts_at: DateTime<Utc>,
    /// The package covers usage in periods starting before this.
    pub expires_at: Option<DateTime<Utc>>,
    /// How many usage lines drew on it.
    pub draws: i64,
    /// The start of the latest period it covered.
    pub last_draw_period_start: Option<DateTime<Utc>>,
}

/// The buyer's quota packages (on_demand_pkg subscriptions that did not
/// fail), newest first; the cursor is the last subscription id of the page.
pub async fn list_packages(state: &AppState, buyer_id: &str, paging: Paging) -> AppResult<Page<UsagePackageView>> {
    let db = &state.db.conn;
    if paging.cursor.as_deref().is_some_and(|c| !mercato_domain::ids::SubscriptionId::is_valid(c)) {
        return Err(AppError::field("cursor", "is not a cursor this API returned"));
    }
    let subs = repo::package_subscriptions(db, buyer_id, paging.cursor.as_deref(), paging.limit + 1).await?;
    let ids: Vec<String> = subs.iter().map(|s| s.id.clone()).collect();
    let line_ids: Vec<String> = subs.iter().map(|s| orders_repo::spec_line_id(s).to_string()).collect();
    let lines: HashMap<String, order_line::Model> =
        repo::order_lines_by_ids(db, &line_ids).await?.into_iter().map(|l| (l.id.clone(), l)).collect();
    let packages: HashMap<String, _> =
        repo::packages_by_ids(db, &ids).await?.into_iter().map(|p| (p.subscription_id.clone(), p)).collect();
    let draws: HashMap<String, repo::DrawSummary> =
        repo::draw_summaries(db, &ids).await?.into_iter().map(|d| (d.package_id.clone(), d)).collect();
    let mut views = Vec::with_capacity(subs.len());
    for s in &subs {
        let package = packages.get(&s.id);
        // Rating copies the quota into its package row; before the first
        // draw it is read from the SKU the package was bought as.
        let quota_e4 = match package {
            Some(p) => p.quota_e4,
            None => {
                let line = lines
                    .get(orders_repo::spec_line_id(s))
                    .ok_or_else(|| AppError::inconsistent("subscription without line"))?;
                let package = line.sku_spec.package.as_ref();
                let quota = &package.ok_or_else(|| AppError::inconsistent("package SKU without package"))?.quota;
                parse_usage_value(quota).map_err(AppError::inconsistent)?
            }
        };
        let used_e4 = package.map_or(0, |p| p.used_e4);
        let d = draws.get(&s.id);
        views.push(UsagePackageView {
            subscription_id: s.id.clone(),
            product_id: s.product_id.clone(),
            product_name: s.product_name.clone(),
            instance_id: s.instance_id.clone(),
            status: s.status,
            quota: format_usage_e4(quota_e4),
            used: format_usage_e4(used_e4),
            remaining: format_usage_e4((quota_e4 - used_e4).max(0)),
            starts_at: package.map_or(s.starts_at, |p| p.starts_at),
            expires_at: package.map(|p| p.expires_at).or(s.expires_at),
            draws: d.map_or(0, |d| d.draws),
            last_draw_period_start: d.and_then(|d| d.last_period_start),
        });
    }
    let more = views.len() as u64 > paging.limit;
    views.truncate(paging.limit as usize);
    let next_cursor = if more { views.last().map(|v| v.subscription_id.clone()) } else { None };
    Ok(Page { items: views, next_cursor })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn t(h: u32, m: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 22, h, m, 0).unwrap()
    }

    fn params(g: Option<Granularity>, from: Option<&str>, to: Option<&str>) -> UsageRangeParams {
        UsageRangeParams { granularity: g, from: from.map(Into::into), to: to.map(Into::into) }
    }

    #[test]
    fn default_range_is_the_last_seven_days_widened_to_whole_periods() {
        let r = resolve(&params(None, None, None), Billing::Hourly, t(10, 30)).unwrap();
        assert_eq!(r, Range { granularity: Granularity::Hour, from: t(10, 0) - Duration::days(7), to: t(11, 0) });
        let r = resolve(&params(None, None, None), Billing::Daily, t(10, 30)).unwrap();
        assert_eq!(
            r,
            Range { granularity: Granularity::Day, from: t(0, 0) - Duration::days(7), to: t(0, 0) + Duration::days(1) }
        );
    }

    #[test]
    fn bad_ranges_name_their_fields() {
        let fields = |p: UsageRangeParams, b: Billing| -> Vec<String> {
            resolve(&p, b, t(10, 0)).unwrap_err().field_errors().iter().map(|e| e.field.clone()).collect()
        };
        assert_eq!(fields(params(Some(Granularity::Hour), None, None), Billing::Daily), ["granularity"]);
        let e = resolve(&params(Some(Granularity::Hour), None, None), Billing::Daily, t(10, 0)).unwrap_err();
        assert_eq!(e.code(), "granularity_unavailable");
        assert_eq!(fields(params(None, Some("yesterday"), Some("now")), Billing::Hourly), ["from", "to"]);
    }

    #[test]
    fn empty_and_long_ranges() {
        let range =
            |from: &str, to: &str| resolve(&params(None, Some(from), Some(to)), Billing::Hourly, t(0, 0)).unwrap();
        // Ending at or before it starts: empty, at the start's period.
        let r = range("2026-11-22T10:30:00Z", "2026-11-22T10:10:00Z");
        assert_eq!((r.from, r.to), (t(10, 0), t(10, 0)));
        let r = range("2026-11-22T10:00:00Z", "2026-11-22T10:00:00Z");
        assert_eq!((r.from, r.to), (t(10, 0), t(10, 0)));
        // 93 days whole; longer: its first 93 days.
        let jan = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        let r = range("2026-01-01T00:00:00Z", "2026-04-04T00:00:00Z");
        assert_eq!((r.from, r.to), (jan, jan + Duration::days(93)));
        let r = range("2026-01-01T00:00:00Z", "2027-01-01T00:00:00Z");
        assert_eq!((r.from, r.to), (jan, jan + Duration::days(93)));
    }
}

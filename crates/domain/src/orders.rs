//! Buying: order and order-line ids, server-side pricing of a SKU, the terms a
//! purchase runs for, and the order and subscription state machines.
//!
//! # Pricing rules (see [`price`])
//!
//! | charging mode   | buyer sends                                   | amount                                   |
//! |-----------------|-----------------------------------------------|------------------------------------------|
//! | `period`        | `period` (month/year), `period_count` (default 1; month 1-11, year 1-5), `quantity` | unit price x period_count x quantity |
//! | `period` + trial| `trial: true` (no period); SKU has trial_days | 0; runs `trial_days` days                |
//! | `one_time`      | `quantity` (only with a linear attribute)     | one_time_minor x quantity                |
//! | `on_demand`     | nothing                                       | 0 (usage is charged later)               |
//! | `on_demand_pkg` | nothing                                       | package price_minor; runs package months |
//!
//! A SKU with a linear attribute needs `quantity` among its choices (`min`,
//! `min + step`, ..., `count` of them); any other SKU takes no quantity (or
//! 1). `auto_renew` only on paid period purchases. Twelve months are bought
//! as one year (hence months 1-11), as on KooGallery. The total is computed
//! with checked arithmetic and must not exceed [`MAX_PRICE_MINOR`].
//!
//! The rules that hold whatever the SKU ([`check_request`]: period counts,
//! a trial without period, a count or auto-renewal only with a period) are
//! a 422 and stated by the request schemas; what depends on the SKU named
//! is [`PriceError::NotOffered`], a 409.
//!
//! # Terms
//!
//! A month is a calendar month: the term ends on the same day of the month
//! `n` months later, clamped to the month's last day (Jan 31 + 1 month = Feb
//! 28/29). A year is twelve such months. A trial ends `trial_days` x 24 h after
//! it starts.

use crate::catalog::{ChargingMode, QUANTITY_MAX, SkuSpec};
use crate::money::MAX_PRICE_MINOR;
use crate::validation::{Checker, Invalid};
use chrono::{DateTime, Duration, Months, Utc};

string_enum!(
    /// Where an order is in its life.
    OrderStatus {
        PendingPayment => "pending_payment",
        Paid => "paid",
        Fulfilling => "fulfilling",
        Completed => "completed",
        Failed => "failed",
        Refunded => "refunded",
        Cancelled => "cancelled",
    }
);

string_enum!(
    /// Where a purchased service (one per order line) is in its life.
    SubscriptionStatus {
        Provisioning => "provisioning",
        Active => "active",
        Frozen => "frozen",
        Released => "released",
        Failed => "failed",
    }
);

string_enum!(
    /// Why an order line exists. A purchase line owns a new subscription;
    /// every other kind acts on an existing one (`subscription_id` on the line).
    LineKind {
        Purchase => "purchase",
        Renewal => "renewal",
        Upgrade => "upgrade",
        Conversion => "trial_conversion",
        Unsubscribe => "unsubscribe",
    }
);

string_enum!(
    /// The unit a period SKU is bought in.
    Period {
        Month => "month",
        Year => "year",
    }
);

/// What happens to an order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrderEvent {
    /// The buyer pays (from the wallet): pending_payment -> paid.
    Pay,
    /// The buyer cancels an unpaid order: pending_payment -> cancelled.
    Cancel,
    /// A worker starts delivering (calls the seller): paid -> fulfilling.
    StartFulfilment,
    /// Every line is delivered: fulfilling -> completed.
    Complete,
    /// Delivery failed for good (refusal, retries exhausted): fulfilling -> failed.
    Fail,
    /// The money went back to the buyer: a failed order (failed ->
    /// refunded), or a supervised delivery withdrawn before it completed
    /// (fulfilling -> refunded).
    Refund,
}

impl OrderEvent {
    pub const ALL: &'static [OrderEvent] = &[
        OrderEvent::Pay,
        OrderEvent::Cancel,
        OrderEvent::StartFulfilment,
        OrderEvent::Complete,
        OrderEvent::Fail,
        OrderEvent::Refund,
    ];
}

/// What happens to a subscription.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubscriptionEvent {
    /// The seller provisioned the instance: provisioning -> active.
    Activate,
    /// Provisioning failed for good: provisioning -> failed.
    Fail,
    /// Expiry or arrears: active -> frozen.
    Freeze,
    /// Renewed while frozen: frozen -> active.
    Unfreeze,
    /// End of the grace period (from frozen), unsubscribe (from active), or
    /// a supervised purchase refunded before its delivery completed (from
    /// provisioning).
    Release,
}

impl SubscriptionEvent {
    pub const ALL: &'static [SubscriptionEvent] = &[
        SubscriptionEvent::Activate,
        SubscriptionEvent::Fail,
        SubscriptionEvent::Freeze,
        SubscriptionEvent::Unfreeze,
        SubscriptionEvent::Release,
    ];
}

/// An event that does not apply in the current state.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot {event} when the {what} is {from}")]
pub struct TransitionError {
    pub what: &'static str,
    pub from: &'static str,
    pub event: String,
}

impl OrderStatus {
    /// The state after `event`, or why it does not apply.
    pub fn next(self, event: OrderEvent) -> Result<OrderStatus, TransitionError> {
        use OrderEvent as E;
        use OrderStatus as S;
        match (self, event) {
            (S::PendingPayment, E::Pay) => Ok(S::Paid),
            (S::PendingPayment, E::Cancel) => Ok(S::Cancelled),
            (S::Paid, E::StartFulfilment) => Ok(S::Fulfilling),
            (S::Fulfilling, E::Complete) => Ok(S::Completed),
            (S::Fulfilling, E::Fail) => Ok(S::Failed),
            (S::Failed | S::Fulfilling, E::Refund) => Ok(S::Refunded),
            _ => Err(TransitionError { what: "order", from: self.as_str(), event: format!("{event:?}") }),
        }
    }

    /// Paid at some point (money moved, or a free order was confirmed).
    pub fn is_paid(self) -> bool {
        !matches!(self, OrderStatus::PendingPayment | OrderStatus::Cancelled)
    }
}

impl SubscriptionStatus {
    /// The state after `event`, or why it does not apply.
    pub fn next(self, event: SubscriptionEvent) -> Result<SubscriptionStatus, TransitionError> {
        use SubscriptionEvent as E;
        use SubscriptionStatus as S;
        match (self, event) {
            (S::Provisioning, E::Activate) => Ok(S::Active),
            (S::Provisioning, E::Fail) => Ok(S::Failed),
            (S::Active, E::Freeze) => Ok(S::Frozen),
            (S::Frozen, E::Unfreeze) => Ok(S::Active),
            (S::Frozen | S::Active | S::Provisioning, E::Release) => Ok(S::Released),
            _ => Err(TransitionError { what: "subscription", from: self.as_str(), event: format!("{event:?}") }),
        }
    }

    /// Released or failed: nothing more will happen to it.
    pub fn is_final(self) -> bool {
        matches!(self, SubscriptionStatus::Released | SubscriptionStatus::Failed)
    }
}

/// Months bought per order, per period unit.
pub const MONTHS_MAX: i64 = 11;
pub const YEARS_MAX: i64 = 5;

/// What the buyer asks for (already shaped by serde; checked by [`price`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Request {
    pub period: Option<Period>,
    pub period_count: Option<i64>,
    pub quantity: Option<i64>,
    pub trial: bool,
    pub auto_renew: bool,
}

/// A priced order line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Priced {
    pub charging_mode: ChargingMode,
    pub period: Option<Period>,
    pub period_count: Option<i64>,
    pub quantity: i64,
    pub trial: bool,
    /// Trial length, for trial lines.
    pub trial_days: Option<i64>,
    pub auto_renew: bool,
    pub amount_minor: i64,
    pub currency: String,
}

/// Why a request cannot be priced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PriceError {
    /// The request is invalid whatever SKU it names ([`check_request`];
    /// the document states these rules): 422.
    Invalid(Invalid),
    /// The SKU named does not offer what the request asks (its charging
    /// mode, periods, trial, quantities, or a total above the maximum): a
    /// refusal because of the SKU as it is, 409 `not_offered`. Every field
    /// concerned is named.
    NotOffered(Invalid),
}

impl PriceError {
    /// The fields concerned.
    pub fn fields(&self) -> &Invalid {
        match self {
            PriceError::Invalid(i) | PriceError::NotOffered(i) => i,
        }
    }
}

/// The rules on a request that hold whatever SKU it names (the order
/// schema states them): `quantity` 1 to [`QUANTITY_MAX`]; a trial sends no
/// period, period count or auto-renewal; otherwise a period count or
/// auto-renewal needs a period, and a period count is 1-11 months or 1-5
/// years.
pub fn check_request(req: &Request) -> Result<(), Invalid> {
    let mut c = Checker::new();
    if let Some(q) = req.quantity {
        c.check((1..=QUANTITY_MAX).contains(&q), "quantity", format!("must be 1 to {QUANTITY_MAX}"));
    }
    if req.trial {
        c.check(req.period.is_none(), "period", "a trial runs for the SKU's trial days; send no period");
        c.check(req.period_count.is_none(), "period_count", "a trial runs for the SKU's trial days");
        c.check(!req.auto_renew, "auto_renew", "a trial does not renew; buy the SKU when it ends");
    } else {
        let count = req.period_count;
        match req.period {
            None => {
                c.check(count.is_none(), "period_count", "only with a period (month or year)");
                c.check(!req.auto_renew, "auto_renew", "only with a period: only period purchases renew");
            }
            Some(Period::Month) => c.check(
                count.is_none_or(|n| (1..=MONTHS_MAX).contains(&n)),
                "period_count",
                format!("must be 1-{MONTHS_MAX} months (buy 12 months as a year)"),
            ),
            Some(Period::Year) => c.check(
                count.is_none_or(|n| (1..=YEARS_MAX).contains(&n)),
                "period_count",
                format!("must be 1-{YEARS_MAX} years"),
            ),
        }
    }
    c.finish()
}

/// Prices `req` against the SKU on sale: first [`check_request`], then
/// what the SKU offers, reporting every field concerned.
pub fn price(spec: &SkuSpec, req: &Request) -> Result<Priced, PriceError> {
    check_request(req).map_err(PriceError::Invalid)?;
    let mut c = Checker::new();
    let mode = spec.charging_mode;
    let quantity = check_quantity(&mut c, spec, req.quantity);
    let is_period = mode == ChargingMode::Period;
    if req.trial {
        if spec.trial_days.is_none() || !is_period {
            c.add("trial", "this SKU offers no free trial");
        }
    } else if !is_period {
        // A period count or auto-renewal comes with a period (check_request).
        c.check(req.period.is_none(), "period", format!("only for period SKUs; this SKU is {mode}"));
    }
    let mut amount: Option<i64> = Some(0);
    let mut period_count = None;
    if !req.trial {
        match mode {
            ChargingMode::Period => {
                let count = req.period_count.unwrap_or(1);
                let unit = match req.period {
                    None => {
                        c.add("period", "required for period SKUs: month or year");
                        None
                    }
                    Some(Period::Month) => {
                        if spec.prices.month_minor.is_none() {
                            c.add("period", "this SKU is not sold by the month; use year");
                        }
                        spec.prices.month_minor
                    }
                    Some(Period::Year) => {
                        if spec.prices.year_minor.is_none() {
                            c.add("period", "this SKU is not sold by the year; use month");
                        }
                        spec.prices.year_minor
                    }
                };
                period_count = Some(count);
                amount = unit.and_then(|u| u.checked_mul(count)).and_then(|a| a.checked_mul(quantity));
            }
            ChargingMode::OneTime => {
                amount = spec.prices.one_time_minor.and_then(|u| u.checked_mul(quantity));
                if spec.prices.one_time_minor.is_none() {
                    c.add("sku_id", "this SKU has no one-time price");
                }
            }
            ChargingMode::OnDemand => amount = Some(0),
            ChargingMode::OnDemandPkg => match &spec.package {
                Some(p) => amount = Some(p.price_minor),
                None => c.add("sku_id", "this package SKU has no package"),
            },
        }
    }
    c.finish().map_err(PriceError::NotOffered)?;
    let amount_minor = match amount {
        Some(a) if (0..=MAX_PRICE_MINOR).contains(&a) => a,
        _ => {
            return Err(PriceError::NotOffered(Invalid::one(
                "amount_minor",
                format!("the total exceeds {MAX_PRICE_MINOR} minor units; order fewer periods or units"),
            )));
        }
    };
    Ok(Priced {
        charging_mode: mode,
        period: if req.trial { None } else { req.period },
        period_count,
        quantity,
        trial: req.trial,
        trial_days: if req.trial { spec.trial_days } else { None },
        auto_renew: req.auto_renew,
        amount_minor,
        currency: spec.currency.clone(),
    })
}

fn check_quantity(c: &mut Checker, spec: &SkuSpec, quantity: Option<i64>) -> i64 {
    match (&spec.linear, quantity) {
        (Some(l), None) => {
            c.add("quantity", format!("required: number of {} ({})", l.unit, l.describe()));
            l.min
        }
        (Some(l), Some(q)) => {
            c.check(l.offers(q), "quantity", format!("must be {}", l.describe()));
            q
        }
        (None, None) | (None, Some(1)) => 1,
        (None, Some(_)) => {
            c.add("quantity", "this SKU has no quantity to choose; send 1 or leave it out");
            1
        }
    }
}

// ---------------------------------------------------------------- schemas

/// One period's terms: `period` and an optional count up to `max`.
fn period_terms(period: Period, max: i64) -> serde_json::Value {
    use crate::schema::{integer, nullable, one_of_strings};
    serde_json::json!({
        "type": "object",
        "required": ["period"],
        "properties": {"period": one_of_strings(&[period.as_str()]), "period_count": nullable(integer(1, max))},
    })
}

/// The period terms of a renewal or conversion ([`check_request`] on a
/// request that names its period): 1-11 months or 1-5 years, as `anyOf`.
pub fn period_terms_schema() -> serde_json::Value {
    serde_json::json!({"anyOf": [period_terms(Period::Month, MONTHS_MAX), period_terms(Period::Year, YEARS_MAX)]})
}

/// The terms of a purchase ([`check_request`]), as `anyOf`: a trial (no
/// period, count or auto-renewal); 1-11 months; 1-5 years; or no period at
/// all (SKUs not sold by period: no count, no auto-renewal).
pub fn purchase_terms_schema() -> serde_json::Value {
    use crate::schema::null;
    use serde_json::json;
    let not_trial = |mut terms: serde_json::Value| {
        terms["properties"]["trial"] = json!({"type": "boolean", "enum": [false]});
        terms
    };
    let no_auto_renew = json!({"type": "boolean", "enum": [false]});
    let none = null();
    json!({"anyOf": [
        {
            "type": "object",
            "required": ["trial"],
            "properties": {"trial": {"type": "boolean", "enum": [true]}, "period": none, "period_count": none, "auto_renew": no_auto_renew},
        },
        not_trial(period_terms(Period::Month, MONTHS_MAX)),
        not_trial(period_terms(Period::Year, YEARS_MAX)),
        {
            "type": "object",
            "properties": {"trial": {"type": "boolean", "enum": [false]}, "period": none, "period_count": none, "auto_renew": no_auto_renew},
        },
    ]})
}

/// `quantity`: 1 to [`QUANTITY_MAX`] (what a SKU's linear attribute
/// allows is checked against the SKU), or null.
pub fn quantity_schema() -> serde_json::Value {
    crate::schema::nullable(crate::schema::integer(1, QUANTITY_MAX))
}

/// When a term bought at `start` ends: calendar months, day clamped.
pub fn add_months(start: DateTime<Utc>, months: i64) -> Option<DateTime<Utc>> {
    let months = u32::try_from(months).ok()?;
    start.checked_add_months(Months::new(months))
}

/// When the service bought as `p` at `start` expires (None: it does not,
/// e.g. one-time and pay-per-use purchases). `package_months` is the
/// package's validity for on_demand_pkg lines.
pub fn expires_at(p: &Priced, start: DateTime<Utc>, package_months: Option<i64>) -> Option<DateTime<Utc>> {
    if p.trial {
        return start.checked_add_signed(Duration::days(p.trial_days?));
    }
    match p.charging_mode {
        ChargingMode::Period => {
            let per = match p.period? {
                Period::Month => 1,
                Period::Year => 12,
            };
            add_months(start, p.period_count?.checked_mul(per)?)
        }
        ChargingMode::OnDemandPkg => add_months(start, package_months?),
        ChargingMode::OneTime | ChargingMode::OnDemand => None,
    }
}

/// Length of the random part of an order id.
pub const ORDER_SUFFIX_LEN: usize = 5;
/// Characters of the random part.
pub const ORDER_SUFFIX_CHARS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

/// A KooGallery-like order id: `CS` + yyMMddHHmm (UTC) + 5 upper-case
/// letters or digits, e.g. `CS2611221430B4LVS`. `suffix` is the random part.
pub fn order_id(at: DateTime<Utc>, suffix: &str) -> String {
    format!("CS{}{suffix}", at.format("%y%m%d%H%M"))
}

/// True when `id` has the shape of an order id.
pub fn is_order_id(id: &str) -> bool {
    let b = id.as_bytes();
    b.len() == 2 + 10 + ORDER_SUFFIX_LEN
        && id.starts_with("CS")
        && b[2..12].iter().all(u8::is_ascii_digit)
        && b[12..].iter().all(|ch| ORDER_SUFFIX_CHARS.contains(ch))
}

/// The id of an order's `n`-th line (from 1): `<orderId>-000001`.
pub fn order_line_id(order_id: &str, n: u32) -> String {
    format!("{order_id}-{n:06}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::{Linear, Package, Prices};
    use chrono::TimeZone;

    fn period_sku() -> SkuSpec {
        SkuSpec {
            sku_code: "std".into(),
            name: "Standard".into(),
            charging_mode: ChargingMode::Period,
            prices: Prices { month_minor: Some(9_900), year_minor: Some(99_000), one_time_minor: None },
            currency: "CNY".into(),
            trial_days: Some(7),
            metering: None,
            package: None,
            linear: Some(Linear { name: "users".into(), unit: "user".into(), min: 5, step: 5, count: 20 }),
        }
    }

    fn fields(r: Result<Priced, PriceError>) -> Vec<String> {
        r.err().map(|e| e.fields().0.iter().map(|f| f.field.clone()).collect()).unwrap_or_default()
    }

    fn kind(r: Result<Priced, PriceError>) -> &'static str {
        match r {
            Ok(_) => "ok",
            Err(PriceError::Invalid(_)) => "invalid",
            Err(PriceError::NotOffered(_)) => "not offered",
        }
    }

    fn req(period: Option<Period>, count: Option<i64>, qty: Option<i64>) -> Request {
        Request { period, period_count: count, quantity: qty, ..Request::default() }
    }

    #[test]
    fn period_prices_multiply() {
        let p = price(&period_sku(), &req(Some(Period::Month), Some(3), Some(10))).unwrap();
        assert_eq!(p.amount_minor, 9_900 * 3 * 10);
        assert_eq!((p.period, p.period_count, p.quantity), (Some(Period::Month), Some(3), 10));
        let p = price(&period_sku(), &req(Some(Period::Year), None, Some(5))).unwrap();
        assert_eq!(p.amount_minor, 99_000 * 5);
        assert_eq!(p.period_count, Some(1));
    }

    #[test]
    fn period_bad_inputs_name_their_fields() {
        let s = period_sku();
        assert_eq!(fields(price(&s, &req(None, None, Some(5)))), ["period"]);
        assert_eq!(fields(price(&s, &req(Some(Period::Month), Some(12), Some(5)))), ["period_count"]);
        assert_eq!(fields(price(&s, &req(Some(Period::Month), Some(0), Some(5)))), ["period_count"]);
        assert_eq!(fields(price(&s, &req(Some(Period::Year), Some(6), Some(5)))), ["period_count"]);
        assert_eq!(fields(price(&s, &req(Some(Period::Month), Some(1), Some(7)))), ["quantity"]);
        assert_eq!(fields(price(&s, &req(Some(Period::Month), Some(1), Some(105)))), ["quantity"]);
        assert_eq!(fields(price(&s, &req(Some(Period::Month), Some(1), None))), ["quantity"]);
        let monthly_only =
            SkuSpec { prices: Prices { year_minor: None, ..period_sku().prices }, linear: None, ..period_sku() };
        assert_eq!(fields(price(&monthly_only, &req(Some(Period::Year), Some(1), None))), ["period"]);
        assert_eq!(fields(price(&monthly_only, &req(Some(Period::Month), Some(1), Some(2)))), ["quantity"]);
        assert!(price(&monthly_only, &req(Some(Period::Month), Some(1), Some(1))).is_ok());
    }

    #[test]
    fn rules_of_any_sku_are_invalid_and_the_skus_own_are_not_offered() {
        let s = period_sku();
        // Whatever the SKU.
        assert_eq!(kind(price(&s, &req(Some(Period::Month), Some(12), Some(5)))), "invalid");
        assert_eq!(kind(price(&s, &req(None, Some(2), Some(5)))), "invalid");
        assert_eq!(kind(price(&s, &req(Some(Period::Month), None, Some(0)))), "invalid");
        assert_eq!(kind(price(&s, &req(Some(Period::Month), None, Some(QUANTITY_MAX + 1)))), "invalid");
        let auto_without_period = Request { auto_renew: true, quantity: Some(5), ..Request::default() };
        assert_eq!(fields(price(&s, &auto_without_period)), ["auto_renew"]);
        assert_eq!(
            kind(price(&s, &Request { trial: true, period: Some(Period::Year), ..Request::default() })),
            "invalid"
        );
        // This SKU's.
        assert_eq!(kind(price(&s, &req(None, None, Some(5)))), "not offered");
        assert_eq!(kind(price(&s, &req(Some(Period::Month), None, Some(7)))), "not offered");
        assert_eq!(kind(price(&s, &req(Some(Period::Month), None, None))), "not offered");
        for r in [
            req(Some(Period::Month), Some(11), Some(5)),
            req(Some(Period::Year), Some(5), Some(100)),
            Request { trial: true, quantity: Some(5), ..Request::default() },
        ] {
            assert!(check_request(&r).is_ok() && price(&s, &r).is_ok(), "{r:?}");
        }
    }

    #[test]
    fn trials_are_free_and_only_where_offered() {
        let t = Request { trial: true, quantity: Some(5), ..Request::default() };
        let p = price(&period_sku(), &t).unwrap();
        assert_eq!((p.amount_minor, p.trial, p.trial_days, p.period), (0, true, Some(7), None));
        let no_trial = SkuSpec { trial_days: None, ..period_sku() };
        assert_eq!(fields(price(&no_trial, &t)), ["trial"]);
        let t2 = Request { period: Some(Period::Month), auto_renew: true, ..t.clone() };
        assert_eq!(fields(price(&period_sku(), &t2)), ["period", "auto_renew"]);
        assert_eq!(kind(price(&period_sku(), &t2)), "invalid");
    }

    #[test]
    fn other_modes() {
        let one = SkuSpec {
            charging_mode: ChargingMode::OneTime,
            prices: Prices { one_time_minor: Some(500), ..Prices::default() },
            trial_days: None,
            linear: None,
            ..period_sku()
        };
        assert_eq!(price(&one, &Request::default()).unwrap().amount_minor, 500);
        assert_eq!(fields(price(&one, &Request { auto_renew: true, ..Request::default() })), ["auto_renew"]);
        assert_eq!(fields(price(&one, &req(Some(Period::Month), Some(1), None))), ["period"]);
        assert_eq!(kind(price(&one, &req(Some(Period::Month), Some(1), None))), "not offered");
        assert_eq!(fields(price(&one, &Request { trial: true, ..Request::default() })), ["trial"]);
        let od = SkuSpec { charging_mode: ChargingMode::OnDemand, prices: Prices::default(), ..one.clone() };
        assert_eq!(price(&od, &Request::default()).unwrap().amount_minor, 0);
        let pkg = SkuSpec {
            charging_mode: ChargingMode::OnDemandPkg,
            prices: Prices::default(),
            package: Some(Package { quota: "100".into(), period_months: 12, price_minor: 7_000 }),
            ..one
        };
        let p = price(&pkg, &Request::default()).unwrap();
        assert_eq!(p.amount_minor, 7_000);
        let start = Utc.with_ymd_and_hms(2026, 1, 31, 10, 0, 0).unwrap();
        assert_eq!(expires_at(&p, start, Some(12)), Some(Utc.with_ymd_and_hms(2027, 1, 31, 10, 0, 0).unwrap()));
    }

    #[test]
    fn totals_are_capped() {
        let big = SkuSpec {
            prices: Prices { month_minor: Some(MAX_PRICE_MINOR / 100), year_minor: None, one_time_minor: None },
            linear: Some(Linear { name: "u".into(), unit: "u".into(), min: 1, step: 1, count: 100 }),
            ..period_sku()
        };
        assert!(price(&big, &req(Some(Period::Month), Some(1), Some(100))).is_ok());
        assert_eq!(fields(price(&big, &req(Some(Period::Month), Some(2), Some(100)))), ["amount_minor"]);
        let huge = SkuSpec {
            prices: Prices { month_minor: Some(i64::MAX / 2), year_minor: None, one_time_minor: None },
            ..big
        };
        assert_eq!(fields(price(&huge, &req(Some(Period::Month), Some(11), Some(100)))), ["amount_minor"]);
    }

    #[test]
    fn terms_use_calendar_months() {
        let jan31 = Utc.with_ymd_and_hms(2026, 1, 31, 12, 0, 0).unwrap();
        let p = price(&period_sku(), &req(Some(Period::Month), Some(1), Some(5))).unwrap();
        assert_eq!(expires_at(&p, jan31, None), Some(Utc.with_ymd_and_hms(2026, 2, 28, 12, 0, 0).unwrap()));
        let p = price(&period_sku(), &req(Some(Period::Year), Some(2), Some(5))).unwrap();
        let feb29 = Utc.with_ymd_and_hms(2028, 2, 29, 0, 0, 0).unwrap();
        assert_eq!(expires_at(&p, feb29, None), Some(Utc.with_ymd_and_hms(2030, 2, 28, 0, 0, 0).unwrap()));
        let t = price(&period_sku(), &Request { trial: true, quantity: Some(5), ..Request::default() }).unwrap();
        assert_eq!(expires_at(&t, jan31, None), Some(jan31 + Duration::days(7)));
        assert_eq!(add_months(jan31, -1), None);
    }

    #[test]
    fn order_ids_look_like_koogallery_ones() {
        let at = Utc.with_ymd_and_hms(2026, 11, 22, 14, 30, 59).unwrap();
        let id = order_id(at, "B4LVS");
        assert_eq!(id, "CS2611221430B4LVS");
        assert!(is_order_id(&id));
        assert_eq!(order_line_id(&id, 1), "CS2611221430B4LVS-000001");
        for bad in ["", "CS2611221430b4LVS", "CX2611221430B4LVS", "CS26112214B4LVS", "CS2611221430B4LVS1"] {
            assert!(!is_order_id(bad), "{bad}");
        }
    }

    #[test]
    fn order_transitions_are_exactly_the_documented_ones() {
        use OrderEvent as E;
        use OrderStatus as S;
        let allowed = [
            (S::PendingPayment, E::Pay, S::Paid),
            (S::PendingPayment, E::Cancel, S::Cancelled),
            (S::Paid, E::StartFulfilment, S::Fulfilling),
            (S::Fulfilling, E::Complete, S::Completed),
            (S::Fulfilling, E::Fail, S::Failed),
            (S::Failed, E::Refund, S::Refunded),
            (S::Fulfilling, E::Refund, S::Refunded),
        ];
        for from in S::ALL {
            for event in E::ALL {
                let expected = allowed.iter().find(|(f, e, _)| f == from && e == event).map(|(_, _, to)| *to);
                assert_eq!(from.next(*event).ok(), expected, "{from} {event:?}");
            }
        }
        assert!(S::Paid.is_paid() && !S::Cancelled.is_paid() && !S::PendingPayment.is_paid());
        assert!(S::Cancelled.next(E::Pay).unwrap_err().to_string().contains("cancelled"));
    }

    #[test]
    fn subscription_transitions_are_exactly_the_documented_ones() {
        use SubscriptionEvent as E;
        use SubscriptionStatus as S;
        let allowed = [
            (S::Provisioning, E::Activate, S::Active),
            (S::Provisioning, E::Fail, S::Failed),
            (S::Active, E::Freeze, S::Frozen),
            (S::Frozen, E::Unfreeze, S::Active),
            (S::Frozen, E::Release, S::Released),
            (S::Active, E::Release, S::Released),
            (S::Provisioning, E::Release, S::Released),
        ];
        for from in S::ALL {
            for event in E::ALL {
                let expected = allowed.iter().find(|(f, e, _)| f == from && e == event).map(|(_, _, to)| *to);
                assert_eq!(from.next(*event).ok(), expected, "{from} {event:?}");
            }
        }
        assert!(S::Released.is_final() && S::Failed.is_final() && !S::Frozen.is_final());
    }
}

//! Rating pay-per-use usage: billing periods and when they close, the amount
//! of a line, and how quota packages cover usage.
//!
//! # Rules
//! - A record belongs to the billing period holding its `end_time`: the UTC
//!   hour for hourly-billed SKUs, the UTC day for daily-billed ones.
//! - A period closes a configurable time after it ends ([`CloseRule`]; by
//!   default :15 of the next hour, 01:00 of the next day). Records received
//!   at or after the close are error records, so a closed period is final.
//! - A line is one instance's valid usage in one period. Packages cover it
//!   first ([`draw`]): the buyer's packages of the same product that are
//!   valid in the period, earliest-expiring first (ties by id), each up to
//!   its remaining quota. The rest is the overage.
//! - The overage is charged at the SKU's unit price, rounded once per line
//!   to the currency's minor unit, half up ([`amount_minor`]): 12.3456 units
//!   at 0.0005 CNY = 0.0061728 CNY -> 1 fen.
//! - On a package's own instance (a package that stops when used up) the
//!   overage is never charged: the instance is frozen instead.

use crate::catalog::Billing;
use chrono::{DateTime, Duration, DurationRound, Utc};
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;

/// How long after its end a billing period stays open for late records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CloseRule {
    pub after_hour: Duration,
    pub after_day: Duration,
}

impl Default for CloseRule {
    /// KooGallery's: an hour is collected at :15 of the next hour, a day at
    /// 01:00 of the next day.
    fn default() -> CloseRule {
        CloseRule { after_hour: Duration::minutes(15), after_day: Duration::hours(1) }
    }
}

impl CloseRule {
    /// When the period starting at `start` closes.
    pub fn closes_at(&self, billing: Billing, start: DateTime<Utc>) -> DateTime<Utc> {
        let after = match billing {
            Billing::Hourly => self.after_hour,
            Billing::Daily => self.after_day,
        };
        start + period_length(billing) + after
    }

    /// When the period holding `t` closes.
    pub fn closes_at_time(&self, billing: Billing, t: DateTime<Utc>) -> DateTime<Utc> {
        self.closes_at(billing, period_start(billing, t))
    }
}

pub fn period_length(billing: Billing) -> Duration {
    match billing {
        Billing::Hourly => Duration::hours(1),
        Billing::Daily => Duration::days(1),
    }
}

/// The start of the period holding `t` (UTC hour or day).
pub fn period_start(billing: Billing, t: DateTime<Utc>) -> DateTime<Utc> {
    t.duration_trunc(period_length(billing)).unwrap_or(t)
}

/// Usage is stored in ten-thousandths of a unit.
pub const USAGE_SCALE: u32 = 4;

/// The amount of `quantity_e4` ten-thousandths of a unit at `unit_price`
/// (major units) in a currency with `exponent` minor digits, rounded half up
/// to a minor unit. None when it does not fit an i64.
pub fn amount_minor(quantity_e4: i64, unit_price: Decimal, exponent: u32) -> Option<i64> {
    let quantity = Decimal::new(quantity_e4, USAGE_SCALE);
    let major = quantity.checked_mul(unit_price)?;
    let minor = major.checked_mul(Decimal::from(10_i64.checked_pow(exponent)?))?;
    minor.round_dp_with_strategy(0, rust_decimal::RoundingStrategy::MidpointAwayFromZero).to_i64()
}

/// A SKU's metered unit price (decimal text in major units, as the catalog
/// checked it).
pub fn parse_unit_price(text: &str) -> Result<Decimal, String> {
    crate::money::parse_positive_decimal(text, crate::catalog::UNIT_PRICE_SCALE, crate::catalog::UNIT_PRICE_MAX)
}

/// A package's quota left when a line is rated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackageBalance {
    /// The package's subscription id.
    pub id: String,
    pub expires_at: DateTime<Utc>,
    pub remaining_e4: i64,
}

/// How a line's quantity was covered.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Draw {
    /// (package id, quantity taken), in drawing order.
    pub taken: Vec<(String, i64)>,
    /// What no package covered.
    pub overage_e4: i64,
}

impl Draw {
    pub fn covered_e4(&self) -> i64 {
        self.taken.iter().map(|(_, q)| q).sum()
    }
}

/// Covers `quantity_e4` from `packages`, earliest-expiring first (ties by
/// id), lowering their `remaining_e4`; the rest is the overage.
pub fn draw(quantity_e4: i64, packages: &mut [PackageBalance]) -> Draw {
    packages.sort_by(|a, b| a.expires_at.cmp(&b.expires_at).then_with(|| a.id.cmp(&b.id)));
    let mut left = quantity_e4.max(0);
    let mut out = Draw::default();
    for p in packages.iter_mut() {
        if left == 0 {
            break;
        }
        let take = left.min(p.remaining_e4.max(0));
        if take > 0 {
            p.remaining_e4 -= take;
            left -= take;
            out.taken.push((p.id.clone(), take));
        }
    }
    out.overage_e4 = left;
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::str::FromStr;

    fn t(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn periods_close_after_their_end() {
        let r = CloseRule::default();
        let end = t("2026-11-22T12:59:59Z");
        assert_eq!(period_start(Billing::Hourly, end), t("2026-11-22T12:00:00Z"));
        assert_eq!(r.closes_at_time(Billing::Hourly, end), t("2026-11-22T13:15:00Z"));
        assert_eq!(period_start(Billing::Daily, end), t("2026-11-22T00:00:00Z"));
        assert_eq!(r.closes_at_time(Billing::Daily, end), t("2026-11-23T01:00:00Z"));
        let custom = CloseRule { after_hour: Duration::minutes(5), after_day: Duration::hours(3) };
        assert_eq!(custom.closes_at_time(Billing::Hourly, end), t("2026-11-22T13:05:00Z"));
        assert_eq!(custom.closes_at_time(Billing::Daily, end), t("2026-11-23T03:00:00Z"));
    }

    #[test]
    fn amounts_round_half_up_once() {
        let p = Decimal::from_str("0.0005").unwrap();
        assert_eq!(amount_minor(123_456, p, 2), Some(1)); // 0.0061728 CNY
        assert_eq!(amount_minor(100_000, p, 2), Some(1)); // 0.005 -> 0.5 fen -> 1
        assert_eq!(amount_minor(99_999, p, 2), Some(0));
        assert_eq!(amount_minor(10_000, Decimal::from(3), 0), Some(3));
        assert_eq!(amount_minor(5_000, Decimal::from_str("0.01").unwrap(), 2), Some(1)); // 0.5 fen
        assert_eq!(amount_minor(i64::MAX, Decimal::from(1_000_000_000), 2), None);
    }

    #[test]
    fn packages_cover_earliest_expiring_first() {
        let mut ps = vec![
            PackageBalance { id: "late".into(), expires_at: t("2027-01-01T00:00:00Z"), remaining_e4: 50 },
            PackageBalance { id: "soon".into(), expires_at: t("2026-12-01T00:00:00Z"), remaining_e4: 30 },
        ];
        let d = draw(100, &mut ps);
        assert_eq!(d.taken, vec![("soon".to_string(), 30), ("late".to_string(), 50)]);
        assert_eq!(d.overage_e4, 20);
        assert!(ps.iter().all(|p| p.remaining_e4 == 0));
        let d = draw(7, &mut ps);
        assert_eq!((d.covered_e4(), d.overage_e4), (0, 7));
    }

    proptest! {
        #[test]
        fn a_draw_conserves_quantity(q in 0_i64..1_000_000, rems in proptest::collection::vec(0_i64..300_000, 0..5)) {
            let mut ps: Vec<PackageBalance> = rems.iter().enumerate().map(|(i, r)| PackageBalance {
                id: format!("p{i}"),
                expires_at: t("2026-12-01T00:00:00Z") + Duration::days(i as i64 % 3),
                remaining_e4: *r,
            }).collect();
            let before: i64 = ps.iter().map(|p| p.remaining_e4).sum();
            let d = draw(q, &mut ps);
            let after: i64 = ps.iter().map(|p| p.remaining_e4).sum();
            prop_assert_eq!(d.covered_e4() + d.overage_e4, q);
            prop_assert_eq!(before - after, d.covered_e4());
            prop_assert!(ps.iter().all(|p| p.remaining_e4 >= 0));
            prop_assert!(d.overage_e4 == 0 || after == 0);
        }
    }
}

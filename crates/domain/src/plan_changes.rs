//! Plan changes of a paid period subscription: which target specification
//! is an upgrade, and what an upgrade costs for the time left.
//!
//! # Rules
//!
//! - A specification's **per-period price** is the SKU's unit price for the
//!   subscription's period unit (month or year) x quantity (see
//!   [`crate::orders::price`] with one period).
//! - A target is an **upgrade** when its per-period price is strictly higher
//!   than the current one. Equal or cheaper targets are not upgrades: a
//!   cheaper specification (a downgrade) can only be chosen at renewal.
//! - The **time left** is counted backwards from the expiry in calendar
//!   periods (months, or years of twelve months, day clamped as in
//!   [`crate::orders::add_months`]): `whole` periods fit between now and the
//!   expiry, and the remaining `part_secs` seconds are a fraction of the
//!   period that holds now (`period_secs` long).
//! - The **upgrade charge** is `(new - old) x whole + ceil((new - old) x
//!   part_secs / period_secs)`: the difference for the whole periods is
//!   exact, the fraction is rounded up to the minor unit, in the
//!   platform's favour (at most one minor unit more than exact). Nothing
//!   left (now at or past the expiry) has no charge: the subscription must
//!   be renewed instead. Arithmetic is checked; totals above
//!   [`MAX_PRICE_MINOR`] are refused.

use crate::money::MAX_PRICE_MINOR;
use crate::orders::Period;
use chrono::{DateTime, Months, Utc};

/// Periods are counted back from the expiry at most this far (100 years of
/// months): a longer term is corrupt data, not a plan.
pub const MAX_PERIODS_LEFT: i64 = 1200;

/// Calendar months in one `period`.
pub fn period_months(period: Period) -> u32 {
    match period {
        Period::Month => 1,
        Period::Year => 12,
    }
}

/// How a target specification compares with the current one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Strictly more per period: may be bought mid-term.
    Upgrade,
    /// The same price per period.
    Same,
    /// Cheaper per period: only at renewal.
    Downgrade,
}

/// Compares per-period prices (minor units).
pub fn direction(old_per_period: i64, new_per_period: i64) -> Direction {
    match new_per_period.cmp(&old_per_period) {
        std::cmp::Ordering::Greater => Direction::Upgrade,
        std::cmp::Ordering::Equal => Direction::Same,
        std::cmp::Ordering::Less => Direction::Downgrade,
    }
}

/// The time left in a term, in periods.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Remaining {
    /// Whole periods between now and the expiry.
    pub whole: i64,
    /// Seconds left in the period that holds now (`0 <= part_secs < period_secs`).
    pub part_secs: i64,
    /// Length of that period in seconds.
    pub period_secs: i64,
}

/// The time left from `now` until `expires_at` in `period`s (see the
/// module rules). None when nothing is left or the term is absurdly long.
pub fn remaining(period: Period, now: DateTime<Utc>, expires_at: DateTime<Utc>) -> Option<Remaining> {
    if expires_at <= now {
        return None;
    }
    let per = period_months(period);
    // Subtract k periods from the expiry in one step each time (not
    // iteratively), so day clamping never accumulates.
    let back = |k: i64| -> Option<DateTime<Utc>> {
        let months = u32::try_from(k).ok()?.checked_mul(per)?;
        expires_at.checked_sub_months(Months::new(months))
    };
    let mut whole = 0;
    loop {
        if whole > MAX_PERIODS_LEFT {
            return None;
        }
        let period_end = back(whole)?;
        let period_start = back(whole + 1)?;
        if period_start >= now {
            whole += 1;
            continue;
        }
        let part_secs = (period_end - now).num_seconds();
        let period_secs = (period_end - period_start).num_seconds();
        return Some(Remaining { whole, part_secs, period_secs });
    }
}

/// What an upgrade from `old_per_period` to `new_per_period` costs for
/// `left` (see the module rules). None when it is not an upgrade or the
/// total overflows or exceeds [`MAX_PRICE_MINOR`].
pub fn upgrade_charge(old_per_period: i64, new_per_period: i64, left: Remaining) -> Option<i64> {
    if direction(old_per_period, new_per_period) != Direction::Upgrade || left.period_secs <= 0 || left.part_secs < 0 {
        return None;
    }
    let diff = i128::from(new_per_period.checked_sub(old_per_period)?);
    let whole = diff.checked_mul(i128::from(left.whole))?;
    let part = diff.checked_mul(i128::from(left.part_secs))?;
    let period = i128::from(left.period_secs);
    // Ceiling division of non-negative numbers.
    let part = part.checked_add(period - 1)? / period;
    let total = i64::try_from(whole.checked_add(part)?).ok()?;
    (total <= MAX_PRICE_MINOR).then_some(total)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, TimeZone};
    use proptest::prelude::*;

    fn at(y: i32, m: u32, d: u32, h: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, d, h, 0, 0).unwrap()
    }

    #[test]
    fn directions() {
        assert_eq!(direction(9900, 19900), Direction::Upgrade);
        assert_eq!(direction(9900, 9900), Direction::Same);
        assert_eq!(direction(19900, 9900), Direction::Downgrade);
    }

    #[test]
    fn half_of_a_thirty_day_month() {
        // Expiry Jul 1; the period that holds now is Jun 1 - Jul 1 (30 days).
        let left = remaining(Period::Month, at(2026, 6, 16, 0), at(2026, 7, 1, 0)).unwrap();
        assert_eq!(left, Remaining { whole: 0, part_secs: 15 * 86_400, period_secs: 30 * 86_400 });
        assert_eq!(upgrade_charge(9900, 19900, left), Some(5000));
    }

    #[test]
    fn whole_periods_count_back_from_the_expiry() {
        // Expiry Mar 31: periods back are Feb 28 (clamped) and Jan 31, each
        // computed from the expiry.
        let left = remaining(Period::Month, at(2027, 1, 31, 0), at(2027, 3, 31, 0)).unwrap();
        assert_eq!(left, Remaining { whole: 2, part_secs: 0, period_secs: 31 * 86_400 });
        let left = remaining(Period::Month, at(2027, 2, 10, 0), at(2027, 3, 31, 0)).unwrap();
        assert_eq!(left.whole, 1);
        assert_eq!(left.part_secs, 18 * 86_400); // Feb 10 -> Feb 28
        assert_eq!(left.period_secs, 28 * 86_400); // Jan 31 -> Feb 28, both from the expiry
        assert_eq!(upgrade_charge(100, 200, left), Some(100 + (100 * 18 + 27) / 28));
    }

    #[test]
    fn years_are_twelve_months() {
        let left = remaining(Period::Year, at(2026, 1, 1, 0), at(2028, 7, 1, 0)).unwrap();
        assert_eq!(left.whole, 2);
        assert_eq!(left.period_secs, (at(2026, 7, 1, 0) - at(2025, 7, 1, 0)).num_seconds());
        assert_eq!(left.part_secs, (at(2026, 7, 1, 0) - at(2026, 1, 1, 0)).num_seconds());
    }

    #[test]
    fn fractions_round_up_in_the_platforms_favour() {
        let left = Remaining { whole: 0, part_secs: 1, period_secs: 2_592_000 };
        assert_eq!(upgrade_charge(0, 1, left), Some(1));
        assert_eq!(upgrade_charge(0, 1, Remaining { part_secs: 0, ..left }), Some(0));
    }

    #[test]
    fn nothing_left_and_non_upgrades_have_no_charge() {
        assert_eq!(remaining(Period::Month, at(2026, 7, 1, 0), at(2026, 7, 1, 0)), None);
        assert_eq!(remaining(Period::Month, at(2026, 7, 2, 0), at(2026, 7, 1, 0)), None);
        let left = Remaining { whole: 1, part_secs: 10, period_secs: 100 };
        assert_eq!(upgrade_charge(9900, 9900, left), None);
        assert_eq!(upgrade_charge(9900, 100, left), None);
        assert_eq!(upgrade_charge(0, i64::MAX, Remaining { whole: 5, ..left }), None);
    }

    proptest! {
        #[test]
        fn remaining_brackets_now(
            start in 1_700_000_000_i64..1_900_000_000,
            ahead in 1_i64..(6 * 366 * 86_400),
            yearly in any::<bool>(),
        ) {
            let period = if yearly { Period::Year } else { Period::Month };
            let now = DateTime::from_timestamp(start, 0).unwrap();
            let expires = now + Duration::seconds(ahead);
            let left = remaining(period, now, expires).unwrap();
            let per = period_months(period);
            let back = |k: i64| expires.checked_sub_months(Months::new(k as u32 * per)).unwrap();
            // now lies in (expiry - (whole+1) periods, expiry - whole periods].
            prop_assert!(back(left.whole) > now || left.part_secs == 0);
            prop_assert!(back(left.whole + 1) < now);
            prop_assert!(left.part_secs >= 0 && left.part_secs < left.period_secs);
            prop_assert_eq!(left.part_secs, (back(left.whole) - now).num_seconds());
        }

        #[test]
        fn the_charge_is_exact_or_one_unit_above(
            old in 0_i64..1_000_000,
            extra in 1_i64..1_000_000,
            whole in 0_i64..60,
            period_secs in 1_i64..40_000_000,
            part in 0.0_f64..1.0,
        ) {
            let part_secs = ((period_secs as f64) * part) as i64;
            let left = Remaining { whole, part_secs: part_secs.min(period_secs - 1), period_secs };
            let charge = upgrade_charge(old, old + extra, left).unwrap();
            let exact_num = i128::from(extra) * (i128::from(whole) * i128::from(period_secs) + i128::from(left.part_secs));
            let c = i128::from(charge) * i128::from(period_secs);
            // exact <= charge < exact + 1 minor unit
            prop_assert!(c >= exact_num);
            prop_assert!(c < exact_num + i128::from(period_secs));
            prop_assert!(charge >= extra * whole && charge <= extra * (whole + 1));
        }

        #[test]
        fn more_time_left_never_costs_less(
            old in 0_i64..100_000,
            extra in 1_i64..100_000,
            start in 1_700_000_000_i64..1_900_000_000,
            ahead in 1_i64..(3 * 366 * 86_400),
            later in 0_i64..(30 * 86_400),
        ) {
            let now = DateTime::from_timestamp(start, 0).unwrap();
            let expires = now + Duration::seconds(ahead);
            let early = upgrade_charge(old, old + extra, remaining(Period::Month, now, expires).unwrap()).unwrap();
            let late_now = now + Duration::seconds(later);
            let late = remaining(Period::Month, late_now, expires)
                .map_or(0, |l| upgrade_charge(old, old + extra, l).unwrap());
            prop_assert!(late <= early);
        }
    }
}

//! Unsubscribe refunds: how much money goes back to the buyer and how it is
//! split between the seller's payable and the platform's commission.
//!
//! # Which rule applies ([`unsubscribe_refund`])
//!
//! *Refundable* is everything paid for the subscription (its purchase line and
//! every renewal, upgrade and trial-conversion line) minus everything already
//! refunded for it. No refund ever exceeds it.
//!
//! 1. Trials and pay-per-use subscriptions: nothing (`none`); usage is
//!    charged elsewhere. Likewise when nothing refundable is left.
//! 2. **Five-day rule** (`five_day_full`): at most [`FULL_REFUND_DAYS`] x 24 h
//!    after the purchase order was paid (inclusive, marketplace clock), the
//!    whole refundable amount, provided the buyer had fewer than
//!    [`FULL_REFUNDS_PER_YEAR`] five-day refunds in the current UTC calendar
//!    year. Otherwise the next rule applies.
//! 3. One-time and package subscriptions after that: not refundable (the
//!    unsubscribe is refused).
//! 4. **Pro-rata** (`pro_rata`, period subscriptions): the unused part
//!    ([`unused_value`]), capped by the refundable amount.
//!
//! # The unused part ([`unused_value`])
//!
//! Periods are counted back from the expiry in calendar months (a year is
//! twelve): boundaries `b(k) = expiry - k periods`. The whole unused periods
//! are the largest `k` with `b(k) >= now`; the current period runs from
//! `b(k+1)` to `b(k)`. Unused part = `k x price` + `price x (b(k) - now) /
//! (b(k) - b(k+1))` (seconds), the second term rounded **down** to the minor
//! unit. `price` is the price of one period of the specification now held
//! (unit price x quantity), as paid: scaled down by the discounts of the line
//! that bought it ([`discounted`]). Nothing is unused once the subscription expired.
//!
//! Worked example: a yearly subscription at 99 000 bought 2026-11-22 00:00
//! expires 2027-11-22 00:00 (365 days). Unsubscribed 40 days later: `k = 0`
//! (2026-11-22 is before now), the current period is the whole year, and
//! 325 of 365 days are unused: 99 000 x 28 080 000 s / 31 536 000 s =
//! 88 150.68..., refunded 88 150. Had a second year been renewed, `k = 1`
//! and the refund would be 99 000 + 88 150 = 187 150.
//!
//! # Renewal periods ([`unstarted_renewals`])
//!
//! Refunding only renewal terms that have not started (term start >= now):
//! each is refunded in full (what its line cost) and the expiry moves back to
//! the earliest such start.
//!
//! # The split ([`split_refund`])
//!
//! A refund takes back seller payable, commission and the partner's share
//! (if the sale had a partner) in the proportion the payments split them:
//! after the refund, the commission refunded in total is `ceil(total
//! refunded x commission paid / total paid)`, and then the partner's share
//! likewise, each kept within what is left of it; the seller's part is the
//! rest. Rounding up on the commission side mirrors sales (where commission
//! rounds down): the platform and the partner, not the seller, absorb the
//! rounding. A full refund returns exactly what each part received.

use crate::orders::Period;
use chrono::{DateTime, Datelike, Duration, Months, Utc};

/// Days after the purchase payment within which a full refund is given.
pub const FULL_REFUND_DAYS: i64 = 5;
/// Five-day refunds a buyer may have per UTC calendar year.
pub const FULL_REFUNDS_PER_YEAR: i64 = 10;
/// Periods counted back from an expiry, at most (far beyond any term sold).
const MAX_PERIODS: u32 = 10_000;

string_enum!(
    /// What an unsubscribe refunds: `subscription` ends it; `renewal_periods`
    /// keeps it and refunds renewal terms that have not started.
    UnsubscribeScope {
        Subscription => "subscription",
        RenewalPeriods => "renewal_periods",
    }
);

string_enum!(
    /// The rule a refund was computed by (see the module documentation).
    RefundRule {
        FiveDayFull => "five_day_full",
        ProRata => "pro_rata",
        RenewalPeriods => "renewal_periods",
        None => "none",
    }
);

/// How the subscription is charged, for the refund rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Charged {
    Trial,
    OnDemand,
    /// One-time purchases and prepaid packages.
    OneTime,
    Period {
        /// One period of the current specification (unit price x quantity).
        price_minor: i64,
        period: Period,
        expires_at: DateTime<Utc>,
    },
}

/// Why an unsubscribe cannot be refunded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RefundError {
    #[error("one-time purchases are refundable only within {FULL_REFUND_DAYS} days of payment")]
    NotRefundable,
    #[error("the refund amounts are out of range")]
    OutOfRange,
}

/// True when `now` is at most five days after `paid_at`.
pub fn within_full_refund_window(paid_at: DateTime<Utc>, now: DateTime<Utc>) -> bool {
    now >= paid_at && now - paid_at <= Duration::days(FULL_REFUND_DAYS)
}

/// The calendar year (UTC) five-day refunds are counted in.
pub fn refund_year(now: DateTime<Utc>) -> i64 {
    i64::from(now.year())
}

/// The rule and amount for unsubscribing from a whole subscription (see the
/// module documentation). `full_refunds_this_year` counts the buyer's
/// five-day refunds in `now`'s UTC year.
pub fn unsubscribe_refund(
    charged: Charged,
    refundable_minor: i64,
    purchase_paid_at: DateTime<Utc>,
    now: DateTime<Utc>,
    full_refunds_this_year: i64,
) -> Result<(RefundRule, i64), RefundError> {
    if refundable_minor < 0 {
        return Err(RefundError::OutOfRange);
    }
    if matches!(charged, Charged::Trial | Charged::OnDemand) || refundable_minor == 0 {
        return Ok((RefundRule::None, 0));
    }
    if within_full_refund_window(purchase_paid_at, now) && full_refunds_this_year < FULL_REFUNDS_PER_YEAR {
        return Ok((RefundRule::FiveDayFull, refundable_minor));
    }
    match charged {
        Charged::Period { price_minor, period, expires_at } => {
            let unused = unused_value(price_minor, period, expires_at, now).ok_or(RefundError::OutOfRange)?;
            Ok((RefundRule::ProRata, unused.min(refundable_minor)))
        }
        _ => Err(RefundError::NotRefundable),
    }
}

fn months_of(period: Period) -> u32 {
    match period {
        Period::Month => 1,
        Period::Year => 12,
    }
}

/// The unused part of a period subscription at `now` (see the module
/// documentation); None when out of range (negative price, overflow).
pub fn unused_value(price_minor: i64, period: Period, expires_at: DateTime<Utc>, now: DateTime<Utc>) -> Option<i64> {
    if price_minor < 0 {
        return None;
    }
    if now >= expires_at {
        return Some(0);
    }
    let per = months_of(period);
    let boundary = |k: u32| expires_at.checked_sub_months(Months::new(per.checked_mul(k)?));
    let mut whole: u32 = 0;
    let (upper, lower) = loop {
        let next = boundary(whole + 1)?;
        if next < now {
            break (boundary(whole)?, next);
        }
        whole += 1;
        if whole > MAX_PERIODS {
            return None;
        }
    };
    let unused_secs = i128::from((upper - now).num_seconds());
    let len_secs = i128::from((upper - lower).num_seconds());
    if len_secs <= 0 {
        return None;
    }
    let partial = i128::from(price_minor) * unused_secs / len_secs;
    let total = i128::from(price_minor) * i128::from(whole) + partial;
    i64::try_from(total).ok()
}

/// A renewal term bought for a subscription.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenewalTerm {
    pub starts_at: DateTime<Utc>,
    pub amount_minor: i64,
}

/// The renewal terms not started at `now` (indexes into `terms`), their
/// total and the expiry once they are refunded (the earliest start). None
/// when every term has started.
pub fn unstarted_renewals(terms: &[RenewalTerm], now: DateTime<Utc>) -> Option<(Vec<usize>, i64, DateTime<Utc>)> {
    let picked: Vec<usize> = (0..terms.len()).filter(|&i| terms[i].starts_at >= now).collect();
    let new_expiry = picked.iter().map(|&i| terms[i].starts_at).min()?;
    let total = picked.iter().try_fold(0i64, |acc, &i| acc.checked_add(terms[i].amount_minor))?;
    Some((picked, total, new_expiry))
}

/// A period's price as the buyer paid it: `price` scaled by what the line
/// cost against its list price (`channel::pricing`), rounded down, so a
/// discounted purchase refunds its unused part at the discounted price.
/// The price itself when the line had no discount.
pub fn discounted(price_minor: i64, paid_minor: i64, list_minor: i64) -> Option<i64> {
    if list_minor <= 0 || paid_minor >= list_minor {
        return Some(price_minor);
    }
    i64::try_from(i128::from(price_minor) * i128::from(paid_minor.max(0)) / i128::from(list_minor)).ok()
}

/// Money on its sides: the seller's part, the platform's commission and
/// the partner's share (`channel::pricing`; 0 for sales without a partner).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Parts {
    pub seller_minor: i64,
    pub commission_minor: i64,
    pub partner_minor: i64,
}

impl Parts {
    pub fn total(self) -> Option<i64> {
        self.seller_minor.checked_add(self.commission_minor)?.checked_add(self.partner_minor)
    }

    fn any_negative(self) -> bool {
        self.seller_minor < 0 || self.commission_minor < 0 || self.partner_minor < 0
    }
}

/// `ceil(after x part / total) - refunded`: what a part still owes so that
/// its refunds in total keep its share of the payments.
fn owed(after: i128, part: i64, total: i64, refunded: i64) -> i128 {
    let (num, den) = (after * i128::from(part), i128::from(total));
    (num + den - 1) / den - i128::from(refunded)
}

/// How a refund of `amount_minor` splits, given what the payments split
/// (`paid`) and what earlier refunds took back (`refunded`). The commission
/// and then the partner's share take their proportion rounded up (within
/// what is left of them and leaving the others enough), the seller the
/// rest. Err when the amount exceeds what is left or the figures are
/// inconsistent.
pub fn split_refund(paid: Parts, refunded: Parts, amount_minor: i64) -> Result<Parts, RefundError> {
    let bad = RefundError::OutOfRange;
    let paid_total = paid.total().ok_or(bad.clone())?;
    let left = Parts {
        seller_minor: paid.seller_minor - refunded.seller_minor,
        commission_minor: paid.commission_minor - refunded.commission_minor,
        partner_minor: paid.partner_minor - refunded.partner_minor,
    };
    if paid.any_negative() || refunded.any_negative() || left.any_negative() || amount_minor < 0 {
        return Err(bad);
    }
    if amount_minor > left.total().ok_or(bad.clone())? {
        return Err(bad);
    }
    if amount_minor == 0 {
        return Ok(Parts::default());
    }
    // paid_total > 0 here (something is left to refund).
    let after = i128::from(refunded.total().ok_or(bad.clone())?) + i128::from(amount_minor);
    let amount = i128::from(amount_minor);
    let want = owed(after, paid.commission_minor, paid_total, refunded.commission_minor);
    let lo = (amount - i128::from(left.seller_minor) - i128::from(left.partner_minor)).max(0);
    let commission = want.clamp(lo, amount.min(i128::from(left.commission_minor)));
    let rest = amount - commission;
    let want = owed(after, paid.partner_minor, paid_total, refunded.partner_minor);
    let lo = (rest - i128::from(left.seller_minor)).max(0);
    let partner = want.clamp(lo, rest.min(i128::from(left.partner_minor)));
    let to_i64 = |v: i128| i64::try_from(v).map_err(|_| RefundError::OutOfRange);
    Ok(Parts {
        seller_minor: to_i64(rest - partner)?,
        commission_minor: to_i64(commission)?,
        partner_minor: to_i64(partner)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use proptest::prelude::*;

    fn at(y: i32, m: u32, d: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, d, 0, 0, 0).unwrap()
    }

    #[test]
    fn worked_example_of_the_docs() {
        let bought = at(2026, 11, 22);
        let expiry = at(2027, 11, 22);
        let now = bought + Duration::days(40);
        assert_eq!(unused_value(99_000, Period::Year, expiry, now), Some(88_150));
        assert_eq!(unused_value(99_000, Period::Year, at(2028, 11, 22), now), Some(99_000 + 88_150));
        let charged = Charged::Period { price_minor: 99_000, period: Period::Year, expires_at: expiry };
        assert_eq!(unsubscribe_refund(charged, 99_000, bought, now, 0), Ok((RefundRule::ProRata, 88_150)));
        // Capped by what is refundable.
        assert_eq!(unsubscribe_refund(charged, 50_000, bought, now, 0), Ok((RefundRule::ProRata, 50_000)));
    }

    #[test]
    fn unused_value_edges() {
        let expiry = at(2027, 3, 31);
        assert_eq!(unused_value(9_900, Period::Month, expiry, expiry), Some(0));
        assert_eq!(unused_value(9_900, Period::Month, expiry, expiry + Duration::days(3)), Some(0));
        // Exactly on a boundary: whole periods only.
        assert_eq!(unused_value(9_900, Period::Month, expiry, at(2027, 1, 31)), Some(2 * 9_900));
        // Half of a 30-day period (Feb 28 -> Mar 28 counted back from Mar 28).
        let e = at(2027, 3, 28);
        assert_eq!(unused_value(10_000, Period::Month, e, at(2027, 3, 14)), Some(5_000));
        assert_eq!(unused_value(-1, Period::Month, e, at(2027, 3, 14)), None);
        assert_eq!(unused_value(1, Period::Month, e, at(2027, 3, 27) + Duration::hours(23)), Some(0));
    }

    #[test]
    fn five_day_rule_and_its_limit() {
        let paid = at(2027, 1, 1);
        let expiry = at(2028, 1, 1);
        let c = Charged::Period { price_minor: 99_000, period: Period::Year, expires_at: expiry };
        let day5 = paid + Duration::days(5);
        assert_eq!(unsubscribe_refund(c, 99_000, paid, day5, 9), Ok((RefundRule::FiveDayFull, 99_000)));
        let (rule, amount) = unsubscribe_refund(c, 99_000, paid, day5 + Duration::seconds(1), 0).unwrap();
        assert_eq!(rule, RefundRule::ProRata);
        assert!(amount < 99_000);
        assert_eq!(unsubscribe_refund(c, 99_000, paid, day5, 10).unwrap().0, RefundRule::ProRata);
        let one = Charged::OneTime;
        assert_eq!(unsubscribe_refund(one, 500, paid, day5, 0), Ok((RefundRule::FiveDayFull, 500)));
        assert_eq!(unsubscribe_refund(one, 500, paid, day5, 10), Err(RefundError::NotRefundable));
        assert_eq!(unsubscribe_refund(one, 500, paid, day5 + Duration::days(1), 0), Err(RefundError::NotRefundable));
        assert_eq!(unsubscribe_refund(Charged::Trial, 0, paid, day5, 0), Ok((RefundRule::None, 0)));
        assert_eq!(unsubscribe_refund(Charged::OnDemand, 0, paid, day5, 0), Ok((RefundRule::None, 0)));
        assert_eq!(unsubscribe_refund(c, 0, paid, day5, 0), Ok((RefundRule::None, 0)));
        assert_eq!(refund_year(at(2027, 12, 31) + Duration::hours(23)), 2027);
    }

    #[test]
    fn renewal_terms_not_started() {
        let now = at(2027, 2, 1);
        let terms = vec![
            RenewalTerm { starts_at: at(2027, 1, 1), amount_minor: 100 },
            RenewalTerm { starts_at: at(2027, 3, 1), amount_minor: 200 },
            RenewalTerm { starts_at: at(2027, 2, 1), amount_minor: 300 },
        ];
        assert_eq!(unstarted_renewals(&terms, now), Some((vec![1, 2], 500, at(2027, 2, 1))));
        assert_eq!(unstarted_renewals(&terms[..1], now), None);
    }

    #[test]
    fn split_examples() {
        let paid = Parts { seller_minor: 79_200, commission_minor: 19_800, partner_minor: 0 };
        assert_eq!(split_refund(paid, Parts::default(), 99_000), Ok(paid));
        // 20%: commission 8 830.? -> ceil.
        let p = split_refund(paid, Parts::default(), 44_151).unwrap();
        assert_eq!(p, Parts { seller_minor: 35_320, commission_minor: 8_831, partner_minor: 0 });
        let rest = split_refund(paid, p, 99_000 - 44_151).unwrap();
        assert_eq!(p.seller_minor + rest.seller_minor, 79_200);
        assert_eq!(p.commission_minor + rest.commission_minor, 19_800);
        assert_eq!(split_refund(paid, p, 99_000), Err(RefundError::OutOfRange));
        assert_eq!(split_refund(paid, Parts::default(), -1), Err(RefundError::OutOfRange));
        // With a partner's share: 23 500 paid as 18 800 / 3 525 / 1 175.
        let paid = Parts { seller_minor: 18_800, commission_minor: 3_525, partner_minor: 1_175 };
        assert_eq!(split_refund(paid, Parts::default(), 23_500), Ok(paid));
        let half = split_refund(paid, Parts::default(), 11_750).unwrap();
        // Half: the commission and the partner round up (1 762.5, 587.5), the seller gets the rest.
        assert_eq!(half, Parts { seller_minor: 9_399, commission_minor: 1_763, partner_minor: 588 });
    }

    fn parts() -> impl Strategy<Value = Parts> {
        (0i64..1_000_000_000, 0i64..1_000_000_000, prop_oneof![Just(0i64), 0i64..100_000_000])
            .prop_map(|(s, c, p)| Parts { seller_minor: s, commission_minor: c, partner_minor: p })
    }

    proptest! {
        /// Any sequence of refunds splits exactly, never takes back more of a
        /// part than it got, and a full sequence returns every part.
        #[test]
        fn refunds_split_exactly(paid in parts(), cuts in proptest::collection::vec(0.0f64..1.0, 1..6)) {
            let total = paid.total().unwrap();
            let mut refunded = Parts::default();
            for cut in cuts {
                let left = total - refunded.total().unwrap();
                let amount = ((left as f64) * cut) as i64;
                let p = split_refund(paid, refunded, amount).unwrap();
                prop_assert_eq!(p.total(), Some(amount));
                prop_assert!(!p.any_negative());
                refunded.seller_minor += p.seller_minor;
                refunded.commission_minor += p.commission_minor;
                refunded.partner_minor += p.partner_minor;
                prop_assert!(refunded.seller_minor <= paid.seller_minor);
                prop_assert!(refunded.commission_minor <= paid.commission_minor);
                prop_assert!(refunded.partner_minor <= paid.partner_minor);
            }
            let left = total - refunded.total().unwrap();
            let p = split_refund(paid, refunded, left).unwrap();
            prop_assert_eq!(refunded.seller_minor + p.seller_minor, paid.seller_minor);
            prop_assert_eq!(refunded.commission_minor + p.commission_minor, paid.commission_minor);
            prop_assert_eq!(refunded.partner_minor + p.partner_minor, paid.partner_minor);
            let all = Parts {
                seller_minor: refunded.seller_minor + p.seller_minor,
                commission_minor: refunded.commission_minor + p.commission_minor,
                partner_minor: refunded.partner_minor + p.partner_minor,
            };
            let over = split_refund(paid, all, 1);
            prop_assert!(total == 0 || over.is_err());
        }

        /// The unused part never exceeds the whole term, never grows as time
        /// passes, and is whole periods on a boundary.
        #[test]
        fn unused_value_is_bounded_and_monotone(
            price in 0i64..10_000_000,
            periods in 1u32..6,
            yearly in any::<bool>(),
            a in 0i64..200_000_000,
            b in 0i64..200_000_000,
        ) {
            let period = if yearly { Period::Year } else { Period::Month };
            let start = at(2027, 1, 31);
            let expiry = start.checked_add_months(Months::new(periods * months_of(period))).unwrap();
            let (t1, t2) = (start + Duration::seconds(a.min(b)), start + Duration::seconds(a.max(b)));
            let u1 = unused_value(price, period, expiry, t1).unwrap();
            let u2 = unused_value(price, period, expiry, t2).unwrap();
            prop_assert!(u1 >= u2);
            prop_assert!(u1 <= price * i64::from(periods));
            prop_assert!(u2 >= 0);
        }
    }
}

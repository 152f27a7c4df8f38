//! Settlement arithmetic: billing periods (账期) and what a seller statement
//! adds up to. No IO; the settlement run reads deliveries and ledger lines
//! and hands them here.
//!
//! # Billing periods ([`Calendar`])
//!
//! A period is a calendar month in the settlement time zone, a fixed UTC
//! offset (default UTC; China is `+08:00` all year, so no daylight saving
//! rule is needed), half-open `[start, end)`, labelled `YYYY-MM`. A line
//! belongs to the period in which its delivery completed (its settleable
//! time); a period is settled once its end plus the cut-off delay has passed
//! ([`Calendar::settleable`]), so a line completed after the end belongs to
//! the next period whenever the run happens.
//!
//! # A statement's amounts ([`totals`])
//!
//! Each line carries what the buyer paid (`gross`) and the platform's
//! commission on it; the seller's share is `gross - commission`. Clawbacks
//! (refunds of money settled in an earlier period) are lines with negative
//! amounts. Amounts are tax-inclusive: the statement shows the tax contained
//! in the seller's net at the rate of its business certification,
//! `tax = net - round(net x 10000 / (10000 + rate_bp))`, rounded half away
//! from zero to the minor unit. The tax is information for the seller's
//! invoice to the platform; the payout is the net.

use chrono::{DateTime, Datelike, FixedOffset, NaiveDate, TimeZone, Utc};

/// The settlement time zone: a fixed offset from UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Calendar {
    offset: FixedOffset,
}

/// One billing period.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Period {
    /// `YYYY-MM`.
    pub label: String,
    pub start: DateTime<Utc>,
    /// Exclusive.
    pub end: DateTime<Utc>,
}

impl Period {
    pub fn contains(&self, t: DateTime<Utc>) -> bool {
        self.start <= t && t < self.end
    }
}

impl std::fmt::Display for Calendar {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.offset.local_minus_utc() == 0 { f.write_str("UTC") } else { write!(f, "{}", self.offset) }
    }
}

/// As configured: `UTC` or `+08:00`.
impl serde::Serialize for Calendar {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Calendar {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        Calendar::parse(&text).map_err(serde::de::Error::custom)
    }
}

impl Default for Calendar {
    fn default() -> Self {
        Calendar { offset: FixedOffset::east_opt(0).expect("UTC") }
    }
}

impl Calendar {
    /// `UTC`, `Z`, or `+HH:MM` / `-HH:MM` (at most 14 hours).
    pub fn parse(text: &str) -> Result<Calendar, String> {
        let t = text.trim();
        if t.eq_ignore_ascii_case("utc") || t == "Z" || t.is_empty() {
            return Ok(Calendar::default());
        }
        let bad = || format!("{text:?} is not a UTC offset like +08:00");
        let (sign, rest) = match t.as_bytes().first() {
            Some(b'+') => (1, &t[1..]),
            Some(b'-') => (-1, &t[1..]),
            _ => return Err(bad()),
        };
        let (h, m) = rest.split_once(':').ok_or_else(bad)?;
        if h.len() != 2 || m.len() != 2 {
            return Err(bad());
        }
        let (h, m): (i32, i32) = (h.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?);
        if h > 14 || m > 59 {
            return Err(bad());
        }
        let offset = FixedOffset::east_opt(sign * (h * 3600 + m * 60)).ok_or_else(bad)?;
        Ok(Calendar { offset })
    }

    fn month_start(&self, year: i32, month: u32) -> Option<DateTime<Utc>> {
        let day = NaiveDate::from_ymd_opt(year, month, 1)?.and_hms_opt(0, 0, 0)?;
        Some(self.offset.from_local_datetime(&day).single()?.with_timezone(&Utc))
    }

    fn period_at(&self, year: i32, month: u32) -> Option<Period> {
        let (next_year, next_month) = if month == 12 { (year + 1, 1) } else { (year, month + 1) };
        Some(Period {
            label: format!("{year:04}-{month:02}"),
            start: self.month_start(year, month)?,
            end: self.month_start(next_year, next_month)?,
        })
    }

    /// The period holding `t`.
    pub fn period_of(&self, t: DateTime<Utc>) -> Period {
        let local = t.with_timezone(&self.offset);
        self.period_at(local.year(), local.month()).expect("a month in chrono's range")
    }

    /// The period labelled `YYYY-MM` (years 2000-2999), None otherwise.
    pub fn period(&self, label: &str) -> Option<Period> {
        let (y, m) = label.split_once('-')?;
        if y.len() != 4 || m.len() != 2 || !y.bytes().chain(m.bytes()).all(|b| b.is_ascii_digit()) {
            return None;
        }
        let (year, month): (i32, u32) = (y.parse().ok()?, m.parse().ok()?);
        if !(2000..=2999).contains(&year) || !(1..=12).contains(&month) {
            return None;
        }
        self.period_at(year, month)
    }

    /// The period after `p`.
    pub fn next(&self, p: &Period) -> Period {
        self.period_of(p.end)
    }

    /// The latest period that may be settled at `now`: its end plus
    /// `cutoff` has passed.
    pub fn settleable(&self, now: DateTime<Utc>, cutoff: chrono::Duration) -> Period {
        let current = self.period_of(now - cutoff);
        self.period_of(current.start - chrono::Duration::seconds(1))
    }
}

crate::string_enum!(
    /// Where a statement stands ([`StatementStatus::next`]).
    StatementStatus {
        Issued => "issued",
        Confirmed => "confirmed",
        Disputed => "disputed",
        Approved => "approved",
        Paid => "paid",
    }
);

crate::string_enum!(
    /// A step of a statement's lifecycle: the run issues it; the seller
    /// confirms or disputes (with a reason), or nobody answers in time and it
    /// is auto-confirmed; an operator reissues a disputed one with an answer;
    /// an operator other than the issuer approves the payment (会签); the
    /// payout is recorded with the provider's reference, or fails and the
    /// statement is approved again.
    StatementAction {
        Issue => "issue",
        Confirm => "confirm",
        AutoConfirm => "auto_confirm",
        Dispute => "dispute",
        Reissue => "reissue",
        Approve => "approve",
        Pay => "pay",
        PayoutFailed => "payout_failed",
    }
);

/// A statement step that does not apply where it stands.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot {action} a statement that is {status}")]
pub struct StatementOutOfOrder {
    pub status: StatementStatus,
    pub action: StatementAction,
}

impl StatementStatus {
    /// The lifecycle:
    ///
    /// ```text
    /// issued --confirm (seller) / auto_confirm--> confirmed --approve (another operator)--> approved
    /// issued --dispute (seller: reason)--> disputed --reissue (operator: answer)--> issued
    /// approved --pay (operator: reference; the Payout entry)--> paid --payout_failed (reversed)--> approved
    /// ```
    pub fn next(self, action: StatementAction) -> Result<StatementStatus, StatementOutOfOrder> {
        use StatementAction as A;
        use StatementStatus as S;
        match (self, action) {
            (S::Issued, A::Confirm | A::AutoConfirm) => Ok(S::Confirmed),
            (S::Issued, A::Dispute) => Ok(S::Disputed),
            (S::Disputed, A::Reissue) => Ok(S::Issued),
            (S::Confirmed, A::Approve) => Ok(S::Approved),
            (S::Approved, A::Pay) => Ok(S::Paid),
            (S::Paid, A::PayoutFailed) => Ok(S::Approved),
            _ => Err(StatementOutOfOrder { status: self, action }),
        }
    }
}

crate::string_enum!(
    /// How a payout is made (the payout providers this build has):
    /// `manual`, a bank transfer the operator made and records with the
    /// bank's reference.
    PayoutMethod {
        Manual => "manual",
    }
);

crate::string_enum!(
    /// What a statement line is: a delivered order line, a usage charge, or
    /// a clawback of money settled earlier.
    StatementLineKind {
        Sale => "sale",
        Usage => "usage",
        Clawback => "clawback",
    }
);

/// One line's money (negative for clawbacks).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LineAmounts {
    pub gross_minor: i64,
    pub commission_minor: i64,
}

/// What a statement adds up to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Totals {
    pub gross_minor: i64,
    pub commission_minor: i64,
    /// The seller's share: gross - commission. What is paid out.
    pub net_minor: i64,
    /// The tax contained in the net at the seller's rate.
    pub tax_minor: i64,
}

/// A sum that does not fit, or a rate out of range.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SettlementError {
    #[error("the statement's amounts overflow")]
    Overflow,
    #[error("a tax rate must be 0-10000 basis points")]
    BadRate,
}

/// The statement totals of `lines` at `tax_rate_bp` (see the module
/// documentation).
pub fn totals(lines: &[LineAmounts], tax_rate_bp: i64) -> Result<Totals, SettlementError> {
    if !(0..=10_000).contains(&tax_rate_bp) {
        return Err(SettlementError::BadRate);
    }
    let mut t = Totals::default();
    for l in lines {
        t.gross_minor = t.gross_minor.checked_add(l.gross_minor).ok_or(SettlementError::Overflow)?;
        t.commission_minor = t.commission_minor.checked_add(l.commission_minor).ok_or(SettlementError::Overflow)?;
    }
    t.net_minor = t.gross_minor.checked_sub(t.commission_minor).ok_or(SettlementError::Overflow)?;
    t.tax_minor = tax_contained(t.net_minor, tax_rate_bp)?;
    Ok(t)
}

/// The tax contained in a tax-inclusive `amount` at `rate_bp`, rounded half
/// away from zero.
pub fn tax_contained(amount: i64, rate_bp: i64) -> Result<i64, SettlementError> {
    let scaled = i128::from(amount) * 10_000;
    let divisor = i128::from(10_000 + rate_bp);
    let half = divisor / 2;
    let excl = if scaled >= 0 { (scaled + half) / divisor } else { (scaled - half) / divisor };
    i64::try_from(i128::from(amount) - excl).map_err(|_| SettlementError::Overflow)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn months_in_utc_and_in_china() {
        let utc = Calendar::default();
        let p = utc.period_of(at("2026-11-30T23:59:59Z"));
        assert_eq!(
            (p.label.as_str(), p.start, p.end),
            ("2026-11", at("2026-11-01T00:00:00Z"), at("2026-12-01T00:00:00Z"))
        );
        let cst = Calendar::parse("+08:00").unwrap();
        // 2026-11-30 16:00 UTC is December 1st midnight in Beijing.
        assert_eq!(cst.period_of(at("2026-11-30T16:00:00Z")).label, "2026-12");
        assert_eq!(cst.period_of(at("2026-11-30T15:59:59Z")).label, "2026-11");
        let dec = cst.period("2026-12").unwrap();
        assert_eq!((dec.start, dec.end), (at("2026-11-30T16:00:00Z"), at("2026-12-31T16:00:00Z")));
        assert_eq!(cst.next(&dec).label, "2027-01");
        let feb = utc.period("2028-02").unwrap();
        assert_eq!(feb.end - feb.start, chrono::Duration::days(29), "leap year");
    }

    #[test]
    fn labels_and_offsets_are_checked() {
        let utc = Calendar::default();
        for bad in ["2026-13", "2026-00", "26-11", "2026-1", "1999-12", "2026/11", "2026-1a", ""] {
            assert!(utc.period(bad).is_none(), "{bad}");
        }
        for ok in ["UTC", "utc", "Z", "+08:00", "-05:30", "+14:00"] {
            assert!(Calendar::parse(ok).is_ok(), "{ok}");
        }
        for bad in ["+8", "08:00", "+15:00", "+08:60", "CST", "+08:00:00"] {
            assert!(Calendar::parse(bad).is_err(), "{bad}");
        }
        for text in ["UTC", "+08:00", "-05:30"] {
            assert_eq!(Calendar::parse(text).unwrap().to_string(), text);
        }
    }

    #[test]
    fn a_period_is_settleable_after_its_end_plus_the_cutoff() {
        let utc = Calendar::default();
        let day = chrono::Duration::days(1);
        assert_eq!(utc.settleable(at("2026-12-01T23:59:59Z"), day).label, "2026-10");
        assert_eq!(utc.settleable(at("2026-12-02T00:00:00Z"), day).label, "2026-11");
        assert_eq!(utc.settleable(at("2027-01-15T00:00:00Z"), chrono::Duration::zero()).label, "2026-12");
    }

    #[test]
    fn totals_with_clawbacks_and_tax() {
        let lines = [
            LineAmounts { gross_minor: 99_000, commission_minor: 19_800 },
            LineAmounts { gross_minor: 9_900, commission_minor: 1_980 },
            LineAmounts { gross_minor: -9_900, commission_minor: -1_980 },
        ];
        let t = totals(&lines, 600).unwrap();
        assert_eq!((t.gross_minor, t.commission_minor, t.net_minor), (99_000, 19_800, 79_200));
        // 79 200 / 1.06 = 74 716.98... -> 74 717 excluding tax: 4 483 tax.
        assert_eq!(t.tax_minor, 4_483);
        assert_eq!(totals(&lines, 0).unwrap().tax_minor, 0);
        assert_eq!(tax_contained(-106, 600).unwrap(), -6);
        assert_eq!(totals(&lines, 10_001), Err(SettlementError::BadRate));
        let huge = [LineAmounts { gross_minor: i64::MAX, commission_minor: 0 }; 2];
        assert_eq!(totals(&huge, 0), Err(SettlementError::Overflow));
        assert_eq!(totals(&[], 600).unwrap(), Totals::default());
    }

    #[test]
    fn statement_steps_are_exactly_the_documented_ones() {
        use StatementAction as A;
        use StatementStatus as S;
        let allowed = [
            (S::Issued, A::Confirm, S::Confirmed),
            (S::Issued, A::AutoConfirm, S::Confirmed),
            (S::Issued, A::Dispute, S::Disputed),
            (S::Disputed, A::Reissue, S::Issued),
            (S::Confirmed, A::Approve, S::Approved),
            (S::Approved, A::Pay, S::Paid),
            (S::Paid, A::PayoutFailed, S::Approved),
        ];
        for &from in S::ALL {
            for &action in A::ALL {
                let expected = allowed.iter().find(|(f, a, _)| *f == from && *a == action).map(|(_, _, to)| *to);
                assert_eq!(from.next(action).ok(), expected, "{from} {action}");
            }
        }
        assert_eq!(
            S::Approved.next(A::Approve).unwrap_err().to_string(),
            "cannot approve a statement that is approved"
        );
    }

    proptest! {
        #[test]
        fn periods_tile_time(secs in 946_684_800i64..4_102_444_800, offset_min in -840i32..=840) {
            let cal = Calendar { offset: FixedOffset::east_opt(offset_min * 60).unwrap() };
            let t = DateTime::from_timestamp(secs, 0).unwrap();
            let p = cal.period_of(t);
            prop_assert!(p.contains(t));
            prop_assert_eq!(cal.period(&p.label), Some(p.clone()));
            let n = cal.next(&p);
            prop_assert_eq!(n.start, p.end);
            prop_assert!((28..=31).contains(&(p.end - p.start).num_days()));
        }

        #[test]
        fn tax_is_within_the_amount(amount in -1_000_000_000i64..1_000_000_000, rate in 0i64..=10_000) {
            let tax = tax_contained(amount, rate).unwrap();
            prop_assert!(tax.abs() <= amount.abs());
            prop_assert_eq!(tax.signum() * amount.signum() >= 0, true);
        }
    }
}

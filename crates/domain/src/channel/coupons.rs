//! Coupons (满减代金券): a seller's batch of threshold coupons for named
//! products or SKUs of its on-sale products; buyers claim them and apply
//! one when ordering.

use crate::money::{self, MAX_PRICE_MINOR};
use crate::orders::TransitionError;
use crate::validation::{Checker, Invalid};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

string_enum!(
    /// A coupon batch: `active` (claimable while valid and not exhausted)
    /// or `stopped` by the seller (claimed coupons stay usable).
    CouponBatchStatus {
        Active => "active",
        Stopped => "stopped",
    }
);

string_enum!(
    /// A claimed coupon: `available`, or `used` by an order (given back
    /// when that order is cancelled unpaid or refunded in full).
    CouponStatus {
        Available => "available",
        Used => "used",
    }
);

/// What a batch applies to: any of these products, or any of these SKUs.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CouponScope {
    #[serde(default)]
    pub product_ids: Vec<String>,
    #[serde(default)]
    pub sku_ids: Vec<String>,
}

crate::stored_as_json!(CouponScope);

impl CouponScope {
    /// True when a line of `product_id` / `sku_id` is within the scope.
    pub fn covers(&self, product_id: &str, sku_id: &str) -> bool {
        self.product_ids.iter().any(|p| p == product_id) || self.sku_ids.iter().any(|s| s == sku_id)
    }
}

/// The longest batch name, in characters.
pub const NAME_MAX: usize = 100;
/// The most coupons one batch may give out.
pub const TOTAL_MAX: i64 = 1_000_000;
/// The most products, and the most SKUs, one scope may name.
pub const SCOPE_MAX: usize = 100;

/// What happens to a batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BatchEvent {
    /// The seller stops it: active -> stopped (no more claims).
    Stop,
}

impl BatchEvent {
    pub const ALL: &'static [BatchEvent] = &[BatchEvent::Stop];
}

impl CouponBatchStatus {
    /// The state after `event`, or why it does not apply.
    pub fn next(self, event: BatchEvent) -> Result<CouponBatchStatus, TransitionError> {
        match (self, event) {
            (CouponBatchStatus::Active, BatchEvent::Stop) => Ok(CouponBatchStatus::Stopped),
            _ => Err(TransitionError { what: "coupon batch", from: self.as_str(), event: format!("{event:?}") }),
        }
    }
}

/// What happens to a claimed coupon (the order path, `store::repo::deals`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CouponEvent {
    /// An order applies it: available -> used.
    Use,
    /// Its order was cancelled unpaid or refunded in full: used -> available.
    GiveBack,
}

impl CouponEvent {
    pub const ALL: &'static [CouponEvent] = &[CouponEvent::Use, CouponEvent::GiveBack];
}

impl CouponStatus {
    /// The state after `event`, or why it does not apply.
    pub fn next(self, event: CouponEvent) -> Result<CouponStatus, TransitionError> {
        match (self, event) {
            (CouponStatus::Available, CouponEvent::Use) => Ok(CouponStatus::Used),
            (CouponStatus::Used, CouponEvent::GiveBack) => Ok(CouponStatus::Available),
            _ => Err(TransitionError { what: "coupon", from: self.as_str(), event: format!("{event:?}") }),
        }
    }
}

/// Checks a validity window `[from, until)` as of `now` (a `valid_from`
/// in the past is fine): `until` in the future and after `from`; a
/// problem is reported on `until_field`.
pub fn check_window(c: &mut Checker, from: DateTime<Utc>, until: DateTime<Utc>, now: DateTime<Utc>, until_field: &str) {
    if until <= now {
        c.add(until_field, "must be in the future");
    } else if until <= from {
        c.add(until_field, "must be after valid_from");
    }
}

/// The terms of a new batch, as the seller sends them (`valid_from`
/// already defaulted to now).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchTerms<'a> {
    pub name: &'a str,
    pub threshold_minor: i64,
    pub amount_off_minor: i64,
    pub currency: &'a str,
    pub scope: &'a CouponScope,
    pub valid_from: DateTime<Utc>,
    pub valid_until: DateTime<Utc>,
    pub total_count: i64,
    pub per_buyer_limit: i64,
}

/// What the store found for one product or SKU the scope names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScopeTarget {
    /// Not one of the seller's on-sale products (or an active SKU of one):
    /// unknown, another seller's, not listed, or an inactive SKU. One answer
    /// for all, so a scope never tells whether another seller's id exists.
    NotOnSale,
    /// On sale, priced in these currencies (a SKU: its own; a product: its
    /// listed SKUs').
    OnSale { currencies: Vec<String> },
}

/// Every rule of a new batch (422 listing every bad field): a name;
/// `amount_off_minor` > 0 and at most `threshold_minor` (a 满减 coupon never
/// takes more than the threshold); a known currency that every product and
/// SKU of the scope is priced in; at least one product or SKU, each named
/// once and on sale (`products[i]` / `skus[i]` are what the store found for
/// `scope.product_ids[i]` / `scope.sku_ids[i]`); a valid window (see
/// [`check_window`]); `total_count` 1 to [`TOTAL_MAX`]; `per_buyer_limit`
/// 1 to `total_count`.
pub fn check_batch(
    t: &BatchTerms<'_>,
    products: &[ScopeTarget],
    skus: &[ScopeTarget],
    now: DateTime<Utc>,
) -> Result<(), Invalid> {
    let mut c = Checker::new();
    c.text("name", t.name, 1, NAME_MAX);
    c.check(t.amount_off_minor > 0, "amount_off_minor", "must be positive");
    if t.amount_off_minor > MAX_PRICE_MINOR {
        c.add("amount_off_minor", format!("must be at most {MAX_PRICE_MINOR} minor units"));
    }
    if let Some(p) = money::price_problem(t.threshold_minor) {
        c.add("threshold_minor", p);
    }
    c.check(
        t.threshold_minor >= t.amount_off_minor,
        "threshold_minor",
        "must be at least amount_off_minor (the amount comes off an order of at least the threshold)",
    );
    let known = money::is_currency(t.currency);
    c.check(known, "currency", format!("must be one of {}", money::currency_codes()));
    let s = t.scope;
    c.check(!s.product_ids.is_empty() || !s.sku_ids.is_empty(), "scope", "name at least one product or SKU");
    c.check(s.product_ids.len() <= SCOPE_MAX, "scope.product_ids", format!("at most {SCOPE_MAX} products"));
    c.check(s.sku_ids.len() <= SCOPE_MAX, "scope.sku_ids", format!("at most {SCOPE_MAX} SKUs"));
    for (kind, ids, found) in [("product_ids", &s.product_ids, products), ("sku_ids", &s.sku_ids, skus)] {
        for (i, id) in ids.iter().enumerate() {
            let field = format!("scope.{kind}[{i}]");
            if ids[..i].contains(id) {
                c.add(field, "named twice");
                continue;
            }
            match found.get(i) {
                None | Some(ScopeTarget::NotOnSale) => {
                    let what = if kind == "product_ids" {
                        "no product of yours on sale"
                    } else {
                        "no active SKU of a product of yours on sale"
                    };
                    c.add(field, format!("{what} has this id"));
                }
                Some(ScopeTarget::OnSale { currencies }) => {
                    if known && currencies.iter().any(|cur| cur != t.currency) {
                        c.add(field, format!("is priced in {}, not {}", currencies.join(", "), t.currency));
                    }
                }
            }
        }
    }
    check_window(&mut c, t.valid_from, t.valid_until, now, "valid_until");
    c.check((1..=TOTAL_MAX).contains(&t.total_count), "total_count", format!("must be 1 to {TOTAL_MAX}"));
    c.check(
        t.per_buyer_limit >= 1 && t.per_buyer_limit <= t.total_count.max(1),
        "per_buyer_limit",
        "must be 1 to total_count",
    );
    c.finish()
}

/// Why a buyer cannot claim a coupon of a batch (409, stable codes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ClaimRefusal {
    #[error("the seller stopped this batch")]
    Stopped,
    #[error("this batch's coupons cannot be claimed yet")]
    NotStarted,
    #[error("this batch has expired")]
    Expired,
    #[error("every coupon of this batch has been claimed")]
    Exhausted,
    #[error("you have claimed as many coupons of this batch as one buyer may")]
    LimitReached,
}

impl ClaimRefusal {
    pub fn code(self) -> &'static str {
        match self {
            ClaimRefusal::Stopped => "coupon_batch_stopped",
            ClaimRefusal::NotStarted => "coupon_not_started",
            ClaimRefusal::Expired => "coupon_expired",
            ClaimRefusal::Exhausted => "coupons_exhausted",
            ClaimRefusal::LimitReached => "coupon_limit_reached",
        }
    }
}

/// A batch as far as claiming is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchState {
    pub status: CouponBatchStatus,
    pub valid_from: DateTime<Utc>,
    pub valid_until: DateTime<Utc>,
    pub claimed: i64,
    pub total_count: i64,
    pub per_buyer_limit: i64,
}

impl BatchState {
    /// Whether a buyer who holds `claims_by_buyer` coupons of the batch may
    /// claim one more at `now`; the first refusal in the order stopped,
    /// not started, expired, exhausted, limit reached.
    pub fn claim(&self, claims_by_buyer: i64, now: DateTime<Utc>) -> Result<(), ClaimRefusal> {
        if self.status == CouponBatchStatus::Stopped {
            Err(ClaimRefusal::Stopped)
        } else if now < self.valid_from {
            Err(ClaimRefusal::NotStarted)
        } else if now >= self.valid_until {
            Err(ClaimRefusal::Expired)
        } else if self.claimed >= self.total_count {
            Err(ClaimRefusal::Exhausted)
        } else if claims_by_buyer >= self.per_buyer_limit {
            Err(ClaimRefusal::LimitReached)
        } else {
            Ok(())
        }
    }

    /// Claimable by someone now (the buyer's catalog of batches).
    pub fn claimable(&self, now: DateTime<Utc>) -> bool {
        self.claim(0, now).is_ok()
    }
}

string_enum!(
    /// A claimed coupon as of now: `usable` (available and within its
    /// batch's validity), `not_started`, `expired` (never used before the
    /// batch's end), or `used` by an order. Stopping a batch changes none.
    CouponState {
        Usable => "usable",
        NotStarted => "not_started",
        Expired => "expired",
        Used => "used",
    }
);

impl CouponState {
    pub fn of(status: CouponStatus, valid_from: DateTime<Utc>, valid_until: DateTime<Utc>, now: DateTime<Utc>) -> Self {
        match status {
            CouponStatus::Used => CouponState::Used,
            CouponStatus::Available if now < valid_from => CouponState::NotStarted,
            CouponStatus::Available if now >= valid_until => CouponState::Expired,
            CouponStatus::Available => CouponState::Usable,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, TimeZone};

    fn t0() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 1, 0, 0, 0).unwrap()
    }

    #[test]
    fn batch_transitions_are_exactly_the_documented_ones() {
        let allowed = [(CouponBatchStatus::Active, BatchEvent::Stop, CouponBatchStatus::Stopped)];
        for from in CouponBatchStatus::ALL {
            for event in BatchEvent::ALL {
                let expected = allowed.iter().find(|(f, e, _)| f == from && e == event).map(|(_, _, to)| *to);
                assert_eq!(from.next(*event).ok(), expected, "{from} {event:?}");
            }
        }
    }

    #[test]
    fn coupon_transitions_are_exactly_the_documented_ones() {
        use CouponEvent as E;
        use CouponStatus as S;
        let allowed = [(S::Available, E::Use, S::Used), (S::Used, E::GiveBack, S::Available)];
        for from in S::ALL {
            for event in E::ALL {
                let expected = allowed.iter().find(|(f, e, _)| f == from && e == event).map(|(_, _, to)| *to);
                assert_eq!(from.next(*event).ok(), expected, "{from} {event:?}");
            }
        }
        assert!(S::Used.next(E::Use).unwrap_err().to_string().contains("used"));
    }

    fn scope() -> CouponScope {
        CouponScope { product_ids: vec!["prd_a".into()], sku_ids: vec!["sku_b".into()] }
    }

    fn on_sale() -> ScopeTarget {
        ScopeTarget::OnSale { currencies: vec!["CNY".into()] }
    }

    fn terms(scope: &CouponScope) -> BatchTerms<'_> {
        BatchTerms {
            name: "Winter",
            threshold_minor: 10_000,
            amount_off_minor: 1_000,
            currency: "CNY",
            scope,
            valid_from: t0(),
            valid_until: t0() + Duration::days(30),
            total_count: 100,
            per_buyer_limit: 2,
        }
    }

    fn fields(r: Result<(), Invalid>) -> Vec<String> {
        r.err().map(|i| i.0.into_iter().map(|e| e.field).collect()).unwrap_or_default()
    }

    #[test]
    fn a_good_batch_passes_and_every_bad_field_is_named() {
        let s = scope();
        assert_eq!(check_batch(&terms(&s), &[on_sale()], &[on_sale()], t0()), Ok(()));
        // Threshold equal to the amount is fine (the order becomes free).
        let mut t = terms(&s);
        t.threshold_minor = 1_000;
        assert_eq!(check_batch(&t, &[on_sale()], &[on_sale()], t0()), Ok(()));

        let mut t = terms(&s);
        t.name = " ";
        t.amount_off_minor = 0;
        t.currency = "XXX";
        t.total_count = 0;
        t.per_buyer_limit = 0;
        t.valid_until = t0() - Duration::seconds(1);
        let f = fields(check_batch(&t, &[ScopeTarget::NotOnSale], &[on_sale()], t0()));
        assert_eq!(
            f,
            [
                "name",
                "amount_off_minor",
                "currency",
                "scope.product_ids[0]",
                "valid_until",
                "total_count",
                "per_buyer_limit"
            ]
        );

        let mut t = terms(&s);
        t.threshold_minor = 999;
        t.per_buyer_limit = 101;
        t.valid_from = t0() + Duration::days(30);
        let usd = ScopeTarget::OnSale { currencies: vec!["USD".into()] };
        let f = fields(check_batch(&t, &[on_sale()], &[usd], t0()));
        assert_eq!(f, ["threshold_minor", "scope.sku_ids[0]", "valid_until", "per_buyer_limit"]);

        let empty = CouponScope::default();
        assert_eq!(fields(check_batch(&terms(&empty), &[], &[], t0())), ["scope"]);
        let twice = CouponScope { product_ids: vec!["prd_a".into(), "prd_a".into()], sku_ids: vec![] };
        assert_eq!(fields(check_batch(&terms(&twice), &[on_sale(), on_sale()], &[], t0())), ["scope.product_ids[1]"]);
        let mut t = terms(&s);
        t.total_count = TOTAL_MAX + 1;
        t.per_buyer_limit = 1;
        assert_eq!(fields(check_batch(&t, &[on_sale()], &[on_sale()], t0())), ["total_count"]);
    }

    #[test]
    fn claims_are_refused_in_a_fixed_order() {
        let b = BatchState {
            status: CouponBatchStatus::Active,
            valid_from: t0(),
            valid_until: t0() + Duration::days(1),
            claimed: 4,
            total_count: 5,
            per_buyer_limit: 2,
        };
        assert_eq!(b.claim(1, t0()), Ok(()));
        assert_eq!(b.claim(2, t0()), Err(ClaimRefusal::LimitReached));
        assert_eq!(b.claim(0, t0() - Duration::seconds(1)), Err(ClaimRefusal::NotStarted));
        assert_eq!(b.claim(0, t0() + Duration::days(1)), Err(ClaimRefusal::Expired));
        assert_eq!(BatchState { claimed: 5, ..b }.claim(0, t0()), Err(ClaimRefusal::Exhausted));
        let stopped = BatchState { status: CouponBatchStatus::Stopped, claimed: 5, ..b };
        assert_eq!(stopped.claim(9, t0() + Duration::days(9)), Err(ClaimRefusal::Stopped));
        assert!(b.claimable(t0()) && !stopped.claimable(t0()));
        let codes: Vec<&str> = [
            ClaimRefusal::Stopped,
            ClaimRefusal::NotStarted,
            ClaimRefusal::Expired,
            ClaimRefusal::Exhausted,
            ClaimRefusal::LimitReached,
        ]
        .iter()
        .map(|r| r.code())
        .collect();
        assert_eq!(
            codes,
            [
                "coupon_batch_stopped",
                "coupon_not_started",
                "coupon_expired",
                "coupons_exhausted",
                "coupon_limit_reached"
            ]
        );
    }

    #[test]
    fn a_coupon_state_follows_its_status_and_window() {
        let (from, until) = (t0(), t0() + Duration::days(1));
        let at = |s, now| CouponState::of(s, from, until, now);
        assert_eq!(at(CouponStatus::Available, t0()), CouponState::Usable);
        assert_eq!(at(CouponStatus::Available, t0() - Duration::seconds(1)), CouponState::NotStarted);
        assert_eq!(at(CouponStatus::Available, until), CouponState::Expired);
        assert_eq!(at(CouponStatus::Used, until), CouponState::Used);
    }
}

//! Partners (客户服务商) and their customers: bindings, exclusive discounts
//! (专属优惠) and customer demands.

use crate::money;
use crate::orders::TransitionError;
use crate::validation::{Checker, Invalid};
use chrono::{DateTime, Utc};

string_enum!(
    /// A partner's binding to a customer. `invited` -> `active` (the buyer
    /// accepts) or `declined`; an invitation can be `withdrawn` by the
    /// partner; an active binding is `ended` by either side.
    BindingStatus {
        Invited => "invited",
        Active => "active",
        Declined => "declined",
        Withdrawn => "withdrawn",
        Ended => "ended",
    }
);

string_enum!(
    /// An exclusive discount: `requested` by the partner, then `approved` or
    /// `rejected` by an operator; the partner may `withdraw` it.
    ExclusiveDiscountStatus {
        Requested => "requested",
        Approved => "approved",
        Rejected => "rejected",
        Withdrawn => "withdrawn",
    }
);

string_enum!(
    /// A customer demand: `submitted` by the partner; the seller `accepted`
    /// it (and then `offered`: made its private offer) or `declined` it.
    DemandStatus {
        Submitted => "submitted",
        Accepted => "accepted",
        Offered => "offered",
        Declined => "declined",
    }
);

string_enum!(
    /// A partner's statement: `issued` by the settlement run, its invoice
    /// `invoice_received` by an operator, then `paid`.
    PartnerStatementStatus {
        Issued => "issued",
        InvoiceReceived => "invoice_received",
        Paid => "paid",
    }
);

/// The partner's share of an attributed sale when an operator has not set
/// one (basis points of the gross; `channel::pricing`).
pub const DEFAULT_SHARE_BP: i64 = 500;
/// The setting holding the operator's partner share.
pub const SHARE_SETTING: &str = "partner_share_bp";

/// The most a message, reason or note may hold (characters).
pub const NOTE_MAX: usize = 500;
/// The most a customer demand's description of needs may hold.
pub const NEEDS_MAX: usize = 2_000;
/// A whole sale in basis points.
pub const BP_MAX: i64 = 10_000;

/// What happens to a binding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BindingEvent {
    /// The buyer accepts the invitation: invited -> active.
    Accept,
    /// The buyer declines it: invited -> declined.
    Decline,
    /// The partner takes it back: invited -> withdrawn.
    Withdraw,
    /// Either side ends the binding: active -> ended.
    End,
}

impl BindingEvent {
    pub const ALL: &'static [BindingEvent] =
        &[BindingEvent::Accept, BindingEvent::Decline, BindingEvent::Withdraw, BindingEvent::End];
}

impl BindingStatus {
    /// The state after `event`, or why it does not apply.
    pub fn next(self, event: BindingEvent) -> Result<BindingStatus, TransitionError> {
        use BindingEvent as E;
        use BindingStatus as S;
        match (self, event) {
            (S::Invited, E::Accept) => Ok(S::Active),
            (S::Invited, E::Decline) => Ok(S::Declined),
            (S::Invited, E::Withdraw) => Ok(S::Withdrawn),
            (S::Active, E::End) => Ok(S::Ended),
            _ => Err(TransitionError { what: "binding", from: self.as_str(), event: format!("{event:?}") }),
        }
    }

    /// Nothing more will happen to it.
    pub fn is_final(self) -> bool {
        matches!(self, BindingStatus::Declined | BindingStatus::Withdrawn | BindingStatus::Ended)
    }
}

/// What happens to an exclusive discount.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DiscountEvent {
    /// An operator approves it: requested -> approved.
    Approve,
    /// An operator rejects it: requested -> rejected.
    Reject,
    /// The partner takes it back, asked or granted: requested or approved -> withdrawn.
    Withdraw,
}

impl DiscountEvent {
    pub const ALL: &'static [DiscountEvent] = &[DiscountEvent::Approve, DiscountEvent::Reject, DiscountEvent::Withdraw];
}

impl ExclusiveDiscountStatus {
    /// The state after `event`, or why it does not apply.
    pub fn next(self, event: DiscountEvent) -> Result<ExclusiveDiscountStatus, TransitionError> {
        use DiscountEvent as E;
        use ExclusiveDiscountStatus as S;
        match (self, event) {
            (S::Requested, E::Approve) => Ok(S::Approved),
            (S::Requested, E::Reject) => Ok(S::Rejected),
            (S::Requested | S::Approved, E::Withdraw) => Ok(S::Withdrawn),
            _ => Err(TransitionError { what: "exclusive discount", from: self.as_str(), event: format!("{event:?}") }),
        }
    }

    /// Requested or approved: it holds (or may hold) the buyer's discount on
    /// the product for its validity.
    pub fn is_open(self) -> bool {
        matches!(self, ExclusiveDiscountStatus::Requested | ExclusiveDiscountStatus::Approved)
    }
}

/// What happens to a customer demand.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DemandEvent {
    /// The seller takes it up: submitted -> accepted.
    Accept,
    /// The seller declines it: submitted -> declined.
    Decline,
    /// The seller made its private offer from it: accepted -> offered.
    Offer,
}

impl DemandEvent {
    pub const ALL: &'static [DemandEvent] = &[DemandEvent::Accept, DemandEvent::Decline, DemandEvent::Offer];
}

impl DemandStatus {
    /// The state after `event`, or why it does not apply.
    pub fn next(self, event: DemandEvent) -> Result<DemandStatus, TransitionError> {
        use DemandEvent as E;
        use DemandStatus as S;
        match (self, event) {
            (S::Submitted, E::Accept) => Ok(S::Accepted),
            (S::Submitted, E::Decline) => Ok(S::Declined),
            (S::Accepted, E::Offer) => Ok(S::Offered),
            _ => Err(TransitionError { what: "demand", from: self.as_str(), event: format!("{event:?}") }),
        }
    }
}

/// A partner's invitation: the buyer's email and an optional message.
pub fn check_invitation(buyer_email: &str, message: Option<&str>) -> Result<(), Invalid> {
    let mut c = Checker::new();
    c.email("buyer_email", buyer_email.trim());
    c.opt_text("message", message, NOTE_MAX);
    c.finish()
}

/// An optional reason (ending a binding).
pub fn check_reason(field: &str, reason: Option<&str>) -> Result<(), Invalid> {
    let mut c = Checker::new();
    c.opt_text(field, reason, NOTE_MAX);
    c.finish()
}

/// A required note (rejecting a discount, declining a demand).
pub fn check_note(field: &str, note: &str) -> Result<(), Invalid> {
    let mut c = Checker::new();
    c.text(field, note, 1, NOTE_MAX);
    c.finish()
}

/// The operator's partner share: 0 to 10000 basis points.
pub fn check_share_bp(share_bp: i64) -> Result<(), Invalid> {
    if (0..=BP_MAX).contains(&share_bp) {
        Ok(())
    } else {
        Err(Invalid::one("share_bp", format!("must be between 0 and {BP_MAX} basis points")))
    }
}

/// What a partner asks for in an exclusive discount.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiscountRequest<'a> {
    pub percent_off_bp: i64,
    pub reason: &'a str,
    pub valid_from: DateTime<Utc>,
    pub valid_until: DateTime<Utc>,
}

/// An exclusive discount request: a percentage off the list price between
/// 0 (attribution only, KooGallery's "100% discount") and 10000 basis
/// points, and never above the partner's share of the sale (`share_bp`, the
/// operator's setting now) since the share funds it; a reason; a validity
/// `[valid_from, valid_until)` that is not empty and ends in the future.
pub fn check_discount_request(r: &DiscountRequest<'_>, share_bp: i64, now: DateTime<Utc>) -> Result<(), Invalid> {
    let mut c = Checker::new();
    if !(0..=BP_MAX).contains(&r.percent_off_bp) {
        c.add("percent_off_bp", format!("must be between 0 and {BP_MAX} basis points"));
    } else if r.percent_off_bp > share_bp {
        c.add(
            "percent_off_bp",
            format!("is above your share of the sale ({share_bp} basis points), which funds the discount"),
        );
    }
    c.text("reason", r.reason, 1, NOTE_MAX);
    if r.valid_until <= r.valid_from {
        c.add("valid_until", "must be after valid_from");
    } else if r.valid_until <= now {
        c.add("valid_until", "must be in the future");
    }
    c.finish()
}

/// A customer demand: what the customer needs (1-2000 characters), an
/// optional target price (positive, within the price limit) and currency.
pub fn check_demand(needs: &str, target_price_minor: Option<i64>, currency: Option<&str>) -> Result<(), Invalid> {
    let mut c = Checker::new();
    c.text("needs", needs, 1, NEEDS_MAX);
    if let Some(p) = target_price_minor {
        if p <= 0 {
            c.add("target_price_minor", "must be positive");
        } else if let Some(problem) = money::price_problem(p) {
            c.add("target_price_minor", problem);
        }
    }
    if let Some(cur) = currency
        && !money::is_currency(cur)
    {
        c.add("currency", format!("must be one of {}", money::currency_codes()));
    }
    c.finish()
}

/// Whether an approved discount may be used at `now`: inside `[from, until)`.
pub fn discount_valid_at(from: DateTime<Utc>, until: DateTime<Utc>, now: DateTime<Utc>) -> bool {
    from <= now && now < until
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, TimeZone};

    #[test]
    fn binding_transitions_are_exactly_these() {
        use BindingEvent as E;
        use BindingStatus as S;
        let allowed = [
            (S::Invited, E::Accept, S::Active),
            (S::Invited, E::Decline, S::Declined),
            (S::Invited, E::Withdraw, S::Withdrawn),
            (S::Active, E::End, S::Ended),
        ];
        for s in S::ALL {
            for e in E::ALL {
                let expected = allowed.iter().find(|(f, ev, _)| f == s && ev == e).map(|(_, _, t)| *t);
                assert_eq!(s.next(*e).ok(), expected, "{s} + {e:?}");
            }
        }
        for s in S::ALL {
            assert_eq!(s.is_final(), E::ALL.iter().all(|e| s.next(*e).is_err()), "{s}");
        }
        assert_eq!(S::Ended.next(E::End).unwrap_err().to_string(), "cannot End when the binding is ended");
    }

    #[test]
    fn discount_transitions_are_exactly_these() {
        use DiscountEvent as E;
        use ExclusiveDiscountStatus as S;
        let allowed = [
            (S::Requested, E::Approve, S::Approved),
            (S::Requested, E::Reject, S::Rejected),
            (S::Requested, E::Withdraw, S::Withdrawn),
            (S::Approved, E::Withdraw, S::Withdrawn),
        ];
        for s in S::ALL {
            for e in E::ALL {
                let expected = allowed.iter().find(|(f, ev, _)| f == s && ev == e).map(|(_, _, t)| *t);
                assert_eq!(s.next(*e).ok(), expected, "{s} + {e:?}");
            }
            assert_eq!(s.is_open(), matches!(s, S::Requested | S::Approved));
        }
    }

    #[test]
    fn demand_transitions_are_exactly_these() {
        use DemandEvent as E;
        use DemandStatus as S;
        let allowed = [
            (S::Submitted, E::Accept, S::Accepted),
            (S::Submitted, E::Decline, S::Declined),
            (S::Accepted, E::Offer, S::Offered),
        ];
        for s in S::ALL {
            for e in E::ALL {
                let expected = allowed.iter().find(|(f, ev, _)| f == s && ev == e).map(|(_, _, t)| *t);
                assert_eq!(s.next(*e).ok(), expected, "{s} + {e:?}");
            }
        }
    }

    fn fields(r: Result<(), Invalid>) -> Vec<String> {
        r.err().map(|i| i.0.into_iter().map(|e| e.field).collect()).unwrap_or_default()
    }

    #[test]
    fn discount_requests_are_checked() {
        let now = Utc.with_ymd_and_hms(2026, 12, 1, 0, 0, 0).unwrap();
        let ok = DiscountRequest {
            percent_off_bp: 500,
            reason: "key account",
            valid_from: now,
            valid_until: now + Duration::days(30),
        };
        assert!(check_discount_request(&ok, 500, now).is_ok());
        assert!(check_discount_request(&DiscountRequest { percent_off_bp: 0, ..ok.clone() }, 0, now).is_ok());
        assert_eq!(fields(check_discount_request(&ok, 499, now)), ["percent_off_bp"]);
        let over = DiscountRequest { percent_off_bp: 10_001, ..ok.clone() };
        assert_eq!(fields(check_discount_request(&over, 10_000, now)), ["percent_off_bp"]);
        let negative = DiscountRequest { percent_off_bp: -1, ..ok.clone() };
        assert_eq!(fields(check_discount_request(&negative, 500, now)), ["percent_off_bp"]);
        let empty = DiscountRequest { valid_until: now, ..ok.clone() };
        assert_eq!(fields(check_discount_request(&empty, 500, now)), ["valid_until"]);
        let past = DiscountRequest {
            valid_from: now - Duration::days(10),
            valid_until: now - Duration::days(1),
            ..ok.clone()
        };
        assert_eq!(fields(check_discount_request(&past, 500, now)), ["valid_until"]);
        let blank = DiscountRequest { reason: "  ", ..ok.clone() };
        assert_eq!(fields(check_discount_request(&blank, 500, now)), ["reason"]);
        assert!(discount_valid_at(now, now + Duration::days(1), now));
        assert!(!discount_valid_at(now, now + Duration::days(1), now + Duration::days(1)));
        assert!(!discount_valid_at(now, now + Duration::days(1), now - Duration::seconds(1)));
    }

    #[test]
    fn demands_invitations_and_shares_are_checked() {
        assert!(check_demand("200 seats, SSO", Some(100_000), Some("CNY")).is_ok());
        assert!(check_demand("200 seats", None, None).is_ok());
        assert_eq!(fields(check_demand("", Some(0), Some("XXX"))), ["needs", "target_price_minor", "currency"]);
        assert!(check_invitation("a@example.com", Some("hello")).is_ok());
        assert_eq!(fields(check_invitation("nope", None)), ["buyer_email"]);
        assert_eq!(fields(check_invitation("a@example.com", Some(&"x".repeat(NOTE_MAX + 1)))), ["message"]);
        assert!(check_share_bp(0).is_ok() && check_share_bp(10_000).is_ok());
        assert_eq!(fields(check_share_bp(10_001)), ["share_bp"]);
        assert_eq!(fields(check_share_bp(-1)), ["share_bp"]);
        assert_eq!(fields(check_note("note", " ")), ["note"]);
        assert!(check_reason("reason", None).is_ok());
    }
}

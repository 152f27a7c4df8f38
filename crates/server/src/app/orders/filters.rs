//! Checks shared by the order lists' query filters (seller and operator):
//! blank values count as absent, every invalid field is reported at once.

use chrono::{DateTime, Utc};
use mercato_domain::orders::OrderStatus;
use mercato_domain::validation::Checker;

/// The trimmed value, or None when absent or blank.
pub(crate) fn nonempty(v: &Option<String>) -> Option<String> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_string)
}

/// An order status filter.
pub(crate) fn status(c: &mut Checker, v: &Option<String>) -> Option<OrderStatus> {
    let s = nonempty(v)?;
    let parsed = OrderStatus::parse(&s);
    c.check(parsed.is_some(), "status", format!("must be one of {}", OrderStatus::allowed()));
    parsed
}

/// `created_from` (inclusive) and `created_to` (exclusive), RFC 3339, in order.
pub(crate) fn created_range(
    c: &mut Checker,
    from: &Option<String>,
    to: &Option<String>,
) -> (Option<DateTime<Utc>>, Option<DateTime<Utc>>) {
    let mut time = |field: &str, v: &Option<String>| match nonempty(v).as_deref().map(DateTime::parse_from_rfc3339) {
        None => None,
        Some(Ok(t)) => Some(t.with_timezone(&Utc)),
        Some(Err(_)) => {
            c.add(field, "must be an RFC 3339 time such as 2026-11-22T14:30:00Z");
            None
        }
    };
    let created_from = time("created_from", from);
    let created_to = time("created_to", to);
    (created_from, created_to)
}

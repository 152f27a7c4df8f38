//! Money is integer minor units next to an ISO 4217 currency. Prices below a
//! minor unit (metered unit prices, quotas) are decimal strings parsed with
//! rust_decimal, never floats.

use rust_decimal::Decimal;
use std::str::FromStr;

/// Currencies the marketplace settles in, with their minor-unit exponents.
pub const CURRENCIES: &[(&str, u32)] = &[
    ("CNY", 2),
    ("USD", 2),
    ("EUR", 2),
    ("GBP", 2),
    ("HKD", 2),
    ("SGD", 2),
    ("JPY", 0),
    ("KRW", 0),
    ("AUD", 2),
    ("CAD", 2),
    ("CHF", 2),
    ("THB", 2),
    ("MYR", 2),
    ("IDR", 2),
    ("BRL", 2),
    ("ZAR", 2),
    ("SAR", 2),
    ("AED", 2),
    ("TRY", 2),
    ("MXN", 2),
];

/// Largest price accepted anywhere: 10^12 minor units (ten billion in a
/// two-decimal currency). Anything larger is a typo, and keeping amounts this
/// small leaves checked i64 arithmetic plenty of room for totals.
pub const MAX_PRICE_MINOR: i64 = 1_000_000_000_000;

/// The allowed currency codes, for error messages.
pub fn currency_codes() -> String {
    CURRENCIES.iter().map(|(c, _)| *c).collect::<Vec<_>>().join(", ")
}

pub fn is_currency(code: &str) -> bool {
    CURRENCIES.iter().any(|(c, _)| *c == code)
}

/// A currency the marketplace trades in, as the OpenAPI document shows it:
/// the codes of [`CURRENCIES`]. (Fields stay `String`s; this type only
/// names their schema.)
pub struct Currency;

impl utoipa::PartialSchema for Currency {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        let codes: Vec<&str> = CURRENCIES.iter().map(|(c, _)| *c).collect();
        crate::schema::to_schema(crate::schema::described(
            crate::schema::one_of_strings(&codes),
            "A currency the marketplace trades in (ISO 4217).",
        ))
    }
}

impl utoipa::ToSchema for Currency {}

/// How many minor-unit digits `code` has (2 for CNY, 0 for JPY).
pub fn exponent(code: &str) -> Option<u32> {
    CURRENCIES.iter().find(|(c, _)| *c == code).map(|(_, e)| *e)
}

/// Error message for an unusable price, or None when the price is fine.
pub fn price_problem(minor: i64) -> Option<String> {
    if minor < 0 {
        Some("must not be negative".into())
    } else if minor > MAX_PRICE_MINOR {
        Some(format!("must be at most {MAX_PRICE_MINOR} minor units"))
    } else {
        None
    }
}

/// Written plainly: digits with at most one dot between digits, no
/// leading zero before another digit, no sign, exponent or spaces ("0.05",
/// "12", "1.50"; not ".5", "1.", "007", "1e3"). New SKU prices and quotas
/// must be written so (the document states it as a pattern);
/// [`parse_positive_decimal`] still reads the older, looser forms stored.
pub fn is_plain_decimal(value: &str) -> bool {
    let (int, frac) = match value.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (value, None),
    };
    let digits = |t: &str| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit());
    digits(int) && (int == "0" || !int.starts_with('0')) && frac.is_none_or(digits)
}

/// A positive decimal with at most `max_scale` fractional digits and at most
/// `max_value`, written plainly ("0.0012", not "1.2e-3").
pub fn parse_positive_decimal(value: &str, max_scale: u32, max_value: i64) -> Result<Decimal, String> {
    let trimmed = value.trim();
    if trimmed.is_empty() || trimmed != value {
        return Err("must be a decimal number such as \"0.05\"".into());
    }
    if !trimmed.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        return Err("must be a plain decimal number such as \"0.05\" (digits and one dot)".into());
    }
    let d = Decimal::from_str(trimmed).map_err(|_| "must be a decimal number such as \"0.05\"".to_string())?;
    if d.scale() > max_scale {
        return Err(format!("must have at most {max_scale} decimal places"));
    }
    if d <= Decimal::ZERO {
        return Err("must be greater than zero".into());
    }
    if d > Decimal::from(max_value) {
        return Err(format!("must be at most {max_value}"));
    }
    Ok(d.normalize())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_parse_exactly() {
        assert_eq!(parse_positive_decimal("0.0012", 6, 1000).unwrap().to_string(), "0.0012");
        assert_eq!(parse_positive_decimal("1.500", 6, 1000).unwrap().to_string(), "1.5");
        assert!(parse_positive_decimal("0", 6, 1000).is_err());
        assert!(parse_positive_decimal("-1", 6, 1000).is_err());
        assert!(parse_positive_decimal("1e3", 6, 1000).is_err());
        assert!(parse_positive_decimal("0.1234567", 6, 1000).is_err());
        assert!(parse_positive_decimal("1001", 6, 1000).is_err());
        assert!(parse_positive_decimal(" 1", 6, 1000).is_err());
    }

    #[test]
    fn plain_decimals() {
        for ok in ["0.05", "12", "1.50", "0", "10.0"] {
            assert!(is_plain_decimal(ok), "{ok}");
        }
        for bad in [".5", "1.", "007", "01.5", "1e3", " 1", "1.2.3", "", "+1", "1,5"] {
            assert!(!is_plain_decimal(bad), "{bad}");
        }
    }

    #[test]
    fn prices() {
        assert!(price_problem(0).is_none());
        assert!(price_problem(-1).is_some());
        assert!(price_problem(MAX_PRICE_MINOR + 1).is_some());
        assert!(is_currency("CNY") && !is_currency("cny") && !is_currency("XXX"));
    }
}

//! SKUs and their charging modes. Prices are integer minor units; metered unit
//! prices and quotas are decimal strings so that fractions of a cent are exact.

use crate::Invalid;
use crate::money::{self, parse_positive_decimal};
use crate::validation::Checker;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

string_enum!(
    ChargingMode {
        Period => "period",
        OneTime => "one_time",
        OnDemand => "on_demand",
        OnDemandPkg => "on_demand_pkg",
    }
);

string_enum!(
    Billing {
        Hourly => "hourly",
        Daily => "daily",
    }
);

pub const TRIAL_DAYS_MIN: i64 = 3;
pub const TRIAL_DAYS_MAX: i64 = 180;
pub const UNIT_PRICE_SCALE: u32 = 8;
pub const UNIT_PRICE_MAX: i64 = 1_000_000_000;
pub const QUOTA_SCALE: u32 = 4;
pub const QUOTA_MAX: i64 = 1_000_000_000_000;
pub const PACKAGE_MONTHS_MAX: i64 = 60;
pub const LINEAR_MAX: i64 = 1_000_000;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Prices {
    /// Price of one month (per unit of the linear attribute, if any).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub month_minor: Option<i64>,
    /// Price of one year (per unit of the linear attribute, if any).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub year_minor: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub one_time_minor: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Metering {
    /// The unit usage is reported in, e.g. "GB" or "call".
    pub unit: String,
    /// Price of one unit in the SKU's currency, as a decimal string (major units), e.g. "0.0005".
    pub unit_price: String,
    pub billing: Billing,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Package {
    /// Units included, as a decimal string.
    pub quota: String,
    /// How long the package is valid, in months.
    pub period_months: i64,
    pub price_minor: i64,
}

/// A quantity the buyer chooses, priced per unit, e.g. users 1-1000 step 1.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Linear {
    pub name: String,
    pub unit: String,
    pub min: i64,
    pub max: i64,
    pub step: i64,
}

/// A SKU as the seller defines it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SkuSpec {
    /// The seller's own code for the SKU, unique within the product.
    pub sku_code: String,
    pub name: String,
    pub charging_mode: ChargingMode,
    #[serde(default)]
    pub prices: Prices,
    /// ISO 4217 currency of every price of this SKU.
    pub currency: String,
    /// Free trial length (period SKUs only), 3 to 180 days.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trial_days: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metering: Option<Metering>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub package: Option<Package>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub linear: Option<Linear>,
}

crate::stored_as_json!(SkuSpec);

pub fn check_sku(s: &SkuSpec) -> Result<(), Invalid> {
    let mut c = Checker::new();
    c.text("sku_code", &s.sku_code, 1, 64);
    c.check(
        s.sku_code.chars().all(|ch| ch.is_ascii_alphanumeric() || matches!(ch, '-' | '_' | '.')),
        "sku_code",
        "may contain only letters, digits, '-', '_' and '.'",
    );
    c.text("name", &s.name, 1, 100);
    c.check(money::is_currency(&s.currency), "currency", format!("must be one of {}", money::currency_codes()));
    for (field, value) in [
        ("prices.month_minor", s.prices.month_minor),
        ("prices.year_minor", s.prices.year_minor),
        ("prices.one_time_minor", s.prices.one_time_minor),
    ] {
        if let Some(problem) = value.and_then(money::price_problem) {
            c.add(field, problem);
        }
    }
    let mode = s.charging_mode;
    match mode {
        ChargingMode::Period => {
            c.check(
                s.prices.month_minor.is_some() || s.prices.year_minor.is_some(),
                "prices",
                "a period SKU needs month_minor, year_minor or both",
            );
            c.check(s.prices.one_time_minor.is_none(), "prices.one_time_minor", "only for one_time SKUs");
        }
        ChargingMode::OneTime => {
            c.check(s.prices.one_time_minor.is_some(), "prices.one_time_minor", "required for one_time SKUs");
            c.check(
                s.prices.month_minor.is_none() && s.prices.year_minor.is_none(),
                "prices",
                "one_time SKUs take only one_time_minor",
            );
        }
        ChargingMode::OnDemand | ChargingMode::OnDemandPkg => {
            c.check(
                s.prices == Prices::default(),
                "prices",
                "on-demand SKUs are priced by metering or package, not prices",
            );
        }
    }
    if let Some(days) = s.trial_days {
        c.check(mode == ChargingMode::Period, "trial_days", "trials are offered only on period SKUs");
        c.check(
            (TRIAL_DAYS_MIN..=TRIAL_DAYS_MAX).contains(&days),
            "trial_days",
            format!("must be between {TRIAL_DAYS_MIN} and {TRIAL_DAYS_MAX}"),
        );
    }
    match (&s.metering, mode) {
        (Some(m), ChargingMode::OnDemand) => {
            c.text("metering.unit", &m.unit, 1, 32);
            if let Err(e) = parse_positive_decimal(&m.unit_price, UNIT_PRICE_SCALE, UNIT_PRICE_MAX) {
                c.add("metering.unit_price", e);
            }
        }
        (None, ChargingMode::OnDemand) => c.add("metering", "required for on_demand SKUs"),
        (Some(_), _) => c.add("metering", "only for on_demand SKUs"),
        (None, _) => {}
    }
    match (&s.package, mode) {
        (Some(p), ChargingMode::OnDemandPkg) => {
            if let Err(e) = parse_positive_decimal(&p.quota, QUOTA_SCALE, QUOTA_MAX) {
                c.add("package.quota", e);
            }
            c.check(
                (1..=PACKAGE_MONTHS_MAX).contains(&p.period_months),
                "package.period_months",
                format!("must be between 1 and {PACKAGE_MONTHS_MAX}"),
            );
            if let Some(problem) = money::price_problem(p.price_minor) {
                c.add("package.price_minor", problem);
            }
        }
        (None, ChargingMode::OnDemandPkg) => c.add("package", "required for on_demand_pkg SKUs"),
        (Some(_), _) => c.add("package", "only for on_demand_pkg SKUs"),
        (None, _) => {}
    }
    if let Some(l) = &s.linear {
        c.check(
            matches!(mode, ChargingMode::Period | ChargingMode::OneTime),
            "linear",
            "a linear attribute is offered only on period and one_time SKUs",
        );
        c.text("linear.name", &l.name, 1, 32);
        c.text("linear.unit", &l.unit, 1, 16);
        c.check((1..=LINEAR_MAX).contains(&l.min), "linear.min", format!("must be between 1 and {LINEAR_MAX}"));
        c.check((1..=LINEAR_MAX).contains(&l.max), "linear.max", format!("must be between 1 and {LINEAR_MAX}"));
        c.check(l.min <= l.max, "linear.max", "must not be below min");
        c.check(l.step >= 1, "linear.step", "must be at least 1");
        if l.step >= 1 && l.min <= l.max {
            c.check((l.max - l.min) % l.step == 0, "linear.step", "max - min must be a multiple of step");
        }
        // Price x max quantity must still be a sane amount.
        for (field, price) in [
            ("prices.month_minor", s.prices.month_minor),
            ("prices.year_minor", s.prices.year_minor),
            ("prices.one_time_minor", s.prices.one_time_minor),
        ] {
            if let Some(p) = price {
                c.check(
                    p.checked_mul(l.max).is_some_and(|t| t <= money::MAX_PRICE_MINOR),
                    field,
                    "price times linear.max exceeds the largest amount accepted",
                );
            }
        }
    }
    c.finish()
}

/// All SKUs of one product share a currency, so that catalog prices compare.
pub fn check_sku_currency(new: &SkuSpec, existing_currency: Option<&str>) -> Result<(), Invalid> {
    match existing_currency {
        Some(cur) if cur != new.currency => {
            Err(Invalid::one("currency", format!("every SKU of a product uses one currency; this product uses {cur}")))
        }
        _ => Ok(()),
    }
}

/// The lowest amount a buyer can pay to start using the SKU, for "from"
/// prices, price filters and sorting. Pay-per-use SKUs have none.
pub fn entry_price_minor(s: &SkuSpec) -> Option<i64> {
    let units = s.linear.as_ref().map_or(1, |l| l.min);
    let base = match s.charging_mode {
        ChargingMode::Period => match (s.prices.month_minor, s.prices.year_minor) {
            (Some(m), Some(y)) => Some(m.min(y)),
            (m, y) => m.or(y),
        },
        ChargingMode::OneTime => s.prices.one_time_minor,
        ChargingMode::OnDemandPkg => return s.package.as_ref().map(|p| p.price_minor),
        ChargingMode::OnDemand => None,
    };
    base.and_then(|b| b.checked_mul(units))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn period() -> SkuSpec {
        SkuSpec {
            sku_code: "std-month".into(),
            name: "Standard".into(),
            charging_mode: ChargingMode::Period,
            prices: Prices { month_minor: Some(9_900), year_minor: Some(99_000), one_time_minor: None },
            currency: "CNY".into(),
            trial_days: Some(7),
            metering: None,
            package: None,
            linear: Some(Linear { name: "users".into(), unit: "user".into(), min: 5, max: 1000, step: 5 }),
        }
    }

    fn errors(s: &SkuSpec) -> Vec<String> {
        check_sku(s).err().map(|e| e.0.into_iter().map(|f| f.field).collect()).unwrap_or_default()
    }

    #[test]
    fn a_good_period_sku() {
        assert!(errors(&period()).is_empty());
        assert_eq!(entry_price_minor(&period()), Some(9_900 * 5));
    }

    #[test]
    fn trial_bounds() {
        for (days, ok) in [(2, false), (3, true), (180, true), (181, false)] {
            let s = SkuSpec { trial_days: Some(days), ..period() };
            assert_eq!(errors(&s).is_empty(), ok, "{days}");
        }
    }

    #[test]
    fn mode_specific_fields_are_enforced() {
        let s = SkuSpec { charging_mode: ChargingMode::OnDemand, linear: None, trial_days: None, ..period() };
        let e = errors(&s);
        assert!(e.contains(&"prices".to_string()) && e.contains(&"metering".to_string()));

        let s = SkuSpec {
            charging_mode: ChargingMode::OnDemand,
            prices: Prices::default(),
            trial_days: None,
            linear: None,
            metering: Some(Metering { unit: "GB".into(), unit_price: "0.00012".into(), billing: Billing::Hourly }),
            ..period()
        };
        assert!(errors(&s).is_empty());
        assert_eq!(entry_price_minor(&s), None);

        let s = SkuSpec {
            charging_mode: ChargingMode::OnDemandPkg,
            prices: Prices::default(),
            trial_days: None,
            linear: None,
            package: Some(Package { quota: "1000".into(), period_months: 12, price_minor: 50_000 }),
            ..period()
        };
        assert!(errors(&s).is_empty());
        assert_eq!(entry_price_minor(&s), Some(50_000));
    }

    #[test]
    fn absurd_numbers_are_rejected() {
        let s = SkuSpec {
            prices: Prices { month_minor: Some(-1), year_minor: Some(i64::MAX), one_time_minor: None },
            ..period()
        };
        let e = errors(&s);
        assert!(e.contains(&"prices.month_minor".to_string()));
        assert!(e.contains(&"prices.year_minor".to_string()));
        let s = SkuSpec {
            linear: Some(Linear { name: "u".into(), unit: "u".into(), min: 10, max: 5, step: 0 }),
            ..period()
        };
        let e = errors(&s);
        assert!(e.contains(&"linear.max".to_string()) && e.contains(&"linear.step".to_string()));
    }

    #[test]
    fn one_currency_per_product() {
        assert!(check_sku_currency(&period(), Some("CNY")).is_ok());
        assert!(check_sku_currency(&period(), Some("USD")).is_err());
        assert!(check_sku_currency(&period(), None).is_ok());
    }
}

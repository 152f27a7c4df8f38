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
/// Bound of a linear attribute's `min`, `step` and `count` each.
pub const LINEAR_MAX: i64 = 1_000_000;
/// The largest quantity any SKU offers: `min + step x (count - 1)` at
/// their bounds.
pub const QUANTITY_MAX: i64 = LINEAR_MAX + LINEAR_MAX * (LINEAR_MAX - 1);
pub const SKU_CODE_MAX: usize = 64;
pub const SKU_NAME_MAX: usize = 100;
pub const METERING_UNIT_MAX: usize = 32;
pub const LINEAR_NAME_MAX: usize = 32;
pub const LINEAR_UNIT_MAX: usize = 16;

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

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Metering {
    /// The unit usage is reported in, e.g. "GB" or "call".
    pub unit: String,
    /// Price of one unit in the SKU's currency, as a decimal string (major units), e.g. "0.0005".
    pub unit_price: String,
    pub billing: Billing,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Package {
    /// Units included, as a decimal string.
    pub quota: String,
    /// How long the package is valid, in months.
    pub period_months: i64,
    pub price_minor: i64,
}

/// A quantity the buyer chooses, priced per unit: `count` choices from
/// `min` on, `step` apart (users 5 to 1000 in fives: min 5, step 5, count
/// 200). A range written this way is never empty nor uneven, so every rule
/// on it is a bound the document can state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Linear {
    pub name: String,
    pub unit: String,
    pub min: i64,
    pub step: i64,
    pub count: i64,
}

impl Linear {
    /// The largest quantity offered: `min + step x (count - 1)` (None if
    /// the numbers are out of their bounds and overflow).
    pub fn max(&self) -> Option<i64> {
        self.step.checked_mul(self.count.checked_sub(1)?)?.checked_add(self.min)
    }

    /// Whether `quantity` is one of the choices.
    pub fn offers(&self, quantity: i64) -> bool {
        self.step >= 1
            && quantity >= self.min
            && (quantity - self.min) % self.step == 0
            && (quantity - self.min) / self.step < self.count
    }

    /// "5-1000 users in steps of 5", for messages.
    pub fn describe(&self) -> String {
        let max = self.max().map_or_else(|| "?".to_string(), |m| m.to_string());
        format!("{}-{} {} in steps of {}", self.min, max, self.unit, self.step)
    }
}

/// A SKU as the seller defines it. Its schema ([`sku_spec_schema`]) is one
/// shape per charging mode, stating [`check_sku`]'s rules.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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
    c.text("sku_code", &s.sku_code, 1, SKU_CODE_MAX);
    c.check(
        s.sku_code.chars().all(|ch| ch.is_ascii_alphanumeric() || matches!(ch, '-' | '_' | '.')),
        "sku_code",
        "may contain only letters, digits, '-', '_' and '.'",
    );
    c.text("name", &s.name, 1, SKU_NAME_MAX);
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
            c.text("metering.unit", &m.unit, 1, METERING_UNIT_MAX);
            check_decimal(&mut c, "metering.unit_price", &m.unit_price, UNIT_PRICE_SCALE, UNIT_PRICE_MAX);
        }
        (None, ChargingMode::OnDemand) => c.add("metering", "required for on_demand SKUs"),
        (Some(_), _) => c.add("metering", "only for on_demand SKUs"),
        (None, _) => {}
    }
    match (&s.package, mode) {
        (Some(p), ChargingMode::OnDemandPkg) => {
            check_decimal(&mut c, "package.quota", &p.quota, QUOTA_SCALE, QUOTA_MAX);
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
        c.text("linear.name", &l.name, 1, LINEAR_NAME_MAX);
        c.text("linear.unit", &l.unit, 1, LINEAR_UNIT_MAX);
        for (field, value) in [("linear.min", l.min), ("linear.step", l.step), ("linear.count", l.count)] {
            c.check((1..=LINEAR_MAX).contains(&value), field, format!("must be between 1 and {LINEAR_MAX}"));
        }
    }
    c.finish()
}

/// A decimal string of a new SKU: written plainly, then within its bounds.
fn check_decimal(c: &mut Checker, field: &str, value: &str, scale: u32, max: i64) {
    if !money::is_plain_decimal(value) {
        c.add(field, "must be a plain decimal number such as \"0.05\" (digits, at most one dot, no leading zeros)");
    } else if let Err(e) = parse_positive_decimal(value, scale, max) {
        c.add(field, e);
    }
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

// ---------------------------------------------------------------- schemas

/// The SKU's schema: one shape per charging mode (`oneOf`, told apart by
/// `charging_mode`), each naming the fields that mode takes and leaving the
/// others `null` only, so that every field combination [`check_sku`]
/// refuses is outside the document too.
pub fn sku_spec_schema() -> serde_json::Value {
    let mapping: serde_json::Map<String, serde_json::Value> = SKU_SHAPES
        .iter()
        .map(|(mode, name, _)| (mode.as_str().to_string(), serde_json::json!(format!("#/components/schemas/{name}"))))
        .collect();
    serde_json::json!({
        "description": "A SKU as the seller defines it; its fields depend on `charging_mode`.",
        "oneOf": SKU_SHAPES.iter().map(|(_, name, _)| crate::schema::reference(name)).collect::<Vec<_>>(),
        "discriminator": {"propertyName": "charging_mode", "mapping": mapping},
    })
}

/// (mode, component name, description) of each SKU shape.
const SKU_SHAPES: [(ChargingMode, &str, &str); 4] = [
    (
        ChargingMode::Period,
        "PeriodSku",
        "Sold by the month and/or the year (`prices.month_minor`, `prices.year_minor`: at least one), with an optional free trial and linear attribute.",
    ),
    (ChargingMode::OneTime, "OneTimeSku", "Bought once at `prices.one_time_minor`, with an optional linear attribute."),
    (ChargingMode::OnDemand, "OnDemandSku", "Pay-per-use: usage is charged at `metering.unit_price` per unit."),
    (ChargingMode::OnDemandPkg, "PackageSku", "A prepaid quota package of pay-per-use units (`package`)."),
];

fn sku_shape_schema(mode: ChargingMode, description: &str) -> serde_json::Value {
    use crate::schema::{Fields, described, integer, matching, null, nullable, one_of_strings, reference, text};
    use serde_json::json;
    let price = || integer(0, money::MAX_PRICE_MINOR);
    let prices = |month: serde_json::Value, year: serde_json::Value, one_time: serde_json::Value| {
        Fields::new().optional("month_minor", month).optional("year_minor", year).optional("one_time_minor", one_time)
    };
    let (prices_schema, prices_required, trial, metering, package, linear) = match mode {
        ChargingMode::Period => {
            let closed = prices(nullable(price()), nullable(price()), null()).closed();
            let either = |name: &str| json!({"type": "object", "required": [name], "properties": {name: price()}});
            (
                json!({
                    "allOf": [closed, {"anyOf": [either("month_minor"), either("year_minor")]}],
                    "description": "Price of one month and/or one year (per unit of the linear attribute, if any); at least one.",
                }),
                true,
                nullable(described(integer(TRIAL_DAYS_MIN, TRIAL_DAYS_MAX), "Free trial length in days.")),
                null(),
                null(),
                nullable(reference("Linear")),
            )
        }
        ChargingMode::OneTime => (
            described(
                Fields::new()
                    .optional("month_minor", null())
                    .optional("year_minor", null())
                    .required("one_time_minor", price())
                    .closed(),
                "The one-time price (per unit of the linear attribute, if any).",
            ),
            true,
            null(),
            null(),
            null(),
            nullable(reference("Linear")),
        ),
        ChargingMode::OnDemand | ChargingMode::OnDemandPkg => (
            described(prices(null(), null(), null()).closed(), "Not used: priced by metering or package."),
            false,
            null(),
            if mode == ChargingMode::OnDemand { reference("Metering") } else { null() },
            if mode == ChargingMode::OnDemandPkg { reference("Package") } else { null() },
            null(),
        ),
    };
    let mut fields = Fields::new()
        .required(
            "sku_code",
            described(
                matching("^[A-Za-z0-9._-]+$", 1, SKU_CODE_MAX),
                "The seller's own code for the SKU, unique within the product: letters, digits, '-', '_', '.'.",
            ),
        )
        .required("name", text(1, SKU_NAME_MAX))
        .required("charging_mode", one_of_strings(&[mode.as_str()]));
    fields = if prices_required {
        fields.required("prices", prices_schema)
    } else {
        fields.optional("prices", prices_schema)
    };
    fields = fields
        .required("currency", described(reference("Currency"), "ISO 4217 currency of every price of this SKU."))
        .optional("trial_days", trial)
        .optional("linear", linear);
    fields = match mode {
        ChargingMode::OnDemand => fields.required("metering", metering).optional("package", package),
        ChargingMode::OnDemandPkg => fields.optional("metering", metering).required("package", package),
        _ => fields.optional("metering", metering).optional("package", package),
    };
    described(fields.closed(), description)
}

fn metering_schema() -> serde_json::Value {
    use crate::schema::{Fields, described, positive_decimal, reference, text};
    Fields::new()
        .required("unit", described(text(1, METERING_UNIT_MAX), "The unit usage is reported in, e.g. \"GB\" or \"call\"."))
        .required(
            "unit_price",
            described(
                positive_decimal(UNIT_PRICE_SCALE, UNIT_PRICE_MAX),
                "Price of one unit in the SKU's currency (major units), a plain decimal such as \"0.0005\": above 0, at most 1000000000, at most 8 decimals.",
            ),
        )
        .required("billing", reference("Billing"))
        .closed()
}

fn package_schema() -> serde_json::Value {
    use crate::schema::{Fields, described, integer, positive_decimal};
    Fields::new()
        .required(
            "quota",
            described(
                positive_decimal(QUOTA_SCALE, QUOTA_MAX),
                "Units included, a plain decimal such as \"1000\": above 0, at most 1000000000000, at most 4 decimals.",
            ),
        )
        .required(
            "period_months",
            described(integer(1, PACKAGE_MONTHS_MAX), "How long the package is valid, in months."),
        )
        .required("price_minor", integer(0, money::MAX_PRICE_MINOR))
        .closed()
}

fn linear_schema() -> serde_json::Value {
    use crate::schema::{Fields, described, integer, text};
    described(
        Fields::new()
            .required("name", text(1, LINEAR_NAME_MAX))
            .required("unit", text(1, LINEAR_UNIT_MAX))
            .required("min", described(integer(1, LINEAR_MAX), "The smallest quantity."))
            .required("step", described(integer(1, LINEAR_MAX), "The difference between two choices."))
            .required("count", described(integer(1, LINEAR_MAX), "How many quantities are offered."))
            .closed(),
        "A quantity the buyer chooses, priced per unit: `count` choices from `min` on, `step` apart (users 5 to 1000 in fives: min 5, step 5, count 200).",
    )
}

crate::schema_from_fragment!(Metering, metering_schema(), Billing);
crate::schema_from_fragment!(Package, package_schema());
crate::schema_from_fragment!(Linear, linear_schema());

impl utoipa::PartialSchema for SkuSpec {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        crate::schema::to_schema(sku_spec_schema())
    }
}

impl utoipa::ToSchema for SkuSpec {
    fn schemas(schemas: &mut Vec<(String, utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>)>) {
        use utoipa::PartialSchema;
        for (mode, name, description) in SKU_SHAPES {
            schemas.push((name.to_string(), crate::schema::to_schema(sku_shape_schema(mode, description))));
        }
        schemas.push(("Currency".into(), money::Currency::schema()));
        schemas.push(("Linear".into(), Linear::schema()));
        schemas.push(("Metering".into(), Metering::schema()));
        schemas.push(("Package".into(), Package::schema()));
        schemas.push(("Billing".into(), Billing::schema()));
    }
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
            linear: Some(Linear { name: "users".into(), unit: "user".into(), min: 5, step: 5, count: 200 }),
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
            linear: Some(Linear { name: "u".into(), unit: "u".into(), min: 0, step: 0, count: LINEAR_MAX + 1 }),
            ..period()
        };
        let e = errors(&s);
        for field in ["linear.min", "linear.step", "linear.count"] {
            assert!(e.contains(&field.to_string()), "{field}: {e:?}");
        }
    }

    #[test]
    fn linear_ranges() {
        let l = Linear { name: "users".into(), unit: "user".into(), min: 5, step: 5, count: 200 };
        assert_eq!(l.max(), Some(1000));
        assert!(l.offers(5) && l.offers(1000) && l.offers(500));
        assert!(!l.offers(0) && !l.offers(6) && !l.offers(1005));
        let widest = Linear { min: LINEAR_MAX, step: LINEAR_MAX, count: LINEAR_MAX, ..l };
        assert_eq!(widest.max(), Some(QUANTITY_MAX));
    }

    #[test]
    fn decimals_are_written_plainly() {
        let on_demand = |price: &str| SkuSpec {
            charging_mode: ChargingMode::OnDemand,
            prices: Prices::default(),
            trial_days: None,
            linear: None,
            metering: Some(Metering { unit: "GB".into(), unit_price: price.into(), billing: Billing::Hourly }),
            ..period()
        };
        assert!(errors(&on_demand("0.5")).is_empty());
        for bad in [".5", "00.5", "1.", "0", "0.000000001"] {
            assert_eq!(errors(&on_demand(bad)), ["metering.unit_price"], "{bad}");
        }
    }

    /// Every shape's schema deserializes into utoipa's model without losing
    /// a keyword (a dropped keyword would loosen the document).
    #[test]
    fn sku_schemas_survive_utoipa() {
        for (mode, _, description) in SKU_SHAPES {
            let fragment = sku_shape_schema(mode, description);
            let schema = crate::schema::to_schema(fragment.clone());
            assert_eq!(serde_json::to_value(&schema).unwrap(), fragment, "{mode}");
        }
        for fragment in [sku_spec_schema(), metering_schema(), package_schema(), linear_schema()] {
            let schema = crate::schema::to_schema(fragment.clone());
            assert_eq!(serde_json::to_value(&schema).unwrap(), fragment);
        }
    }

    #[test]
    fn one_currency_per_product() {
        assert!(check_sku_currency(&period(), Some("CNY")).is_ok());
        assert!(check_sku_currency(&period(), Some("USD")).is_err());
        assert!(check_sku_currency(&period(), None).is_ok());
    }
}

//! Private offers: a seller's prices for one buyer on one joint-operation
//! product (Private Offers exist only for 联营 products), made directly or
//! in answer to a partner's customer demand.

use super::coupons::check_window;
use super::pricing::OfferPrice;
use super::pricing::{self, Deal};
use crate::catalog::{ChargingMode, SkuSpec};
use crate::ledger::BP_WHOLE;
use crate::orders::Period;
use crate::orders::{self, TransitionError};
use crate::validation::{Checker, Invalid};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

string_enum!(
    /// A private offer: `active` (the buyer may buy with it while valid),
    /// `accepted` (an order used it), `withdrawn` by the seller.
    OfferStatus {
        Active => "active",
        Accepted => "accepted",
        Withdrawn => "withdrawn",
    }
);

/// One SKU an offer prices.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OfferSku {
    pub sku_id: String,
    #[schema(schema_with = offer_price_schema)]
    pub price: OfferPrice,
}

/// `OfferPrice` as serde reads it: exactly one of `percent_off` and
/// `unit_price`, each an object with its one field.
fn offer_price_schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
    use crate::schema::{integer, to_schema};
    let variant = |tag: &str, field: &str, value: serde_json::Value| {
        serde_json::json!({
            "type": "object", "additionalProperties": false, "required": [tag],
            "properties": {tag: {"type": "object", "additionalProperties": false, "required": [field],
                "properties": {field: value}}},
        })
    };
    to_schema(serde_json::json!({
        "oneOf": [
            variant("percent_off", "percent_off_bp", integer(1, crate::ledger::BP_WHOLE)),
            variant("unit_price", "unit_price_minor", integer(0, crate::money::MAX_PRICE_MINOR)),
        ],
        "description": "Percent off the list price (basis points, 1-10000), or a unit price replacing the SKU's (at most the list price).",
    }))
}

/// What an offer holds for: its SKUs and, for period SKUs, the terms the
/// buyer must buy (a period and, optionally, a count).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OfferTerms {
    /// 1-50 SKUs of the product, each once.
    #[schema(min_items = 1, max_items = 50)]
    pub skus: Vec<OfferSku>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub period: Option<Period>,
    /// Months 1-11 or years 1-5.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 1, maximum = 11)]
    pub period_count: Option<i64>,
}

crate::stored_as_json!(OfferTerms);

/// The most SKUs one offer may price.
pub const SKUS_MAX: usize = 50;
/// The longest message to the buyer, in characters.
pub const MESSAGE_MAX: usize = 1000;

/// What happens to an offer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OfferEvent {
    /// An order uses it: active -> accepted (`store::repo::deals::take_offer`).
    Take,
    /// That order was cancelled unpaid: accepted -> active.
    GiveBack,
    /// The seller withdraws it: active -> withdrawn.
    Withdraw,
}

impl OfferEvent {
    pub const ALL: &'static [OfferEvent] = &[OfferEvent::Take, OfferEvent::GiveBack, OfferEvent::Withdraw];
}

impl OfferStatus {
    /// The state after `event`, or why it does not apply.
    pub fn next(self, event: OfferEvent) -> Result<OfferStatus, TransitionError> {
        use OfferEvent as E;
        use OfferStatus as S;
        match (self, event) {
            (S::Active, E::Take) => Ok(S::Accepted),
            (S::Accepted, E::GiveBack) => Ok(S::Active),
            (S::Active, E::Withdraw) => Ok(S::Withdrawn),
            _ => Err(TransitionError { what: "private offer", from: self.as_str(), event: format!("{event:?}") }),
        }
    }
}

impl OfferTerms {
    /// How many units one purchase on these terms prices a SKU of `mode`
    /// for (quantity 1): the period count for period SKUs, else 1.
    pub fn units(&self, mode: ChargingMode) -> i64 {
        match mode {
            ChargingMode::Period => self.period_count.unwrap_or(1),
            _ => 1,
        }
    }
}

/// The list price of one unit of `spec` on `terms`: the month or year
/// price of a period SKU (for the terms' period), the one-time price, the
/// package price. None when the SKU has no such price (a period it is not
/// sold by, or pay-per-use, whose charges an offer does not set).
pub fn list_unit_price(spec: &SkuSpec, terms: &OfferTerms) -> Option<i64> {
    match spec.charging_mode {
        ChargingMode::Period => match terms.period? {
            orders::Period::Month => spec.prices.month_minor,
            orders::Period::Year => spec.prices.year_minor,
        },
        ChargingMode::OneTime => spec.prices.one_time_minor,
        ChargingMode::OnDemandPkg => spec.package.as_ref().map(|p| p.price_minor),
        ChargingMode::OnDemand => None,
    }
}

/// A SKU's price on an offer's terms, for quantity 1: the list price and
/// what the offer makes of it (`pricing::price_line`, the pipeline the
/// order applies). None when the SKU cannot be priced on those terms.
pub fn offered_price(spec: &SkuSpec, terms: &OfferTerms, price: OfferPrice) -> Option<(i64, i64)> {
    let units = terms.units(spec.charging_mode);
    let list = list_unit_price(spec, terms)?.checked_mul(units)?;
    let deal = Deal::Offer { id: String::new(), seller_id: String::new(), price, partner: None };
    let b = pricing::price_line(list, units, Some(&deal), None, &spec.currency).ok()?;
    Some((list, b.due_minor))
}

/// Every rule of a new offer (422 listing every bad field), given the
/// active listed SKU found for each `terms.skus[i].sku_id` (None: not an
/// active SKU of the offer's product): 1 to [`SKUS_MAX`] SKUs, each once;
/// a percentage of 1 to 10000 basis points, or a unit price of 0 up to the
/// SKU's list unit price on the terms; pay-per-use SKUs have no price to
/// offer. The terms follow `orders::check_request`: a period (month or
/// year) when any SKU is a period SKU, sold by that period, with a count
/// of 1-11 months or 1-5 years; no period or count otherwise. The window
/// is valid ([`check_window`]) and the message at most [`MESSAGE_MAX`]
/// characters.
pub fn check_offer(
    terms: &OfferTerms,
    found: &[Option<&SkuSpec>],
    valid_from: DateTime<Utc>,
    valid_until: DateTime<Utc>,
    message: Option<&str>,
    now: DateTime<Utc>,
) -> Result<(), Invalid> {
    let mut c = Checker::new();
    let req = orders::Request { period: terms.period, period_count: terms.period_count, ..Default::default() };
    if let Err(invalid) = orders::check_request(&req) {
        for e in invalid.0 {
            c.add(format!("terms.{}", e.field), e.message);
        }
    }
    c.check(!terms.skus.is_empty(), "terms.skus", "name at least one SKU");
    c.check(terms.skus.len() <= SKUS_MAX, "terms.skus", format!("at most {SKUS_MAX} SKUs"));
    let any_period = found.iter().flatten().any(|s| s.charging_mode == ChargingMode::Period);
    if any_period {
        c.check(terms.period.is_some(), "terms.period", "required: the offer prices period SKUs (month or year)");
    } else if found.iter().any(Option::is_some) {
        c.check(terms.period.is_none(), "terms.period", "only for period SKUs");
    }
    for (i, sku) in terms.skus.iter().enumerate() {
        let field = format!("terms.skus[{i}]");
        if terms.skus[..i].iter().any(|s| s.sku_id == sku.sku_id) {
            c.add(format!("{field}.sku_id"), "named twice");
            continue;
        }
        let Some(Some(spec)) = found.get(i) else {
            c.add(format!("{field}.sku_id"), "no active SKU of this product has this id");
            continue;
        };
        let list = list_unit_price(spec, terms);
        match (spec.charging_mode, terms.period) {
            (ChargingMode::OnDemand, _) => {
                c.add(format!("{field}.sku_id"), "a pay-per-use SKU has no price an offer can set");
                continue;
            }
            (ChargingMode::Period, Some(p)) if list.is_none() => {
                c.add(format!("{field}.sku_id"), format!("this SKU is not sold by the {p}"));
                continue;
            }
            _ => {}
        }
        match sku.price {
            OfferPrice::PercentOff { percent_off_bp } => c.check(
                (1..=BP_WHOLE).contains(&percent_off_bp),
                &format!("{field}.price.percent_off_bp"),
                format!("must be 1 to {BP_WHOLE} basis points"),
            ),
            OfferPrice::UnitPrice { unit_price_minor } => {
                let f = format!("{field}.price.unit_price_minor");
                if unit_price_minor < 0 {
                    c.add(f, "must not be negative");
                } else if let Some(l) = list.filter(|l| unit_price_minor > *l) {
                    c.add(f, format!("must be at most the list unit price on these terms ({l} {})", spec.currency));
                }
            }
        }
    }
    check_window(&mut c, valid_from, valid_until, now, "valid_until");
    c.opt_text("message", message, MESSAGE_MAX);
    c.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::Prices;
    use crate::orders::Period;
    use chrono::{Duration, TimeZone};

    fn t0() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 1, 0, 0, 0).unwrap()
    }

    #[test]
    fn offer_transitions_are_exactly_the_documented_ones() {
        use OfferEvent as E;
        use OfferStatus as S;
        let allowed = [
            (S::Active, E::Take, S::Accepted),
            (S::Accepted, E::GiveBack, S::Active),
            (S::Active, E::Withdraw, S::Withdrawn),
        ];
        for from in S::ALL {
            for event in E::ALL {
                let expected = allowed.iter().find(|(f, e, _)| f == from && e == event).map(|(_, _, to)| *to);
                assert_eq!(from.next(*event).ok(), expected, "{from} {event:?}");
            }
        }
    }

    fn spec(mode: ChargingMode) -> SkuSpec {
        let prices = match mode {
            ChargingMode::Period => Prices { month_minor: Some(9_900), year_minor: None, ..Default::default() },
            ChargingMode::OneTime => Prices { one_time_minor: Some(50_000), ..Default::default() },
            _ => Prices::default(),
        };
        SkuSpec {
            sku_code: "S".into(),
            name: "S".into(),
            charging_mode: mode,
            prices,
            currency: "CNY".into(),
            trial_days: None,
            metering: None,
            package: None,
            linear: None,
        }
    }

    fn sku(id: &str, price: OfferPrice) -> OfferSku {
        OfferSku { sku_id: id.into(), price }
    }

    fn pct(bp: i64) -> OfferPrice {
        OfferPrice::PercentOff { percent_off_bp: bp }
    }

    fn unit(minor: i64) -> OfferPrice {
        OfferPrice::UnitPrice { unit_price_minor: minor }
    }

    fn fields(r: Result<(), Invalid>) -> Vec<String> {
        r.err().map(|i| i.0.into_iter().map(|e| e.field).collect()).unwrap_or_default()
    }

    #[test]
    fn offers_are_checked_field_by_field() {
        let period = spec(ChargingMode::Period);
        let once = spec(ChargingMode::OneTime);
        let until = t0() + Duration::days(10);
        let terms = OfferTerms {
            skus: vec![sku("a", pct(1_500)), sku("b", unit(50_000))],
            period: Some(Period::Month),
            period_count: Some(3),
        };
        assert_eq!(check_offer(&terms, &[Some(&period), Some(&once)], t0(), until, None, t0()), Ok(()));
        // 3 months at 9 900: 29 700, 15% off -> 25 245; the one-time SKU at its price.
        assert_eq!(offered_price(&period, &terms, pct(1_500)), Some((29_700, 25_245)));
        assert_eq!(offered_price(&once, &terms, unit(40_000)), Some((50_000, 40_000)));
        assert_eq!(offered_price(&period, &terms, unit(9_000)), Some((29_700, 27_000)));

        let bad = OfferTerms {
            skus: vec![
                sku("a", pct(0)),
                sku("b", unit(50_001)),
                sku("a", pct(10)),
                sku("x", pct(10)),
                sku("c", pct(10_001)),
            ],
            period: Some(Period::Year),
            period_count: Some(6),
        };
        let f = fields(check_offer(
            &bad,
            &[Some(&period), Some(&once), Some(&period), None, Some(&once)],
            t0(),
            t0(),
            Some("\u{7}"),
            t0(),
        ));
        assert_eq!(
            f,
            [
                "terms.period_count",
                "terms.skus[0].sku_id",
                "terms.skus[1].price.unit_price_minor",
                "terms.skus[2].sku_id",
                "terms.skus[3].sku_id",
                "terms.skus[4].price.percent_off_bp",
                "valid_until",
                "message"
            ]
        );

        let no_period = OfferTerms { skus: vec![sku("a", unit(-1))], period: None, period_count: None };
        assert_eq!(
            fields(check_offer(&no_period, &[Some(&period)], t0(), until, None, t0())),
            ["terms.period", "terms.skus[0].price.unit_price_minor"]
        );
        let needless = OfferTerms { skus: vec![sku("b", pct(100))], period: Some(Period::Month), period_count: None };
        assert_eq!(fields(check_offer(&needless, &[Some(&once)], t0(), until, None, t0())), ["terms.period"]);
        let ppu = OfferTerms { skus: vec![sku("p", pct(100))], period: None, period_count: None };
        let on_demand = spec(ChargingMode::OnDemand);
        assert_eq!(fields(check_offer(&ppu, &[Some(&on_demand)], t0(), until, None, t0())), ["terms.skus[0].sku_id"]);
        let empty = OfferTerms { skus: vec![], period: None, period_count: None };
        assert_eq!(fields(check_offer(&empty, &[], t0(), until, None, t0())), ["terms.skus"]);
        // Unit price at the list price, and 100% off, are allowed.
        let edge = OfferTerms {
            skus: vec![sku("a", unit(9_900)), sku("b", pct(10_000))],
            period: Some(Period::Month),
            period_count: None,
        };
        assert_eq!(check_offer(&edge, &[Some(&period), Some(&once)], t0(), until, None, t0()), Ok(()));
        assert_eq!(offered_price(&once, &edge, pct(10_000)), Some((50_000, 0)));
    }
}

//! Usage records (话单) pushed by sellers for pay-per-use instances (seller
//! interface spec §7): the shape of a push and of each record, checked in
//! memory before anything is stored.
//!
//! Rules of a push body `{"usage_records": [...]}`:
//! - the array is required and holds 1 to [`MAX_RECORDS`] records; no other
//!   top-level field is allowed;
//! - each record has exactly the fields of [`FIELDS`]; any other field is an
//!   unknown field (answered apart from bad values, spec code MKT.0101);
//! - `instance_id` (1-64 chars) and `metering_sn` (1-64 chars) are required;
//!   `relate_pkg_instance` is optional (1-64 chars when present);
//! - `begin_time` and `end_time` are required (rating needs the window),
//!   `record_time` is optional; all are UTC `yyyyMMdd'T'HHmmss'Z'`, and
//!   `begin_time <= end_time`;
//! - `usage_value` is an exact decimal (JSON number or string) greater than 0
//!   with at most 4 decimals (trailing zeros do not count), at most
//!   [`MAX_USAGE_UNITS`]; it is kept as integer ten-thousandths (`usage_e4`)
//!   so that rating never sees a float. A JSON number is read through its
//!   shortest round-trip text, so `12.3456` is exactly `123456`;
//! - a `metering_sn` appears at most once in a batch.
//!
//! Any error rejects the whole batch. Business rules (the instance, the time
//! windows, the 21 days, duplicates across batches) are not shape rules: they
//! are checked asynchronously after the records are stored.

use crate::catalog::{Billing, ChargingMode};
use crate::rating::CloseRule;
use chrono::{DateTime, NaiveDateTime, Utc};
use serde::Deserialize;
use serde::de::{Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use std::collections::HashMap;
use std::fmt;

/// Records per push at most (spec: MKT.9003 beyond).
pub const MAX_RECORDS: usize = 1000;
/// Longest `metering_sn`, `instance_id` and `relate_pkg_instance`.
pub const MAX_ID_LEN: usize = 64;
/// `usage_value` is stored in units of 1/10,000.
pub const USAGE_SCALE: i64 = 10_000;
/// Largest `usage_value` of one record, in whole units: far above any real
/// record, and low enough that sums of many records stay far from `i64`.
pub const MAX_USAGE_UNITS: i64 = 1_000_000_000_000;
/// The spec's time format, `yyyyMMdd'T'HHmmss'Z'`.
pub const TIME_FORMAT: &str = "%Y%m%dT%H%M%SZ";

/// The fields a record may carry, in the order errors name them.
pub const FIELDS: [&str; 7] =
    ["instance_id", "metering_sn", "record_time", "begin_time", "end_time", "usage_value", "relate_pkg_instance"];

/// A record that passed the shape rules.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsageRecord {
    pub instance_id: String,
    pub metering_sn: String,
    pub record_time: Option<DateTime<Utc>>,
    pub begin_time: DateTime<Utc>,
    pub end_time: DateTime<Utc>,
    /// `usage_value` x 10,000, exact.
    pub usage_e4: i64,
    pub relate_pkg_instance: Option<String>,
    /// Its index in the pushed batch: of two copies of one usage window, the
    /// one pushed first counts (see the validator).
    pub position: u32,
}

/// Why a push is refused. Every variant rejects the whole batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BatchError {
    /// Not JSON, or not `{"usage_records": [objects]}`.
    Malformed(String),
    /// No records (missing, null or empty array).
    Empty,
    /// More than [`MAX_RECORDS`] records (the count).
    TooMany(usize),
    /// Fields nobody defined, named with their path (`usage_records[2].foo`).
    UnknownFields(Vec<String>),
    /// Invalid values: (field path, message), in record order.
    Invalid(Vec<(String, String)>),
}

impl BatchError {
    /// One line for people; lists at most 20 problems.
    pub fn message(&self) -> String {
        const SHOWN: usize = 20;
        let more = |n: usize| if n > SHOWN { format!(" (and {} more)", n - SHOWN) } else { String::new() };
        match self {
            BatchError::Malformed(why) => format!("malformed body: {why}"),
            BatchError::Empty => "usage_records: at least one record is required".into(),
            BatchError::TooMany(n) => format!("usage_records: at most {MAX_RECORDS} records per call, got {n}"),
            BatchError::UnknownFields(names) => format!(
                "unknown field{} {}{}",
                if names.len() == 1 { "" } else { "s" },
                names.iter().take(SHOWN).cloned().collect::<Vec<_>>().join(", "),
                more(names.len())
            ),
            BatchError::Invalid(errors) => {
                let shown: Vec<String> = errors.iter().take(SHOWN).map(|(f, m)| format!("{f}: {m}")).collect();
                format!("{}{}", shown.join("; "), more(errors.len()))
            }
        }
    }
}

/// A JSON value where a scalar is expected, kept as text for exact parsing.
#[derive(Debug, Clone, PartialEq)]
enum Scalar {
    Text(String),
    /// A JSON number, as its shortest round-trip text.
    Number(String),
    Null,
    /// Anything else: what it was, for the message.
    Other(&'static str),
}

impl<'de> Deserialize<'de> for Scalar {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Scalar;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a JSON value")
            }
            fn visit_str<E>(self, v: &str) -> Result<Scalar, E> {
                Ok(Scalar::Text(v.to_string()))
            }
            fn visit_string<E>(self, v: String) -> Result<Scalar, E> {
                Ok(Scalar::Text(v))
            }
            fn visit_u64<E>(self, v: u64) -> Result<Scalar, E> {
                Ok(Scalar::Number(v.to_string()))
            }
            fn visit_i64<E>(self, v: i64) -> Result<Scalar, E> {
                Ok(Scalar::Number(v.to_string()))
            }
            fn visit_f64<E>(self, v: f64) -> Result<Scalar, E> {
                // Display of f64 is the shortest text that reads back as the
                // same double, never exponent notation: "12.3456", "0.00001".
                Ok(Scalar::Number(format!("{v}")))
            }
            fn visit_bool<E>(self, _: bool) -> Result<Scalar, E> {
                Ok(Scalar::Other("a boolean"))
            }
            fn visit_unit<E>(self) -> Result<Scalar, E> {
                Ok(Scalar::Null)
            }
            fn visit_none<E>(self) -> Result<Scalar, E> {
                Ok(Scalar::Null)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Scalar, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Scalar::Other("an array"))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Scalar, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(Scalar::Other("an object"))
            }
        }
        d.deserialize_any(V)
    }
}

/// One record as sent: the known fields by position in [`FIELDS`], and the
/// names of unknown ones.
#[derive(Debug, Default)]
struct RawRecord {
    values: [Option<Scalar>; 7],
    unknown: Vec<String>,
}

impl<'de> Deserialize<'de> for RawRecord {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = RawRecord;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a usage record object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RawRecord, A::Error> {
                let mut raw = RawRecord::default();
                while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
                    match FIELDS.iter().position(|f| *f == key) {
                        Some(i) => raw.values[i] = Some(map.next_value()?),
                        None => {
                            map.next_value::<IgnoredAny>()?;
                            raw.unknown.push(key.into_owned());
                        }
                    }
                }
                Ok(raw)
            }
        }
        d.deserialize_map(V)
    }
}

struct RawBatch {
    records: Option<Vec<RawRecord>>,
    unknown: Vec<String>,
}

impl<'de> Deserialize<'de> for RawBatch {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = RawBatch;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an object {\"usage_records\": [...]}")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RawBatch, A::Error> {
                let mut batch = RawBatch { records: None, unknown: Vec::new() };
                while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
                    if key == "usage_records" {
                        batch.records = map.next_value::<Option<Vec<RawRecord>>>()?;
                    } else {
                        map.next_value::<IgnoredAny>()?;
                        batch.unknown.push(key.into_owned());
                    }
                }
                Ok(batch)
            }
        }
        d.deserialize_map(V)
    }
}

/// Parses and shape-checks a push body. Unknown fields win over bad values
/// (they usually mean a client speaking another version of the protocol).
pub fn parse_batch(body: &[u8]) -> Result<Vec<UsageRecord>, BatchError> {
    let batch: RawBatch = serde_json::from_slice(body).map_err(|e| BatchError::Malformed(e.to_string()))?;
    let raws = batch.records.unwrap_or_default();
    if raws.len() > MAX_RECORDS {
        return Err(BatchError::TooMany(raws.len()));
    }
    let mut unknown = batch.unknown;
    for (i, raw) in raws.iter().enumerate() {
        unknown.extend(raw.unknown.iter().map(|name| format!("usage_records[{i}].{name}")));
    }
    if !unknown.is_empty() {
        return Err(BatchError::UnknownFields(unknown));
    }
    if raws.is_empty() {
        return Err(BatchError::Empty);
    }
    let mut errors = Vec::new();
    let mut records = Vec::with_capacity(raws.len());
    for (i, raw) in raws.into_iter().enumerate() {
        match check_record(raw) {
            Ok(r) => records.push((i, r)),
            Err(es) => errors.extend(es.into_iter().map(|(f, m)| (format!("usage_records[{i}].{f}"), m))),
        }
    }
    let mut first_of: HashMap<&str, usize> = HashMap::with_capacity(records.len());
    for (i, r) in &records {
        if let Some(first) = first_of.insert(r.metering_sn.as_str(), *i) {
            errors.push((
                format!("usage_records[{i}].metering_sn"),
                format!("duplicates usage_records[{first}].metering_sn ({})", r.metering_sn),
            ));
        }
    }
    if !errors.is_empty() {
        errors.sort_by_key(|(field, _)| record_index(field));
        return Err(BatchError::Invalid(errors));
    }
    Ok(records.into_iter().map(|(i, r)| UsageRecord { position: i as u32, ..r }).collect())
}

/// The record index in `usage_records[N].field`, for ordering messages.
fn record_index(field: &str) -> usize {
    field.strip_prefix("usage_records[").and_then(|r| r.split(']').next()).and_then(|n| n.parse().ok()).unwrap_or(0)
}

/// Checks one record; errors name the field without the record prefix.
fn check_record(raw: RawRecord) -> Result<UsageRecord, Vec<(String, String)>> {
    let mut errors: Vec<(String, String)> = Vec::new();
    let [instance_id, metering_sn, record_time, begin_time, end_time, usage_value, relate_pkg_instance] = raw.values;
    let mut err = |field: &str, msg: String| errors.push((field.to_string(), msg));

    let mut id = |field: &str, v: Option<Scalar>, required: bool| -> Option<String> {
        match v {
            None | Some(Scalar::Null) if required => {
                err(field, "is required".into());
                None
            }
            None | Some(Scalar::Null) => None,
            Some(Scalar::Text(s)) if s.is_empty() || s.chars().count() > MAX_ID_LEN => {
                err(field, format!("must be 1 to {MAX_ID_LEN} characters"));
                None
            }
            Some(Scalar::Text(s)) => Some(s),
            Some(_) => {
                err(field, "must be a string".into());
                None
            }
        }
    };
    let instance_id = id("instance_id", instance_id, true);
    let metering_sn = id("metering_sn", metering_sn, true);
    let relate_pkg_instance = id("relate_pkg_instance", relate_pkg_instance, false);

    let mut time = |field: &str, v: Option<Scalar>, required: bool| -> Option<DateTime<Utc>> {
        match v {
            None | Some(Scalar::Null) if required => {
                err(field, "is required".into());
                None
            }
            None | Some(Scalar::Null) => None,
            Some(Scalar::Text(s)) => parse_time(&s).or_else(|| {
                err(field, "must be a UTC time yyyyMMdd'T'HHmmss'Z' such as 20261122T130000Z".into());
                None
            }),
            Some(_) => {
                err(field, "must be a string yyyyMMdd'T'HHmmss'Z'".into());
                None
            }
        }
    };
    let record_time = time("record_time", record_time, false);
    let begin_time = time("begin_time", begin_time, true);
    let end_time = time("end_time", end_time, true);

    let usage_e4 = match usage_value {
        None | Some(Scalar::Null) => {
            err("usage_value", "is required".into());
            None
        }
        Some(Scalar::Text(s) | Scalar::Number(s)) => parse_usage_value(&s).map_err(|m| err("usage_value", m)).ok(),
        Some(Scalar::Other(what)) => {
            err("usage_value", format!("must be a decimal number, not {what}"));
            None
        }
    };
    if let (Some(b), Some(e)) = (begin_time, end_time)
        && e < b
    {
        err("end_time", "must not be before begin_time".into());
    }
    match (instance_id, metering_sn, begin_time, end_time, usage_e4) {
        (Some(instance_id), Some(metering_sn), Some(begin_time), Some(end_time), Some(usage_e4))
            if errors.is_empty() =>
        {
            Ok(UsageRecord {
                instance_id,
                metering_sn,
                record_time,
                begin_time,
                end_time,
                usage_e4,
                relate_pkg_instance,
                position: 0,
            })
        }
        _ => Err(errors),
    }
}

/// `yyyyMMdd'T'HHmmss'Z'`, exactly 16 characters (chrono alone would take
/// short or signed years).
pub fn parse_time(text: &str) -> Option<DateTime<Utc>> {
    let b = text.as_bytes();
    let shape =
        b.len() == 16 && b[8] == b'T' && b[15] == b'Z' && b[..8].iter().chain(&b[9..15]).all(u8::is_ascii_digit);
    if !shape {
        return None;
    }
    NaiveDateTime::parse_from_str(text, TIME_FORMAT).ok().map(|t| t.and_utc())
}

/// The spec's text of a time.
pub fn format_time(t: DateTime<Utc>) -> String {
    t.format(TIME_FORMAT).to_string()
}

/// An exact decimal greater than 0 with at most 4 significant decimals, as
/// ten-thousandths: "12.3456" -> 123456, "2" -> 20000, "0.50" -> 5000.
/// Only digits and one inner dot (no sign, exponent, spaces or bare dots).
pub fn parse_usage_value(text: &str) -> Result<i64, String> {
    const NOT_A_NUMBER: &str = "must be a decimal number such as \"12.3456\"";
    let (negative, magnitude) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let (int, frac) = magnitude.split_once('.').unwrap_or((magnitude, ""));
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(int) || (magnitude.contains('.') && !digits(frac)) {
        return Err(NOT_A_NUMBER.into());
    }
    let frac = frac.trim_end_matches('0');
    let int = int.trim_start_matches('0');
    if frac.len() > 4 {
        return Err("at most 4 decimals".into());
    }
    let too_large = || format!("must be at most {MAX_USAGE_UNITS}");
    if int.len() > 13 {
        return Err(too_large());
    }
    let whole: i64 = if int.is_empty() { 0 } else { int.parse().map_err(|_| too_large())? };
    let mut fraction: i64 = if frac.is_empty() { 0 } else { frac.parse().map_err(|_| NOT_A_NUMBER.to_string())? };
    for _ in frac.len()..4 {
        fraction *= 10;
    }
    let value = whole.checked_mul(USAGE_SCALE).and_then(|w| w.checked_add(fraction)).ok_or_else(too_large)?;
    if negative || value == 0 {
        return Err("must be greater than 0".into());
    }
    if value > MAX_USAGE_UNITS * USAGE_SCALE {
        return Err(too_large());
    }
    Ok(value)
}

/// The decimal text of ten-thousandths, without trailing zeros: 123456 -> "12.3456".
pub fn format_usage_e4(e4: i64) -> String {
    let (whole, frac) = (e4 / USAGE_SCALE, (e4 % USAGE_SCALE).abs());
    if frac == 0 {
        return whole.to_string();
    }
    let frac = format!("{frac:04}");
    format!("{whole}.{}", frac.trim_end_matches('0'))
}

// Business validation of a stored record (spec §7), decided in memory by the
// asynchronous validator with the marketplace clock. Rules, in the order
// they are checked (the first failure is the record's error):
// - the instance is a subscription `instance_id` (NOT_FOUND if none), of
//   the seller who pushed the record (ILLEGAL_OPERATION otherwise);
// - it is pay-per-use: `on_demand`, or `on_demand_pkg` when the record
//   names a `relate_pkg_instance` (INVALID_ENTITY otherwise, e.g. a
//   package or period instance where an on-demand one is expected);
// - a `relate_pkg_instance` must be a quota package (`on_demand_pkg`) of the
//   same seller, buyer and product as the instance (INVALID_ENTITY);
// - `begin_time >= starts_at` of the subscription, `end_time <= received_at`
//   (not in the future when reported), and for a released instance
//   `end_time <= released_at` (all INVALID_ENTITY, reason named);
// - `begin_time >= received_at - 21 days` (TOO_OLD);
// - the billing period holding `end_time` (the instance's hour or day) is
//   still open when the record arrives (`CloseRule`: by default :15 of the
//   next hour, 01:00 of the next day); a record received at or after the
//   close is PERIOD_CLOSED;
// - duplicates by (instance, begin, end) are decided by the caller, which
//   knows the earlier valid records.

/// Another seller's instance.
pub const ILLEGAL_OPERATION: &str = "MKT.0150";
/// No subscription has the instance.
pub const NOT_FOUND: &str = "MKT.9001";
/// Not a pay-per-use instance, or times outside its life or the report.
pub const INVALID_ENTITY: &str = "MKT.9002";
/// begin_time more than 21 days before the report.
pub const TOO_OLD: &str = "MKT.9004";
/// Mercato's own code: the spec names the rule but no code.
pub const PERIOD_CLOSED: &str = "MKT.9005";
/// How far back `begin_time` may lie.
pub const MAX_AGE_DAYS: i64 = 21;

/// What the validator knows of an instance a record names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstanceFacts {
    pub seller_id: String,
    pub buyer_id: String,
    pub product_id: String,
    pub charging_mode: ChargingMode,
    /// The SKU's billing period (packages: hourly).
    pub billing: Billing,
    pub starts_at: DateTime<Utc>,
    /// When the subscription was released, if it was.
    pub released_at: Option<DateTime<Utc>>,
}

/// The fields of a stored record that validation reads.
#[derive(Debug, Clone, Copy)]
pub struct RecordFacts<'a> {
    pub seller_id: &'a str,
    pub begin_time: DateTime<Utc>,
    pub end_time: DateTime<Utc>,
    pub received_at: DateTime<Utc>,
    /// The record's `relate_pkg_instance`: None when it names none,
    /// Some(None) when it names one no subscription has.
    pub package: Option<Option<&'a InstanceFacts>>,
}

/// Why a record is an error record: (code, reason).
pub type Rejection = (&'static str, String);

/// Applies the business rules (see the comment above [`ILLEGAL_OPERATION`];
/// all but duplicates) to one record, with `received_at` as the time of
/// reporting and `close` deciding when its period closed.
pub fn validate(r: &RecordFacts, instance: Option<&InstanceFacts>, close: &CloseRule) -> Result<(), Rejection> {
    let fmt = |t: DateTime<Utc>| format_time(t);
    let Some(i) = instance else {
        return Err((NOT_FOUND, "instance not found".into()));
    };
    if i.seller_id != r.seller_id {
        return Err((ILLEGAL_OPERATION, "illegal operation: the instance belongs to another seller".into()));
    }
    let pay_per_use = i.charging_mode == ChargingMode::OnDemand
        || (i.charging_mode == ChargingMode::OnDemandPkg && r.package.is_some());
    if !pay_per_use {
        return Err((
            INVALID_ENTITY,
            format!("invalid usage entity: a {} instance is not pay-per-use", i.charging_mode),
        ));
    }
    if let Some(package) = r.package {
        let ok = package.is_some_and(|p| {
            p.charging_mode == ChargingMode::OnDemandPkg
                && p.seller_id == i.seller_id
                && p.buyer_id == i.buyer_id
                && p.product_id == i.product_id
        });
        if !ok {
            return Err((
                INVALID_ENTITY,
                "relate_pkg_instance is not a quota package of the same buyer and product as the instance".into(),
            ));
        }
    }
    if r.begin_time < i.starts_at {
        return Err((INVALID_ENTITY, format!("begin_time is before the instance start {}", fmt(i.starts_at))));
    }
    if r.end_time > r.received_at {
        return Err((INVALID_ENTITY, format!("end_time is after the time of reporting {}", fmt(r.received_at))));
    }
    if let Some(released) = i.released_at
        && r.end_time > released
    {
        return Err((INVALID_ENTITY, format!("end_time is after the instance was released at {}", fmt(released))));
    }
    if r.begin_time < r.received_at - chrono::Duration::days(MAX_AGE_DAYS) {
        return Err((TOO_OLD, format!("begin_time is more than {MAX_AGE_DAYS} days old")));
    }
    let closes = close.closes_at_time(i.billing, r.end_time);
    if r.received_at >= closes {
        let what = match i.billing {
            Billing::Hourly => "hour",
            Billing::Daily => "day",
        };
        return Err((PERIOD_CLOSED, format!("period closed: the {what} of end_time closed at {}", fmt(closes))));
    }
    Ok(())
}

#[cfg(test)]
mod validation_tests {
    use super::*;

    fn t(s: &str) -> DateTime<Utc> {
        parse_time(s).unwrap()
    }

    fn inst(mode: ChargingMode) -> InstanceFacts {
        InstanceFacts {
            seller_id: "s".into(),
            buyer_id: "b".into(),
            product_id: "p".into(),
            charging_mode: mode,
            billing: Billing::Hourly,
            starts_at: t("20261101T000000Z"),
            released_at: None,
        }
    }

    fn rec(begin: &str, end: &str, received: &str) -> RecordFacts<'static> {
        RecordFacts { seller_id: "s", begin_time: t(begin), end_time: t(end), received_at: t(received), package: None }
    }

    fn check(r: &RecordFacts, i: &InstanceFacts) -> Result<(), Rejection> {
        validate(r, Some(i), &CloseRule::default())
    }

    #[test]
    fn rules_give_their_codes() {
        let ok = rec("20261122T120000Z", "20261122T125959Z", "20261122T130500Z");
        assert_eq!(check(&ok, &inst(ChargingMode::OnDemand)), Ok(()));
        assert_eq!(validate(&ok, None, &CloseRule::default()).unwrap_err().0, NOT_FOUND);
        let other = InstanceFacts { seller_id: "x".into(), ..inst(ChargingMode::OnDemand) };
        assert_eq!(check(&ok, &other).unwrap_err().0, ILLEGAL_OPERATION);
        assert_eq!(check(&ok, &inst(ChargingMode::OnDemandPkg)).unwrap_err().0, INVALID_ENTITY);
        let pkg = inst(ChargingMode::OnDemandPkg);
        assert_eq!(check(&RecordFacts { package: Some(Some(&pkg)), ..ok }, &inst(ChargingMode::OnDemandPkg)), Ok(()));
        assert_eq!(check(&ok, &inst(ChargingMode::Period)).unwrap_err().0, INVALID_ENTITY);
        let early = rec("20261031T230000Z", "20261101T000100Z", "20261101T001000Z");
        assert_eq!(check(&early, &inst(ChargingMode::OnDemand)).unwrap_err().0, INVALID_ENTITY);
        let future = rec("20261122T120000Z", "20261122T130600Z", "20261122T130500Z");
        assert_eq!(check(&future, &inst(ChargingMode::OnDemand)).unwrap_err().0, INVALID_ENTITY);
        let released = InstanceFacts { released_at: Some(t("20261122T123000Z")), ..inst(ChargingMode::OnDemand) };
        assert_eq!(check(&ok, &released).unwrap_err().0, INVALID_ENTITY);
        let mut old_inst = inst(ChargingMode::OnDemand);
        old_inst.starts_at = t("20260101T000000Z");
        let old = rec("20261031T000000Z", "20261122T125959Z", "20261122T130500Z");
        assert_eq!(check(&old, &old_inst).unwrap_err().0, TOO_OLD);
        let late = rec("20261122T120000Z", "20261122T125959Z", "20261122T131500Z");
        assert_eq!(check(&late, &inst(ChargingMode::OnDemand)).unwrap_err().0, PERIOD_CLOSED);
        let just_in = rec("20261122T120000Z", "20261122T125959Z", "20261122T131459Z");
        assert_eq!(check(&just_in, &inst(ChargingMode::OnDemand)), Ok(()));
    }

    #[test]
    fn a_related_package_must_be_the_same_buyers_package_of_the_product() {
        let ok = rec("20261122T120000Z", "20261122T125959Z", "20261122T130500Z");
        let pkg = inst(ChargingMode::OnDemandPkg);
        assert_eq!(check(&RecordFacts { package: Some(Some(&pkg)), ..ok }, &inst(ChargingMode::OnDemand)), Ok(()));
        assert_eq!(
            check(&RecordFacts { package: Some(None), ..ok }, &inst(ChargingMode::OnDemand)).unwrap_err().0,
            INVALID_ENTITY
        );
        for bad in [
            InstanceFacts { buyer_id: "other".into(), ..pkg.clone() },
            InstanceFacts { product_id: "other".into(), ..pkg.clone() },
            InstanceFacts { seller_id: "other".into(), ..pkg.clone() },
            inst(ChargingMode::OnDemand),
        ] {
            let r = RecordFacts { package: Some(Some(&bad)), ..ok };
            assert_eq!(check(&r, &inst(ChargingMode::OnDemand)).unwrap_err().0, INVALID_ENTITY, "{bad:?}");
        }
    }

    #[test]
    fn daily_periods_take_records_until_the_configured_close() {
        let daily = InstanceFacts { billing: Billing::Daily, ..inst(ChargingMode::OnDemand) };
        let r = rec("20261122T120000Z", "20261122T125959Z", "20261123T005959Z");
        assert_eq!(check(&r, &daily), Ok(()));
        let late = rec("20261122T120000Z", "20261122T125959Z", "20261123T010000Z");
        assert_eq!(check(&late, &daily).unwrap_err().0, PERIOD_CLOSED);
        let rule = CloseRule { after_hour: chrono::Duration::minutes(5), after_day: chrono::Duration::hours(3) };
        let hourly = rec("20261122T120000Z", "20261122T125959Z", "20261122T130500Z");
        assert_eq!(validate(&hourly, Some(&inst(ChargingMode::OnDemand)), &rule).unwrap_err().0, PERIOD_CLOSED);
        assert_eq!(validate(&late, Some(&daily), &rule), Ok(()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    fn record() -> serde_json::Value {
        json!({"instance_id": "ins-1", "metering_sn": "sn-1", "record_time": "20261122T130500Z",
               "begin_time": "20261122T120000Z", "end_time": "20261122T125959Z", "usage_value": 12.3456})
    }

    fn parse(records: Vec<serde_json::Value>) -> Result<Vec<UsageRecord>, BatchError> {
        parse_batch(json!({ "usage_records": records }).to_string().as_bytes())
    }

    fn invalid_fields(r: Result<Vec<UsageRecord>, BatchError>) -> Vec<String> {
        match r {
            Err(BatchError::Invalid(es)) => es.into_iter().map(|(f, m)| format!("{f}: {m}")).collect(),
            other => panic!("expected invalid fields, got {other:?}"),
        }
    }

    #[test]
    fn usage_values_parse_exactly() {
        assert_eq!(parse_usage_value("12.3456"), Ok(123_456));
        assert_eq!(parse_usage_value("2"), Ok(20_000));
        assert_eq!(parse_usage_value("0.0001"), Ok(1));
        assert_eq!(parse_usage_value("0.50"), Ok(5_000));
        assert_eq!(parse_usage_value("1.23450"), Ok(12_345));
        assert_eq!(parse_usage_value("007"), Ok(70_000));
        assert_eq!(parse_usage_value("1000000000000"), Ok(MAX_USAGE_UNITS * USAGE_SCALE));
        assert_eq!(parse_usage_value("12.34567").unwrap_err(), "at most 4 decimals");
        for zero in ["0", "0.0000", "-0"] {
            assert_eq!(parse_usage_value(zero).unwrap_err(), "must be greater than 0", "{zero}");
        }
        assert_eq!(parse_usage_value("-1.5").unwrap_err(), "must be greater than 0");
        for bad in ["", "abc", "1e3", " 1", "1 ", ".5", "1.", "+1", "1.2.3", "--1", "0x10", "١"] {
            assert!(parse_usage_value(bad).unwrap_err().contains("decimal number"), "{bad:?}");
        }
        assert!(parse_usage_value("1000000000000.0001").unwrap_err().contains("at most"));
        assert!(parse_usage_value("99999999999999999999999").unwrap_err().contains("at most"));
    }

    #[test]
    fn times_are_strict() {
        assert_eq!(parse_time("20261122T130500Z").unwrap().to_rfc3339(), "2026-11-22T13:05:00+00:00");
        for bad in
            ["2026-11-22T13:05:00Z", "20261122T130500", "20261122 130500Z", "20261322T130500Z", "+2026112T130500Z"]
        {
            assert!(parse_time(bad).is_none(), "{bad}");
        }
        assert_eq!(format_time(parse_time("20260101T000000Z").unwrap()), "20260101T000000Z");
    }

    #[test]
    fn a_valid_batch_parses() {
        let mut second = record();
        second["metering_sn"] = json!("sn-2");
        second["usage_value"] = json!("3");
        second["relate_pkg_instance"] = json!("pkg-1");
        second.as_object_mut().unwrap().remove("record_time");
        let records = parse(vec![record(), second]).unwrap();
        assert_eq!(records.len(), 2);
        assert_eq!(records[0].usage_e4, 123_456);
        assert_eq!(records[0].record_time, parse_time("20261122T130500Z"));
        assert_eq!(records[0].begin_time, parse_time("20261122T120000Z").unwrap());
        assert_eq!(records[1].usage_e4, 30_000);
        assert_eq!(records[1].record_time, None);
        assert_eq!(records[1].relate_pkg_instance.as_deref(), Some("pkg-1"));
    }

    #[test]
    fn batch_size_and_body_shape() {
        assert_eq!(parse(vec![]), Err(BatchError::Empty));
        assert_eq!(parse_batch(b"{}"), Err(BatchError::Empty));
        assert_eq!(parse_batch(br#"{"usage_records": null}"#), Err(BatchError::Empty));
        assert!(matches!(parse_batch(b"{"), Err(BatchError::Malformed(_))));
        assert!(matches!(parse_batch(br#"{"usage_records": {}}"#), Err(BatchError::Malformed(_))));
        assert!(matches!(parse_batch(br#"{"usage_records": [1]}"#), Err(BatchError::Malformed(_))));
        assert!(matches!(parse_batch(b"[]"), Err(BatchError::Malformed(_))));
        let many: Vec<_> = (0..MAX_RECORDS + 1)
            .map(|i| {
                let mut r = record();
                r["metering_sn"] = json!(format!("sn-{i}"));
                r
            })
            .collect();
        assert_eq!(parse(many.clone()), Err(BatchError::TooMany(MAX_RECORDS + 1)));
        assert_eq!(parse(many[..MAX_RECORDS].to_vec()).unwrap().len(), MAX_RECORDS);
    }

    #[test]
    fn unknown_fields_are_named() {
        let mut r = record();
        r["colour"] = json!("red");
        let err = parse(vec![record_with_sn("a"), r]).unwrap_err();
        assert_eq!(err, BatchError::UnknownFields(vec!["usage_records[1].colour".into()]));
        assert!(err.message().contains("usage_records[1].colour"));
        let err = parse_batch(br#"{"usage_records": [], "extra": 1}"#).unwrap_err();
        assert_eq!(err, BatchError::UnknownFields(vec!["extra".into()]));
    }

    fn record_with_sn(sn: &str) -> serde_json::Value {
        let mut r = record();
        r["metering_sn"] = json!(sn);
        r
    }

    #[test]
    fn bad_values_name_the_record_and_field() {
        let with = |field: &str, value: serde_json::Value| {
            let mut r = record();
            r[field] = value;
            invalid_fields(parse(vec![record_with_sn("ok"), r]))
        };
        assert_eq!(with("usage_value", json!(1.23456)), ["usage_records[1].usage_value: at most 4 decimals"]);
        assert_eq!(with("usage_value", json!("1.23456")), ["usage_records[1].usage_value: at most 4 decimals"]);
        assert_eq!(with("usage_value", json!(-1)), ["usage_records[1].usage_value: must be greater than 0"]);
        assert_eq!(with("usage_value", json!(0)), ["usage_records[1].usage_value: must be greater than 0"]);
        assert!(with("usage_value", json!("ten"))[0].contains("decimal number"));
        assert!(with("usage_value", json!(true))[0].contains("not a boolean"));
        assert!(with("begin_time", json!("2026-11-22 12:00:00"))[0].starts_with("usage_records[1].begin_time: "));
        assert!(with("record_time", json!(20261122))[0].starts_with("usage_records[1].record_time: "));
        assert_eq!(with("instance_id", json!(null)), ["usage_records[1].instance_id: is required"]);
        assert_eq!(with("instance_id", json!("")), ["usage_records[1].instance_id: must be 1 to 64 characters"]);
        assert!(with("metering_sn", json!("x".repeat(65)))[0].contains("1 to 64"));
        assert_eq!(
            with("end_time", json!("20261122T115959Z")),
            ["usage_records[1].end_time: must not be before begin_time"]
        );
        let mut r = record();
        r.as_object_mut().unwrap().remove("instance_id");
        r.as_object_mut().unwrap().remove("usage_value");
        assert_eq!(
            invalid_fields(parse(vec![r])),
            ["usage_records[0].instance_id: is required", "usage_records[0].usage_value: is required"]
        );
    }

    #[test]
    fn sixty_four_characters_are_fine() {
        let r = record_with_sn(&"y".repeat(64));
        assert!(parse(vec![record_with_sn("ok"), r]).is_ok());
    }

    #[test]
    fn duplicate_metering_sns_name_both_records() {
        let errors = invalid_fields(parse(vec![record_with_sn("a"), record_with_sn("b"), record_with_sn("a")]));
        assert_eq!(errors, ["usage_records[2].metering_sn: duplicates usage_records[0].metering_sn (a)"]);
    }

    #[test]
    fn e4_formats_back() {
        assert_eq!(format_usage_e4(123_456), "12.3456");
        assert_eq!(format_usage_e4(20_000), "2");
        assert_eq!(format_usage_e4(5_000), "0.5");
        assert_eq!(format_usage_e4(1), "0.0001");
    }

    proptest! {
        /// Every representable value survives text -> e4, in any spelling.
        #[test]
        fn parser_round_trips(e4 in 1..=MAX_USAGE_UNITS * USAGE_SCALE, zeros in 0usize..3) {
            let text = format_usage_e4(e4);
            prop_assert_eq!(parse_usage_value(&text), Ok(e4));
            let padded = if text.contains('.') { format!("{text}{}", "0".repeat(zeros)) } else { text.clone() };
            prop_assert_eq!(parse_usage_value(&padded), Ok(e4));
            prop_assert_eq!(parse_usage_value(&format!("{}.{:04}", e4 / USAGE_SCALE, e4 % USAGE_SCALE)), Ok(e4));
        }

        /// A JSON number with at most 4 decimals reads back exactly.
        #[test]
        fn json_numbers_are_exact(whole in 0i64..1_000_000, frac in 0i64..10_000) {
            prop_assume!(whole + frac > 0);
            let text = format!("{whole}.{frac:04}");
            let body = format!(r#"{{"usage_records":[{{"instance_id":"i","metering_sn":"s","begin_time":"20260101T000000Z","end_time":"20260101T000000Z","usage_value":{text}}}]}}"#);
            let records = parse_batch(body.as_bytes()).unwrap();
            prop_assert_eq!(records[0].usage_e4, whole * USAGE_SCALE + frac);
        }

        /// Arbitrary text never panics, and anything accepted is positive and
        /// formats back to a value that parses the same.
        #[test]
        fn arbitrary_text_is_safe(text in "[-0-9.e ]{0,20}") {
            if let Ok(e4) = parse_usage_value(&text) {
                prop_assert!(e4 > 0);
                prop_assert_eq!(parse_usage_value(&format_usage_e4(e4)), Ok(e4));
            }
        }
    }
}

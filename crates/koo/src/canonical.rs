//! The signed payloads of spec §3 (basic calls) and §4 (kit calls).
//!
//! A Java seller verifies by binding the body with Jackson, sorting the keys
//! (`TreeMap`, i.e. `String.compareTo`) and writing the map back with the
//! default `ObjectMapper`. We reproduce that from the exact request bytes, so
//! the signature never depends on how the sender happened to format them.

use crate::json::{self, ParseError, Value};
use std::cmp::Ordering;
use std::fmt;

/// Why a body has no canonical payload (the call answers `000002`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CanonicalError {
    /// Not JSON, too large, too deep, invalid UTF-8...
    Json(ParseError),
    /// The body is JSON but not an object.
    NotObject(&'static str),
    /// A top-level value of a basic call is an object or array; a
    /// `Map<String,String>` binding refuses it, so no seller could verify it.
    NestedValue { key: String, found: &'static str },
}

impl fmt::Display for CanonicalError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CanonicalError::Json(e) => write!(f, "body is not valid JSON: {e}"),
            CanonicalError::NotObject(t) => write!(f, "body must be a JSON object, found {t}"),
            CanonicalError::NestedValue { key, found } => {
                write!(f, "top-level field {key:?} must be a string, found {found}")
            }
        }
    }
}

impl std::error::Error for CanonicalError {}

impl From<ParseError> for CanonicalError {
    fn from(e: ParseError) -> Self {
        CanonicalError::Json(e)
    }
}

/// Java's `String.compareTo`: lexicographic over UTF-16 code units. It
/// differs from Rust's byte/char order for non-BMP characters against
/// U+E000..U+FFFF (a surrogate 0xD83D sorts before 0xFF21).
pub fn java_cmp(a: &str, b: &str) -> Ordering {
    a.encode_utf16().cmp(b.encode_utf16())
}

fn object(body: &[u8]) -> Result<Vec<(String, Value)>, CanonicalError> {
    match json::parse(body)? {
        Value::Object(pairs) => Ok(pairs),
        other => Err(CanonicalError::NotObject(other.type_name())),
    }
}

/// The body bound as Jackson binds a `Map<String,String>`: nulls dropped,
/// numbers by their text, booleans as `"true"`/`"false"`; nested values are
/// an error. Keys in body order.
pub fn string_map(body: &[u8]) -> Result<Vec<(String, String)>, CanonicalError> {
    let mut out = Vec::new();
    for (k, v) in object(body)? {
        let s = match v {
            Value::Null => continue,
            Value::String(s) => s,
            Value::Number(n) => n,
            Value::Bool(b) => b.to_string(),
            Value::Array(_) | Value::Object(_) => {
                return Err(CanonicalError::NestedValue { key: k, found: v.type_name() });
            }
        };
        out.push((k, s));
    }
    Ok(out)
}

/// Canonical payload of a basic call (spec §3 steps 1-3).
pub fn basic_payload(body: &[u8]) -> Result<String, CanonicalError> {
    let mut map = string_map(body)?;
    map.sort_by(|a, b| java_cmp(&a.0, &b.0));
    let mut out = String::with_capacity(body.len() + 16);
    out.push('{');
    for (i, (k, v)) in map.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        json::write_string(&mut out, k);
        out.push(':');
        json::write_string(&mut out, v);
    }
    out.push('}');
    Ok(out)
}

/// Canonical payload of a kit call (spec §4): top-level keys sorted as in
/// [`basic_payload`], top-level nulls dropped, nested values written as
/// parsed (their key order kept, numbers as their original text).
///
/// Known divergence from a Java seller binding `Map<String,Object>`: Jackson
/// would re-print floating-point numbers through `Double` (`1.50` -> `1.5`,
/// `1e3` -> `1000.0`) and `-0` as `0`. The kit calls carry only integers
/// (`flag`, `testFlag`, `employeeType`), for which the text is identical.
pub fn kit_payload(body: &[u8]) -> Result<String, CanonicalError> {
    let mut pairs: Vec<(String, Value)> = object(body)?.into_iter().filter(|(_, v)| *v != Value::Null).collect();
    pairs.sort_by(|a, b| java_cmp(&a.0, &b.0));
    Ok(Value::Object(pairs).to_json())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf16_order() {
        // U+1F600 is D83D DE00 in UTF-16, which sorts before U+FF21.
        assert_eq!(java_cmp("\u{1F600}", "\u{FF21}"), Ordering::Less);
        assert_eq!("\u{1F600}".cmp("\u{FF21}"), Ordering::Greater);
        let body = "{\"\u{FF21}\":\"x\",\"\u{1F600}\":\"y\",\"a\":\"z\"}";
        assert_eq!(basic_payload(body.as_bytes()).unwrap(), "{\"a\":\"z\",\"\u{1F600}\":\"y\",\"\u{FF21}\":\"x\"}");
        assert_eq!(java_cmp("ab", "abc"), Ordering::Less);
        assert_eq!(java_cmp("B", "a"), Ordering::Less);
    }

    #[test]
    fn basic_binds_scalars_as_strings() {
        let body = br#"{"n":1.50,"t":true,"f":false,"z":null,"s":"a/b"}"#;
        assert_eq!(basic_payload(body).unwrap(), r#"{"f":"false","n":"1.50","s":"a/b","t":"true"}"#);
    }

    #[test]
    fn basic_rejects_nested_and_non_objects() {
        assert!(matches!(basic_payload(br#"{"a":{}}"#), Err(CanonicalError::NestedValue { .. })));
        assert!(matches!(basic_payload(br#"{"a":[]}"#), Err(CanonicalError::NestedValue { .. })));
        assert!(matches!(basic_payload(b"[]"), Err(CanonicalError::NotObject("array"))));
        assert!(matches!(basic_payload(b"\"x\""), Err(CanonicalError::NotObject("string"))));
        assert!(matches!(basic_payload(b"{"), Err(CanonicalError::Json(_))));
        assert_eq!(basic_payload(b" {} ").unwrap(), "{}");
    }

    #[test]
    fn kit_keeps_nested() {
        let body = br#"{"z":{"b":1,"a":null},"a":null,"m":[1.0,"\u001f"]}"#;
        assert_eq!(kit_payload(body).unwrap(), r#"{"m":[1.0,"\u001F"],"z":{"b":1,"a":null}}"#);
    }
}

//! JSON Schema (OpenAPI 3.1) fragments that state the rules this crate's
//! checks enforce, built from the same constants: a request the published
//! document calls valid passes the checks, and one it calls invalid is
//! refused. Request types whose rules need more than a derive can say
//! (lengths of trimmed text, patterns, one shape per charging mode) build
//! their schema from these.
//!
//! Fragments are `serde_json::Value`s, turned into utoipa schemas by
//! [`to_schema`]; only keywords utoipa's model keeps are used (`type`,
//! `enum`, `properties`, `required`, `additionalProperties`, `pattern`,
//! lengths, bounds, `minProperties`, `allOf`/`anyOf`/`oneOf`).

use serde_json::{Map, Value, json};
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::Schema;

/// The control characters `Checker::text` refuses: all but tab, line feed
/// and carriage return (as a regex class body).
pub const CONTROL: &str = r"\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f";

/// The characters a trimmed length does not count and an email address or
/// a non-blank text cannot start or end with: every control character and
/// every `char::is_whitespace` character (as a regex class body).
pub const BLANK: &str = r"\u0000-\u0020\u007f-\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000";

/// The regex `Checker::text(field, value, min, max)` amounts to, next to
/// `maxLength: max`: at least `min` characters from the first to the last
/// non-blank one, and no control character other than tab and line breaks.
pub fn text_pattern(min: usize) -> String {
    match min {
        0 => format!("^[^{CONTROL}]*$"),
        1 => format!("^[^{CONTROL}]*[^{BLANK}][^{CONTROL}]*$"),
        n => format!("^[^{CONTROL}]*[^{BLANK}][^{CONTROL}]{{{},}}[^{BLANK}][^{CONTROL}]*$", n - 2),
    }
}

/// A text as `Checker::text` checks it: trimmed length at least `min`
/// characters, at most `max` characters as sent, no control characters
/// other than tab and line breaks.
pub fn text(min: usize, max: usize) -> Value {
    let mut s = json!({"type": "string", "maxLength": max, "pattern": text_pattern(min)});
    if min > 0 {
        s["minLength"] = json!(min);
    }
    s
}

/// A string matching `pattern`, `min` to `max` characters.
pub fn matching(pattern: &str, min: usize, max: usize) -> Value {
    json!({"type": "string", "minLength": min, "maxLength": max, "pattern": pattern})
}

/// The email addresses `validation::is_email` accepts: no blank or control
/// character, one `@` after a non-empty local part, a domain of at least two
/// non-empty dot-separated labels; at most 254 characters.
pub fn email() -> Value {
    let pattern = format!("^[^@{BLANK}]+@[^@.{BLANK}]+(?:\\.[^@.{BLANK}]+)+$");
    json!({"type": "string", "minLength": 5, "maxLength": crate::validation::EMAIL_MAX, "pattern": pattern})
}

/// An integer between `min` and `max`, inclusive.
pub fn integer(min: i64, max: i64) -> Value {
    json!({"type": "integer", "format": "int64", "minimum": min, "maximum": max})
}

/// A plain decimal string (digits, at most one dot, no leading zeros, no
/// sign or exponent) greater than zero, at most `max` (a power of ten) and
/// with at most `scale` digits after the dot: what
/// `money::is_plain_decimal` and `money::parse_positive_decimal` accept
/// together.
pub fn positive_decimal(scale: u32, max: i64) -> Value {
    json!({"type": "string", "pattern": positive_decimal_pattern(scale, max)})
}

/// The regex of [`positive_decimal`].
pub fn positive_decimal_pattern(scale: u32, max: i64) -> String {
    let digits = max.to_string();
    assert!(
        digits.starts_with('1') && digits[1..].bytes().all(|b| b == b'0') && scale >= 1,
        "the bound is a power of ten"
    );
    let below = digits.len() - 1; // digits of the integers below `max`
    let s = scale as usize;
    // 1 .. max-1, with any fraction.
    let mut alternatives = vec![format!("[1-9][0-9]{{0,{}}}(?:\\.[0-9]{{1,{s}}})?", below - 1)];
    // 0.x with a non-zero digit among the first `scale` fraction digits.
    let fractions: Vec<String> = (0..s).map(|i| format!("0{{{i}}}[1-9][0-9]{{0,{}}}", s - i - 1)).collect();
    alternatives.push(format!("0\\.(?:{})", fractions.join("|")));
    // max itself, with zeros only after the dot.
    alternatives.push(format!("{digits}(?:\\.0{{1,{s}}})?"));
    format!("^(?:{})$", alternatives.join("|"))
}

/// `#/components/schemas/{name}`.
pub fn reference(name: &str) -> Value {
    json!({"$ref": format!("#/components/schemas/{name}")})
}

/// The closed list of strings `values`.
pub fn one_of_strings(values: &[&str]) -> Value {
    json!({"type": "string", "enum": values})
}

/// Only `null`: an optional field that must be left out (or sent as null)
/// in this shape.
pub fn null() -> Value {
    json!({"type": "null"})
}

/// `schema`, or `null` (an optional field serde reads as absent when null).
pub fn nullable(schema: Value) -> Value {
    match schema.get("type").cloned() {
        Some(Value::String(t)) if schema.get("enum").is_none() => {
            let mut s = schema;
            s["type"] = json!([t, "null"]);
            s
        }
        _ => json!({"oneOf": [{"type": "null"}, schema]}),
    }
}

/// `schema` with a description.
pub fn described(mut schema: Value, description: &str) -> Value {
    if schema.get("$ref").is_some() {
        // A reference takes no sibling keywords in utoipa's model.
        schema = json!({"allOf": [schema]});
    }
    schema["description"] = json!(description);
    schema
}

/// An object's properties, in order, each required or not.
#[derive(Debug, Default, Clone)]
pub struct Fields {
    properties: Map<String, Value>,
    required: Vec<String>,
}

impl Fields {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn required(mut self, name: &str, schema: Value) -> Self {
        self.properties.insert(name.to_string(), schema);
        self.required.push(name.to_string());
        self
    }

    pub fn optional(mut self, name: &str, schema: Value) -> Self {
        self.properties.insert(name.to_string(), schema);
        self
    }

    /// The object: only these properties (`additionalProperties: false`,
    /// like `#[serde(deny_unknown_fields)]`).
    pub fn closed(self) -> Value {
        let mut o = json!({"type": "object", "properties": self.properties, "additionalProperties": false});
        if !self.required.is_empty() {
            o["required"] = json!(self.required);
        }
        o
    }
}

/// The utoipa schema of a fragment.
pub fn to_schema(value: Value) -> RefOr<Schema> {
    serde_json::from_value(value).expect("a schema fragment of keywords utoipa knows")
}

/// Implements `utoipa::ToSchema` for `$ty` as the fragment `$schema`, a
/// component named like the type, registering the components `$dep`s it
/// refers to.
#[macro_export]
macro_rules! schema_from_fragment {
    ($ty:ty, $schema:expr $(, $dep:ty)* $(,)?) => {
        impl utoipa::PartialSchema for $ty {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                $crate::schema::to_schema($schema)
            }
        }

        impl utoipa::ToSchema for $ty {
            fn schemas(
                schemas: &mut Vec<(String, utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>)>,
            ) {
                let _ = &schemas;
                $(
                    schemas.push((<$dep as utoipa::ToSchema>::name().into_owned(), <$dep as utoipa::PartialSchema>::schema()));
                    <$dep as utoipa::ToSchema>::schemas(schemas);
                )*
            }
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::validation::{Checker, is_email};
    use proptest::prelude::*;
    use regex::Regex;

    /// Characters that matter to the rules, plus ordinary ones.
    fn tricky() -> impl Strategy<Value = String> {
        let chars = prop::sample::select(vec![
            'a', 'Z', '7', '-', '.', '@', ' ', '\t', '\n', '\r', '\u{0}', '\u{b}', '\u{1f}', '\u{7f}', '\u{85}',
            '\u{a0}', '\u{1680}', '\u{2003}', '\u{2028}', '\u{202f}', '\u{3000}', '\u{feff}', '数', 'é', '😀', '(',
            '+',
        ]);
        prop::collection::vec(chars, 0..12).prop_map(|v| v.into_iter().collect())
    }

    fn text_ok(value: &str, min: usize, max: usize) -> bool {
        let mut c = Checker::new();
        c.text("f", value, min, max);
        c.is_ok()
    }

    fn schema_ok(schema: &Value, value: &str) -> bool {
        let len = value.chars().count();
        let re = Regex::new(schema["pattern"].as_str().unwrap()).unwrap();
        schema["minLength"].as_u64().is_none_or(|m| len as u64 >= m)
            && schema["maxLength"].as_u64().is_none_or(|m| len as u64 <= m)
            && re.is_match(value)
    }

    proptest! {
        #[test]
        fn text_schemas_say_what_the_checker_does(value in tricky(), min in 0usize..5, extra in 0usize..8) {
            let max = min + extra;
            prop_assert_eq!(schema_ok(&text(min, max), &value), text_ok(&value, min, max), "{:?} {} {}", value, min, max);
        }

        #[test]
        fn the_email_schema_says_what_is_email_does(local in tricky(), domain in tricky()) {
            let value = format!("{local}@{domain}");
            prop_assert_eq!(schema_ok(&email(), &value), is_email(&value), "{:?}", value);
            prop_assert_eq!(schema_ok(&email(), &local), is_email(&local), "{:?}", local);
        }

        #[test]
        fn decimal_patterns_say_what_the_parser_does(
            value in "[0-9.]{1,16}|0\\.0{0,9}[1-9]|[1-9]0{8,13}(\\.0{1,9})?",
            scale in 1u32..9,
        ) {
            for max in [1_000_000_000i64, 1_000_000_000_000] {
                let re = Regex::new(&positive_decimal_pattern(scale, max)).unwrap();
                let ok = crate::money::is_plain_decimal(&value)
                    && crate::money::parse_positive_decimal(&value, scale, max).is_ok();
                prop_assert_eq!(re.is_match(&value), ok, "{:?} scale {} max {}", value, scale, max);
            }
        }
    }

    #[test]
    fn text_patterns_by_example() {
        let t = text(2, 10);
        assert!(schema_ok(&t, "ab") && schema_ok(&t, " a b ") && schema_ok(&t, "数据"));
        assert!(!schema_ok(&t, " a ") && !schema_ok(&t, "a\u{0}b") && !schema_ok(&t, "\u{3000}a\u{3000}"));
        assert!(schema_ok(&text(0, 3), "") && !schema_ok(&text(1, 3), "  "));
    }
}

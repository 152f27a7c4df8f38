//! The fuzz harness (proptest; cargo-fuzz needs nightly): the canonicaliser
//! and verifier never panic on arbitrary input, sign -> verify round-trips
//! for arbitrary Unicode bodies, any change breaks verification, and string
//! escaping follows Jackson's rules.
//!
//! Run longer with `PROPTEST_CASES=100000 cargo test -p koo --test fuzz_canonical`.

use koo::canonical::{self, java_cmp};
use koo::json::{self, Value};
use koo::sign;
use koo::verify::{BasicVerifier, KitVerifier, VerifyConfig, VerifyError};
use proptest::prelude::*;

const NOW: i64 = 1_700_000_000_000;

fn tricky_char() -> impl Strategy<Value = char> {
    prop_oneof![
        any::<char>(),
        prop::sample::select(vec![
            '"',
            '\\',
            '/',
            '\u{0}',
            '\u{8}',
            '\t',
            '\n',
            '\u{b}',
            '\u{c}',
            '\r',
            '\u{1f}',
            '\u{7f}',
            '\u{2028}',
            '\u{2029}',
            '\u{e000}',
            '\u{ff21}',
            '\u{ffff}',
            '\u{10000}',
            '\u{1f600}',
            '\u{10ffff}',
            'a',
            'Z',
            'é',
        ]),
    ]
}

fn tricky_string() -> impl Strategy<Value = String> {
    prop::collection::vec(tricky_char(), 0..12).prop_map(|v| v.into_iter().collect())
}

fn number() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<i64>().prop_map(|n| n.to_string()),
        any::<f64>().prop_filter("finite", |f| f.is_finite()).prop_map(|f| format!("{f:?}")),
        Just("-0".to_owned()),
        Just("1.50e+10".to_owned()),
        Just("123456789012345678901234567890".to_owned()),
    ]
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        number().prop_map(Value::Number),
        tricky_string().prop_map(Value::String),
    ];
    leaf.prop_recursive(5, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((tricky_string(), inner), 0..6).prop_map(|pairs| {
                // Keys are unique in a parsed object.
                let mut seen = std::collections::HashSet::new();
                Value::Object(pairs.into_iter().filter(|(k, _)| seen.insert(k.clone())).collect())
            }),
        ]
    })
}

/// A body of unique string fields, in arbitrary order.
fn string_map() -> impl Strategy<Value = Vec<(String, String)>> {
    prop::collection::vec((tricky_string(), tricky_string()), 0..8).prop_map(|pairs| {
        let mut seen = std::collections::HashSet::new();
        pairs.into_iter().filter(|(k, _)| seen.insert(k.clone())).collect()
    })
}

fn body_of(pairs: &[(String, String)]) -> String {
    Value::Object(pairs.iter().map(|(k, v)| (k.clone(), Value::String(v.clone()))).collect()).to_json()
}

/// Reference escaper written independently from Jackson's rules.
fn jackson_escape(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{8}' => out.push_str("\\b"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\u{c}' => out.push_str("\\f"),
            '\r' => out.push_str("\\r"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn never_panics_on_bytes(bytes in prop::collection::vec(any::<u8>(), 0..256)) {
        let _ = json::parse(&bytes);
        let _ = canonical::basic_payload(&bytes);
        let _ = canonical::kit_payload(&bytes);
        let v = BasicVerifier::new(b"k".to_vec(), VerifyConfig::default());
        let _ = v.verify(Some("ab"), Some("1700000000000"), Some("n"), &bytes, NOW);
        let _ = koo::BasicCall::from_body(&bytes);
    }

    #[test]
    fn never_panics_on_json_like_text(s in "[{}\\[\\]\",:0-9eE.+\\-a-z\\\\ ]{0,64}") {
        let _ = canonical::basic_payload(s.as_bytes());
        let _ = canonical::kit_payload(s.as_bytes());
    }

    #[test]
    fn parse_write_round_trip(v in json_value()) {
        let text = v.to_json();
        let parsed = json::parse(text.as_bytes()).unwrap();
        prop_assert_eq!(&parsed, &v);
        prop_assert_eq!(&parsed.to_json(), &text);
        // Canonicalisation is total on objects for kit, and idempotent.
        if let Value::Object(_) = v {
            let k1 = canonical::kit_payload(text.as_bytes()).unwrap();
            prop_assert_eq!(canonical::kit_payload(k1.as_bytes()).unwrap(), k1);
            if let Ok(b1) = canonical::basic_payload(text.as_bytes()) {
                prop_assert_eq!(canonical::basic_payload(b1.as_bytes()).unwrap(), b1);
            }
        }
    }

    #[test]
    fn escaping_matches_jackson(s in tricky_string()) {
        let mut out = String::new();
        json::write_string(&mut out, &s);
        prop_assert_eq!(out, jackson_escape(&s));
    }

    #[test]
    fn keys_sorted_by_utf16(pairs in string_map()) {
        let payload = canonical::basic_payload(body_of(&pairs).as_bytes()).unwrap();
        let Value::Object(sorted) = json::parse(payload.as_bytes()).unwrap() else { panic!() };
        prop_assert_eq!(sorted.len(), pairs.len());
        for w in sorted.windows(2) {
            prop_assert!(java_cmp(&w[0].0, &w[1].0).is_lt());
        }
    }

    #[test]
    fn sign_verify_round_trip_and_tamper(
        pairs in string_map(),
        key in tricky_string(),
        nonce in "[0-9A-Fa-f]{1,64}",
        age in 0i64..60_000,
        extra in tricky_char(),
    ) {
        let body = body_of(&pairs);
        let ts = (NOW - age).to_string();
        let payload = canonical::basic_payload(body.as_bytes()).unwrap();
        let s = sign::basic_signature(key.as_bytes(), &nonce, &ts, &payload);
        let fresh = || BasicVerifier::new(key.as_bytes(), VerifyConfig::default());
        prop_assert_eq!(fresh().verify(Some(&s), Some(&ts), Some(&nonce), body.as_bytes(), NOW), Ok(()));

        // Changed body: append a char to a value, or add a field.
        let mut changed = pairs.clone();
        match changed.first_mut() {
            Some((_, v)) => v.push(extra),
            None => changed.push((extra.to_string(), String::new())),
        }
        let bad = Err(VerifyError::BadSignature);
        prop_assert_eq!(fresh().verify(Some(&s), Some(&ts), Some(&nonce), body_of(&changed).as_bytes(), NOW), bad.clone());
        // Changed key.
        let other_key = format!("{key}{extra}");
        let v2 = BasicVerifier::new(other_key.as_bytes(), VerifyConfig::default());
        prop_assert_eq!(v2.verify(Some(&s), Some(&ts), Some(&nonce), body.as_bytes(), NOW), bad.clone());
        // Changed nonce.
        let other_nonce = format!("{nonce}0");
        prop_assert_eq!(fresh().verify(Some(&s), Some(&ts), Some(&other_nonce), body.as_bytes(), NOW), bad.clone());
        // Changed timestamp (still inside the window).
        let other_ts = (NOW - age + 1).to_string();
        prop_assert_eq!(fresh().verify(Some(&s), Some(&other_ts), Some(&nonce), body.as_bytes(), NOW), bad);
    }

    #[test]
    fn kit_round_trip(v in json_value(), key in tricky_string(), nonce in "[0-9a-f]{64}") {
        let body = Value::Object(vec![("data".into(), v), ("flag".into(), Value::Number("1".into()))]).to_json();
        let ts = NOW.to_string();
        let s = sign::kit_signature(key.as_bytes(), &nonce, &ts, &canonical::kit_payload(body.as_bytes()).unwrap());
        let verifier = KitVerifier::new(key.as_bytes(), VerifyConfig::default());
        prop_assert_eq!(verifier.verify(Some(&s), Some(&ts), Some(&nonce), body.as_bytes(), NOW), Ok(()));
        prop_assert_eq!(verifier.verify(Some(&s), Some(&ts), Some(&nonce), body.as_bytes(), NOW), Err(VerifyError::Replay));
    }
}

#[test]
fn jackson_escapes_exact() {
    let cases = [
        ("\u{1f}", "\"\\u001F\""),
        ("\u{7f}", "\"\u{7f}\""),
        ("\u{2028}", "\"\u{2028}\""),
        ("😀", "\"😀\""),
        ("a/b", "\"a/b\""),
        ("\u{0}", "\"\\u0000\""),
        ("q\"b\\", "\"q\\\"b\\\\\""),
    ];
    for (input, expected) in cases {
        let mut out = String::new();
        json::write_string(&mut out, input);
        assert_eq!(out, expected);
    }
    let body = "{\"k\":\"\\u001f\\u007f\u{2028}😀/\"}";
    assert_eq!(canonical::basic_payload(body.as_bytes()).unwrap(), "{\"k\":\"\\u001F\u{7f}\u{2028}😀/\"}");
}

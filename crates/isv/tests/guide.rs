//! `docs/seller-integration.md` must agree with the code: its worked
//! signing examples are recomputed with `koo`, and its example bodies and
//! answers must parse as the calls they claim to be.

use koo::calls::{BasicCall, Response};
use koo::verify::{BasicVerifier, KitVerifier, VerifyConfig};
use koo::{canonical, sign};
use std::collections::HashMap;

fn guide() -> String {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/seller-integration.md");
    std::fs::read_to_string(path).expect("docs/seller-integration.md exists")
}

/// Every `<!-- worked-example:KIND -->` block: its kind and `name value` lines.
fn worked_examples(text: &str) -> Vec<(String, HashMap<String, String>)> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("<!-- worked-example:") {
        let after = &rest[start + "<!-- worked-example:".len()..];
        let (kind, after) = after.split_once(" -->").expect("marker closes");
        let (block, after) = after.split_once("<!-- /worked-example -->").expect("block ends");
        let values = block
            .lines()
            .filter(|l| !l.starts_with("```") && !l.trim().is_empty())
            .map(|l| {
                let (name, value) = l.split_once(' ').expect("name value");
                (name.to_owned(), value.trim_start().to_owned())
            })
            .collect();
        out.push((kind.to_owned(), values));
        rest = after;
    }
    out
}

fn get<'a>(values: &'a HashMap<String, String>, name: &str) -> &'a str {
    values.get(name).map(String::as_str).unwrap_or_else(|| panic!("worked example lacks {name}: {values:?}"))
}

#[test]
fn worked_examples_match_koo() {
    let examples = worked_examples(&guide());
    let kinds: Vec<&str> = examples.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(kinds, ["basic", "basic", "kit", "body-sign"]);
    for (kind, v) in &examples {
        let key = get(v, "key").as_bytes();
        let body = get(v, "body");
        match kind.as_str() {
            "basic" => {
                let (ts, nonce) = (get(v, "timestamp"), get(v, "nonce"));
                let payload = canonical::basic_payload(body.as_bytes()).expect("payload");
                assert_eq!(payload, get(v, "payload"));
                let inner = sign::basic_inner(key, &payload);
                if let Some(doc_inner) = v.get("inner") {
                    assert_eq!(&inner, doc_inner);
                }
                if let Some(signed) = v.get("signed") {
                    assert_eq!(signed, &format!("{}{nonce}{ts}{inner}", get(v, "key")));
                }
                let signature = sign::basic_signature(key, nonce, ts, &payload);
                assert_eq!(signature, get(v, "signature"));
                let now: i64 = ts.parse().expect("timestamp");
                let verifier = BasicVerifier::new(key, VerifyConfig::default());
                assert_eq!(verifier.verify(Some(&signature), Some(ts), Some(nonce), body.as_bytes(), now), Ok(()));
            }
            "kit" => {
                let (ts, nonce) = (get(v, "timestamp"), get(v, "nonce"));
                let payload = canonical::kit_payload(body.as_bytes()).expect("payload");
                assert_eq!(payload, get(v, "payload"));
                let signature = sign::kit_signature(key, nonce, ts, &payload);
                assert_eq!(signature, get(v, "signature"));
                let now: i64 = ts.parse().expect("timestamp");
                let verifier = KitVerifier::new(key, VerifyConfig::default());
                assert_eq!(verifier.verify(Some(&signature), Some(ts), Some(nonce), body.as_bytes(), now), Ok(()));
            }
            "body-sign" => assert_eq!(sign::body_sign(key, body.as_bytes()), get(v, "signature")),
            other => panic!("unknown worked example kind {other}"),
        }
    }
}

#[test]
fn the_spec_example_is_the_one_shown() {
    let text = guide();
    for value in [
        "abcdef0123456789",
        "1680508066618",
        "50D83FDECAED6CCD8EF597F2A577950527928BA287D04E6036E92B2806FD17DA",
        "361a8c81a7cff90a462430d916360af867869779676e34f01d006a306a9d3585",
        "bc02996c85c1a8202ccdbe3e04cd415a1ab3754d55edac7663958c6359ecb796",
    ] {
        assert!(text.contains(value), "{value}");
    }
}

/// Every line of a ```json block is a request (it has an `activity`) that
/// parses as that call, or an answer that parses as a response.
#[test]
fn json_examples_are_valid_calls_and_answers() {
    let text = guide();
    let mut requests = 0;
    let mut answers = 0;
    for block in text.split("```json\n").skip(1) {
        let block = block.split("```").next().unwrap_or("");
        for line in block.lines().filter(|l| !l.trim().is_empty()) {
            let value: serde_json::Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("{line}: {e}"));
            if value.get("activity").is_some() {
                let call = BasicCall::from_body(line.as_bytes()).unwrap_or_else(|e| panic!("{line}: {e}"));
                assert_eq!(call.test_flag(), Some("1"), "examples are debug calls: {line}");
                requests += 1;
            } else {
                let _: Response = serde_json::from_str(line).unwrap_or_else(|e| panic!("{line}: {e}"));
                answers += 1;
            }
        }
    }
    assert!(requests >= 6 && answers >= 5, "{requests} requests, {answers} answers");
}

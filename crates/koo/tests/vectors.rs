//! Every vector of the shared spec reproduces through the library.

use koo::verify::{BasicVerifier, KitVerifier, VerifyConfig};
use koo::{canonical, sign};
use serde_json::Value;

const VECTORS: &str = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/vectors.jsonl"));

fn field<'a>(v: &'a Value, name: &str) -> &'a str {
    v.get(name).and_then(Value::as_str).unwrap_or_else(|| panic!("vector lacks {name}: {v}"))
}

#[test]
fn every_vector_reproduces() {
    let mut counts = [0usize; 3];
    for (line_no, line) in VECTORS.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        let v: Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("line {}: {e}", line_no + 1));
        let key = field(&v, "key").as_bytes();
        let body = field(&v, "body").as_bytes();
        let expected = field(&v, "signature");
        match field(&v, "kind") {
            "basic" => {
                counts[0] += 1;
                let (ts, nonce) = (field(&v, "timestamp"), field(&v, "nonce"));
                let payload = canonical::basic_payload(body).unwrap();
                assert_eq!(payload, field(&v, "canonical"), "line {}", line_no + 1);
                if let Some(inner) = v.get("inner").and_then(Value::as_str) {
                    assert_eq!(sign::basic_inner(key, &payload), inner);
                }
                assert_eq!(sign::basic_signature(key, nonce, ts, &payload), expected, "line {}", line_no + 1);
                let now: i64 = ts.parse().unwrap();
                let verifier = BasicVerifier::new(key, VerifyConfig::default());
                verifier.verify(Some(&expected.to_uppercase()), Some(ts), Some(nonce), body, now).unwrap();
            }
            "kit" => {
                counts[1] += 1;
                let (ts, nonce) = (field(&v, "timestamp"), field(&v, "nonce"));
                let payload = canonical::kit_payload(body).unwrap();
                assert_eq!(payload, field(&v, "canonical"), "line {}", line_no + 1);
                assert_eq!(sign::kit_signature(key, nonce, ts, &payload), expected, "line {}", line_no + 1);
                let verifier = KitVerifier::new(key, VerifyConfig::default());
                verifier.verify(Some(expected), Some(ts), Some(nonce), body, ts.parse().unwrap()).unwrap();
            }
            "body-sign" => {
                counts[2] += 1;
                assert_eq!(sign::body_sign(key, body), expected, "line {}", line_no + 1);
                let header = sign::body_sign_header(key, body);
                assert_eq!(header, format!("sign_type=\"HMAC-SHA256\", signature= \"{expected}\""));
                assert_eq!(sign::parse_body_sign_header(&header).as_deref(), Some(expected));
            }
            other => panic!("unknown vector kind {other}"),
        }
    }
    assert!(counts.iter().all(|&c| c > 0), "every kind exercised: {counts:?}");
}

#[test]
fn worked_example_of_spec_section_3() {
    let key = b"abcdef0123456789";
    let body = br#"{"activity":"newInstance","businessId":"87b94795-0603-4e24-8ae5-69420d60e3c8","orderId":"CS2211181819B4LVS","orderLineId":"CS2211181819B4LVS-000001","testFlag":"1"}"#;
    let payload = canonical::basic_payload(body).unwrap();
    assert_eq!(sign::basic_inner(key, &payload), "361a8c81a7cff90a462430d916360af867869779676e34f01d006a306a9d3585");
    assert_eq!(
        sign::basic_signature(
            key,
            "50D83FDECAED6CCD8EF597F2A577950527928BA287D04E6036E92B2806FD17DA",
            "1680508066618",
            &payload
        ),
        "bc02996c85c1a8202ccdbe3e04cd415a1ab3754d55edac7663958c6359ecb796"
    );
}

/// The vectors are kept in the repository so a clone tests on its own; when
/// the project's shared spec sits beside the checkout (as in CI), the copy
/// must be identical to it.
#[test]
fn the_repository_copy_matches_the_shared_spec() {
    let shared = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/spec/vectors.jsonl");
    if let Ok(spec) = std::fs::read_to_string(&shared) {
        assert_eq!(spec, VECTORS, "crates/koo/tests/data/vectors.jsonl is stale: copy {}", shared.display());
    }
}

//! `mercato isv sign` / `mercato isv verify` reproduce every vector of the
//! shared spec.

use serde_json::Value;
use std::process::{Command, Output};

const VECTORS: &str = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../koo/tests/data/vectors.jsonl"));

fn field<'a>(v: &'a Value, name: &str) -> &'a str {
    v.get(name).and_then(Value::as_str).unwrap_or_else(|| panic!("vector lacks {name}: {v}"))
}

fn mercato(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mercato")).args(["isv"]).args(args).output().expect("running mercato")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// The value of the line `label: value`.
fn line<'a>(out: &'a str, label: &str) -> Option<&'a str> {
    out.lines().find_map(|l| l.strip_prefix(label)?.strip_prefix(": "))
}

#[test]
fn every_vector_through_the_cli() {
    for raw in VECTORS.lines().filter(|l| !l.trim().is_empty()) {
        let v: Value = serde_json::from_str(raw).unwrap();
        let (key, body, expected) = (field(&v, "key"), field(&v, "body"), field(&v, "signature"));
        let kind = field(&v, "kind");
        let mut common: Vec<&str> = vec!["--key", key, "--body", body];
        match kind {
            "body-sign" => common.push("--response"),
            _ => {
                common.extend(["--timestamp", field(&v, "timestamp"), "--nonce", field(&v, "nonce")]);
                if kind == "kit" {
                    common.push("--kit");
                }
            }
        }

        let mut args = vec!["sign"];
        args.extend(&common);
        let o = mercato(&args);
        assert!(o.status.success(), "{kind}: {}", String::from_utf8_lossy(&o.stderr));
        let out = stdout(&o);
        assert_eq!(line(&out, "signature"), Some(expected), "{kind}: {out}");
        if kind == "body-sign" {
            let header = format!("sign_type=\"HMAC-SHA256\", signature= \"{expected}\"");
            assert_eq!(line(&out, "Body-Sign"), Some(header.as_str()));
        } else {
            assert_eq!(line(&out, "payload"), Some(field(&v, "canonical")), "{kind}: {out}");
            if let Some(inner) = v.get("inner").and_then(Value::as_str) {
                assert_eq!(line(&out, "inner"), Some(inner));
            }
        }

        // verify: ok with the right signature (upper-case hex too), mismatch otherwise.
        let upper = expected.to_uppercase();
        let good = if kind == "body-sign" { expected } else { upper.as_str() };
        let mut args = vec!["verify", "--signature", good];
        args.extend(&common);
        let o = mercato(&args);
        assert!(o.status.success(), "{kind}: {}{}", stdout(&o), String::from_utf8_lossy(&o.stderr));
        assert_eq!(stdout(&o).lines().last(), Some("ok"));

        let wrong = if kind == "body-sign" { "AAAA" } else { "00" };
        let mut args = vec!["verify", "--signature", wrong];
        args.extend(&common);
        let o = mercato(&args);
        assert_eq!(o.status.code(), Some(1), "{kind}");
        let expected_line = format!("mismatch: expected {expected}");
        assert_eq!(stdout(&o).lines().last(), Some(expected_line.as_str()));
    }
}

#[test]
fn spec_worked_example_inner() {
    let body = r#"{"activity":"newInstance","businessId":"87b94795-0603-4e24-8ae5-69420d60e3c8","orderId":"CS2211181819B4LVS","orderLineId":"CS2211181819B4LVS-000001","testFlag":"1"}"#;
    let o = mercato(&[
        "sign",
        "--key",
        "abcdef0123456789",
        "--timestamp",
        "1680508066618",
        "--nonce",
        "50D83FDECAED6CCD8EF597F2A577950527928BA287D04E6036E92B2806FD17DA",
        "--body",
        body,
    ]);
    let out = stdout(&o);
    assert_eq!(line(&out, "inner"), Some("361a8c81a7cff90a462430d916360af867869779676e34f01d006a306a9d3585"));
    assert_eq!(line(&out, "signature"), Some("bc02996c85c1a8202ccdbe3e04cd415a1ab3754d55edac7663958c6359ecb796"));
}

#[test]
fn bad_body_is_an_error() {
    let o = mercato(&["sign", "--key", "k", "--timestamp", "1", "--nonce", "n", "--body", "{\"a\":[1]}"]);
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("000002"));
}

//! Verifier rules: window, replay, missing parameters, hex handling, order
//! of checks.

use koo::canonical;
use koo::sign;
use koo::verify::{BasicVerifier, KitVerifier, VerifyConfig, VerifyError};
use koo::{CodeClass, ResultCode};

const KEY: &[u8] = b"seller-access-key";
const BODY: &[u8] = br#"{"activity":"newInstance","orderId":"o","orderLineId":"l","businessId":"b"}"#;
const NOW: i64 = 1_700_000_000_000;

fn sig(nonce: &str, ts: i64) -> String {
    sign::basic_signature(KEY, nonce, &ts.to_string(), &canonical::basic_payload(BODY).unwrap())
}

fn verifier() -> BasicVerifier {
    BasicVerifier::new(KEY, VerifyConfig::default())
}

fn check(v: &BasicVerifier, nonce: &str, ts: i64, now: i64) -> Result<(), VerifyError> {
    v.verify(Some(&sig(nonce, ts)), Some(&ts.to_string()), Some(nonce), BODY, now)
}

#[test]
fn accepts_good_and_rejects_replay() {
    let v = verifier();
    assert_eq!(check(&v, "n1", NOW, NOW), Ok(()));
    assert_eq!(check(&v, "n1", NOW, NOW + 1000), Err(VerifyError::Replay));
    assert_eq!(check(&v, "n2", NOW, NOW), Ok(()));
}

#[test]
fn window() {
    let v = verifier();
    assert_eq!(check(&v, "a", NOW - 60_000, NOW), Ok(()));
    assert_eq!(check(&v, "b", NOW - 60_001, NOW), Err(VerifyError::Stale));
    assert_eq!(check(&v, "c", NOW + 5_000, NOW), Ok(()));
    assert_eq!(check(&v, "d", NOW + 5_001, NOW), Err(VerifyError::FromFuture));
    let lax = BasicVerifier::new(KEY, VerifyConfig { max_future_skew_ms: 30_000, ..VerifyConfig::default() });
    assert_eq!(check(&lax, "d", NOW + 20_000, NOW), Ok(()));
    // Extreme values never overflow.
    assert_eq!(check(&v, "e", 0, i64::MAX), Err(VerifyError::Stale));
    assert_eq!(check(&v, "f", 999_999_999_999_999_999, i64::MIN), Err(VerifyError::FromFuture));
}

#[test]
fn missing_and_malformed() {
    let v = verifier();
    let s = sig("n", NOW);
    let ts = NOW.to_string();
    assert_eq!(v.verify(None, Some(&ts), Some("n"), BODY, NOW), Err(VerifyError::Missing("signature")));
    assert_eq!(v.verify(Some(&s), None, Some("n"), BODY, NOW), Err(VerifyError::Missing("timestamp")));
    assert_eq!(v.verify(Some(&s), Some(&ts), None, BODY, NOW), Err(VerifyError::Missing("nonce")));
    assert_eq!(v.verify(Some(&s), Some(&ts), Some(""), BODY, NOW), Err(VerifyError::Missing("nonce")));
    for bad_ts in ["abc", "-1", "+1700000000000", "1.5", "1e12", " 1700000000000", "99999999999999999999"] {
        assert_eq!(v.verify(Some(&s), Some(bad_ts), Some("n"), BODY, NOW), Err(VerifyError::BadTimestamp), "{bad_ts}");
    }
    assert!(matches!(v.verify(Some(&s), Some(&ts), Some("n"), b"{\"a\":[1]}", NOW), Err(VerifyError::BadBody(_))));
    assert!(matches!(v.verify(Some(&s), Some(&ts), Some("n"), b"\xff\xfe", NOW), Err(VerifyError::BadBody(_))));
    assert!(matches!(v.verify(Some(&s), Some(&ts), Some("n"), b"", NOW), Err(VerifyError::BadBody(_))));
    assert_eq!(v.verify(Some("zz"), Some(&ts), Some("n"), BODY, NOW), Err(VerifyError::BadSignature));
    assert_eq!(v.verify(Some(&s[..63]), Some(&ts), Some("n"), BODY, NOW), Err(VerifyError::BadSignature));
    let not_hex = "g".repeat(64);
    assert_eq!(v.verify(Some(&not_hex), Some(&ts), Some("n"), BODY, NOW), Err(VerifyError::BadSignature));
    // Upper-case hex is accepted.
    assert_eq!(v.verify(Some(&s.to_uppercase()), Some(&ts), Some("n"), BODY, NOW), Ok(()));
}

#[test]
fn failed_requests_do_not_burn_nonces() {
    let v = verifier();
    let ts = NOW.to_string();
    assert_eq!(v.verify(Some(&"0".repeat(64)), Some(&ts), Some("n"), BODY, NOW), Err(VerifyError::BadSignature));
    assert_eq!(check(&v, "n", NOW, NOW), Ok(()));
}

#[test]
fn result_codes() {
    assert_eq!(VerifyError::Missing("nonce").result_code(), ResultCode::InvalidParam);
    assert_eq!(VerifyError::BadTimestamp.result_code(), ResultCode::InvalidParam);
    assert_eq!(VerifyError::BadBody(String::new()).result_code(), ResultCode::InvalidParam);
    for e in [VerifyError::Stale, VerifyError::FromFuture, VerifyError::Replay, VerifyError::BadSignature] {
        assert_eq!(e.result_code(), ResultCode::AuthFailed);
        assert_eq!(e.result_code().class(), CodeClass::Rejected);
    }
}

#[test]
fn kit_verifier_uses_kit_scheme() {
    let body = br#"{"instanceId":"i","tenantId":"t","flag":1,"testFlag":0,"nested":{"b":1.50,"a":"x"}}"#;
    let payload = canonical::kit_payload(body).unwrap();
    let ts = NOW.to_string();
    let s = sign::kit_signature(KEY, "kn", &ts, &payload);
    let v = KitVerifier::new(KEY, VerifyConfig::default());
    assert_eq!(v.verify(Some(&s), Some(&ts), Some("kn"), body, NOW), Ok(()));
    assert_eq!(v.verify(Some(&s), Some(&ts), Some("kn"), body, NOW), Err(VerifyError::Replay));
    assert_eq!(v.verify(None, Some(&ts), Some("kn"), body, NOW), Err(VerifyError::Missing("x-sign")));
    // A basic-style signature does not pass as a kit one.
    let basic = sign::basic_signature(KEY, "k2", &ts, &payload);
    assert_eq!(v.verify(Some(&basic), Some(&ts), Some("k2"), body, NOW), Err(VerifyError::BadSignature));
}

//! HMAC-SHA256 signatures of spec §3 (basic calls, legacy Body-Sign) and §4
//! (kit calls).
//!
//! These functions take the already canonical payload; see
//! [`crate::canonical`] to get it from request bytes.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

type HmacSha256 = Hmac<Sha256>;

fn hmac(key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    // HMAC accepts keys of any length (long keys are hashed, short ones
    // padded), so hmac 0.12's `new_from_slice` never fails here.
    #[allow(clippy::expect_used)]
    let mut mac = HmacSha256::new_from_slice(key).expect("HMAC accepts keys of any length");
    for p in parts {
        mac.update(p);
    }
    mac.finalize().into_bytes().into()
}

/// `lowercase_hex(HMAC-SHA256(key, payload))`: the inner digest of a basic call.
pub fn basic_inner(key: &[u8], payload: &str) -> String {
    hex::encode(hmac(key, &[payload.as_bytes()]))
}

/// Signature of a basic call: `hex(HMAC(key, key + nonce + timestamp + inner))`
/// with `inner = basic_inner(key, payload)`.
pub fn basic_signature(key: &[u8], nonce: &str, timestamp: &str, payload: &str) -> String {
    let inner = basic_inner(key, payload);
    hex::encode(hmac(key, &[key, nonce.as_bytes(), timestamp.as_bytes(), inner.as_bytes()]))
}

/// Signature of a kit call (`x-sign`): `hex(HMAC(key, key + nonce + timestamp + payload))`.
pub fn kit_signature(key: &[u8], nonce: &str, timestamp: &str, payload: &str) -> String {
    hex::encode(hmac(key, &[key, nonce.as_bytes(), timestamp.as_bytes(), payload.as_bytes()]))
}

/// Legacy response signature: `base64(HMAC-SHA256(key, exact body bytes))`.
pub fn body_sign(key: &[u8], body: &[u8]) -> String {
    B64.encode(hmac(key, &[body]))
}

/// The full `Body-Sign` header value for a response body:
/// `sign_type="HMAC-SHA256", signature= "<base64>"` (KooGallery's spelling,
/// with the space after `signature=`).
pub fn body_sign_header(key: &[u8], body: &[u8]) -> String {
    format!("sign_type=\"HMAC-SHA256\", signature= \"{}\"", body_sign(key, body))
}

/// Extract the base64 signature from a `Body-Sign` header value. Accepts
/// `signature= "x"` and `signature="x"`, parameters in either order and
/// extra whitespace; returns `None` unless `sign_type` is `HMAC-SHA256`.
pub fn parse_body_sign_header(header: &str) -> Option<String> {
    let mut sign_type = None;
    let mut signature = None;
    for part in header.split(',') {
        let (name, value) = part.split_once('=')?;
        let value = value.trim();
        let value = value.strip_prefix('"')?.strip_suffix('"')?;
        match name.trim() {
            "sign_type" => sign_type = Some(value),
            "signature" => signature = Some(value),
            _ => {}
        }
    }
    match (sign_type, signature) {
        (Some("HMAC-SHA256"), Some(sig)) if !sig.is_empty() => Some(sig.to_owned()),
        _ => None,
    }
}

/// Compare two hex strings case-insensitively in constant time (for equal
/// lengths; the length of a signature is public).
pub fn hex_eq(a: &str, b: &str) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let mut acc = 1u8;
    for (x, y) in a.bytes().zip(b.bytes()) {
        // ASCII lower-casing through a mask, without data-dependent branches.
        acc &= lower(x).ct_eq(&lower(y)).unwrap_u8();
    }
    acc == 1
}

fn lower(c: u8) -> u8 {
    // 0x20 is added only to 'A'..='Z'.
    let is_upper = (c.wrapping_sub(b'A') < 26) as u8;
    c | (is_upper << 5)
}

/// Compare two strings in constant time (for base64 signatures).
pub fn bytes_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && bool::from(a.ct_eq(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn worked_example() {
        let payload = r#"{"activity":"newInstance","businessId":"87b94795-0603-4e24-8ae5-69420d60e3c8","orderId":"CS2211181819B4LVS","orderLineId":"CS2211181819B4LVS-000001","testFlag":"1"}"#;
        let key = b"abcdef0123456789";
        assert_eq!(basic_inner(key, payload), "361a8c81a7cff90a462430d916360af867869779676e34f01d006a306a9d3585");
        assert_eq!(
            basic_signature(
                key,
                "50D83FDECAED6CCD8EF597F2A577950527928BA287D04E6036E92B2806FD17DA",
                "1680508066618",
                payload
            ),
            "bc02996c85c1a8202ccdbe3e04cd415a1ab3754d55edac7663958c6359ecb796"
        );
    }

    #[test]
    fn hex_eq_rules() {
        assert!(hex_eq("abcdef09", "ABCDEF09"));
        assert!(!hex_eq("abcdef09", "abcdef0"));
        assert!(!hex_eq("abcdef09", "abcdef08"));
        assert!(hex_eq("", ""));
        // '@' (0x40) | 0x20 = '`' must not equal anything it is not.
        assert!(!hex_eq("@", "`"));
        assert!(!hex_eq("[", "{"));
    }

    #[test]
    fn body_sign_header_round_trip() {
        let h = body_sign_header(b"k", b"{}");
        assert!(h.starts_with("sign_type=\"HMAC-SHA256\", signature= \""));
        assert_eq!(parse_body_sign_header(&h), Some(body_sign(b"k", b"{}")));
        assert_eq!(parse_body_sign_header("sign_type=\"HMAC-SHA256\",signature=\"abc=\""), Some("abc=".into()));
        assert_eq!(parse_body_sign_header("signature= \"abc=\", sign_type=\"HMAC-SHA256\""), Some("abc=".into()));
        assert_eq!(parse_body_sign_header("sign_type=\"MD5\", signature= \"abc\""), None);
        assert_eq!(parse_body_sign_header("garbage"), None);
        assert_eq!(parse_body_sign_header(""), None);
    }
}

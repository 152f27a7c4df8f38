//! The marketplace's open API as sellers call it (seller interface spec §6):
//! the API-gateway signature scheme "SDK-HMAC-SHA256" over a seller's AK/SK,
//! and the `MKT.xxxx` codes of its envelope `{"error_code", "error_msg"}`.
//! Pure functions: the marketplace verifies with them, a seller's client
//! signs with them.
//!
//! Signing (as the gateway SDKs do):
//!
//! ```text
//! canonical request = METHOD \n
//!                     path, each segment percent-encoded, with a trailing `/` \n
//!                     query pairs percent-encoded, sorted, `k=v` joined by `&` \n
//!                     signed headers as `name:value\n` lines (lower-cased names, trimmed values) \n
//!                     signed-header names joined by `;` \n
//!                     hex sha256(body)
//! string to sign    = "SDK-HMAC-SHA256\n" + X-Sdk-Date + "\n" + hex sha256(canonical request)
//! Authorization     = SDK-HMAC-SHA256 Access=<AK>, SignedHeaders=<list>, Signature=<hex hmac-sha256(SK, string to sign)>
//! ```
//!
//! Percent-encoding keeps `A-Z a-z 0-9 - _ . ~` and writes everything else
//! as upper-case `%XX`. The headers block ends each line with `\n` before the
//! join, so an empty line separates it from the list, exactly like the SDKs.
//! `X-Sdk-Date` (`yyyyMMdd'T'HHmmss'Z'`) must be signed; the marketplace
//! accepts it within 15 minutes of its wall-clock time.
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

pub const ALGORITHM: &str = "SDK-HMAC-SHA256";
pub const DATE_HEADER: &str = "x-sdk-date";
/// `X-Sdk-Date`, as a chrono/strftime format.
pub const DATE_FORMAT: &str = "%Y%m%dT%H%M%SZ";

/// The open API's answer codes (`error_code`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GatewayCode {
    /// MKT.0000
    Success,
    /// MKT.0100: a missing or invalid parameter, an unreadable body.
    InvalidInput,
    /// MKT.0101: an unknown field.
    InvalidParameter,
    /// MKT.0102: a missing, malformed, stale or wrong signature.
    BadSignature,
    /// MKT.0150: the resource is another seller's.
    IllegalOperation,
    /// MKT.0154: an unknown or revoked access key.
    InvalidToken,
    /// MKT.0999
    Internal,
    /// MKT.9001: no such order or order line.
    NotFound,
    /// MKT.9003: more records than one call may carry.
    TooManyRecords,
}

impl GatewayCode {
    pub const fn as_str(self) -> &'static str {
        match self {
            GatewayCode::Success => "MKT.0000",
            GatewayCode::InvalidInput => "MKT.0100",
            GatewayCode::InvalidParameter => "MKT.0101",
            GatewayCode::BadSignature => "MKT.0102",
            GatewayCode::IllegalOperation => "MKT.0150",
            GatewayCode::InvalidToken => "MKT.0154",
            GatewayCode::Internal => "MKT.0999",
            GatewayCode::NotFound => "MKT.9001",
            GatewayCode::TooManyRecords => "MKT.9003",
        }
    }
}

fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let Ok(v) = u8::from_str_radix(std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("zz"), 16)
        {
            out.push(v);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The canonical path: each segment decoded then re-encoded, with a trailing `/`.
pub fn canonical_path(path: &str) -> String {
    let encoded: Vec<String> = path.split('/').map(|seg| percent_encode(&percent_decode(seg))).collect();
    let mut p = encoded.join("/");
    if !p.ends_with('/') {
        p.push('/');
    }
    p
}

/// The canonical query from a raw query string: pairs decoded, re-encoded,
/// sorted, joined by `&`.
pub fn canonical_query(raw: &str) -> String {
    let mut pairs: Vec<(String, String)> = raw
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (percent_encode(&percent_decode(k)), percent_encode(&percent_decode(v)))
        })
        .collect();
    pairs.sort();
    pairs.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("&")
}

fn hex_sha256(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

/// The canonical request. `headers` are the signed headers' (name, value)
/// pairs in any case; they are lower-cased, trimmed and sorted here.
pub fn canonical_request(
    method: &str,
    path: &str,
    raw_query: &str,
    headers: &[(String, String)],
    body: &[u8],
) -> String {
    let mut hs: Vec<(String, String)> =
        headers.iter().map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_string())).collect();
    hs.sort();
    let block: String = hs.iter().map(|(n, v)| format!("{n}:{v}\n")).collect();
    let list = hs.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>().join(";");
    format!(
        "{}\n{}\n{}\n{}\n{}\n{}",
        method.to_ascii_uppercase(),
        canonical_path(path),
        canonical_query(raw_query),
        block,
        list,
        hex_sha256(body)
    )
}

pub fn string_to_sign(sdk_date: &str, canonical_request: &str) -> String {
    format!("{ALGORITHM}\n{sdk_date}\n{}", hex_sha256(canonical_request.as_bytes()))
}

/// hex HMAC-SHA256(secret, string to sign).
pub fn signature(secret: &str, string_to_sign: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key length");
    mac.update(string_to_sign.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// A parsed `Authorization` header.
#[derive(Debug, PartialEq, Eq)]
pub struct Authorization {
    pub access: String,
    pub signed_headers: Vec<String>,
    pub signature: String,
}

pub fn parse_authorization(value: &str) -> Option<Authorization> {
    let rest = value.trim().strip_prefix(ALGORITHM)?.trim_start();
    let (mut access, mut signed, mut sig) = (None, None, None);
    for part in rest.split(',') {
        let (k, v) = part.trim().split_once('=')?;
        match k.trim() {
            "Access" => access = Some(v.trim().to_string()),
            "SignedHeaders" => signed = Some(v.trim().to_string()),
            "Signature" => sig = Some(v.trim().to_string()),
            _ => return None,
        }
    }
    let signed_headers: Vec<String> =
        signed?.split(';').map(|h| h.trim().to_ascii_lowercase()).filter(|h| !h.is_empty()).collect();
    let (access, signature) = (access?, sig?);
    if access.is_empty() || signature.is_empty() || signed_headers.is_empty() {
        return None;
    }
    Some(Authorization { access, signed_headers, signature })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_request_matches_a_hand_computed_example() {
        let headers = vec![
            ("X-Sdk-Date".to_string(), "20261122T043000Z".to_string()),
            ("Host".to_string(), "mkt.example.com".to_string()),
        ];
        let c = canonical_request("get", "/api/x", "orderLineId=L%201&orderId=O1", &headers, b"");
        let expected = "GET\n/api/x/\norderId=O1&orderLineId=L%201\nhost:mkt.example.com\nx-sdk-date:20261122T043000Z\n\nhost;x-sdk-date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
        assert_eq!(c, expected);
        let s = string_to_sign("20261122T043000Z", &c);
        assert_eq!(s, format!("SDK-HMAC-SHA256\n20261122T043000Z\n{}", hex_sha256(expected.as_bytes())));
        // RFC 4231 test case 2 checks the HMAC itself.
        assert_eq!(
            signature("Jefe", "what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn paths_and_queries_are_normalised() {
        assert_eq!(canonical_path("/a/b/"), "/a/b/");
        assert_eq!(canonical_path("/a b"), "/a%20b/");
        assert_eq!(canonical_query("b=2&a=1&c"), "a=1&b=2&c=");
        assert_eq!(canonical_query("q=%7e+x"), "q=~%2Bx");
    }

    #[test]
    fn authorization_headers_parse() {
        let a =
            parse_authorization("SDK-HMAC-SHA256 Access=AK1, SignedHeaders=host;x-sdk-date, Signature=ab12").unwrap();
        assert_eq!(a.access, "AK1");
        assert_eq!(a.signed_headers, vec!["host", "x-sdk-date"]);
        assert_eq!(a.signature, "ab12");
        assert!(parse_authorization("Bearer x").is_none());
        assert!(parse_authorization("SDK-HMAC-SHA256 Access=AK1, Signature=ab").is_none());
    }
}

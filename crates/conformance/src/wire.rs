//! Building signed requests and reading answers, below the level of cases.
//!
//! The checker signs every request itself (with `koo::canonical` and
//! `koo::sign`, the same primitives the marketplace's client uses) instead
//! of going through `koo::client::Client`, because half of its cases send
//! requests a correct client never would: a wrong signature, a stale
//! timestamp, no nonce, the very same request twice. Sending is left to a
//! [`Transport`], so the marketplace can run the cases through its own
//! egress (proxy, address filtering) and tests can run them in-process.

use koo::client::CallOutcome;
use koo::{ResultCode, canonical, sign};
use std::future::Future;
use std::pin::Pin;
use std::time::{Duration, Instant};

/// A boxed future, so [`Transport`] can be used as a trait object.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// One HTTP POST, exactly as it must go on the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WireRequest {
    /// Absolute URL, query string included.
    pub url: String,
    /// Extra headers (kit signature headers); the transport adds
    /// `content-type: application/json;charset=UTF-8` itself.
    pub headers: Vec<(String, String)>,
    /// The exact body bytes (the signature covers them).
    pub body: Vec<u8>,
}

/// An HTTP answer of any status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpAnswer {
    pub status: u16,
    pub body: String,
}

/// Sends a [`WireRequest`]. Implementations must not follow redirects (a
/// signed body must not travel to another host) and should read at most
/// [`koo::client::MAX_RESPONSE_BYTES`] of the answer. The checker applies
/// its own per-call timeout around `post`; `Err` describes a transport
/// failure (connection refused, TLS error...).
pub trait Transport: Send + Sync {
    fn post(&self, request: WireRequest) -> BoxFuture<'_, Result<HttpAnswer, String>>;
}

/// The signature parameters of a basic call, each of which a negative case
/// may spoil.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signing {
    pub timestamp: String,
    /// `None` leaves the `nonce` query parameter out (the signature is then
    /// computed over an empty nonce).
    pub nonce: Option<String>,
    /// Key the signature is computed with; not the seller's key on purpose
    /// in the bad-signature case.
    pub key: Vec<u8>,
}

impl Signing {
    /// Correct parameters: now, a fresh 64-hex nonce, the given key.
    pub fn fresh(key: &[u8], now_ms: i64) -> Self {
        Signing { timestamp: now_ms.to_string(), nonce: Some(koo::client::new_nonce()), key: key.to_vec() }
    }
}

/// A signed basic call to `url`: `POST url?signature=..&timestamp=..&nonce=..`.
pub fn basic_request(url: &str, body: &serde_json::Value, signing: &Signing) -> Result<WireRequest, String> {
    let bytes = serde_json::to_vec(body).map_err(|e| e.to_string())?;
    let payload = canonical::basic_payload(&bytes).map_err(|e| e.to_string())?;
    let nonce = signing.nonce.as_deref().unwrap_or("");
    let signature = sign::basic_signature(&signing.key, nonce, &signing.timestamp, &payload);
    // Signature, timestamp and nonce are hex and digits: no escaping needed.
    let mut url = format!("{url}{}signature={signature}&timestamp={}", separator(url), signing.timestamp);
    if let Some(n) = &signing.nonce {
        url.push_str("&nonce=");
        url.push_str(n);
    }
    Ok(WireRequest { url, headers: Vec::new(), body: bytes })
}

/// A signed kit call: `POST <base>/produceAPI/v2/<name>` with `x-sign`,
/// `x-timestamp` and `x-nonce` headers.
pub fn kit_request(
    base: &str,
    name: &str,
    body: &serde_json::Value,
    key: &[u8],
    now_ms: i64,
) -> Result<WireRequest, String> {
    let bytes = serde_json::to_vec(body).map_err(|e| e.to_string())?;
    let payload = canonical::kit_payload(&bytes).map_err(|e| e.to_string())?;
    let timestamp = now_ms.to_string();
    let nonce = koo::client::new_nonce();
    let signature = sign::kit_signature(key, &nonce, &timestamp, &payload);
    let (path, query) = match base.split_once('?') {
        Some((p, q)) => (p, format!("?{q}")),
        None => (base, String::new()),
    };
    let url = format!("{}/produceAPI/v2/{name}{query}", path.trim_end_matches('/'));
    let headers =
        vec![("x-sign".to_owned(), signature), ("x-timestamp".to_owned(), timestamp), ("x-nonce".to_owned(), nonce)];
    Ok(WireRequest { url, headers, body: bytes })
}

fn separator(url: &str) -> &'static str {
    if url.contains('?') { "&" } else { "?" }
}

/// Send with a timeout and classify the answer the way the marketplace's
/// client does ([`koo::client::CallOutcome`]).
pub async fn send(transport: &dyn Transport, request: WireRequest, timeout: Duration) -> CallOutcome {
    let started = Instant::now();
    match tokio::time::timeout(timeout, transport.post(request)).await {
        Err(_) => CallOutcome::Transport(format!("timeout: no answer within {} ms", timeout.as_millis())),
        Ok(Err(e)) => CallOutcome::Transport(e),
        Ok(Ok(answer)) => classify(answer, u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX)),
    }
}

/// HTTP 2xx with a JSON object carrying a string `resultCode` is an answer;
/// anything else is an HTTP error or unparseable.
pub fn classify(answer: HttpAnswer, duration_ms: u64) -> CallOutcome {
    let HttpAnswer { status, body } = answer;
    if !(200..300).contains(&status) {
        return CallOutcome::HttpError { status, body };
    }
    let parsed: Option<serde_json::Value> = serde_json::from_str(&body).ok();
    let code = parsed.as_ref().and_then(|v| v.get("resultCode")).and_then(|c| c.as_str()).map(ResultCode::parse);
    match (code, parsed) {
        (Some(code), Some(body)) => CallOutcome::Answered { code, body, http_status: status, duration_ms },
        _ => CallOutcome::Unparseable { http_status: status, body_text: body },
    }
}

/// The short form for the report's "got" column.
pub fn got(outcome: &CallOutcome) -> String {
    match outcome {
        CallOutcome::Answered { code, .. } => code.to_string(),
        CallOutcome::HttpError { status, .. } => format!("HTTP {status}"),
        CallOutcome::Unparseable { .. } => "unparseable".to_owned(),
        CallOutcome::Transport(e) if e == koo::outbound::REFUSED => "refused".to_owned(),
        CallOutcome::Transport(_) => "transport error".to_owned(),
    }
}

/// A one-line explanation of an outcome for the report's detail.
pub fn explain(outcome: &CallOutcome) -> String {
    match outcome {
        CallOutcome::Answered { code, body, .. } => {
            let msg = body.get("resultMsg").and_then(|m| m.as_str()).unwrap_or("");
            if msg.is_empty() {
                format!("resultCode {code} ({})", code.message())
            } else {
                format!("resultCode {code} ({}), resultMsg {:?}", code.message(), clip(msg))
            }
        }
        CallOutcome::HttpError { status, body } => format!("HTTP status {status}, body {:?}", clip(body)),
        CallOutcome::Unparseable { http_status, body_text } => {
            format!("HTTP {http_status} but no JSON object with a string resultCode: {:?}", clip(body_text))
        }
        // The refusal stands alone: no detail of the host behind it.
        CallOutcome::Transport(e) if e == koo::outbound::REFUSED => e.clone(),
        CallOutcome::Transport(e) => format!("transport: {e}"),
    }
}

/// At most 200 characters of a seller's text, so a stack trace in an
/// answer cannot swamp the table.
fn clip(s: &str) -> String {
    const MAX: usize = 200;
    if s.chars().count() <= MAX { s.to_owned() } else { s.chars().take(MAX).collect::<String>() + "..." }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn basic_request_matches_the_spec_example() {
        let body = json!({"activity":"newInstance","businessId":"87b94795-0603-4e24-8ae5-69420d60e3c8","orderId":"CS2211181819B4LVS","orderLineId":"CS2211181819B4LVS-000001","testFlag":"1"});
        let signing = Signing {
            timestamp: "1680508066618".into(),
            nonce: Some("50D83FDECAED6CCD8EF597F2A577950527928BA287D04E6036E92B2806FD17DA".into()),
            key: b"abcdef0123456789".to_vec(),
        };
        let req = basic_request("https://isv.example.com/produce", &body, &signing).unwrap();
        assert_eq!(
            req.url,
            "https://isv.example.com/produce?signature=bc02996c85c1a8202ccdbe3e04cd415a1ab3754d55edac7663958c6359ecb796&timestamp=1680508066618&nonce=50D83FDECAED6CCD8EF597F2A577950527928BA287D04E6036E92B2806FD17DA"
        );
        let no_nonce = basic_request("https://x/p?a=b", &body, &Signing { nonce: None, ..signing }).unwrap();
        assert!(no_nonce.url.starts_with("https://x/p?a=b&signature="));
        assert!(!no_nonce.url.contains("nonce"));
    }

    #[test]
    fn kit_request_path_and_headers() {
        let req = kit_request("http://127.0.0.1:9/produce/", "tenantSync", &json!({"flag":1}), b"k", 5).unwrap();
        assert_eq!(req.url, "http://127.0.0.1:9/produce/produceAPI/v2/tenantSync");
        let names: Vec<&str> = req.headers.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["x-sign", "x-timestamp", "x-nonce"]);
    }

    #[test]
    fn classification() {
        let ok = classify(HttpAnswer { status: 200, body: r#"{"resultCode":"000001","resultMsg":"bad"}"#.into() }, 1);
        assert_eq!(got(&ok), "000001");
        assert!(explain(&ok).contains("\"bad\""));
        assert_eq!(got(&classify(HttpAnswer { status: 500, body: String::new() }, 1)), "HTTP 500");
        assert_eq!(got(&classify(HttpAnswer { status: 200, body: "<html>".into() }, 1)), "unparseable");
        assert_eq!(clip(&"x".repeat(500)).len(), 203);
    }
}

//! The marketplace side: send signed production-interface calls.
//!
//! The client signs the canonical payload of the *exact bytes it sends*, so
//! the signature does not depend on serde's field order, and it returns
//! those bytes with the outcome for the interface-message log (spec §8).
//!
//! Security: HTTPS is required. Plain HTTP is allowed only when the client
//! was built with `allow_insecure_hosts` *and* the host is loopback
//! (`localhost`, 127.0.0.0/8, `::1`) — tests and demos. Redirects are not
//! followed (a signed body must not travel to another host). Every
//! connection obeys an [`AddressPolicy`] (see [`crate::outbound`]): a seller
//! URL cannot make the marketplace call its own network.

use crate::canonical;
use crate::codes::{CodeClass, ResultCode};
use crate::json::{self, Value};
use crate::outbound::{self, AddressPolicy};
use crate::sign;
use serde::Serialize;
use std::fmt;
use std::net::IpAddr;
use std::time::{Duration, Instant};

/// Per-call timeout of the spec (§2).
pub const CALL_TIMEOUT: Duration = Duration::from_secs(5);
/// Longest answer read; the rest is ignored and the answer is unparseable.
pub const MAX_RESPONSE_BYTES: usize = 1 << 20;

/// Why a call was not sent at all (a configuration or programming error,
/// never worth retrying as is).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientError {
    /// Not an absolute http(s) URL.
    InvalidUrl(String),
    /// Plain HTTP to a host that is not allowed.
    InsecureUrl(String),
    /// The body is not a JSON object of strings (basic) / not an object (kit).
    BadBody(String),
    /// The HTTP client could not be built.
    Build(String),
}

impl fmt::Display for ClientError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ClientError::InvalidUrl(u) => write!(f, "invalid seller URL {u:?}"),
            ClientError::InsecureUrl(u) => write!(f, "seller URL {u:?} must use https"),
            ClientError::BadBody(e) => write!(f, "cannot send body: {e}"),
            ClientError::Build(e) => write!(f, "cannot build HTTP client: {e}"),
        }
    }
}

impl std::error::Error for ClientError {}

/// What came back from one call.
#[derive(Debug, Clone, PartialEq)]
pub enum CallOutcome {
    /// HTTP 2xx with a JSON object carrying a string `resultCode`.
    Answered { code: ResultCode, body: serde_json::Value, http_status: u16, duration_ms: u64 },
    /// A non-2xx HTTP status (redirects included).
    HttpError { status: u16, body: String },
    /// HTTP 2xx but not a JSON object with a string `resultCode`.
    Unparseable { http_status: u16, body_text: String },
    /// Connection failure, TLS failure, timeout...
    Transport(String),
}

impl CallOutcome {
    /// Whether the same call should be sent again later: transport errors
    /// (timeouts included), HTTP 5xx/408/429, unparseable answers, and
    /// result codes of class [`CodeClass::Retryable`] (000005, unknown).
    pub fn is_retryable(&self) -> bool {
        match self {
            CallOutcome::Answered { code, .. } => code.class() == CodeClass::Retryable,
            CallOutcome::HttpError { status, .. } => *status >= 500 || *status == 408 || *status == 429,
            CallOutcome::Unparseable { .. } | CallOutcome::Transport(_) => true,
        }
    }

    /// The result code, if the seller answered one.
    pub fn code(&self) -> Option<&ResultCode> {
        match self {
            CallOutcome::Answered { code, .. } => Some(code),
            _ => None,
        }
    }
}

/// One call as sent, with its outcome (what the interface-message log keeps).
#[derive(Debug, Clone, PartialEq)]
pub struct Exchange {
    /// The URL posted to, including the signature query for basic calls.
    pub url: String,
    /// The exact body bytes sent (UTF-8 JSON).
    pub request_body: String,
    pub timestamp: String,
    pub nonce: String,
    pub signature: String,
    pub duration_ms: u64,
    pub outcome: CallOutcome,
}

/// Signed HTTP client for the production interface.
#[derive(Debug, Clone)]
pub struct Client {
    http: reqwest::Client,
    allow_insecure_hosts: bool,
    addresses: AddressPolicy,
}

/// 64 lower-case hex characters from the OS-seeded thread RNG.
pub fn new_nonce() -> String {
    hex::encode(rand::random::<[u8; 32]>())
}

fn is_loopback(host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost") || host.parse::<IpAddr>().map(|ip| ip.is_loopback()).unwrap_or(false)
}

impl Client {
    /// A client with the spec's 5 s timeout, reaching the addresses
    /// `addresses` permits.
    pub fn new(allow_insecure_hosts: bool, addresses: AddressPolicy) -> Result<Self, ClientError> {
        Client::with_timeout(allow_insecure_hosts, addresses, CALL_TIMEOUT)
    }

    /// A client with another timeout (tests).
    pub fn with_timeout(
        allow_insecure_hosts: bool,
        addresses: AddressPolicy,
        timeout: Duration,
    ) -> Result<Self, ClientError> {
        let http = addresses
            .client_builder()
            .timeout(timeout)
            .user_agent(concat!("mercato-koo/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| ClientError::Build(e.to_string()))?;
        Ok(Client { http, allow_insecure_hosts, addresses })
    }

    /// Check a seller URL against the HTTPS rule.
    pub fn check_url(&self, url: &str) -> Result<reqwest::Url, ClientError> {
        let parsed = reqwest::Url::parse(url).map_err(|_| ClientError::InvalidUrl(url.to_owned()))?;
        match parsed.scheme() {
            "https" => Ok(parsed),
            "http" if self.allow_insecure_hosts && parsed.host_str().is_some_and(is_loopback) => Ok(parsed),
            "http" => Err(ClientError::InsecureUrl(url.to_owned())),
            _ => Err(ClientError::InvalidUrl(url.to_owned())),
        }
    }

    /// Send a basic call to the product's URL, signed with `key` at `now_ms`.
    /// `body` must serialise to a JSON object whose values are strings (or
    /// null): a [`crate::BasicCall`], or a `serde_json::Value` built so.
    pub async fn call_basic<B: Serialize + ?Sized>(
        &self,
        url: &str,
        key: &[u8],
        body: &B,
        now_ms: i64,
    ) -> Result<Exchange, ClientError> {
        let mut target = self.check_url(url)?;
        let bytes = serde_json::to_vec(body).map_err(|e| ClientError::BadBody(e.to_string()))?;
        check_string_object(&bytes)?;
        let payload = canonical::basic_payload(&bytes).map_err(|e| ClientError::BadBody(e.to_string()))?;
        let timestamp = now_ms.to_string();
        let nonce = new_nonce();
        let signature = sign::basic_signature(key, &nonce, &timestamp, &payload);
        target
            .query_pairs_mut()
            .append_pair("signature", &signature)
            .append_pair("timestamp", &timestamp)
            .append_pair("nonce", &nonce);
        let request = self.http.post(target.clone());
        Ok(self.send(request, &target, bytes, timestamp, nonce, signature).await)
    }

    /// Send a kit call: POST `<url_base>/produceAPI/v2/<name>` with headers
    /// `x-sign`, `x-timestamp`, `x-nonce`, signed with the kit key.
    pub async fn call_kit<B: Serialize + ?Sized>(
        &self,
        url_base: &str,
        name: &str,
        kit_key: &[u8],
        body: &B,
        now_ms: i64,
    ) -> Result<Exchange, ClientError> {
        let url = format!("{}/produceAPI/v2/{}", url_base.trim_end_matches('/'), name);
        let target = self.check_url(&url)?;
        let bytes = serde_json::to_vec(body).map_err(|e| ClientError::BadBody(e.to_string()))?;
        let payload = canonical::kit_payload(&bytes).map_err(|e| ClientError::BadBody(e.to_string()))?;
        let timestamp = now_ms.to_string();
        let nonce = new_nonce();
        let signature = sign::kit_signature(kit_key, &nonce, &timestamp, &payload);
        let request = self
            .http
            .post(target.clone())
            .header("x-sign", &signature)
            .header("x-timestamp", &timestamp)
            .header("x-nonce", &nonce);
        Ok(self.send(request, &target, bytes, timestamp, nonce, signature).await)
    }

    async fn send(
        &self,
        request: reqwest::RequestBuilder,
        target: &reqwest::Url,
        bytes: Vec<u8>,
        timestamp: String,
        nonce: String,
        signature: String,
    ) -> Exchange {
        // serde_json output is always UTF-8.
        let request_body = String::from_utf8_lossy(&bytes).into_owned();
        let url = target.to_string();
        let started = Instant::now();
        if let Err(refused) = self.addresses.check_url(target) {
            let outcome = CallOutcome::Transport(refused.to_string());
            return Exchange { url, request_body, timestamp, nonce, signature, duration_ms: 0, outcome };
        }
        let result = request.header("content-type", "application/json;charset=UTF-8").body(bytes).send().await;
        let outcome = match result {
            Err(e) => CallOutcome::Transport(describe(&e)),
            Ok(resp) => {
                let status = resp.status().as_u16();
                match read_limited(resp).await {
                    Err(e) => CallOutcome::Transport(describe(&e)),
                    Ok((text, truncated)) => {
                        let duration_ms = elapsed_ms(started);
                        classify(status, text, truncated, duration_ms)
                    }
                }
            }
        };
        let duration_ms = elapsed_ms(started);
        tracing::debug!(%url, duration_ms, ?outcome, "production interface call");
        Exchange { url, request_body, timestamp, nonce, signature, duration_ms, outcome }
    }
}

fn elapsed_ms(started: Instant) -> u64 {
    u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX)
}

/// [`outbound::describe`], timeouts marked as such.
fn describe(e: &reqwest::Error) -> String {
    if e.is_timeout() && !outbound::is_refusal(e) {
        format!("timeout: {}", outbound::describe(e))
    } else {
        outbound::describe(e)
    }
}

async fn read_limited(mut resp: reqwest::Response) -> Result<(String, bool), reqwest::Error> {
    let mut buf = Vec::new();
    while let Some(chunk) = resp.chunk().await? {
        let room = MAX_RESPONSE_BYTES - buf.len();
        if chunk.len() > room {
            buf.extend_from_slice(&chunk[..room]);
            return Ok((String::from_utf8_lossy(&buf).into_owned(), true));
        }
        buf.extend_from_slice(&chunk);
    }
    Ok((String::from_utf8_lossy(&buf).into_owned(), false))
}

fn classify(status: u16, text: String, truncated: bool, duration_ms: u64) -> CallOutcome {
    if !(200..300).contains(&status) {
        return CallOutcome::HttpError { status, body: text };
    }
    if truncated {
        return CallOutcome::Unparseable { http_status: status, body_text: text };
    }
    let parsed: Option<serde_json::Value> = serde_json::from_str(&text).ok();
    let code = parsed.as_ref().and_then(|v| v.get("resultCode")).and_then(|c| c.as_str()).map(ResultCode::parse);
    match (code, parsed) {
        (Some(code), Some(body)) => CallOutcome::Answered { code, body, http_status: status, duration_ms },
        _ => CallOutcome::Unparseable { http_status: status, body_text: text },
    }
}

/// Basic bodies must be objects of strings (nulls are dropped by sellers).
fn check_string_object(bytes: &[u8]) -> Result<(), ClientError> {
    match json::parse(bytes) {
        Ok(Value::Object(pairs)) => {
            for (k, v) in pairs {
                if !matches!(v, Value::String(_) | Value::Null) {
                    return Err(ClientError::BadBody(format!(
                        "top-level field {k:?} is a {}; basic calls carry strings only",
                        v.type_name()
                    )));
                }
            }
            Ok(())
        }
        Ok(other) => Err(ClientError::BadBody(format!("body must be an object, not {}", other.type_name()))),
        Err(e) => Err(ClientError::BadBody(e.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_rules() {
        let strict = Client::new(false, AddressPolicy::public_only()).unwrap();
        let lax = Client::new(true, AddressPolicy::allowing_loopback()).unwrap();
        assert!(strict.check_url("https://isv.example.com/produce").is_ok());
        assert!(matches!(strict.check_url("http://127.0.0.1:9/x"), Err(ClientError::InsecureUrl(_))));
        for ok in ["http://127.0.0.1:9/x", "http://localhost/x", "http://[::1]:80/x", "http://127.1.2.3/"] {
            assert!(lax.check_url(ok).is_ok(), "{ok}");
        }
        for bad in ["http://10.0.0.1/x", "http://example.com/x", "http://localhost.evil.com/"] {
            assert!(matches!(lax.check_url(bad), Err(ClientError::InsecureUrl(_))), "{bad}");
        }
        assert!(matches!(lax.check_url("ftp://127.0.0.1/"), Err(ClientError::InvalidUrl(_))));
        assert!(matches!(lax.check_url("not a url"), Err(ClientError::InvalidUrl(_))));
    }

    #[test]
    fn nonce_shape() {
        let n = new_nonce();
        assert_eq!(n.len(), 64);
        assert!(n.bytes().all(|b| b.is_ascii_hexdigit()));
        assert_ne!(n, new_nonce());
    }

    #[test]
    fn classification() {
        assert!(matches!(classify(200, r#"{"resultCode":"000000"}"#.into(), false, 1), CallOutcome::Answered { .. }));
        assert!(matches!(classify(200, "<html>".into(), false, 1), CallOutcome::Unparseable { .. }));
        assert!(matches!(classify(200, r#"{"resultCode":0}"#.into(), false, 1), CallOutcome::Unparseable { .. }));
        assert!(matches!(classify(502, "bad gateway".into(), false, 1), CallOutcome::HttpError { status: 502, .. }));
        assert!(classify(503, String::new(), false, 1).is_retryable());
        assert!(!classify(404, String::new(), false, 1).is_retryable());
        assert!(!classify(200, r#"{"resultCode":"000001"}"#.into(), false, 1).is_retryable());
        assert!(classify(200, r#"{"resultCode":"000005"}"#.into(), false, 1).is_retryable());
    }
}

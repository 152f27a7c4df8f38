//! Verifying signed production-interface requests (seller side).
//!
//! The order of checks matters: cheap, unauthenticated checks first; the
//! nonce is recorded only after the signature is good, so a forged or
//! broken request can never "burn" a nonce of a legitimate one.
//!
//! 1. signature, timestamp and nonce present;
//! 2. timestamp numeric and inside the window;
//! 3. body canonicalises;
//! 4. signature matches (constant time, hex case-insensitive);
//! 5. nonce recorded, rejecting replays.

use crate::canonical::{self, CanonicalError};
use crate::codes::ResultCode;
use crate::nonce::NonceCache;
use crate::sign;
use std::fmt;

/// Verifier settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyConfig {
    /// Oldest accepted timestamp, in ms before now (spec: 60 s).
    pub max_age_ms: i64,
    /// Tolerated clock skew into the future, in ms.
    pub max_future_skew_ms: i64,
    /// Nonces remembered at most; see [`crate::nonce`] for sizing.
    pub nonce_capacity: usize,
}

impl Default for VerifyConfig {
    fn default() -> Self {
        VerifyConfig { max_age_ms: 60_000, max_future_skew_ms: 5_000, nonce_capacity: 100_000 }
    }
}

/// Why a request was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VerifyError {
    /// A signature parameter is absent or empty (its name).
    Missing(&'static str),
    /// The timestamp is not a decimal number of milliseconds.
    BadTimestamp,
    /// Older than `max_age_ms`.
    Stale,
    /// Further ahead than `max_future_skew_ms`.
    FromFuture,
    /// Nonce already used inside the window.
    Replay,
    /// Signature does not match.
    BadSignature,
    /// The body has no canonical form (not a JSON object, nested value in a
    /// basic call, invalid UTF-8, too large...).
    BadBody(String),
}

impl VerifyError {
    /// The result code to answer with: `000002` for a malformed request,
    /// `000001` for one that fails authentication.
    pub fn result_code(&self) -> ResultCode {
        match self {
            VerifyError::Missing(_) | VerifyError::BadTimestamp | VerifyError::BadBody(_) => ResultCode::InvalidParam,
            VerifyError::Stale | VerifyError::FromFuture | VerifyError::Replay | VerifyError::BadSignature => {
                ResultCode::AuthFailed
            }
        }
    }
}

impl fmt::Display for VerifyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            VerifyError::Missing(name) => write!(f, "missing {name}"),
            VerifyError::BadTimestamp => f.write_str("timestamp is not a number of milliseconds"),
            VerifyError::Stale => f.write_str("timestamp is too old"),
            VerifyError::FromFuture => f.write_str("timestamp is in the future"),
            VerifyError::Replay => f.write_str("nonce already used"),
            VerifyError::BadSignature => f.write_str("signature mismatch"),
            VerifyError::BadBody(e) => write!(f, "bad body: {e}"),
        }
    }
}

impl std::error::Error for VerifyError {}

impl From<CanonicalError> for VerifyError {
    fn from(e: CanonicalError) -> Self {
        VerifyError::BadBody(e.to_string())
    }
}

/// Parse a timestamp as Java's `Long.parseLong` would for sane input, but
/// stricter: ASCII digits only (no sign), at most 18 of them.
fn parse_timestamp(t: &str) -> Option<i64> {
    if t.is_empty() || t.len() > 18 || !t.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    t.parse().ok()
}

fn present<'a>(v: Option<&'a str>, name: &'static str) -> Result<&'a str, VerifyError> {
    match v {
        Some(s) if !s.is_empty() => Ok(s),
        _ => Err(VerifyError::Missing(name)),
    }
}

/// What differs between basic and kit calls.
#[derive(Debug)]
struct Scheme {
    /// Wire names of signature, timestamp and nonce, for `Missing`.
    names: [&'static str; 3],
    canon: fn(&[u8]) -> Result<String, CanonicalError>,
    sign: fn(&[u8], &str, &str, &str) -> String,
}

const BASIC: Scheme =
    Scheme { names: ["signature", "timestamp", "nonce"], canon: canonical::basic_payload, sign: sign::basic_signature };

const KIT: Scheme =
    Scheme { names: ["x-sign", "x-timestamp", "x-nonce"], canon: canonical::kit_payload, sign: sign::kit_signature };

/// Shared state and steps of both verifiers.
#[derive(Debug)]
struct Core {
    key: Vec<u8>,
    config: VerifyConfig,
    nonces: NonceCache,
    scheme: &'static Scheme,
}

impl Core {
    fn new(key: Vec<u8>, config: VerifyConfig, scheme: &'static Scheme) -> Self {
        let nonces = NonceCache::new(config.max_age_ms, config.nonce_capacity);
        Core { key, config, nonces, scheme }
    }

    fn verify(
        &self,
        signature: Option<&str>,
        timestamp: Option<&str>,
        nonce: Option<&str>,
        body: &[u8],
        now_ms: i64,
    ) -> Result<(), VerifyError> {
        let [sig_name, ts_name, nonce_name] = self.scheme.names;
        let signature = present(signature, sig_name)?;
        let timestamp = present(timestamp, ts_name)?;
        let nonce = present(nonce, nonce_name)?;
        let ts = parse_timestamp(timestamp).ok_or(VerifyError::BadTimestamp)?;
        if now_ms.saturating_sub(ts) > self.config.max_age_ms {
            return Err(VerifyError::Stale);
        }
        if ts.saturating_sub(now_ms) > self.config.max_future_skew_ms {
            return Err(VerifyError::FromFuture);
        }
        let payload = (self.scheme.canon)(body)?;
        let expected = (self.scheme.sign)(&self.key, nonce, timestamp, &payload);
        if !sign::hex_eq(&expected, signature) {
            return Err(VerifyError::BadSignature);
        }
        if !self.nonces.insert(nonce, ts, now_ms) {
            return Err(VerifyError::Replay);
        }
        Ok(())
    }
}

/// Verifies basic calls (query parameters `signature`, `timestamp`, `nonce`).
#[derive(Debug)]
pub struct BasicVerifier(Core);

impl BasicVerifier {
    /// A verifier for the seller's access key.
    pub fn new(key: impl Into<Vec<u8>>, config: VerifyConfig) -> Self {
        BasicVerifier(Core::new(key.into(), config, &BASIC))
    }

    /// Check one request; on success its nonce is remembered.
    pub fn verify(
        &self,
        signature: Option<&str>,
        timestamp: Option<&str>,
        nonce: Option<&str>,
        body: &[u8],
        now_ms: i64,
    ) -> Result<(), VerifyError> {
        self.0.verify(signature, timestamp, nonce, body, now_ms)
    }

    /// The settings in use.
    pub fn config(&self) -> &VerifyConfig {
        &self.0.config
    }
}

/// Verifies kit calls (headers `x-sign`, `x-timestamp`, `x-nonce`).
#[derive(Debug)]
pub struct KitVerifier(Core);

impl KitVerifier {
    /// A verifier for the seller's kit key.
    pub fn new(key: impl Into<Vec<u8>>, config: VerifyConfig) -> Self {
        KitVerifier(Core::new(key.into(), config, &KIT))
    }

    /// Check one request; on success its nonce is remembered.
    pub fn verify(
        &self,
        signature: Option<&str>,
        timestamp: Option<&str>,
        nonce: Option<&str>,
        body: &[u8],
        now_ms: i64,
    ) -> Result<(), VerifyError> {
        self.0.verify(signature, timestamp, nonce, body, now_ms)
    }

    /// The settings in use.
    pub fn config(&self) -> &VerifyConfig {
        &self.0.config
    }
}

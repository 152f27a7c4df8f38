//! The seller side: an axum router that verifies KooGallery-signed calls and
//! dispatches them to your implementation of [`ProductionInterface`] (basic
//! and license calls) and [`KitInterface`] (kit calls).
//!
//! ```no_run
//! # use koo::seller::*;
//! # use std::sync::Arc;
//! # async fn demo<S: ProductionInterface + KitInterface>(my_seller: S) -> std::io::Result<()> {
//! let config = SellerConfig::new("my-access-key").with_kit_key("my-kit-key");
//! let app = router_with_kit(Arc::new(my_seller), config);
//! let listener = tokio::net::TcpListener::bind("0.0.0.0:8443").await?;
//! axum::serve(listener, app).await
//! # }
//! ```
//!
//! What the router guarantees before your code runs, and answers itself
//! otherwise (always a JSON `{"resultCode", "resultMsg"}` body, never a panic):
//!
//! | input | answer |
//! |---|---|
//! | signature missing or wrong | `000001` |
//! | timestamp older than the window, too far in the future, nonce replayed | `000001` |
//! | timestamp or nonce missing, timestamp not a number | `000002` |
//! | body not JSON / not UTF-8 / not an object, nested value in a basic call | `000002` |
//! | unknown `activity` or kit name, missing mandatory field, wrong type or enum value | `000002` |
//! | body larger than `body_limit` | `000002` with HTTP 413 |
//!
//! Everything else is HTTP 200 with the code your method chose. Responses
//! carry the legacy `Body-Sign` header (V1 sellers) signed with the key of
//! the call's kind.
//!
//! The license calls (`getLicenseAsync`, `refreshLicenseCode`,
//! `updateLicenseCodeStatus`, `releaseLicenseCode`) are basic calls on the
//! same URL, so they are optional methods of [`ProductionInterface`] rather
//! than a trait of their own.

mod http;
mod idempotency;
mod interface;

pub use http::{router, router_with_kit};
pub use idempotency::{IdempotencyCache, IdempotencyKey};
pub use interface::{KitInterface, LicenseIssued, ProductionInterface, Provisioned, Refusal, Reply};

use crate::verify::VerifyConfig;
use std::fmt;
use std::sync::Arc;

/// A source of "now" in Unix milliseconds (for the timestamp window).
pub type NowMs = Arc<dyn Fn() -> i64 + Send + Sync>;

/// How the router verifies and where it listens.
#[derive(Clone)]
pub struct SellerConfig {
    /// The access key for basic (and license) calls.
    pub key: Vec<u8>,
    /// The separate key for kit calls; `None` means kit calls are verified
    /// with `key` (for sellers that registered one key for both).
    pub kit_key: Option<Vec<u8>>,
    /// Timestamp window and nonce cache size.
    pub verify: VerifyConfig,
    /// Largest accepted body, in bytes. Real calls are well under 16 KiB.
    pub body_limit: usize,
    /// The registered URL's path; kit calls go to `<path>/produceAPI/v2/<name>`.
    pub path: String,
    /// The clock used for the timestamp window (wall clock by default).
    pub now_ms: NowMs,
}

/// 64 KiB.
pub const DEFAULT_BODY_LIMIT: usize = 64 * 1024;

impl SellerConfig {
    /// Defaults: no separate kit key, the spec's 60 s window, 64 KiB bodies,
    /// path `/produce`, wall clock.
    pub fn new(key: impl Into<Vec<u8>>) -> Self {
        SellerConfig {
            key: key.into(),
            kit_key: None,
            verify: VerifyConfig::default(),
            body_limit: DEFAULT_BODY_LIMIT,
            path: "/produce".to_owned(),
            now_ms: Arc::new(wall_clock_ms),
        }
    }

    pub fn with_kit_key(mut self, kit_key: impl Into<Vec<u8>>) -> Self {
        self.kit_key = Some(kit_key.into());
        self
    }

    pub fn with_verify(mut self, verify: VerifyConfig) -> Self {
        self.verify = verify;
        self
    }

    pub fn with_body_limit(mut self, bytes: usize) -> Self {
        self.body_limit = bytes;
        self
    }

    /// Mount at another path (e.g. `/saasproduce`); a leading `/` is added if missing.
    pub fn with_path(mut self, path: impl Into<String>) -> Self {
        let path = path.into();
        let trimmed = path.trim_end_matches('/');
        self.path = if trimmed.starts_with('/') { trimmed.to_owned() } else { format!("/{trimmed}") };
        self
    }

    pub fn with_clock(mut self, now_ms: impl Fn() -> i64 + Send + Sync + 'static) -> Self {
        self.now_ms = Arc::new(now_ms);
        self
    }
}

impl fmt::Debug for SellerConfig {
    /// Keys are secrets: never printed.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SellerConfig")
            .field("key", &"<redacted>")
            .field("kit_key", &self.kit_key.as_ref().map(|_| "<redacted>"))
            .field("verify", &self.verify)
            .field("body_limit", &self.body_limit)
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

fn wall_clock_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

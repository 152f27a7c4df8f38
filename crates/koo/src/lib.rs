//! The KooGallery-compatible seller production interface (see
//! `docs/seller-integration.md`): canonical JSON and signing, typed calls and
//! result codes, an async client for the marketplace side, and an axum SDK
//! for the seller side. No dependency on the rest of Mercato.
//!
//! - [`json`]: our own JSON parser/writer, byte-compatible with Jackson;
//! - [`canonical`]: the signed payloads (spec §3, §4);
//! - [`sign`]: HMAC signatures and the legacy `Body-Sign` header;
//! - [`nonce`], [`verify`]: request verification for sellers;
//! - [`codes`]: result codes and how to react to them;
//! - [`calls`]: typed request and response bodies;
//! - [`client`]: the marketplace side's signed HTTP client.
//! - [`outbound`]: the address guard every outbound call goes through.

pub mod calls;
pub mod canonical;
pub mod client;
pub mod codes;
pub mod gateway;
pub mod json;
pub mod nonce;
pub mod outbound;
pub mod sign;
pub mod verify;

pub use calls::BasicCall;
pub use codes::{CodeClass, ResultCode};
pub use verify::{BasicVerifier, KitVerifier, VerifyConfig, VerifyError};
pub mod seller;

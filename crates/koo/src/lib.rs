//! The KooGallery-compatible seller production interface (see
//! `docs/seller-integration.md`): canonical JSON and signing, typed calls and
//! result codes, an async client for the marketplace side, and an axum SDK
//! for the seller side. No dependency on the rest of Mercato.

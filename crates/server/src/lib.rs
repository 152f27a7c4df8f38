//! The Mercato server: configuration, HTTP API, application services.

pub mod api_doc;
pub mod app;
pub mod auth;
pub mod clock;
pub mod config;
pub mod crypto;
pub mod error;
pub mod extract;
pub mod http;
pub mod metrics;
pub mod passwords;
pub mod runtime;
pub mod state;
pub mod workers;

pub use config::Config;
pub use state::AppState;

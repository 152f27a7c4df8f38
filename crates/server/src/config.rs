//! Configuration, layered: embedded defaults -> `mercato.toml` (if present,
//! or the file named by `MERCATO_CONFIG`) -> `MERCATO_*` environment
//! variables -> command-line flags (applied by the CLI).

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use std::path::PathBuf;

const DEFAULTS: &str = include_str!("../mercato.default.toml");

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

#[derive(Clone, Serialize, Deserialize)]
pub struct Config {
    pub listen: SocketAddr,
    pub data_dir: PathBuf,
    /// `postgres://...` to use PostgreSQL; empty for the embedded SQLite file
    /// `<data_dir>/mercato.db`.
    pub database_url: String,
    /// Connections this process keeps open to PostgreSQL at most (the
    /// embedded SQLite file always uses 8). Several nodes on one server
    /// must fit inside its `max_connections` together.
    pub database_max_connections: u32,
    /// Base64 of 32 bytes. Empty: read or create `<data_dir>/master.key`.
    pub master_key: String,
    pub log_format: LogFormat,
    /// Largest accepted JSON request body, in bytes.
    pub body_limit_bytes: usize,
    /// Largest accepted image upload, in bytes.
    pub upload_limit_bytes: usize,
    pub request_timeout_secs: u64,
    /// Accept plain-HTTP seller endpoints on loopback hosts (tests, demo).
    #[serde(deserialize_with = "flag")]
    pub allow_insecure_endpoints: bool,
    /// Address blocks outbound calls may reach besides public addresses
    /// (comma-separated, `127.0.0.0/8,::1`): loopback, private, link-local
    /// and the like are refused unless named here (tests, the demo).
    pub outbound_allow: koo::outbound::AddressPolicy,
    /// Public base URL, used in links such as media URLs.
    pub public_url: String,
    /// Run this node's background worker loop (jobs and periodic tasks).
    #[serde(deserialize_with = "flag")]
    pub worker_enabled: bool,
    /// How often the worker looks for due jobs and periodic tasks, in ms.
    pub worker_poll_ms: u64,
    /// At most this many jobs are claimed (and run concurrently) per poll.
    pub worker_batch: usize,
    /// How long a claimed job (or periodic task slot) is leased to its
    /// worker; after that another node may take it over.
    pub job_lease_secs: u64,
    /// The operator test clock: the marketplace's time is a frozen instant
    /// stored in the database that moves only through
    /// `POST /api/v1/operator/test-clock`. Never in production.
    #[serde(deserialize_with = "flag")]
    pub test_clock: bool,
    /// Minutes after its end an hourly billing period still takes usage
    /// records; then it is rated and closed for good.
    pub usage_hour_close_minutes: u32,
    /// The same for daily billing periods.
    pub usage_day_close_minutes: u32,
    /// Days a supervised delivery may wait for the buyer's acceptance before
    /// the seller may appeal to an operator (marketplace time).
    pub supervision_appeal_days: u32,
    /// The settlement time zone: `UTC` or a fixed offset such as `+08:00`.
    pub settlement_timezone: mercato_domain::settlement::Calendar,
    /// Hours after a billing period ends before it is settled.
    pub settlement_cutoff_hours: u32,
    /// Days a seller has to confirm or dispute a statement before it is
    /// confirmed for them.
    pub statement_confirm_days: u32,
    /// The tax rate, in basis points, of the invoices the platform issues
    /// (joint-operation products); a seller's invoices use its certified rate.
    pub invoice_tax_rate_bp: mercato_domain::invoicing::TaxRateBp,
    /// The issuer's name printed on the platform's invoices.
    pub invoice_platform_name: String,
    /// The platform's tax id printed on its invoices (empty: none printed).
    pub invoice_platform_tax_id: String,
}

/// A boolean setting: `true`/`false`, `1`/`0`, `yes`/`no`, `on`/`off`, so
/// `MERCATO_TEST_CLOCK=1` works as well as `=true`.
fn flag<'de, D: serde::Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    struct Flag;
    impl serde::de::Visitor<'_> for Flag {
        type Value = bool;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("true/false, 1/0, yes/no or on/off")
        }
        fn visit_bool<E: serde::de::Error>(self, v: bool) -> Result<bool, E> {
            Ok(v)
        }
        fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<bool, E> {
            match v {
                0 => Ok(false),
                1 => Ok(true),
                _ => Err(E::invalid_value(serde::de::Unexpected::Unsigned(v), &self)),
            }
        }
        fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<bool, E> {
            match v {
                0 => Ok(false),
                1 => Ok(true),
                _ => Err(E::invalid_value(serde::de::Unexpected::Signed(v), &self)),
            }
        }
        fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<bool, E> {
            match v.trim().to_ascii_lowercase().as_str() {
                "1" | "true" | "yes" | "on" => Ok(true),
                "0" | "false" | "no" | "off" | "" => Ok(false),
                _ => Err(E::invalid_value(serde::de::Unexpected::Str(v), &self)),
            }
        }
    }
    d.deserialize_any(Flag)
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("listen", &self.listen)
            .field("data_dir", &self.data_dir)
            .field("database", &if self.database_url.is_empty() { "sqlite" } else { "postgres" })
            .field("master_key", &if self.master_key.is_empty() { "file" } else { "<set>" })
            .field("log_format", &self.log_format)
            .field("worker_enabled", &self.worker_enabled)
            .field("test_clock", &self.test_clock)
            .field("outbound_allow", &self.outbound_allow.to_string())
            .finish_non_exhaustive()
    }
}

impl Config {
    /// Defaults, then the config file, then the environment.
    pub fn load() -> Result<Config, Box<figment::Error>> {
        let file = std::env::var("MERCATO_CONFIG").unwrap_or_else(|_| "mercato.toml".into());
        Figment::new()
            .merge(Toml::string(DEFAULTS))
            .merge(Toml::file(file))
            .merge(Env::prefixed("MERCATO_").ignore(&["CONFIG", "TEST_DATABASE_URL"]))
            .extract()
            .map_err(Box::new)
    }

    /// Only the embedded defaults (tests build on this).
    pub fn defaults() -> Config {
        Figment::new().merge(Toml::string(DEFAULTS)).extract().expect("embedded defaults are valid")
    }

    /// Applies overrides given as a serializable map (the CLI's flags).
    pub fn with_overrides<T: Serialize>(self, overrides: T) -> Result<Config, Box<figment::Error>> {
        Figment::from(Serialized::defaults(self)).merge(Serialized::defaults(overrides)).extract().map_err(Box::new)
    }

    pub fn database_location(&self) -> String {
        if self.database_url.is_empty() {
            self.data_dir.join("mercato.db").display().to_string()
        } else {
            self.database_url.clone()
        }
    }

    /// When billing periods close (`usage_*_close_minutes`).
    pub fn close_rule(&self) -> mercato_domain::rating::CloseRule {
        mercato_domain::rating::CloseRule {
            after_hour: chrono::Duration::minutes(self.usage_hour_close_minutes.into()),
            after_day: chrono::Duration::minutes(self.usage_day_close_minutes.into()),
        }
    }

    pub fn media_dir(&self) -> PathBuf {
        self.data_dir.join("media")
    }
}

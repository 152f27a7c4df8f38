//! `mercato isv serve`: the reference seller, with fault injection.

use clap::Args;
use mercato_isv::{FaultPolicy, ReferenceSellerConfig};
use std::path::PathBuf;

/// Serve the reference seller on 127.0.0.1 (`/produce`, kit calls under
/// `/produce/produceAPI/v2/...`).
#[derive(Args, Clone, Debug)]
pub struct IsvServeArgs {
    /// Port on 127.0.0.1 (0 picks a free one).
    #[arg(long, default_value_t = 8090)]
    pub port: u16,
    /// Access key for basic and license calls.
    #[arg(long)]
    pub key: String,
    /// Key for kit calls (tenantSync, authSync...); defaults to --key.
    #[arg(long)]
    pub kit_key: Option<String>,
    /// Fraction of calls (0.0-1.0) answered HTTP 500 or 000005 at random.
    #[arg(long, default_value_t = 0.0, value_parser = parse_rate)]
    pub fail_rate: f64,
    /// Sleep this many milliseconds before every answer.
    #[arg(long, default_value_t = 0)]
    pub latency_ms: u64,
    /// newInstance answers 000004; the instance is ready for queryInstance a few seconds later.
    #[arg(long = "async")]
    pub async_mode: bool,
    /// How long async provisioning takes, in milliseconds.
    #[arg(long, default_value_t = 3_000)]
    pub async_delay_ms: u64,
    /// Refuse every newInstance with this result code (e.g. 000106, sold out).
    #[arg(long, value_parser = parse_code)]
    pub refuse: Option<String>,
    /// Fraction of calls (0.0-1.0) whose answer is held back --slow-ms after
    /// they were handled (beyond the marketplace's 5 s timeout: a timeout
    /// whose work was done).
    #[arg(long, default_value_t = 0.0, value_parser = parse_rate)]
    pub slow_rate: f64,
    /// How long a late answer is held back, in milliseconds.
    #[arg(long, default_value_t = 6_000)]
    pub slow_ms: u64,
    /// Answer HTTP 503 for this many seconds after start.
    #[arg(long = "down-for", default_value_t = 0)]
    pub down_for_secs: u64,
    /// The seller's SQLite file (created if missing).
    #[arg(long = "db", default_value = "mercato-isv.db")]
    pub db_path: PathBuf,
}

fn parse_rate(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(rate) if (0.0..=1.0).contains(&rate) => Ok(rate),
        _ => Err(format!("{s:?} is not a number between 0 and 1")),
    }
}

fn parse_code(s: &str) -> Result<String, String> {
    if s.len() == 6 && s.bytes().all(|b| b.is_ascii_digit()) {
        Ok(s.to_owned())
    } else {
        Err(format!("{s:?} is not a 6-digit result code such as 000106"))
    }
}

impl IsvServeArgs {
    pub fn config(&self) -> ReferenceSellerConfig {
        let mut config = ReferenceSellerConfig::new(self.key.clone(), self.db_path.clone());
        config.port = self.port;
        config.kit_key = self.kit_key.clone();
        config.faults = FaultPolicy {
            fail_rate: self.fail_rate,
            latency_ms: self.latency_ms,
            async_mode: self.async_mode,
            async_delay_ms: self.async_delay_ms,
            refuse: self.refuse.clone(),
            down_for_secs: self.down_for_secs,
            slow_rate: self.slow_rate,
            slow_ms: self.slow_ms,
            ..FaultPolicy::default()
        };
        config
    }
}

/// Binds, prints the URL (so scripts can read it), and serves until Ctrl-C.
pub async fn run_serve(args: IsvServeArgs) -> anyhow::Result<()> {
    let config = args.config();
    let (listener, addr) = mercato_isv::bind(config.port).await?;
    println!("reference seller listening on http://{addr}/produce (kit calls under /produce/produceAPI/v2/)");
    mercato_isv::serve_on(listener, config, async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await
}

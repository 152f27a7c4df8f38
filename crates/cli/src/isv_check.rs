//! `mercato isv check`: run the production interface's debug cases against
//! a seller endpoint and print a table (or JSON) of the results.
//!
//! Plain HTTP needs `--allow-insecure` even for 127.0.0.1: the marketplace
//! calls sellers over HTTPS only, and a check that passes over plain HTTP
//! without saying so would promise more than production delivers. With the
//! flag, plain HTTP is still limited to loopback hosts.

use anyhow::Context;
use clap::{Args, ValueEnum};
use mercato_conformance::{CaseSet, CheckConfig, HttpTransport};
use std::process::ExitCode;

/// Arguments of `mercato isv check`.
#[derive(Args, Debug, Clone)]
pub struct CheckArgs {
    /// The seller's production-interface URL (e.g. https://isv.example.com/produce).
    #[arg(long)]
    pub url: String,
    /// The access key the marketplace signs basic calls with.
    #[arg(long, env = "MERCATO_ISV_KEY", hide_env_values = true)]
    pub key: String,
    /// The kit key; when given, the kit cases (tenantSync, singleOrgSync, authSync) run too.
    #[arg(long, env = "MERCATO_ISV_KIT_KEY", hide_env_values = true)]
    pub kit_key: Option<String>,
    /// Print the report as JSON instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Allow plain HTTP to a loopback host (127.0.0.0/8, ::1, localhost); never to other hosts.
    #[arg(long)]
    pub allow_insecure: bool,
    /// Which debug cases to run.
    #[arg(long, value_enum, default_value_t = Cases::Full)]
    pub cases: Cases,
}

/// `--cases`: the full conformance run, or the cases the marketplace
/// requires before a product is submitted (spec §8).
#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cases {
    /// Every SaaS case: lifecycle, negative, and kit (with --kit-key).
    Full,
    /// License products: getLicenseAsync (twice), refreshLicenseCode,
    /// updateLicenseCodeStatus, releaseLicenseCode (twice).
    License,
    /// Period products: newInstance, refreshInstance, updateInstanceStatus, releaseInstance.
    Period,
    /// One-time products: newInstance, releaseInstance.
    OneTime,
}

impl From<Cases> for CaseSet {
    fn from(c: Cases) -> Self {
        match c {
            Cases::Full => CaseSet::Full,
            Cases::License => CaseSet::LicenseProduct,
            Cases::Period => CaseSet::PeriodProduct,
            Cases::OneTime => CaseSet::OneTimeProduct,
        }
    }
}

/// Runs the check and prints the report. `ExitCode::SUCCESS` when every
/// case passed, 1 otherwise; `Err` when nothing could be sent (bad URL,
/// plain HTTP without `--allow-insecure`, empty key).
pub async fn run_check(args: CheckArgs) -> anyhow::Result<ExitCode> {
    let mut config = CheckConfig::new(args.url, args.key.into_bytes());
    config.kit_key = args.kit_key.map(String::into_bytes);
    config.allow_insecure = args.allow_insecure;
    config.cases = args.cases.into();
    let transport = HttpTransport::new().context("building the HTTP client")?;
    let report = mercato_conformance::run(&config, &transport).await.context("cannot run the debug cases")?;
    if args.json {
        println!("{}", report.to_json());
    } else {
        print!("{}", report.to_table());
    }
    Ok(if report.all_passed() { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        args: CheckArgs,
    }

    #[test]
    fn parses_flags() {
        let cli =
            Cli::try_parse_from(["x", "--url", "https://s/p", "--key", "k", "--kit-key", "kk", "--json"]).unwrap();
        assert_eq!(cli.args.kit_key.as_deref(), Some("kk"));
        assert!(cli.args.json && !cli.args.allow_insecure);
        assert_eq!(cli.args.cases, Cases::Full);
        let cli = Cli::try_parse_from(["x", "--url", "u", "--key", "k", "--cases", "one-time"]).unwrap();
        assert_eq!(CaseSet::from(cli.args.cases), CaseSet::OneTimeProduct);
        assert!(Cli::try_parse_from(["x", "--url", "u"]).is_err());
    }
}

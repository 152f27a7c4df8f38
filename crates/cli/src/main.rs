//! `mercato`: one binary, several roles.

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use mercato_server::Config;
use mercato_server::config::LogFormat;
use mercato_server::runtime;
use serde::Serialize;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

mod backup;
mod bench;
mod chaos;
mod demo;
mod isv;
mod isv_check;
mod isv_serve;
mod ledger;
mod seed;

#[derive(Parser)]
#[command(name = "mercato", version, about = "Mercato: an open-source cloud software marketplace")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the API server (migrates the database first).
    Serve(ServeArgs),
    /// Apply database migrations and exit.
    Migrate(DbArgs),
    /// Start the server with a seeded demo marketplace and print keys and curl lines.
    Demo(ServeArgs),
    /// Administration.
    Admin {
        #[command(subcommand)]
        command: AdminCommand,
    },
    /// Seller tools: the reference seller, the conformance checker, signing.
    Isv {
        #[command(subcommand)]
        command: IsvCommand,
    },
    /// Copy the SQLite database to a file while the marketplace runs
    /// (consistent and checked; PostgreSQL: use pg_dump).
    Backup(backup::BackupArgs),
    /// Ledger tools.
    Ledger {
        #[command(subcommand)]
        command: LedgerCommand,
    },
    /// Benchmarks against an in-process node and reference seller.
    Bench {
        #[command(subcommand)]
        command: bench::BenchCommand,
    },
    /// Kill nodes with SIGKILL under load while the seller misbehaves, then
    /// prove nothing was lost or done twice (exit status 1 if not).
    Chaos(chaos::ChaosArgs),
    /// Print the OpenAPI document; with --check FILE, fail if FILE differs.
    Openapi {
        #[arg(long)]
        check: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
enum IsvCommand {
    /// Serve the reference seller (with fault injection for tests and demos).
    Serve(isv_serve::IsvServeArgs),
    /// Run the conformance (debug) cases against a seller endpoint.
    Check(isv_check::CheckArgs),
    /// Print the canonical payload, inner digest and signature of a call (or a Body-Sign header).
    Sign(isv::SignArgs),
    /// Check a signature; exits non-zero on mismatch.
    Verify(isv::VerifyArgs),
    /// Call the marketplace's open API as a seller (AK/SK signed POST): a
    /// license activation or heartbeat, a usage push. Exits 1 unless MKT.0000.
    OpenApi(isv::OpenApiArgs),
}

#[derive(Subcommand)]
enum LedgerCommand {
    /// Prove the ledger sound: every entry balances, every balance equals its
    /// lines, the totals are zero. Exits 1 on any discrepancy.
    Check(DbArgs),
}

#[derive(Subcommand)]
enum AdminCommand {
    /// Create an operator account; prints its API key as the last line.
    CreateOperator {
        #[arg(long)]
        name: String,
        #[arg(long)]
        email: String,
        #[command(flatten)]
        db: DbArgs,
    },
}

/// Where the data lives. Each flag overrides config file and environment.
#[derive(Args, Clone, Default)]
struct DbArgs {
    /// Directory for the SQLite database, master key and uploads [env: MERCATO_DATA_DIR].
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// postgres://... to use PostgreSQL instead of SQLite [env: MERCATO_DATABASE_URL].
    #[arg(long)]
    database_url: Option<String>,
}

#[derive(Args, Clone, Default)]
struct ServeArgs {
    #[command(flatten)]
    db: DbArgs,
    /// Address to listen on [env: MERCATO_LISTEN; default 127.0.0.1:8080].
    #[arg(long)]
    listen: Option<SocketAddr>,
    /// Log format [env: MERCATO_LOG_FORMAT].
    #[arg(long, value_parser = ["text", "json"])]
    log_format: Option<String>,
    /// Accept plain-HTTP seller endpoints on loopback hosts (tests and demos only).
    #[arg(long)]
    allow_insecure_endpoints: bool,
    /// Address blocks outbound calls may reach besides public addresses,
    /// comma-separated, e.g. 127.0.0.0/8,::1 [env: MERCATO_OUTBOUND_ALLOW].
    #[arg(long, value_name = "BLOCKS")]
    outbound_allow: Option<String>,
    /// Run on the operator test clock: time stands still until moved through
    /// /api/v1/operator/test-clock (tests and demos only) [env: MERCATO_TEST_CLOCK].
    #[arg(long)]
    test_clock: bool,
}

#[derive(Serialize, Default)]
struct Overrides {
    #[serde(skip_serializing_if = "Option::is_none")]
    data_dir: Option<PathBuf>,
    #[serde(skip_serializing_if = "Option::is_none")]
    database_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    listen: Option<SocketAddr>,
    #[serde(skip_serializing_if = "Option::is_none")]
    log_format: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    allow_insecure_endpoints: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    outbound_allow: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    test_clock: Option<bool>,
}

fn config(db: &DbArgs, serve: Option<&ServeArgs>) -> anyhow::Result<Config> {
    let overrides = Overrides {
        data_dir: db.data_dir.clone(),
        database_url: db.database_url.clone(),
        listen: serve.and_then(|s| s.listen),
        log_format: serve.and_then(|s| s.log_format.clone()),
        allow_insecure_endpoints: serve.and_then(|s| s.allow_insecure_endpoints.then_some(true)),
        outbound_allow: serve.and_then(|s| s.outbound_allow.clone()),
        test_clock: serve.and_then(|s| s.test_clock.then_some(true)),
    };
    Config::load().and_then(|c| c.with_overrides(overrides)).map_err(|e| anyhow::anyhow!("reading configuration: {e}"))
}

#[tokio::main]
async fn main() -> ExitCode {
    match run(Cli::parse().command).await {
        Ok(code) => code,
        // One line, causes included, whatever RUST_BACKTRACE says.
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Seller tools; `check` and `verify` report failure through the exit status.
async fn isv_command(command: IsvCommand) -> anyhow::Result<ExitCode> {
    match command {
        IsvCommand::Serve(args) => {
            runtime::init_logging(LogFormat::Text);
            isv_serve::run_serve(args).await.map(|()| ExitCode::SUCCESS)
        }
        IsvCommand::Check(args) => isv_check::run_check(args).await,
        IsvCommand::Sign(args) => isv::run_sign(&args).map(|()| ExitCode::SUCCESS),
        IsvCommand::Verify(args) => isv::run_verify(&args),
        IsvCommand::OpenApi(args) => isv::run_open_api(&args).await,
    }
}

/// Runs one command; failures a command reports (a failed check) come back
/// as a non-zero exit status, errors as `Err`.
async fn run(command: Command) -> anyhow::Result<ExitCode> {
    let done: anyhow::Result<()> = match command {
        Command::Serve(args) => {
            let config = config(&args.db, Some(&args))?;
            runtime::init_logging(config.log_format);
            serve(config).await
        }
        Command::Demo(mut args) => {
            // The demo keeps its data apart from a real marketplace's.
            if args.db.data_dir.is_none() && std::env::var_os("MERCATO_DATA_DIR").is_none() {
                args.db.data_dir = Some(PathBuf::from("./mercato-demo"));
            }
            let mut config = config(&args.db, Some(&args))?;
            // The demo's sellers run on this machine.
            config.allow_insecure_endpoints = true;
            config.outbound_allow = koo::outbound::AddressPolicy::allowing_loopback();
            // The demo lives on the test clock, so a newcomer can walk its
            // subscription through expiry and release in seconds.
            config.test_clock = true;
            runtime::init_logging(config.log_format);
            demo::run(config).await
        }
        Command::Migrate(db) => {
            let config = config(&db, None)?;
            runtime::init_logging(LogFormat::Text);
            let db = runtime::open_database(&config).await?;
            println!("database is up to date ({})", mercato_store::migrate::known_versions().last().unwrap_or("empty"));
            db.close().await;
            Ok(())
        }
        Command::Admin { command: AdminCommand::CreateOperator { name, email, db } } => {
            let config = config(&db, None)?;
            runtime::init_logging(LogFormat::Text);
            let state = runtime::build_default_state(config).await?;
            let created = mercato_server::app::accounts::create_operator(&state, &name, &email)
                .await
                .map_err(|e| anyhow::anyhow!("{}", e.report()))?;
            println!("created operator {} <{}> ({})", created.account.name, created.account.email, created.account.id);
            println!("API key (shown once):");
            println!("{}", created.api_key);
            Ok(())
        }
        Command::Openapi { check } => {
            let spec = mercato_server::http::openapi().to_pretty_json()? + "\n";
            match check {
                None => {
                    print!("{spec}");
                    Ok(())
                }
                Some(path) => {
                    let committed =
                        std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
                    if committed == spec {
                        println!("{} is up to date", path.display());
                        Ok(())
                    } else {
                        anyhow::bail!(
                            "{} is stale: run `cargo run -p mercato-cli -- openapi > {}`",
                            path.display(),
                            path.display()
                        )
                    }
                }
            }
        }
        Command::Isv { command } => return isv_command(command).await,
        Command::Bench { command } => return bench::run(command).await,
        Command::Chaos(args) => return chaos::run(args).await,
        Command::Ledger { command: LedgerCommand::Check(db) } => return ledger_check(&db).await,
        Command::Backup(args) => {
            runtime::init_logging(LogFormat::Text);
            backup::run(&config(&args.db, None)?, &args.out).await
        }
    };
    done.map(|()| ExitCode::SUCCESS)
}

async fn ledger_check(db: &DbArgs) -> anyhow::Result<ExitCode> {
    runtime::init_logging(LogFormat::Text);
    ledger::run_check(config(db, None)?).await
}

async fn serve(config: Config) -> anyhow::Result<()> {
    let listen = config.listen;
    let state = runtime::build_default_state(config).await?;
    let listener = tokio::net::TcpListener::bind(listen).await.with_context(|| format!("listening on {listen}"))?;
    tracing::info!(address = %listener.local_addr()?, database = ?state.db.backend, test_clock = state.test_clock.is_some(), "Mercato is serving");
    runtime::serve(state, mercato_server::workers::registry(), listener, runtime::shutdown_signal()).await
}

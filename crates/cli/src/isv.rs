//! `mercato isv sign` and `mercato isv verify`: compute or check the
//! production-interface signatures by hand — what a seller debugging a
//! `000001` needs. Both print labelled lines (`payload:`, `inner:`,
//! `signature:`) so the seller can diff each step against their own code.
//!
//! `--body` takes the JSON text itself, `@PATH` to read a file, or `-` for
//! standard input; the bytes are used exactly as given (the payload is
//! canonicalised from them, as a seller's verifier does).

use anyhow::Context;
use clap::Args;
use koo::{canonical, sign};
use std::io::Read;
use std::process::ExitCode;

/// Arguments of `mercato isv sign`.
#[derive(Args, Debug, Clone)]
pub struct SignArgs {
    /// The seller's access key (or kit key with --kit).
    #[arg(long, env = "MERCATO_ISV_KEY", hide_env_values = true)]
    pub key: String,
    /// Unix milliseconds, as sent in the `timestamp` query parameter / `x-timestamp` header.
    #[arg(long, required_unless_present = "response")]
    pub timestamp: Option<String>,
    /// The nonce, as sent in the `nonce` query parameter / `x-nonce` header.
    #[arg(long, required_unless_present = "response")]
    pub nonce: Option<String>,
    /// The request (or, with --response, response) body: JSON text, @PATH, or - for stdin.
    #[arg(long)]
    pub body: String,
    /// Sign as a kit call (x-sign: no inner digest, nested JSON kept).
    #[arg(long, conflicts_with = "response")]
    pub kit: bool,
    /// Produce the legacy Body-Sign header of a response body.
    #[arg(long)]
    pub response: bool,
}

/// Arguments of `mercato isv verify`.
#[derive(Args, Debug, Clone)]
pub struct VerifyArgs {
    #[command(flatten)]
    pub sign: SignArgs,
    /// The signature to check (hex; with --response base64 or the whole Body-Sign header value).
    #[arg(long)]
    pub signature: String,
}

/// What `sign` computes, step by step.
struct Computed {
    /// `(label, value)` lines in print order; the last is the signature.
    lines: Vec<(&'static str, String)>,
    signature: String,
}

fn read_body(spec: &str) -> anyhow::Result<Vec<u8>> {
    if spec == "-" {
        let mut buf = Vec::new();
        std::io::stdin().read_to_end(&mut buf).context("reading the body from stdin")?;
        Ok(buf)
    } else if let Some(path) = spec.strip_prefix('@') {
        std::fs::read(path).with_context(|| format!("reading the body from {path}"))
    } else {
        Ok(spec.as_bytes().to_vec())
    }
}

fn compute(args: &SignArgs) -> anyhow::Result<Computed> {
    let body = read_body(&args.body)?;
    let key = args.key.as_bytes();
    if args.response {
        let signature = sign::body_sign(key, &body);
        let header = sign::body_sign_header(key, &body);
        return Ok(Computed { lines: vec![("signature", signature.clone()), ("Body-Sign", header)], signature });
    }
    let timestamp = args.timestamp.as_deref().context("--timestamp is required")?;
    let nonce = args.nonce.as_deref().context("--nonce is required")?;
    if args.kit {
        let payload = canonical::kit_payload(&body).context("the body has no canonical form (answer 000002)")?;
        let signature = sign::kit_signature(key, nonce, timestamp, &payload);
        Ok(Computed { lines: vec![("payload", payload), ("signature", signature.clone())], signature })
    } else {
        let payload = canonical::basic_payload(&body).context("the body has no canonical form (answer 000002)")?;
        let inner = sign::basic_inner(key, &payload);
        let signature = sign::basic_signature(key, nonce, timestamp, &payload);
        Ok(Computed {
            lines: vec![("payload", payload), ("inner", inner), ("signature", signature.clone())],
            signature,
        })
    }
}

fn print_lines(lines: &[(&'static str, String)]) {
    for (label, value) in lines {
        println!("{label}: {value}");
    }
}

/// `mercato isv sign`: print the payload, inner digest (basic) and
/// signature, or with `--response` the Body-Sign header.
pub fn run_sign(args: &SignArgs) -> anyhow::Result<()> {
    print_lines(&compute(args)?.lines);
    Ok(())
}

/// `mercato isv verify`: print the computed steps, then `ok` or
/// `mismatch: expected <signature>`; exit status 1 on mismatch.
pub fn run_verify(args: &VerifyArgs) -> anyhow::Result<ExitCode> {
    let computed = compute(&args.sign)?;
    let given = args.signature.trim();
    let matches = if args.sign.response {
        let given = sign::parse_body_sign_header(given).unwrap_or_else(|| given.to_owned());
        sign::bytes_eq(given.as_bytes(), computed.signature.as_bytes())
    } else {
        sign::hex_eq(given, &computed.signature)
    };
    // The intermediate steps only: the expected value goes on the verdict line.
    let steps: Vec<_> =
        computed.lines.iter().filter(|(label, _)| !matches!(*label, "signature" | "Body-Sign")).cloned().collect();
    print_lines(&steps);
    if matches {
        println!("ok");
        Ok(ExitCode::SUCCESS)
    } else {
        println!("mismatch: expected {}", computed.signature);
        Ok(ExitCode::FAILURE)
    }
}

/// Arguments of `mercato isv open-api`.
#[derive(Args, Debug, Clone)]
pub struct OpenApiArgs {
    /// The full URL, e.g. http://127.0.0.1:8080/api/mkp-openapi-public/global/v1/license/activate.
    #[arg(long)]
    pub url: String,
    /// The seller's open-API access key id.
    #[arg(long, env = "MERCATO_ISV_AK")]
    pub ak: String,
    /// The seller's open-API secret access key.
    #[arg(long, env = "MERCATO_ISV_SK", hide_env_values = true)]
    pub sk: String,
    /// The JSON body: the text itself, @PATH, or - for stdin.
    #[arg(long)]
    pub body: String,
}

/// `mercato isv open-api`: POSTs the body signed with AK/SK (as a seller's
/// SDK does) and prints the answer; exit status 1 unless it is MKT.0000.
pub async fn run_open_api(args: &OpenApiArgs) -> anyhow::Result<ExitCode> {
    let url = reqwest::Url::parse(&args.url).with_context(|| format!("{} is not a URL", args.url))?;
    let body = read_body(&args.body)?;
    serde_json::from_slice::<serde_json::Value>(&body).context("the body is not JSON")?;
    let http = reqwest::Client::new();
    let res = crate::seed::signed_post(&http, &url, &args.ak, &args.sk, body)
        .send()
        .await
        .with_context(|| format!("calling {url}"))?;
    let status = res.status();
    let text = res.text().await.unwrap_or_default();
    println!("{text}");
    let answer: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
    if status.is_success() && answer["error_code"] == "MKT.0000" {
        Ok(ExitCode::SUCCESS)
    } else {
        eprintln!("error: the marketplace answered {status}");
        Ok(ExitCode::FAILURE)
    }
}

//! Sign and verify throughput for a typical newInstance body, one core.
//! Plain `fn main` (no criterion, to keep the dependency tree small):
//! `cargo bench -p koo --bench sign_verify`.

use koo::verify::{BasicVerifier, VerifyConfig};
use koo::{canonical, sign};
use std::hint::black_box;
use std::time::{Duration, Instant};

const KEY: &[u8] = b"abcdef0123456789";
const BODY: &[u8] = br#"{"activity":"newInstance","businessId":"87b94795-0603-4e24-8ae5-69420d60e3c8","orderId":"CS2211181819B4LVS","orderLineId":"CS2211181819B4LVS-000001","testFlag":"1"}"#;
const NONCE: &str = "50D83FDECAED6CCD8EF597F2A577950527928BA287D04E6036E92B2806FD17DA";
const TS: &str = "1680508066618";

/// Run `f` for about `budget`, return calls per second.
fn rate(name: &str, budget: Duration, mut f: impl FnMut(u64)) {
    for i in 0..1_000 {
        f(i); // warm-up
    }
    let start = Instant::now();
    let mut n: u64 = 0;
    while start.elapsed() < budget {
        for _ in 0..1_000 {
            f(n);
            n += 1;
        }
    }
    let secs = start.elapsed().as_secs_f64();
    println!("{name:<40} {:>12.0} calls/s  ({:.2} µs/call)", n as f64 / secs, secs * 1e6 / n as f64);
}

fn main() {
    let budget = Duration::from_secs(2);
    rate("canonical payload (basic)", budget, |_| {
        black_box(canonical::basic_payload(black_box(BODY)).ok());
    });
    rate("sign (canonical + inner + outer HMAC)", budget, |_| {
        let payload = canonical::basic_payload(black_box(BODY)).unwrap_or_default();
        black_box(sign::basic_signature(KEY, NONCE, TS, &payload));
    });
    let payload = canonical::basic_payload(BODY).unwrap_or_default();
    let signature = sign::basic_signature(KEY, NONCE, TS, &payload);
    let now: i64 = 1_680_508_066_618;
    // Signature check alone: the nonce would be a replay after the first
    // call, so a verifier without nonce recording is emulated by comparing.
    rate("verify signature (no nonce cache)", budget, |_| {
        let p = canonical::basic_payload(black_box(BODY)).unwrap_or_default();
        black_box(sign::hex_eq(&sign::basic_signature(KEY, NONCE, TS, &p), &signature));
    });
    // Full verify with a fresh nonce per call: every request is signed
    // ahead of timing, so only verification is measured.
    let n = 200_000;
    let nonces: Vec<String> = (0..n).map(|i| format!("{i:064x}")).collect();
    let sigs: Vec<String> = nonces.iter().map(|nc| sign::basic_signature(KEY, nc, TS, &payload)).collect();
    let verifier = BasicVerifier::new(KEY, VerifyConfig { nonce_capacity: n, ..VerifyConfig::default() });
    let start = Instant::now();
    let mut ok = 0;
    for (nc, s) in nonces.iter().zip(&sigs) {
        ok += verifier.verify(Some(s), Some(TS), Some(nc), black_box(BODY), now).is_ok() as usize;
    }
    let secs = start.elapsed().as_secs_f64();
    assert_eq!(ok, n);
    println!(
        "{:<40} {:>12.0} calls/s  ({:.2} µs/call)",
        "BasicVerifier::verify (full, new nonce)",
        n as f64 / secs,
        secs * 1e6 / n as f64
    );
}

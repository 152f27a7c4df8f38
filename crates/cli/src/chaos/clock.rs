//! Moving the operator test clock during and after the load: small steps so
//! that retries and periodic tasks come due, jumps of weeks so that
//! subscriptions come up for renewal, and the settling at the end (until
//! nothing is left to do).
//!
//! Retries are scheduled in marketplace time (1 min, 2, 4... up to 3 hours
//! for a purchase, 1 hour for a renewal), so the clock moves slower while
//! the seller is down: a few minutes of real downtime is tens of
//! marketplace minutes, not hours, and no retry gives up because the driver
//! compressed time. A jump happens only once no job is open (under the
//! gate, so none can start), so none is cut short by it; waiting for that,
//! and settling after the load, the clock moves only to a minute past the
//! next retry's time, and not while a job runs.

use super::load::Cluster;
use anyhow::bail;
use mercato_isv::Faults;
use mercato_store::bench::{chaos as facts, rated, usage_records};
use serde::Serialize;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Marketplace seconds per step: normally, and while the seller is down.
pub const STEP_SECS: i64 = 60;
pub const DOWN_STEP_SECS: i64 = 10;
/// A renewal jump: 26 days, so that monthly subscriptions bought before it
/// are within the 7 days before expiry in which auto-renewal charges.
pub const JUMP_SECS: i64 = 26 * 86_400;
/// After a move, every node's cached clock catches up (within 250 ms).
pub const CATCH_UP: Duration = Duration::from_millis(300);

#[derive(Debug, Default, Serialize)]
pub struct ClockFigures {
    pub steps: u64,
    pub jumps: u32,
    /// Jumps not made because jobs stayed open for a minute.
    pub jumps_skipped: u32,
    /// Time spent waiting, before jumps, for open jobs to finish (the load
    /// held meanwhile).
    pub quiesce_secs: f64,
    /// What was still open when a jump was skipped.
    pub open_at_skip: Option<String>,
}

/// Steps the clock every `every` until `until`, and jumps at each of `jumps`
/// (once the seller is up and no job is open).
pub async fn ticker(
    c: Arc<Cluster>,
    faults: Arc<Faults>,
    until: Instant,
    every: Duration,
    jumps: Vec<Instant>,
) -> ClockFigures {
    let mut figures = ClockFigures::default();
    let mut jumps = jumps.into_iter().peekable();
    while Instant::now() < until {
        tokio::time::sleep(every).await;
        let _all = c.gate.write().await;
        let moved = if jumps.peek().is_some_and(|at| Instant::now() >= *at) && !faults.is_down() {
            jumps.next();
            let quiet = Instant::now();
            let quiesced = quiesce(&c, Duration::from_secs(60)).await;
            figures.quiesce_secs += quiet.elapsed().as_secs_f64();
            match quiesced {
                Ok(true) => {
                    figures.jumps += 1;
                    c.advance(JUMP_SECS).await
                }
                Ok(false) => {
                    figures.jumps_skipped += 1;
                    figures.open_at_skip = open_work(&c).await.ok();
                    Ok(())
                }
                Err(e) => Err(e),
            }
        } else {
            figures.steps += 1;
            c.advance(if faults.is_down() { DOWN_STEP_SECS } else { STEP_SECS }).await
        };
        if let Err(e) = moved {
            c.tally().errors.push(format!("moving the clock: {e:#}"));
        }
        tokio::time::sleep(CATCH_UP).await;
    }
    figures
}

/// Moves the clock until no job is open; false if some still are after `within`.
async fn quiesce(c: &Cluster, within: Duration) -> anyhow::Result<bool> {
    let deadline = Instant::now() + within;
    loop {
        if facts::open_jobs(&c.db).await?.is_empty() {
            return Ok(true);
        }
        if Instant::now() >= deadline {
            return Ok(false);
        }
        to_next_job(c).await?;
    }
}

/// Lets open work run: moves the clock to a minute past the earliest
/// pending job's time (a retry; the jobs due within that minute run
/// together, as under the ticker's steps), but not while a job runs: its
/// retry deadline counts in marketplace time, and a far move during one
/// slow call would give the job up on its first failure (what `mercato
/// chaos` itself did at first: an hour passed during a 5 s timeout).
async fn to_next_job(c: &Cluster) -> anyhow::Result<()> {
    if let (Some(next), false) = facts::next_job(&c.db).await? {
        let ahead = (next - c.clock().await?).num_seconds();
        if ahead >= 0 {
            c.advance(ahead + STEP_SECS).await?;
        }
    }
    tokio::time::sleep(CATCH_UP).await;
    Ok(())
}

/// Lets the open jobs finish (the clock moved only to their retry times);
/// an error naming the open work after `within`.
pub async fn drain(c: &Cluster, within: Duration) -> anyhow::Result<()> {
    if quiesce(c, within).await? {
        return Ok(());
    }
    bail!("work still open {within:?} after the load: {}", open_work(c).await?)
}

/// Closes every usage period pushed to (two hours on, in 10-minute steps so
/// the periodic tasks run), then steps on until every record is validated
/// and every valid one rated; an error after `within`.
pub async fn close_usage(c: &Cluster, within: Duration) -> anyhow::Result<()> {
    for _ in 0..12 {
        c.advance(600).await?;
        tokio::time::sleep(CATCH_UP).await;
    }
    let deadline = Instant::now() + within;
    loop {
        let by_status = usage_records::usage_records_by_status(&c.db).await?;
        let valid = by_status.get("valid").copied().unwrap_or(0);
        let rated: i64 = rated::usage_lines(&c.db).await?.iter().map(|l| l.records).sum();
        if !by_status.contains_key("received") && rated as u64 >= valid {
            return Ok(());
        }
        if Instant::now() >= deadline {
            bail!("usage not settled {within:?} after the load: records {by_status:?}, {rated} rated");
        }
        c.advance(STEP_SECS).await?;
        tokio::time::sleep(CATCH_UP).await;
    }
}

/// The open jobs, and whether one runs: for reports.
async fn open_work(c: &Cluster) -> anyhow::Result<String> {
    let (next, running) = facts::next_job(&c.db).await?;
    let now = c.clock().await?;
    Ok(format!(
        "{} (running: {running}; next due in {} s)",
        describe(&facts::open_jobs(&c.db).await?),
        next.map_or(0, |n| (n - now).num_seconds())
    ))
}

/// `kind: n, ...`.
pub fn describe(counts: &BTreeMap<String, u64>) -> String {
    counts.iter().map(|(k, n)| format!("{k}: {n}")).collect::<Vec<_>>().join(", ")
}

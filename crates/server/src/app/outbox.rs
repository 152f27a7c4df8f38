//! The outbox as use cases see it: a change that needs work done later (a
//! seller call, a release, a retry) enqueues a job in the transaction that
//! made the change, wakes the local worker after commit, and, as the job's
//! handler, answers how the attempt ended. Running jobs is `workers/`'s
//! business; nothing here knows a job kind.

use crate::state::AppState;
use chrono::{DateTime, Utc};
use mercato_domain::ids::JobId;
use mercato_store::StoreError;
use mercato_store::entity::job;
use mercato_store::repo::jobs as repo;
use rand::Rng;
use serde::de::DeserializeOwned;
use std::time::Duration;

/// A claimed job, as its handler sees it.
#[derive(Debug, Clone)]
pub struct JobView {
    pub id: String,
    pub kind: String,
    pub reference: String,
    pub payload_json: String,
    /// This attempt's number, from 1.
    pub attempt: i64,
    /// When this attempt was due.
    pub run_at: DateTime<Utc>,
    /// When the first attempt started (retry deadlines count from here).
    pub first_attempt_at: DateTime<Utc>,
    pub lease_expires_at: DateTime<Utc>,
    /// The previous attempt's error, if it failed.
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
}

impl JobView {
    pub(crate) fn from_row(row: job::Model) -> JobView {
        let first = row.first_attempt_at.unwrap_or(row.updated_at);
        JobView {
            id: row.id,
            kind: row.kind,
            reference: row.reference,
            payload_json: row.payload_json,
            attempt: row.attempts,
            run_at: row.run_at,
            first_attempt_at: first,
            lease_expires_at: row.lease_expires_at.unwrap_or(row.updated_at),
            last_error: row.last_error,
            created_at: row.created_at,
        }
    }

    /// The payload, parsed.
    pub fn payload<T: DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        serde_json::from_str(&self.payload_json)
    }
}

/// How an attempt ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobOutcome {
    /// Done; never runs again.
    Done,
    /// Failed for now: run again `after` from now.
    Retry { after: Duration, error: String },
    /// Failed for good; never runs again.
    Dead { error: String },
}

/// Enqueues a job of `kind` due at `run_at`, in the caller's transaction
/// (the outbox row commits with the business change that caused it).
/// `reference` is unique per kind: a second enqueue with the same reference
/// adds nothing and answers false.
pub async fn enqueue(
    tx: &impl mercato_store::Executor,
    kind: &str,
    reference: &str,
    payload: &impl serde::Serialize,
    run_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let id = String::from(JobId::new());
    let payload_json = serde_json::to_string(payload).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    repo::enqueue(tx, repo::NewJob { id: &id, kind, reference, payload_json: &payload_json, run_at }, now).await
}

/// Wakes this node's worker loop now (e.g. after committing a job that is
/// due at once) instead of at its next poll.
pub fn wake(state: &AppState) {
    state.worker_wake.notify_one();
}

// ---- retries --------------------------------------------------------------

/// When to try again: exponential backoff from `first`, doubling per
/// attempt up to `max`, each delay jittered by ±`jitter` (a fraction), and
/// no attempt later than `deadline` after the first one.
///
/// After attempt `n` (1-based) fails, the next runs `min(first·2^(n-1), max)`
/// ±jitter later, but never after `first_attempt_at + deadline`: the delay is
/// cut so that one last attempt runs at the deadline, and a failure at or
/// after the deadline gives up ([`RetryPolicy::outcome`] answers `Dead`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RetryPolicy {
    pub first: Duration,
    pub max: Duration,
    pub jitter: f64,
    pub deadline: Duration,
}

impl RetryPolicy {
    /// 1 min, 2, 4, 8, 16, then every 30 min (±20 %), for up to `deadline`.
    pub const fn standard(deadline: Duration) -> RetryPolicy {
        RetryPolicy { first: Duration::from_secs(60), max: Duration::from_secs(30 * 60), jitter: 0.2, deadline }
    }

    /// New purchases and upgrades: retried for up to 3 hours.
    pub const PURCHASE: RetryPolicy = RetryPolicy::standard(Duration::from_secs(3 * 3600));
    /// Renewal, expiry, release: retried for up to 1 hour.
    pub const LIFECYCLE: RetryPolicy = RetryPolicy::standard(Duration::from_secs(3600));
    /// License codes (spec §8): every 2 minutes, 60 tries in all (the 60th
    /// runs 118 minutes after the first).
    pub const LICENSE: RetryPolicy = RetryPolicy {
        first: Duration::from_secs(120),
        max: Duration::from_secs(120),
        jitter: 0.0,
        deadline: Duration::from_secs(59 * 120),
    };

    /// The delay after failed attempt `attempt` (1-based), before jitter.
    pub fn base_delay(&self, attempt: i64) -> Duration {
        let exp = u32::try_from(attempt.saturating_sub(1).clamp(0, 30)).unwrap_or(30);
        self.first.saturating_mul(2u32.saturating_pow(exp)).min(self.max)
    }

    /// `base_delay` with jitter applied.
    pub fn delay(&self, attempt: i64) -> Duration {
        let base = self.base_delay(attempt).as_secs_f64();
        let j = self.jitter.clamp(0.0, 1.0);
        let factor = if j > 0.0 { rand::thread_rng().gen_range(1.0 - j..=1.0 + j) } else { 1.0 };
        Duration::from_secs_f64((base * factor).max(0.0))
    }

    /// How long to wait before the next attempt after `job`'s current
    /// attempt failed at `now`; `None` once the deadline is reached.
    pub fn next(&self, job: &JobView, now: DateTime<Utc>) -> Option<Duration> {
        let deadline_at = job.first_attempt_at + to_chrono(self.deadline);
        if now >= deadline_at {
            return None;
        }
        let left = (deadline_at - now).to_std().unwrap_or_default();
        Some(self.delay(job.attempt).min(left))
    }

    /// `Retry` with the next delay, or `Dead` once the deadline is reached.
    pub fn outcome(&self, job: &JobView, now: DateTime<Utc>, error: impl Into<String>) -> JobOutcome {
        let error = error.into();
        match self.next(job, now) {
            Some(after) => JobOutcome::Retry { after, error },
            None => JobOutcome::Dead { error },
        }
    }
}

pub(crate) fn to_chrono(d: Duration) -> chrono::Duration {
    chrono::Duration::from_std(d).unwrap_or(chrono::Duration::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(attempt: i64, first: DateTime<Utc>) -> JobView {
        JobView {
            id: "job_1".into(),
            kind: "k".into(),
            reference: "r".into(),
            payload_json: "{}".into(),
            attempt,
            run_at: first,
            first_attempt_at: first,
            lease_expires_at: first,
            last_error: None,
            created_at: first,
        }
    }

    #[test]
    fn backoff_doubles_from_one_minute_and_caps() {
        let p = RetryPolicy::standard(Duration::from_secs(3 * 3600));
        let mins: Vec<u64> = (1..=8).map(|a| p.base_delay(a).as_secs() / 60).collect();
        assert_eq!(mins, [1, 2, 4, 8, 16, 30, 30, 30]);
        assert_eq!(p.base_delay(1_000_000), Duration::from_secs(1800));
        assert_eq!(p.base_delay(0), Duration::from_secs(60));
    }

    #[test]
    fn jitter_stays_within_twenty_percent() {
        let p = RetryPolicy::standard(Duration::from_secs(3600));
        for attempt in 1..=6 {
            let base = p.base_delay(attempt).as_secs_f64();
            for _ in 0..200 {
                let d = p.delay(attempt).as_secs_f64();
                assert!(d >= base * 0.8 - 1e-6 && d <= base * 1.2 + 1e-6, "{d} vs {base}");
            }
        }
    }

    #[test]
    fn deadline_cuts_the_last_delay_and_then_gives_up() {
        let p = RetryPolicy { jitter: 0.0, ..RetryPolicy::standard(Duration::from_secs(3600)) };
        let first = Utc::now();
        // Early: the plain backoff.
        assert_eq!(p.next(&job(1, first), first), Some(Duration::from_secs(60)));
        // 50 minutes in, after attempt 6 (30 min backoff): cut to the 10 minutes left.
        let now = first + chrono::Duration::minutes(50);
        assert_eq!(p.next(&job(6, first), now), Some(Duration::from_secs(600)));
        // At the deadline: give up.
        let now = first + chrono::Duration::hours(1);
        assert_eq!(p.next(&job(7, first), now), None);
        assert_eq!(p.outcome(&job(7, first), now, "down"), JobOutcome::Dead { error: "down".into() });
        assert!(matches!(p.outcome(&job(1, first), first, "down"), JobOutcome::Retry { .. }));
    }
}

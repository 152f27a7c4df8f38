//! Fault injection: the reference seller can misbehave on purpose so the
//! marketplace's retry, polling and refund paths (and the conformance
//! checker's failure table) can be exercised against a real server.

use crate::clock::Clock;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How a server misbehaves. The default misbehaves in no way.
#[derive(Debug, Clone, PartialEq)]
pub struct FaultPolicy {
    /// Fraction (0.0-1.0) of calls that fail. Each failing call answers
    /// either HTTP 500 or `000005`, chosen at random, because the marketplace
    /// must treat both as retryable.
    pub fail_rate: f64,
    /// Sleep this long before answering every call.
    pub latency_ms: u64,
    /// newInstance answers `000004` (accepted, in progress) and the instance
    /// only shows its appInfo to queryInstance `async_delay_ms` later.
    pub async_mode: bool,
    /// How long async provisioning takes.
    pub async_delay_ms: u64,
    /// Refuse every newInstance with this result code (e.g. `000106`, sold out).
    pub refuse: Option<String>,
    /// Refuse every changeInstanceCheck with this result code; allowed otherwise.
    pub refuse_change: Option<String>,
    /// Answer HTTP 503 to everything for this many seconds after start.
    pub down_for_secs: u64,
    /// Seed for the fail_rate dice; `None` seeds from the OS.
    pub seed: Option<u64>,
}

impl Default for FaultPolicy {
    fn default() -> Self {
        FaultPolicy {
            fail_rate: 0.0,
            latency_ms: 0,
            async_mode: false,
            async_delay_ms: 3_000,
            refuse: None,
            refuse_change: None,
            down_for_secs: 0,
            seed: None,
        }
    }
}

/// What the fault layer decided to do with one incoming call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultAction {
    /// Handle the call normally.
    Proceed,
    /// Answer this HTTP status with no protocol body.
    HttpStatus(u16),
    /// Answer `000005` (internal error, retryable) as a normal protocol reply.
    InternalError,
}

/// The policy plus the state it needs (start time, dice).
#[derive(Debug)]
pub struct Faults {
    policy: FaultPolicy,
    clock: Arc<dyn Clock>,
    started_ms: i64,
    rng: Mutex<StdRng>,
}

impl Faults {
    /// Starts the `down_for` window now.
    pub fn new(policy: FaultPolicy, clock: Arc<dyn Clock>) -> Self {
        let rng = match policy.seed {
            Some(seed) => StdRng::seed_from_u64(seed),
            None => StdRng::from_entropy(),
        };
        let started_ms = clock.now_ms();
        Faults { policy, clock, started_ms, rng: Mutex::new(rng) }
    }

    pub fn policy(&self) -> &FaultPolicy {
        &self.policy
    }

    /// Time to sleep before answering.
    pub fn latency(&self) -> Duration {
        Duration::from_millis(self.policy.latency_ms)
    }

    /// Decides the fate of one call: 503 while "down", then a roll of the
    /// dice against `fail_rate`.
    pub fn decide(&self) -> FaultAction {
        let down_until = self.started_ms.saturating_add((self.policy.down_for_secs as i64).saturating_mul(1000));
        if self.clock.now_ms() < down_until {
            return FaultAction::HttpStatus(503);
        }
        let rate = if self.policy.fail_rate.is_finite() { self.policy.fail_rate.clamp(0.0, 1.0) } else { 0.0 };
        if rate <= 0.0 {
            return FaultAction::Proceed;
        }
        // A poisoned lock only means another call panicked mid-roll; the RNG is still usable.
        let mut rng = self.rng.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if rng.gen_bool(rate) {
            if rng.gen_bool(0.5) { FaultAction::HttpStatus(500) } else { FaultAction::InternalError }
        } else {
            FaultAction::Proceed
        }
    }

    /// When an instance created now becomes ready (now, unless async).
    pub fn ready_at_ms(&self, now_ms: i64) -> i64 {
        if self.policy.async_mode { now_ms.saturating_add(self.policy.async_delay_ms as i64) } else { now_ms }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;

    fn faults(policy: FaultPolicy) -> (Faults, Arc<ManualClock>) {
        let clock = ManualClock::new(1_000_000);
        (Faults::new(policy, clock.clone()), clock)
    }

    #[test]
    fn default_policy_always_proceeds() {
        let (f, _) = faults(FaultPolicy::default());
        for _ in 0..100 {
            assert_eq!(f.decide(), FaultAction::Proceed);
        }
    }

    #[test]
    fn down_for_answers_503_then_recovers() {
        let (f, clock) = faults(FaultPolicy { down_for_secs: 2, ..Default::default() });
        assert_eq!(f.decide(), FaultAction::HttpStatus(503));
        clock.advance_ms(1_999);
        assert_eq!(f.decide(), FaultAction::HttpStatus(503));
        clock.advance_ms(1);
        assert_eq!(f.decide(), FaultAction::Proceed);
    }

    #[test]
    fn fail_rate_one_always_fails_with_both_kinds() {
        let (f, _) = faults(FaultPolicy { fail_rate: 1.0, seed: Some(7), ..Default::default() });
        let actions: Vec<_> = (0..200).map(|_| f.decide()).collect();
        assert!(actions.iter().all(|a| *a != FaultAction::Proceed));
        assert!(actions.contains(&FaultAction::HttpStatus(500)));
        assert!(actions.contains(&FaultAction::InternalError));
    }

    #[test]
    fn fail_rate_is_roughly_respected_and_deterministic_with_a_seed() {
        let policy = FaultPolicy { fail_rate: 0.3, seed: Some(42), ..Default::default() };
        let (a, _) = faults(policy.clone());
        let (b, _) = faults(policy);
        let run_a: Vec<_> = (0..1000).map(|_| a.decide()).collect();
        let run_b: Vec<_> = (0..1000).map(|_| b.decide()).collect();
        assert_eq!(run_a, run_b);
        let failed = run_a.iter().filter(|x| **x != FaultAction::Proceed).count();
        assert!((200..400).contains(&failed), "{failed}");
    }

    #[test]
    fn out_of_range_rates_are_clamped() {
        let (f, _) = faults(FaultPolicy { fail_rate: f64::NAN, ..Default::default() });
        assert_eq!(f.decide(), FaultAction::Proceed);
        let (f, _) = faults(FaultPolicy { fail_rate: 7.0, seed: Some(1), ..Default::default() });
        assert_ne!(f.decide(), FaultAction::Proceed);
    }

    #[test]
    fn async_mode_delays_readiness() {
        let (f, _) = faults(FaultPolicy { async_mode: true, async_delay_ms: 500, ..Default::default() });
        assert_eq!(f.ready_at_ms(10), 510);
        let (f, _) = faults(FaultPolicy::default());
        assert_eq!(f.ready_at_ms(10), 10);
    }
}

//! Fault injection: the reference seller can misbehave on purpose so the
//! marketplace's retry, polling and refund paths (and the conformance
//! checker's failure table) can be exercised against a real server.
//!
//! The policy can be changed while the server runs ([`Faults::set_policy`],
//! [`Faults::go_down_for`]): `mercato chaos` turns failures on after seeding
//! and takes the seller down for a while in the middle of its load.

use crate::clock::Clock;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
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
    /// Fraction (0.0-1.0) of calls answered late: handled normally, then the
    /// answer is held back `slow_ms`. Beyond the marketplace's call timeout
    /// this is a timeout whose work was nevertheless done, the case
    /// idempotent retries exist for.
    pub slow_rate: f64,
    /// How long a late answer is held back, in milliseconds.
    pub slow_ms: u64,
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
            slow_rate: 0.0,
            slow_ms: 0,
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

/// The policy plus the state it needs (the down window, dice).
#[derive(Debug)]
pub struct Faults {
    policy: RwLock<FaultPolicy>,
    clock: Arc<dyn Clock>,
    /// Every call is answered 503 until then (Unix ms).
    down_until_ms: AtomicI64,
    rng: Mutex<StdRng>,
}

/// A rate as a probability: out-of-range values clamped, NaN as 0.
fn probability(rate: f64) -> f64 {
    if rate.is_finite() { rate.clamp(0.0, 1.0) } else { 0.0 }
}

impl Faults {
    /// Starts the `down_for` window now.
    pub fn new(policy: FaultPolicy, clock: Arc<dyn Clock>) -> Self {
        let rng = match policy.seed {
            Some(seed) => StdRng::seed_from_u64(seed),
            None => StdRng::from_entropy(),
        };
        let down_until_ms = clock.now_ms().saturating_add((policy.down_for_secs as i64).saturating_mul(1000));
        Faults {
            policy: RwLock::new(policy),
            clock,
            down_until_ms: AtomicI64::new(down_until_ms),
            rng: Mutex::new(rng),
        }
    }

    /// The policy in force now.
    pub fn policy(&self) -> FaultPolicy {
        self.policy.read().unwrap_or_else(|poisoned| poisoned.into_inner()).clone()
    }

    /// Replaces the policy for the calls that arrive from now on. Its
    /// `down_for_secs` and `seed` are ignored: the down window is
    /// [`Faults::go_down_for`]'s, and the dice keep rolling.
    pub fn set_policy(&self, policy: FaultPolicy) {
        *self.policy.write().unwrap_or_else(|poisoned| poisoned.into_inner()) = policy;
    }

    /// Answers 503 to every call for `how_long` from now (zero: up again now).
    pub fn go_down_for(&self, how_long: Duration) {
        let ms = i64::try_from(how_long.as_millis()).unwrap_or(i64::MAX);
        self.down_until_ms.store(self.clock.now_ms().saturating_add(ms), Ordering::SeqCst);
    }

    /// Whether calls are answered 503 now.
    pub fn is_down(&self) -> bool {
        self.clock.now_ms() < self.down_until_ms.load(Ordering::SeqCst)
    }

    /// Time to sleep before answering.
    pub fn latency(&self) -> Duration {
        Duration::from_millis(self.policy().latency_ms)
    }

    fn roll(&self, rate: f64) -> bool {
        let rate = probability(rate);
        if rate <= 0.0 {
            return false;
        }
        // A poisoned lock only means another call panicked mid-roll; the RNG is still usable.
        self.rng.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).gen_bool(rate)
    }

    /// Decides the fate of one call: 503 while "down", then a roll of the
    /// dice against `fail_rate`.
    pub fn decide(&self) -> FaultAction {
        if self.is_down() {
            return FaultAction::HttpStatus(503);
        }
        if !self.roll(self.policy().fail_rate) {
            return FaultAction::Proceed;
        }
        if self.roll(0.5) { FaultAction::HttpStatus(500) } else { FaultAction::InternalError }
    }

    /// How long to hold back the answer of a call just handled: `slow_ms`
    /// for a `slow_rate` share of calls, else nothing.
    pub fn late_answer(&self) -> Option<Duration> {
        let policy = self.policy();
        (policy.slow_ms > 0 && self.roll(policy.slow_rate)).then(|| Duration::from_millis(policy.slow_ms))
    }

    /// When an instance created now becomes ready (now, unless async).
    pub fn ready_at_ms(&self, now_ms: i64) -> i64 {
        let policy = self.policy();
        if policy.async_mode { now_ms.saturating_add(policy.async_delay_ms as i64) } else { now_ms }
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
    fn the_policy_and_the_down_window_change_while_running() {
        let (f, clock) = faults(FaultPolicy::default());
        assert!(!f.is_down());
        f.go_down_for(Duration::from_secs(3));
        assert_eq!(f.decide(), FaultAction::HttpStatus(503));
        clock.advance_ms(3_000);
        assert_eq!(f.decide(), FaultAction::Proceed);
        f.set_policy(FaultPolicy { fail_rate: 1.0, ..Default::default() });
        assert_ne!(f.decide(), FaultAction::Proceed);
        assert_eq!(f.policy().fail_rate, 1.0);
        f.set_policy(FaultPolicy::default());
        assert_eq!(f.decide(), FaultAction::Proceed);
    }

    #[test]
    fn late_answers_follow_slow_rate() {
        let (f, _) = faults(FaultPolicy::default());
        assert_eq!(f.late_answer(), None);
        let (f, _) = faults(FaultPolicy { slow_rate: 1.0, slow_ms: 6_000, ..Default::default() });
        assert_eq!(f.late_answer(), Some(Duration::from_secs(6)));
        let (f, _) = faults(FaultPolicy { slow_rate: 0.3, slow_ms: 10, seed: Some(5), ..Default::default() });
        let late = (0..1000).filter(|_| f.late_answer().is_some()).count();
        assert!((200..400).contains(&late), "{late}");
        let (f, _) = faults(FaultPolicy { slow_rate: 1.0, slow_ms: 0, ..Default::default() });
        assert_eq!(f.late_answer(), None, "no delay, no late answer");
    }

    #[test]
    fn async_mode_delays_readiness() {
        let (f, _) = faults(FaultPolicy { async_mode: true, async_delay_ms: 500, ..Default::default() });
        assert_eq!(f.ready_at_ms(10), 510);
        let (f, _) = faults(FaultPolicy::default());
        assert_eq!(f.ready_at_ms(10), 10);
    }
}

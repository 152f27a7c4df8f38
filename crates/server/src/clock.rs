//! Time is injected: production reads the system clock, tests and the test
//! clock substitute their own. Times are truncated to microseconds, the
//! precision PostgreSQL keeps, so a value reads back exactly as written on
//! either backend. Code reads time only through `state.now()`.

use chrono::{DateTime, SubsecRound, Utc};
use std::sync::atomic::{AtomicI64, Ordering};

pub trait Clock: Send + Sync + 'static {
    fn now(&self) -> DateTime<Utc>;
}

#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now().trunc_subsecs(6)
    }
}

/// A clock that stands still until moved: what tests use to walk through
/// expiries within one process.
#[derive(Debug)]
pub struct ManualClock {
    now: std::sync::Mutex<DateTime<Utc>>,
}

impl ManualClock {
    pub fn starting_at(now: DateTime<Utc>) -> ManualClock {
        ManualClock { now: std::sync::Mutex::new(now.trunc_subsecs(6)) }
    }

    pub fn advance(&self, by: chrono::Duration) {
        let mut now = self.now.lock().unwrap_or_else(|p| p.into_inner());
        *now += by;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        *self.now.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// The operator test clock (`serve --test-clock`) as one node sees it: a
/// frozen instant whose truth is a row in the shared database
/// (`app::test_clock`). This is the node's cached copy, refreshed from the
/// database every `app::test_clock::REFRESH` and set at once on the node
/// that moved it. It only ever moves forward, so a refresh that read an
/// older value cannot undo a newer one.
#[derive(Debug)]
pub struct TestClock {
    micros: AtomicI64,
}

impl TestClock {
    pub fn starting_at(now: DateTime<Utc>) -> TestClock {
        TestClock { micros: AtomicI64::new(now.timestamp_micros()) }
    }

    /// Moves the cached time to `now` unless it already shows a later time.
    pub fn observe(&self, now: DateTime<Utc>) {
        self.micros.fetch_max(now.timestamp_micros(), Ordering::SeqCst);
    }
}

impl Clock for TestClock {
    fn now(&self) -> DateTime<Utc> {
        DateTime::from_timestamp_micros(self.micros.load(Ordering::SeqCst)).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manual_clock_moves_only_when_told() {
        let start = Utc::now();
        let c = ManualClock::starting_at(start);
        assert_eq!(c.now(), c.now());
        c.advance(chrono::Duration::days(2));
        assert_eq!(c.now() - start.trunc_subsecs(6), chrono::Duration::days(2));
    }

    #[test]
    fn test_clock_never_moves_back() {
        let start = Utc::now().trunc_subsecs(6);
        let c = TestClock::starting_at(start);
        assert_eq!(c.now(), start);
        c.observe(start + chrono::Duration::hours(1));
        c.observe(start);
        assert_eq!(c.now(), start + chrono::Duration::hours(1));
    }
}

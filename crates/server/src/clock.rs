//! Time is injected: production reads the system clock, tests and the test
//! clock substitute their own. Times are truncated to microseconds, the
//! precision PostgreSQL keeps, so a value reads back exactly as written on
//! either backend.

use chrono::{DateTime, SubsecRound, Utc};

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
/// expiries, and what the operator test clock (`--test-clock`) will drive.
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
}

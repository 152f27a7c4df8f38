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

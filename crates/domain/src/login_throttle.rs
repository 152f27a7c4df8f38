//! Login throttling: failed password logins are counted per account (the
//! email tried) and per source address; past a limit within a window, that
//! scope is locked for a while and every login in it is refused with 429
//! before any password is checked, so guessing costs the guesser time and
//! tells nothing. A success clears the account's count, not the source's
//! (one source guessing many accounts stays throttled).

use chrono::{DateTime, Duration, Utc};

/// How many failures within `window` lock a scope, and for how long.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rule {
    pub max_failures: i64,
    pub window: Duration,
    pub lock: Duration,
}

/// Per account: 5 wrong passwords in 15 minutes lock it for 15 minutes.
pub const PER_ACCOUNT: Rule = Rule { max_failures: 5, window: Duration::minutes(15), lock: Duration::minutes(15) };

/// Per source address: 20 failures (over any accounts) in 15 minutes lock it
/// for 15 minutes.
pub const PER_SOURCE: Rule = Rule { max_failures: 20, window: Duration::minutes(15), lock: Duration::minutes(15) };

/// The key a scope is counted under.
pub fn account_scope(normalized_email: &str) -> String {
    format!("account:{normalized_email}")
}

pub fn source_scope(address: std::net::IpAddr) -> String {
    // An IPv6 client controls its whole /64: count the network, not the
    // address, or each login could come from a fresh one.
    match address {
        std::net::IpAddr::V4(v4) => format!("source:{v4}"),
        std::net::IpAddr::V6(v6) => {
            let s = v6.segments();
            format!("source:{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
        }
    }
}

/// A scope's failures as stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Failures {
    pub count: i64,
    pub window_start: DateTime<Utc>,
    pub locked_until: Option<DateTime<Utc>>,
}

impl Failures {
    /// How long logins in this scope are still refused at `now`, if they are.
    pub fn locked_for(&self, now: DateTime<Utc>) -> Option<Duration> {
        self.locked_until.filter(|until| *until > now).map(|until| until - now)
    }

    /// The count after one more failure at `now` (`None`: the first one).
    /// A failure after the window starts a new one; reaching the limit locks
    /// the scope for `rule.lock` from now.
    pub fn after_failure(previous: Option<Failures>, rule: Rule, now: DateTime<Utc>) -> Failures {
        let (count, window_start) = match previous {
            Some(p) if now - p.window_start < rule.window && p.locked_for(now).is_none() => {
                (p.count + 1, p.window_start)
            }
            // A lock that ran out starts over, as does an old window.
            _ => (1, now),
        };
        let locked_until = (count >= rule.max_failures).then(|| now + rule.lock);
        Failures { count, window_start, locked_until }
    }
}

/// Whole seconds to announce in `Retry-After` (at least 1).
pub fn retry_after_secs(wait: Duration) -> i64 {
    let ms = wait.num_milliseconds().max(0);
    (ms + 999).div_euclid(1000).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(secs: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000 + secs, 0).unwrap()
    }

    #[test]
    fn the_fifth_failure_in_the_window_locks_for_the_lock_time() {
        let mut f = None;
        for i in 0..4 {
            let next = Failures::after_failure(f, PER_ACCOUNT, t(i * 60));
            assert_eq!(next.locked_until, None, "failure {}", i + 1);
            f = Some(next);
        }
        let locked = Failures::after_failure(f, PER_ACCOUNT, t(240));
        assert_eq!(locked.count, 5);
        assert_eq!(locked.locked_until, Some(t(240 + 900)));
        assert_eq!(locked.locked_for(t(300)), Some(Duration::seconds(840)));
        assert_eq!(locked.locked_for(t(240 + 900)), None);
        // After the lock, counting starts over.
        let after = Failures::after_failure(Some(locked), PER_ACCOUNT, t(240 + 901));
        assert_eq!((after.count, after.locked_until), (1, None));
    }

    #[test]
    fn failures_spread_beyond_the_window_never_lock() {
        let mut f = None;
        for i in 0..50 {
            let next = Failures::after_failure(f, PER_ACCOUNT, t(i * 16 * 60 / 4));
            assert_eq!(next.locked_until, None, "failure {i}");
            f = Some(next);
        }
    }

    #[test]
    fn retry_after_rounds_up_to_whole_seconds() {
        assert_eq!(retry_after_secs(Duration::milliseconds(1)), 1);
        assert_eq!(retry_after_secs(Duration::milliseconds(1000)), 1);
        assert_eq!(retry_after_secs(Duration::milliseconds(1001)), 2);
        assert_eq!(retry_after_secs(Duration::seconds(-3)), 1);
    }

    #[test]
    fn ipv6_sources_count_per_64() {
        let a = source_scope("2001:db8:1:2:aaaa::1".parse().unwrap());
        let b = source_scope("2001:db8:1:2:bbbb::9".parse().unwrap());
        assert_eq!(a, b);
        assert_ne!(a, source_scope("2001:db8:1:3::1".parse().unwrap()));
        assert_eq!(source_scope("10.1.2.3".parse().unwrap()), "source:10.1.2.3");
    }
}

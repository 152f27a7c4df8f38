//! Replay protection: remember the nonces of accepted requests for as long
//! as their timestamps can pass the window check.
//!
//! # Sizing rule
//!
//! A replayed request carries the same timestamp as the original (the
//! timestamp is signed), so a nonce only needs remembering until its
//! timestamp falls out of the window: entries whose timestamp is older than
//! `now - max_age` are dropped first and are harmless to forget. Memory is
//! bounded by a fixed `capacity`; when it is full of entries that are still
//! inside the window, the oldest is evicted, and a replay of *that* request
//! would then be accepted. To make this impossible, size the capacity to at
//! least `peak accepted requests per second × (max_age + max_future_skew)`
//! in seconds — e.g. 100 calls/s × 65 s = 6 500, the default being 100 000
//! (about 5 MiB). Evictions of live entries are logged as warnings.
//!
//! Nonces are stored as 16-byte SHA-256 prefixes, so a hostile caller
//! sending huge nonces cannot grow memory either.

use sha2::{Digest, Sha256};
use std::collections::{HashSet, VecDeque};
use std::sync::Mutex;

type Fingerprint = [u8; 16];

/// A bounded, thread-safe set of recently seen nonces.
#[derive(Debug)]
pub struct NonceCache {
    max_age_ms: i64,
    capacity: usize,
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    seen: HashSet<Fingerprint>,
    /// Insertion order with each entry's request timestamp.
    order: VecDeque<(Fingerprint, i64)>,
}

fn fingerprint(nonce: &str) -> Fingerprint {
    let digest = Sha256::digest(nonce.as_bytes());
    let mut fp = [0u8; 16];
    fp.copy_from_slice(&digest[..16]);
    fp
}

impl NonceCache {
    /// A cache forgetting nonces whose timestamp is more than `max_age_ms`
    /// old, holding at most `capacity` (at least 1) entries.
    pub fn new(max_age_ms: i64, capacity: usize) -> Self {
        NonceCache { max_age_ms, capacity: capacity.max(1), inner: Mutex::new(Inner::default()) }
    }

    /// Record `nonce` (of a request stamped `timestamp_ms`); returns `false`
    /// if it was already present, i.e. the request is a replay.
    pub fn insert(&self, nonce: &str, timestamp_ms: i64, now_ms: i64) -> bool {
        let fp = fingerprint(nonce);
        // A poisoned lock only means another thread panicked mid-update;
        // the set is still a valid set, so keep using it.
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let horizon = now_ms.saturating_sub(self.max_age_ms);
        while let Some(&(old, ts)) = inner.order.front() {
            if ts >= horizon {
                break;
            }
            inner.order.pop_front();
            inner.seen.remove(&old);
        }
        if inner.seen.contains(&fp) {
            return false;
        }
        if inner.order.len() >= self.capacity
            && let Some((old, ts)) = inner.order.pop_front()
        {
            inner.seen.remove(&old);
            tracing::warn!(
                capacity = self.capacity,
                evicted_timestamp = ts,
                "nonce cache full: evicted a nonce still inside the window; raise nonce_capacity"
            );
        }
        inner.seen.insert(fp);
        inner.order.push_back((fp, timestamp_ms));
        true
    }

    /// Number of nonces currently remembered.
    pub fn len(&self) -> usize {
        self.inner.lock().unwrap_or_else(|e| e.into_inner()).order.len()
    }

    /// Whether no nonce is remembered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The fixed capacity.
    pub fn capacity(&self) -> usize {
        self.capacity
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_replays_and_expires() {
        let c = NonceCache::new(60_000, 10);
        assert!(c.insert("a", 1_000, 1_000));
        assert!(!c.insert("a", 1_000, 2_000));
        assert!(c.insert("b", 2_000, 2_000));
        // 'a' is out of the window at now = 61_001 and is forgotten.
        assert!(c.insert("c", 61_001, 61_001));
        assert_eq!(c.len(), 2);
        assert!(c.insert("a", 61_001, 61_001));
    }

    #[test]
    fn bounded() {
        let c = NonceCache::new(60_000, 100);
        for i in 0..10_000 {
            assert!(c.insert(&format!("n{i}"), 5_000, 5_000));
            assert!(c.len() <= 100);
        }
        assert_eq!(c.len(), 100);
        // The newest are still remembered.
        assert!(!c.insert("n9999", 5_000, 5_000));
        assert_eq!(c.capacity(), 100);
    }
}

//! Keys for the spec's idempotency rules (§2), so a seller stores "the
//! instance of this order line" under one well-defined key.
//!
//! - newInstance: the same (orderId, orderLineId) must give the same
//!   instanceId, never a second instance;
//! - on-demand orders: (orderId, productId);
//! - release / freeze of the same instance again: success again (no key
//!   needed: make those operations idempotent on the instance itself).

use std::collections::HashMap;
use std::fmt;
use std::hash::Hash;
use std::sync::Mutex;

/// An unambiguous key: the parts are length-prefixed, so ids containing the
/// separator cannot collide (`("a:b", "c")` vs `("a", "b:c")`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    fn build(kind: &str, a: &str, b: &str) -> Self {
        IdempotencyKey(format!("{kind}:{}:{a}:{b}", a.len()))
    }

    /// The key of a newInstance (or getLicenseAsync): orderId + orderLineId.
    pub fn for_new_instance(order_id: &str, order_line_id: &str) -> Self {
        IdempotencyKey::build("order-line", order_id, order_line_id)
    }

    /// The key of an on-demand order: orderId + productId.
    pub fn for_on_demand(order_id: &str, product_id: &str) -> Self {
        IdempotencyKey::build("on-demand", order_id, product_id)
    }

    /// The key as a string, for a unique database column.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for IdempotencyKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An in-memory "first answer wins" table, for examples and tests. It
/// grows without bound and forgets everything on restart: a real seller
/// keeps the key in its database under a unique constraint.
#[derive(Debug)]
pub struct IdempotencyCache<V> {
    entries: Mutex<HashMap<IdempotencyKey, V>>,
}

impl<V> Default for IdempotencyCache<V> {
    fn default() -> Self {
        IdempotencyCache { entries: Mutex::new(HashMap::new()) }
    }
}

impl<V: Clone> IdempotencyCache<V> {
    pub fn new() -> Self {
        Self::default()
    }

    /// The value stored under `key`, or `create()` stored and returned.
    /// The bool is true when this call created it. `create` runs under the
    /// lock, so two concurrent retries cannot both create.
    pub fn get_or_insert_with(&self, key: IdempotencyKey, create: impl FnOnce() -> V) -> (V, bool) {
        // A poisoned lock means a `create` panicked; the map itself is intact.
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(v) = entries.get(&key) {
            return (v.clone(), false);
        }
        let v = create();
        entries.insert(key, v.clone());
        (v, true)
    }

    pub fn get(&self, key: &IdempotencyKey) -> Option<V> {
        self.entries.lock().unwrap_or_else(|p| p.into_inner()).get(key).cloned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_unambiguous_and_distinct_by_kind() {
        assert_ne!(IdempotencyKey::for_new_instance("a:b", "c"), IdempotencyKey::for_new_instance("a", "b:c"));
        assert_ne!(IdempotencyKey::for_new_instance("o", "p"), IdempotencyKey::for_on_demand("o", "p"));
        assert_eq!(IdempotencyKey::for_new_instance("o", "l"), IdempotencyKey::for_new_instance("o", "l"));
        assert_eq!(IdempotencyKey::for_new_instance("o", "l").as_str(), "order-line:1:o:l");
    }

    #[test]
    fn cache_keeps_the_first_value() {
        let cache = IdempotencyCache::new();
        let key = IdempotencyKey::for_new_instance("o", "l");
        assert_eq!(cache.get_or_insert_with(key.clone(), || "first".to_owned()), ("first".to_owned(), true));
        assert_eq!(cache.get_or_insert_with(key.clone(), || "second".to_owned()), ("first".to_owned(), false));
        assert_eq!(cache.get(&key).as_deref(), Some("first"));
    }
}

//! Identifiers: UUIDv7 (time-ordered, so they sort by creation) shown with a
//! short type prefix, e.g. `prd_0193...`. Stored as the same text.

use uuid::Uuid;

/// The kinds of entity that have ids, each with its prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdKind {
    Account,
    ApiKey,
    Category,
    Product,
    Sku,
    Review,
    Media,
    Decision,
}

impl IdKind {
    pub const fn prefix(self) -> &'static str {
        match self {
            IdKind::Account => "acc",
            IdKind::ApiKey => "key",
            IdKind::Category => "cat",
            IdKind::Product => "prd",
            IdKind::Sku => "sku",
            IdKind::Review => "rev",
            IdKind::Media => "med",
            IdKind::Decision => "dec",
        }
    }
}

/// A new id of the given kind.
pub fn new_id(kind: IdKind) -> String {
    format!("{}_{}", kind.prefix(), Uuid::now_v7().simple())
}

/// True when `id` looks like an id of `kind` (prefix and 32 hex digits). Used to
/// turn obviously malformed path ids into 404s without touching the database.
pub fn is_id_of(kind: IdKind, id: &str) -> bool {
    id.strip_prefix(kind.prefix())
        .and_then(|rest| rest.strip_prefix('_'))
        .is_some_and(|hex| hex.len() == 32 && hex.bytes().all(|b| b.is_ascii_hexdigit()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_carry_prefix_and_sort_by_creation() {
        let a = new_id(IdKind::Product);
        let b = new_id(IdKind::Product);
        assert!(a.starts_with("prd_"));
        assert!(is_id_of(IdKind::Product, &a));
        assert!(!is_id_of(IdKind::Sku, &a));
        assert!(a < b, "v7 ids must sort by creation: {a} {b}");
    }

    #[test]
    fn malformed_ids_are_recognised() {
        assert!(!is_id_of(IdKind::Product, "prd_xyz"));
        assert!(!is_id_of(IdKind::Product, "prd0193"));
        assert!(!is_id_of(IdKind::Product, ""));
    }
}

//! Rules of the public catalog search: how a free-text query becomes terms,
//! how matches are scored, and the sort keys a keyset cursor carries.

use super::CatalogSort;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

pub const QUERY_MAX_CHARS: usize = 200;
pub const QUERY_TERMS_MAX: usize = 10;
pub const TERM_MAX_CHARS: usize = 50;

/// Relevance, per term: the term starts the product's name, occurs in the
/// name, or occurs only elsewhere (summary, description, tags). A product's
/// score is the sum over the terms; every term must occur somewhere.
pub const SCORE_NAME_PREFIX: i64 = 4;
pub const SCORE_NAME: i64 = 3;
pub const SCORE_TEXT: i64 = 1;

/// Splits a query on whitespace into lower-cased terms (lower-cased the way
/// `SearchColumns::search_text` is), dropping repeats. An empty or blank
/// query has no terms. The error is a message for the `q` parameter.
pub fn search_terms(q: &str) -> Result<Vec<String>, String> {
    if q.chars().count() > QUERY_MAX_CHARS {
        return Err(format!("must be at most {QUERY_MAX_CHARS} characters"));
    }
    if q.chars().any(|c| c.is_control() && !c.is_whitespace()) {
        return Err("must not contain control characters".into());
    }
    let mut terms: Vec<String> = Vec::new();
    for raw in q.split_whitespace() {
        if raw.chars().count() > TERM_MAX_CHARS {
            return Err(format!("each word must be at most {TERM_MAX_CHARS} characters"));
        }
        let term = raw.to_lowercase();
        if !terms.contains(&term) {
            terms.push(term);
        }
    }
    if terms.len() > QUERY_TERMS_MAX {
        return Err(format!("must have at most {QUERY_TERMS_MAX} words"));
    }
    Ok(terms)
}

impl CatalogSort {
    /// Relevance when there is something to be relevant to, else newest first.
    pub fn default_for(has_terms: bool) -> CatalogSort {
        if has_terms { CatalogSort::Relevance } else { CatalogSort::Newest }
    }
}

/// The sort key(s) of the last row of a page, by ordering.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "s", rename_all = "snake_case", deny_unknown_fields)]
pub enum SortKey {
    /// score desc, listed_at desc, id desc.
    Relevance { score: i64, at: DateTime<Utc> },
    /// listed_at desc, id desc.
    Newest { at: DateTime<Utc> },
    /// price asc with products without a price last, id asc.
    PriceAsc { price: Option<i64> },
    /// price desc with products without a price last, id desc.
    PriceDesc { price: Option<i64> },
}

impl SortKey {
    pub fn sort(&self) -> CatalogSort {
        match self {
            SortKey::Relevance { .. } => CatalogSort::Relevance,
            SortKey::Newest { .. } => CatalogSort::Newest,
            SortKey::PriceAsc { .. } => CatalogSort::PriceAsc,
            SortKey::PriceDesc { .. } => CatalogSort::PriceDesc,
        }
    }

    /// The key of a row under `sort`.
    pub fn of(sort: CatalogSort, score: i64, at: DateTime<Utc>, price: Option<i64>) -> SortKey {
        match sort {
            CatalogSort::Relevance => SortKey::Relevance { score, at },
            CatalogSort::Newest => SortKey::Newest { at },
            CatalogSort::PriceAsc => SortKey::PriceAsc { price },
            CatalogSort::PriceDesc => SortKey::PriceDesc { price },
        }
    }
}

/// What a catalog cursor holds: the last row's sort key and id, and a
/// fingerprint of the filters it was issued for (a cursor is only valid for
/// the same query).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CatalogCursor {
    pub k: SortKey,
    pub id: String,
    pub f: String,
}

/// A stable fingerprint (64-bit FNV-1a, hex) of the canonical filter parts.
pub fn filter_fingerprint(parts: &[&str]) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for part in parts {
        for b in part.bytes().chain([0x1f]) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    format!("{h:016x}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terms_are_lowercased_and_deduplicated() {
        assert_eq!(search_terms("  MySQL   云数据库 mysql ").unwrap(), ["mysql", "云数据库"]);
        assert!(search_terms("   ").unwrap().is_empty());
        assert_eq!(search_terms("100%_off").unwrap(), ["100%_off"]);
    }

    #[test]
    fn query_limits() {
        let eleven = (0..11).map(|i| format!("w{i}")).collect::<Vec<_>>().join(" ");
        assert!(search_terms(&eleven).is_err());
        assert!(search_terms(&"x".repeat(51)).is_err());
        assert!(search_terms(&"x".repeat(50)).is_ok());
        assert!(search_terms(&"ab ".repeat(67)).is_err(), "201 characters");
    }

    #[test]
    fn search_terms_match_search_text_lowercasing() {
        // Terms are lower-cased like the indexed text, including context-aware rules.
        let text = "ΟΔΟΣ Straße".to_lowercase();
        for t in search_terms("ΟΔΟΣ STRASSE Straße").unwrap() {
            if t != "strasse" {
                assert!(text.contains(&t), "{t} in {text}");
            }
        }
    }

    #[test]
    fn cursor_round_trips_and_rejects_other_shapes() {
        let c = CatalogCursor {
            k: SortKey::of(
                CatalogSort::Relevance,
                7,
                DateTime::from_timestamp(1_700_000_000, 123_456_000).unwrap(),
                None,
            ),
            id: "prd_1".into(),
            f: filter_fingerprint(&["a", "b"]),
        };
        let json = serde_json::to_string(&c).unwrap();
        assert_eq!(serde_json::from_str::<CatalogCursor>(&json).unwrap(), c);
        assert_eq!(c.k.sort(), CatalogSort::Relevance);
        assert!(serde_json::from_str::<CatalogCursor>(r#"{"k":{"s":"newest"},"id":"x","f":"y"}"#).is_err());
        assert_ne!(filter_fingerprint(&["ab", ""]), filter_fingerprint(&["a", "b"]));
    }
}

//! List paging: `limit` (1-100, default 20) and an opaque `cursor`.

use crate::app::error::{AppError, AppResult};
use mercato_domain::validation::Invalid;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

pub const DEFAULT_LIMIT: u64 = 20;
pub const MAX_LIMIT: u64 = 100;

/// A page of results; pass `next_cursor` back as `cursor` for the next one.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

/// Validated paging parameters.
#[derive(Debug, Clone)]
pub struct Paging {
    pub limit: u64,
    pub cursor: Option<String>,
}

impl Paging {
    pub fn new(limit: Option<u64>, cursor: Option<String>) -> Result<Paging, Invalid> {
        let limit = limit.unwrap_or(DEFAULT_LIMIT);
        if !(1..=MAX_LIMIT).contains(&limit) {
            return Err(Invalid::one("limit", format!("must be between 1 and {MAX_LIMIT}")));
        }
        let cursor = cursor.filter(|c| !c.is_empty());
        if cursor.as_ref().is_some_and(|c| c.len() > 512) {
            return Err(Invalid::one("cursor", "is not a cursor this API returned"));
        }
        Ok(Paging { limit, cursor })
    }

    /// Builds the page from `limit + 1` fetched rows: the extra row only tells
    /// that there is more.
    pub fn finish<R, T>(
        &self,
        mut rows: Vec<R>,
        cursor_of: impl Fn(&R) -> String,
        view: impl FnMut(R) -> T,
    ) -> Page<T> {
        let more = rows.len() as u64 > self.limit;
        rows.truncate(self.limit as usize);
        let next_cursor = if more { rows.last().map(cursor_of) } else { None };
        Page { items: rows.into_iter().map(view).collect(), next_cursor }
    }
}

/// A list's filter on a closed set of words (a `string_enum!` type's
/// `parse` and `allowed`), named `field`: empty or absent means all, any
/// other word is a 422 listing the allowed ones.
pub fn word_filter<T>(
    field: &str,
    text: Option<String>,
    parse: fn(&str) -> Option<T>,
    allowed: fn() -> String,
) -> AppResult<Option<T>> {
    match text.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(s) => parse(s).map(Some).ok_or_else(|| AppError::field(field, format!("must be one of {}", allowed()))),
    }
}

/// The cursor of an id-ordered list, parsed as the id it is (422 otherwise).
pub fn id_cursor<T>(paging: &Paging, parse: fn(&str) -> Option<T>) -> AppResult<Option<T>> {
    match paging.cursor.as_deref() {
        None => Ok(None),
        Some(c) => parse(c).map(Some).ok_or_else(|| AppError::field("cursor", "is not a cursor this API returned")),
    }
}

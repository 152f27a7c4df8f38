//! The use cases' error: what went wrong, in business terms, with its cause
//! chain. `http/` maps it to a problem document (status and code) in one
//! place; job and periodic-task runners record [`AppError::report`], so a
//! failing job keeps the real cause (a database error, a corrupt row) in its
//! last error and in the log.

use mercato_domain::validation::{FieldError, Invalid};
use mercato_store::StoreError;

/// Why a request was refused: the client can do something about it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Malformed beyond a field-level complaint.
    BadRequest,
    /// Missing or wrong credentials.
    Unauthorized,
    /// The wallet does not hold enough.
    PaymentRequired,
    /// Authenticated, but not allowed.
    Forbidden,
    /// No such resource, or another tenant's.
    NotFound,
    /// Well-formed, but the resource's state does not allow it.
    Conflict,
    /// A media type the endpoint does not take.
    UnsupportedMediaType,
    /// Semantically invalid (fields are listed in `errors`).
    Unprocessable,
    /// A seller's server could not be asked.
    BadGateway,
    /// Too many attempts: try again after this many seconds.
    TooManyRequests { retry_after_secs: i64 },
}

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// The request was refused; `code` is stable and machine-readable.
    #[error("{code}: {detail}")]
    Refused { refusal: Refusal, code: &'static str, detail: String, errors: Vec<FieldError> },
    /// The store failed or holds a value it cannot read.
    #[error("store: {0}")]
    Store(#[from] StoreError),
    /// Something else broke on our side.
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

pub type AppResult<T> = Result<T, AppError>;

impl AppError {
    pub fn new(refusal: Refusal, code: &'static str, detail: impl Into<String>) -> Self {
        AppError::Refused { refusal, code, detail: detail.into(), errors: Vec::new() }
    }

    /// 422 listing every invalid field.
    pub fn invalid(invalid: Invalid) -> Self {
        let n = invalid.0.len();
        AppError::Refused {
            refusal: Refusal::Unprocessable,
            code: "validation_failed",
            detail: if n == 1 { "1 field is invalid".into() } else { format!("{n} fields are invalid") },
            errors: invalid.0,
        }
    }

    /// 409 `not_offered`: the SKU named does not offer what was asked (its
    /// charging mode, periods, trial, quantities, product); `errors` names
    /// each field concerned.
    pub fn not_offered(invalid: Invalid) -> Self {
        let detail = invalid.0.iter().map(|e| format!("{}: {}", e.field, e.message)).collect::<Vec<_>>().join("; ");
        AppError::Refused {
            refusal: Refusal::Conflict,
            code: "not_offered",
            detail: format!("the SKU does not offer this: {detail}"),
            errors: invalid.0,
        }
    }

    /// A check's complaints about submitted terms: 422 when one concerns a
    /// field whose rules the request schema states (`stated`: field names,
    /// or prefixes ending in `.`), else 409 `terms_refused`: what the schema
    /// cannot say (fields that contradict each other, times against now,
    /// entries that name things not on sale), each field listed.
    pub fn terms(invalid: Invalid, stated: &[&str]) -> Self {
        let is_stated = |f: &str| stated.iter().any(|s| f == *s || (s.ends_with('.') && f.starts_with(s)));
        if invalid.0.iter().any(|e| is_stated(&e.field)) {
            return Self::invalid(invalid);
        }
        let detail = invalid.0.iter().map(|e| format!("{}: {}", e.field, e.message)).collect::<Vec<_>>().join("; ");
        AppError::Refused {
            refusal: Refusal::Conflict,
            code: "terms_refused",
            detail: format!("the terms cannot be accepted: {detail}"),
            errors: invalid.0,
        }
    }

    pub fn field(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::invalid(Invalid::one(field, message))
    }

    /// A refusal that also names the field it is about.
    pub fn about_field(refusal: Refusal, code: &'static str, field: &str, message: &str) -> Self {
        AppError::Refused {
            refusal,
            code,
            detail: format!("{field}: {message}"),
            errors: vec![FieldError { field: field.into(), message: message.into() }],
        }
    }

    pub fn bad_request(code: &'static str, detail: impl Into<String>) -> Self {
        Self::new(Refusal::BadRequest, code, detail)
    }

    pub fn unauthorized(code: &'static str, detail: impl Into<String>) -> Self {
        Self::new(Refusal::Unauthorized, code, detail)
    }

    pub fn forbidden(detail: impl Into<String>) -> Self {
        Self::new(Refusal::Forbidden, "forbidden", detail)
    }

    pub fn not_found(what: &str) -> Self {
        Self::new(Refusal::NotFound, "not_found", format!("{what} not found"))
    }

    /// The request is well-formed but conflicts with the resource's state.
    pub fn conflict(code: &'static str, detail: impl Into<String>) -> Self {
        Self::new(Refusal::Conflict, code, detail)
    }

    /// A failure on our side, described by `cause`.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        AppError::Internal(anyhow::anyhow!("{cause}"))
    }

    /// Stored rows that contradict each other or the rules: a line without
    /// its order, a specification that no longer prices, JSON the domain
    /// cannot read, a sum that overflows. A bug or a damaged database,
    /// reported as internal with what was found. (A status or mode outside
    /// its enum never gets here: the store reads it as `StoreError::Corrupt`.)
    pub fn inconsistent(what: impl std::fmt::Display) -> Self {
        AppError::internal(format!("stored data is inconsistent: {what}"))
    }

    /// The stable code: the refusal's, `conflict` for a unique constraint,
    /// else `internal`.
    pub fn code(&self) -> &'static str {
        match self {
            AppError::Refused { code, .. } => code,
            AppError::Store(StoreError::Conflict(_)) => "conflict",
            _ => "internal",
        }
    }

    /// The invalid fields a refusal names (none for other errors).
    pub fn field_errors(&self) -> &[FieldError] {
        match self {
            AppError::Refused { errors, .. } => errors,
            _ => &[],
        }
    }

    /// The whole story, causes included, for logs and a job's last error.
    pub fn report(&self) -> String {
        let mut text = self.to_string();
        let mut source = std::error::Error::source(self);
        while let Some(cause) = source {
            let more = cause.to_string();
            if !text.contains(&more) {
                text.push_str(": ");
                text.push_str(&more);
            }
            source = cause.source();
        }
        text
    }
}

impl From<Invalid> for AppError {
    fn from(i: Invalid) -> Self {
        AppError::invalid(i)
    }
}

/// A request invalid whatever the SKU is a 422; one the SKU named does not
/// offer is a 409 `not_offered` naming the fields.
impl From<mercato_domain::orders::PriceError> for AppError {
    fn from(e: mercato_domain::orders::PriceError) -> Self {
        match e {
            mercato_domain::orders::PriceError::Invalid(i) => AppError::invalid(i),
            mercato_domain::orders::PriceError::NotOffered(i) => AppError::not_offered(i),
        }
    }
}

impl From<mercato_store::DbErr> for AppError {
    fn from(e: mercato_store::DbErr) -> Self {
        AppError::Store(StoreError::from(e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_report_keeps_the_cause_chain() {
        let db = mercato_store::DbErr::Custom("no such table: order_lines".into());
        let e = AppError::from(db);
        assert_eq!(e.code(), "internal");
        assert!(e.report().contains("no such table: order_lines"), "{}", e.report());
        let wrapped = AppError::Internal(anyhow::anyhow!("disk full").context("writing the ledger"));
        assert_eq!(wrapped.report(), "writing the ledger: disk full");
    }

    #[test]
    fn refusals_keep_their_code() {
        assert_eq!(AppError::conflict("not_on_sale", "x").code(), "not_on_sale");
        assert_eq!(AppError::field("a", "b").code(), "validation_failed");
        let conflict = AppError::Store(StoreError::Conflict("uq".into()));
        assert_eq!(conflict.code(), "conflict");
    }
}

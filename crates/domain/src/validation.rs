//! Field validation that reports every problem at once, so an API client sees
//! all invalid fields in one answer instead of fixing them one round-trip at a time.

use serde::Serialize;

/// One invalid field: a JSON-pointer-like dotted path and a human message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

/// A rejected input: the list of invalid fields (never empty).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid input: {}", .0.iter().map(|e| format!("{}: {}", e.field, e.message)).collect::<Vec<_>>().join("; "))]
pub struct Invalid(pub Vec<FieldError>);

impl Invalid {
    pub fn one(field: impl Into<String>, message: impl Into<String>) -> Self {
        Invalid(vec![FieldError { field: field.into(), message: message.into() }])
    }
}

/// Collects field errors; `finish` turns them into a result.
#[derive(Debug, Default)]
pub struct Checker {
    errors: Vec<FieldError>,
}

impl Checker {
    pub fn new() -> Self {
        Self::default()
    }

    /// Records a problem with `field`. Only the first problem of a field is
    /// kept: one clear message per field reads better than a pile.
    pub fn add(&mut self, field: impl Into<String>, message: impl Into<String>) {
        let field = field.into();
        if !self.errors.iter().any(|e| e.field == field) {
            self.errors.push(FieldError { field, message: message.into() });
        }
    }

    /// Records `message` against `field` unless `ok`.
    pub fn check(&mut self, ok: bool, field: &str, message: impl Into<String>) {
        if !ok {
            self.add(field, message);
        }
    }

    /// A required text: trimmed length between `min` and `max` characters, no
    /// control characters other than line breaks and tabs.
    pub fn text(&mut self, field: &str, value: &str, min: usize, max: usize) {
        let len = value.trim().chars().count();
        if len < min {
            if min <= 1 {
                self.add(field, "must not be empty");
            } else {
                self.add(field, format!("must be at least {min} characters"));
            }
        } else if value.chars().count() > max {
            self.add(field, format!("must be at most {max} characters"));
        } else if value.chars().any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t')) {
            self.add(field, "must not contain control characters");
        }
    }

    /// An optional text: absent is fine, present is checked like `text`.
    pub fn opt_text(&mut self, field: &str, value: Option<&str>, max: usize) {
        if let Some(v) = value {
            self.text(field, v, 0, max);
        }
    }

    pub fn email(&mut self, field: &str, value: &str) {
        if !is_email(value) {
            self.add(field, "must be an email address like name@example.com");
        }
    }

    pub fn merge(&mut self, other: Invalid) {
        self.errors.extend(other.0);
    }

    pub fn is_ok(&self) -> bool {
        self.errors.is_empty()
    }

    pub fn finish(self) -> Result<(), Invalid> {
        if self.errors.is_empty() { Ok(()) } else { Err(Invalid(self.errors)) }
    }
}

/// The longest email address accepted, in characters.
pub const EMAIL_MAX: usize = 254;

/// A pragmatic email check: one `@`, a non-empty local part, a dotted domain,
/// no spaces, at most [`EMAIL_MAX`] characters. Deliverability is not our
/// concern here. (`schema::email` states the same rule.)
pub fn is_email(value: &str) -> bool {
    if value.chars().count() > EMAIL_MAX || value.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return false;
    }
    let Some((local, domain)) = value.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && !domain.contains('@')
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains("..")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checker_collects_every_error() {
        let mut c = Checker::new();
        c.text("name", "", 1, 10);
        c.text("summary", &"x".repeat(11), 1, 10);
        c.email("email", "nope");
        let err = c.finish().unwrap_err();
        let fields: Vec<_> = err.0.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["name", "summary", "email"]);
    }

    #[test]
    fn one_message_per_field() {
        let mut c = Checker::new();
        c.add("a", "first");
        c.add("a", "second");
        c.add("b", "other");
        let err = c.finish().unwrap_err();
        assert_eq!(err.0.len(), 2);
        assert_eq!(err.0[0].message, "first");
    }

    #[test]
    fn text_limits_count_characters_not_bytes() {
        let mut c = Checker::new();
        c.text("name", "数据库数据库", 1, 6);
        assert!(c.is_ok());
        c.text("name", "数据库数据库库", 1, 6);
        assert!(!c.is_ok());
    }

    #[test]
    fn control_characters_are_rejected() {
        let mut c = Checker::new();
        c.text("name", "a\u{0}b", 1, 10);
        assert!(!c.is_ok());
    }

    #[test]
    fn emails() {
        assert!(is_email("a@b.co"));
        assert!(!is_email("a@b"));
        assert!(!is_email("@b.co"));
        assert!(!is_email("a b@c.co"));
        assert!(!is_email("a@@b.co"));
    }
}

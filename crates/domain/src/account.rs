//! Accounts and their roles.

use crate::Invalid;
use crate::validation::Checker;

string_enum!(
    /// What an account is allowed to do. Operators are the marketplace's staff
    /// and are only created from the command line.
    Role {
        Buyer => "buyer",
        Seller => "seller",
        Partner => "partner",
        Operator => "operator",
    }
);

impl Role {
    /// Roles that anyone may sign up for over the API.
    pub fn self_service(self) -> bool {
        !matches!(self, Role::Operator)
    }
}

pub const NAME_MAX: usize = 100;
pub const PASSWORD_MIN: usize = 10;
pub const PASSWORD_MAX: usize = 128;
pub const KEY_NAME_MAX: usize = 64;

/// Checks a sign-up. The email is compared case-insensitively elsewhere; here
/// only its shape matters.
pub fn check_signup(name: &str, email: &str, password: &str) -> Result<(), Invalid> {
    let mut c = Checker::new();
    c.text("name", name, 1, NAME_MAX);
    c.email("email", email);
    check_password(&mut c, password);
    c.finish()
}

pub fn check_password(c: &mut Checker, password: &str) {
    let n = password.chars().count();
    c.check(n >= PASSWORD_MIN, "password", format!("must be at least {PASSWORD_MIN} characters"));
    c.check(n <= PASSWORD_MAX, "password", format!("must be at most {PASSWORD_MAX} characters"));
}

/// Emails are stored trimmed and lower-cased so that sign-up uniqueness does
/// not depend on how a person typed their address.
pub fn normalize_email(email: &str) -> String {
    email.trim().to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_round_trip_and_list() {
        for r in Role::ALL {
            assert_eq!(Role::parse(r.as_str()), Some(*r));
        }
        assert_eq!(Role::allowed(), "buyer, seller, partner, operator");
        assert!(!Role::Operator.self_service());
        assert!(Role::Seller.self_service());
    }

    #[test]
    fn signup_rules() {
        assert!(check_signup("Ann", "ann@example.com", "correct horse").is_ok());
        let err = check_signup("", "bad", "short").unwrap_err();
        assert_eq!(err.0.len(), 3);
        assert_eq!(normalize_email(" Ann@Example.COM "), "ann@example.com");
    }
}

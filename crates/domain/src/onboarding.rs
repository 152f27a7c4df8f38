//! Seller onboarding (入驻) and business certification (商业信息认证): two
//! applications with the same review cycle, and the rules on their fields.

use crate::Invalid;
use crate::money;
use crate::validation::Checker;

string_enum!(
    EntityType {
        Enterprise => "enterprise",
        Individual => "individual",
    }
);

string_enum!(
    /// Where an application (onboarding or certification) stands.
    ApplicationStatus {
        Draft => "draft",
        Submitted => "submitted",
        Approved => "approved",
        Rejected => "rejected",
    }
);

/// Why an application cannot move the way someone asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ApplicationError {
    #[error("the application is under review and cannot change until an operator decides")]
    UnderReview,
    #[error("the application is already approved")]
    AlreadyApproved,
    #[error("the application has not been submitted for review")]
    NotSubmitted,
}

impl ApplicationStatus {
    /// Editing a draft keeps it a draft; editing a rejected application starts
    /// a new draft for resubmission.
    pub fn edit(self) -> Result<Self, ApplicationError> {
        match self {
            Self::Draft | Self::Rejected => Ok(Self::Draft),
            Self::Submitted => Err(ApplicationError::UnderReview),
            Self::Approved => Err(ApplicationError::AlreadyApproved),
        }
    }

    /// A draft or a rejected application may be (re)submitted.
    pub fn submit(self) -> Result<Self, ApplicationError> {
        match self {
            Self::Draft | Self::Rejected => Ok(Self::Submitted),
            Self::Submitted => Err(ApplicationError::UnderReview),
            Self::Approved => Err(ApplicationError::AlreadyApproved),
        }
    }

    /// Operator decision; only a submitted application can be decided.
    pub fn decide(self, approve: bool) -> Result<Self, ApplicationError> {
        match self {
            Self::Submitted => Ok(if approve { Self::Approved } else { Self::Rejected }),
            Self::Approved => Err(ApplicationError::AlreadyApproved),
            Self::Draft | Self::Rejected => Err(ApplicationError::NotSubmitted),
        }
    }
}

/// The onboarding application's fields, as the seller sends them; its
/// schema ([`onboarding_form_schema`]) states [`check_onboarding`]'s rules.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OnboardingForm {
    pub entity_type: EntityType,
    /// Company or person name as registered.
    pub legal_name: String,
    /// Unified social credit code, company number or personal id number.
    pub registration_number: String,
    pub contact_name: String,
    pub contact_phone: String,
    pub contact_email: String,
    pub address: String,
    /// When buyers can reach support, e.g. "Mon-Fri 09:00-18:00 UTC+8".
    pub support_hours: String,
}

const LEGAL_NAME: (usize, usize) = (2, 200);
const REGISTRATION_NUMBER: (usize, usize) = (4, 64);
const CONTACT_NAME_MAX: usize = 100;
const PHONE: (usize, usize) = (5, 32);
const ADDRESS: (usize, usize) = (4, 300);
const SUPPORT_HOURS_MAX: usize = 100;

pub fn check_onboarding(f: &OnboardingForm) -> Result<(), Invalid> {
    let mut c = Checker::new();
    c.text("legal_name", &f.legal_name, LEGAL_NAME.0, LEGAL_NAME.1);
    c.text("registration_number", &f.registration_number, REGISTRATION_NUMBER.0, REGISTRATION_NUMBER.1);
    c.check(
        f.registration_number.chars().all(|ch| ch.is_ascii_alphanumeric() || ch == '-'),
        "registration_number",
        "may contain only letters, digits and '-'",
    );
    c.text("contact_name", &f.contact_name, 1, CONTACT_NAME_MAX);
    c.check(
        is_phone(&f.contact_phone),
        "contact_phone",
        "must be a phone number: digits, spaces, '+', '-', '(', ')', 5 to 32 characters with at least 5 digits",
    );
    c.email("contact_email", &f.contact_email);
    c.text("address", &f.address, ADDRESS.0, ADDRESS.1);
    c.text("support_hours", &f.support_hours, 1, SUPPORT_HOURS_MAX);
    c.finish()
}

fn is_phone(p: &str) -> bool {
    let digits = p.chars().filter(|c| c.is_ascii_digit()).count();
    (PHONE.0..=PHONE.1).contains(&p.len())
        && digits >= 5
        && p.chars().all(|c| c.is_ascii_digit() || matches!(c, '+' | '-' | ' ' | '(' | ')'))
}

/// A phone number as `is_phone` reads it: digits, spaces, `+`, `-`, `(`,
/// `)`, at least 5 digits.
const PHONE_PATTERN: &str = "^[+ ()-]*(?:[0-9][+ ()-]*){5,}$";
const REGISTRATION_NUMBER_PATTERN: &str = "^[A-Za-z0-9-]+$";

/// The onboarding form's schema: [`check_onboarding`]'s rules.
pub fn onboarding_form_schema() -> serde_json::Value {
    use crate::schema::{Fields, described, email, matching, reference, text};
    Fields::new()
        .required("entity_type", reference("EntityType"))
        .required("legal_name", described(text(LEGAL_NAME.0, LEGAL_NAME.1), "Company or person name as registered."))
        .required(
            "registration_number",
            described(
                matching(REGISTRATION_NUMBER_PATTERN, REGISTRATION_NUMBER.0, REGISTRATION_NUMBER.1),
                "Unified social credit code, company number or personal id number: letters, digits and '-'.",
            ),
        )
        .required("contact_name", text(1, CONTACT_NAME_MAX))
        .required(
            "contact_phone",
            described(
                matching(PHONE_PATTERN, PHONE.0, PHONE.1),
                "Digits, spaces, '+', '-', '(' and ')', with at least 5 digits.",
            ),
        )
        .required("contact_email", email())
        .required("address", text(ADDRESS.0, ADDRESS.1))
        .required(
            "support_hours",
            described(text(1, SUPPORT_HOURS_MAX), "When buyers can reach support, e.g. \"Mon-Fri 09:00-18:00 UTC+8\"."),
        )
        .closed()
}

crate::schema_from_fragment!(OnboardingForm, onboarding_form_schema(), EntityType);

/// The business certification's fields, as the seller sends them; its
/// schema ([`certification_form_schema`]) states [`check_certification`]'s
/// rules.
#[derive(Debug, Clone, PartialEq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CertificationForm {
    pub bank_name: String,
    /// Account number or IBAN; stored encrypted, shown masked.
    pub bank_account: String,
    pub account_holder: String,
    /// Tax rate in basis points (600 = 6%).
    pub tax_rate_bp: i64,
    /// ISO 4217 settlement currency.
    pub currency: String,
}

pub const MAX_TAX_RATE_BP: i64 = 10_000;
const BANK_NAME_MAX: usize = 100;
const ACCOUNT_HOLDER_MAX: usize = 200;
/// Letters and digits in an account number (spaces and '-' aside).
const ACCOUNT_CHARS: (usize, usize) = (6, 34);

pub fn check_certification(f: &CertificationForm) -> Result<(), Invalid> {
    let mut c = Checker::new();
    c.text("bank_name", &f.bank_name, 1, BANK_NAME_MAX);
    let account = compact_account(&f.bank_account);
    c.check(
        (ACCOUNT_CHARS.0..=ACCOUNT_CHARS.1).contains(&account.len())
            && account.chars().all(|ch| ch.is_ascii_alphanumeric()),
        "bank_account",
        "must be 6 to 34 letters and digits (spaces and '-' are ignored)",
    );
    c.text("account_holder", &f.account_holder, 1, ACCOUNT_HOLDER_MAX);
    c.check(
        (0..=MAX_TAX_RATE_BP).contains(&f.tax_rate_bp),
        "tax_rate_bp",
        format!("must be between 0 and {MAX_TAX_RATE_BP} basis points"),
    );
    c.check(money::is_currency(&f.currency), "currency", format!("must be one of {}", money::currency_codes()));
    c.finish()
}

/// The certification form's schema: [`check_certification`]'s rules.
pub fn certification_form_schema() -> serde_json::Value {
    use crate::schema::{Fields, described, integer, reference, text};
    let account = format!("^[ -]*(?:[A-Za-z0-9][ -]*){{{},{}}}$", ACCOUNT_CHARS.0, ACCOUNT_CHARS.1);
    Fields::new()
        .required("bank_name", text(1, BANK_NAME_MAX))
        .required(
            "bank_account",
            serde_json::json!({
                "type": "string",
                "pattern": account,
                "description": "Account number or IBAN: 6 to 34 letters and digits, spaces and '-' aside; stored encrypted, shown masked.",
            }),
        )
        .required("account_holder", text(1, ACCOUNT_HOLDER_MAX))
        .required("tax_rate_bp", described(integer(0, MAX_TAX_RATE_BP), "Tax rate in basis points (600 = 6%)."))
        .required("currency", described(reference("Currency"), "ISO 4217 settlement currency."))
        .closed()
}

crate::schema_from_fragment!(CertificationForm, certification_form_schema(), crate::money::Currency);

/// The account number without the spaces and dashes people type for reading.
pub fn compact_account(account: &str) -> String {
    account.chars().filter(|c| !matches!(c, ' ' | '-')).collect()
}

/// Shows only the last four characters: `**** 1234`.
pub fn mask_account(account: &str) -> String {
    let tail: String = account.chars().rev().take(4).collect::<Vec<_>>().into_iter().rev().collect();
    format!("**** {tail}")
}

string_enum!(
    /// Which of a seller's two applications a decision is about.
    ApplicationKind {
        Onboarding => "onboarding",
        Certification => "certification",
    }
);

string_enum!(
    /// An operator's decision on a submitted application.
    Decision {
        Approved => "approved",
        Rejected => "rejected",
    }
);

impl Decision {
    pub fn approves(self) -> bool {
        self == Decision::Approved
    }
}

/// A rejection must say why, so the seller can fix it: 1 to 500 characters.
pub const REJECT_REASON_MAX: usize = 500;

pub fn check_reject_reason(reason: &str) -> Result<(), Invalid> {
    let mut c = Checker::new();
    c.text("reason", reason, 1, REJECT_REASON_MAX);
    c.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use ApplicationStatus::*;

    #[test]
    fn review_cycle_is_exhaustive() {
        for s in ApplicationStatus::ALL {
            let edit = s.edit();
            let submit = s.submit();
            let approve = s.decide(true);
            let reject = s.decide(false);
            match s {
                Draft => {
                    assert_eq!(edit, Ok(Draft));
                    assert_eq!(submit, Ok(Submitted));
                    assert_eq!(approve, Err(ApplicationError::NotSubmitted));
                    assert_eq!(reject, Err(ApplicationError::NotSubmitted));
                }
                Submitted => {
                    assert_eq!(edit, Err(ApplicationError::UnderReview));
                    assert_eq!(submit, Err(ApplicationError::UnderReview));
                    assert_eq!(approve, Ok(Approved));
                    assert_eq!(reject, Ok(Rejected));
                }
                Approved => {
                    assert_eq!(edit, Err(ApplicationError::AlreadyApproved));
                    assert_eq!(submit, Err(ApplicationError::AlreadyApproved));
                    assert_eq!(approve, Err(ApplicationError::AlreadyApproved));
                }
                Rejected => {
                    assert_eq!(edit, Ok(Draft));
                    assert_eq!(submit, Ok(Submitted));
                    assert_eq!(approve, Err(ApplicationError::NotSubmitted));
                }
            }
        }
    }

    fn form() -> OnboardingForm {
        OnboardingForm {
            entity_type: EntityType::Enterprise,
            legal_name: "云数据库有限公司".into(),
            registration_number: "91310000MA1FL0XX1X".into(),
            contact_name: "Li Lei".into(),
            contact_phone: "+86 21 5555-0100".into(),
            contact_email: "li@example.cn".into(),
            address: "1 Century Ave, Shanghai".into(),
            support_hours: "Mon-Fri 09:00-18:00".into(),
        }
    }

    #[test]
    fn onboarding_fields() {
        assert!(check_onboarding(&form()).is_ok());
        let mut bad = form();
        bad.contact_phone = "call me".into();
        bad.registration_number = "a b".into();
        let fields: Vec<_> = check_onboarding(&bad).unwrap_err().0.into_iter().map(|e| e.field).collect();
        assert!(fields.contains(&"contact_phone".to_string()));
        assert!(fields.contains(&"registration_number".to_string()));
    }

    #[test]
    fn certification_fields_and_masking() {
        let ok = CertificationForm {
            bank_name: "ICBC".into(),
            bank_account: "6222 0210 0100 1234".into(),
            account_holder: "云数据库有限公司".into(),
            tax_rate_bp: 600,
            currency: "CNY".into(),
        };
        assert!(check_certification(&ok).is_ok());
        assert_eq!(mask_account(&compact_account(&ok.bank_account)), "**** 1234");
        let bad = CertificationForm { tax_rate_bp: 10_001, currency: "XYZ".into(), bank_account: "12".into(), ..ok };
        assert_eq!(check_certification(&bad).unwrap_err().0.len(), 3);
    }
}

#[cfg(test)]
mod decision_tests {
    use super::*;

    #[test]
    fn reject_reasons_are_one_to_five_hundred_characters() {
        assert!(check_reject_reason("Licence expired").is_ok());
        assert!(check_reject_reason(&"理".repeat(REJECT_REASON_MAX)).is_ok());
        assert!(check_reject_reason("").is_err());
        assert!(check_reject_reason("  ").is_err());
        assert!(check_reject_reason(&"x".repeat(REJECT_REASON_MAX + 1)).is_err());
    }

    #[test]
    fn decisions_and_kinds_round_trip() {
        for d in Decision::ALL {
            assert_eq!(Decision::parse(d.as_str()), Some(*d));
        }
        assert!(Decision::Approved.approves() && !Decision::Rejected.approves());
        for k in ApplicationKind::ALL {
            assert_eq!(ApplicationKind::parse(k.as_str()), Some(*k));
        }
    }
}

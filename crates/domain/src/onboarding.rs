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

/// The onboarding application's fields, as the seller sends them.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
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

pub fn check_onboarding(f: &OnboardingForm) -> Result<(), Invalid> {
    let mut c = Checker::new();
    c.text("legal_name", &f.legal_name, 2, 200);
    c.text("registration_number", &f.registration_number, 4, 64);
    c.check(
        f.registration_number.chars().all(|ch| ch.is_ascii_alphanumeric() || ch == '-'),
        "registration_number",
        "may contain only letters, digits and '-'",
    );
    c.text("contact_name", &f.contact_name, 1, 100);
    c.check(
        is_phone(&f.contact_phone),
        "contact_phone",
        "must be a phone number: digits, spaces, '+', '-', 5 to 32 characters",
    );
    c.email("contact_email", &f.contact_email);
    c.text("address", &f.address, 4, 300);
    c.text("support_hours", &f.support_hours, 1, 100);
    c.finish()
}

fn is_phone(p: &str) -> bool {
    let digits = p.chars().filter(|c| c.is_ascii_digit()).count();
    (5..=32).contains(&p.len())
        && digits >= 5
        && p.chars().all(|c| c.is_ascii_digit() || matches!(c, '+' | '-' | ' ' | '(' | ')'))
}

/// The business certification's fields, as the seller sends them.
#[derive(Debug, Clone, PartialEq, serde::Deserialize, utoipa::ToSchema)]
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

pub fn check_certification(f: &CertificationForm) -> Result<(), Invalid> {
    let mut c = Checker::new();
    c.text("bank_name", &f.bank_name, 1, 100);
    let account = compact_account(&f.bank_account);
    c.check(
        (6..=34).contains(&account.len()) && account.chars().all(|ch| ch.is_ascii_alphanumeric()),
        "bank_account",
        "must be 6 to 34 letters and digits (spaces and '-' are ignored)",
    );
    c.text("account_holder", &f.account_holder, 1, 200);
    c.check(
        (0..=MAX_TAX_RATE_BP).contains(&f.tax_rate_bp),
        "tax_rate_bp",
        format!("must be between 0 and {MAX_TAX_RATE_BP} basis points"),
    );
    c.check(money::is_currency(&f.currency), "currency", format!("must be one of {}", money::currency_codes()));
    c.finish()
}

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

//! What onboarding endpoints show: applications, decisions, queues.

use super::*;

/// The seller's onboarding application as it stands.
#[derive(Debug, Serialize, ToSchema)]
pub struct OnboardingView {
    pub status: ApplicationStatus,
    pub entity_type: EntityType,
    pub legal_name: String,
    pub registration_number: String,
    pub contact_name: String,
    pub contact_phone: String,
    pub contact_email: String,
    pub address: String,
    pub support_hours: String,
    /// Why the last decision rejected the application; null if it was never
    /// rejected or was approved since.
    pub reason: Option<String>,
    pub submitted_at: Option<DateTime<Utc>>,
    pub decided_at: Option<DateTime<Utc>>,
    pub updated_at: DateTime<Utc>,
}

/// The seller's business certification as it stands. The bank account number
/// is stored encrypted and only ever shown masked.
#[derive(Debug, Serialize, ToSchema)]
pub struct CertificationView {
    pub status: ApplicationStatus,
    pub bank_name: String,
    /// The account number's last four characters, e.g. `**** 1234`.
    pub bank_account_masked: String,
    pub account_holder: String,
    /// Tax rate in basis points (600 = 6%).
    pub tax_rate_bp: i64,
    pub currency: String,
    /// Why the last decision rejected the certification; null if it was never
    /// rejected or was approved since.
    pub reason: Option<String>,
    pub submitted_at: Option<DateTime<Utc>>,
    pub decided_at: Option<DateTime<Utc>>,
    pub updated_at: DateTime<Utc>,
}

/// The seller agreement and whether (and when) the seller accepted it.
#[derive(Debug, Serialize, ToSchema)]
pub struct AgreementView {
    /// The current agreement version.
    pub version: String,
    /// When the seller accepted this version; null if not yet.
    pub accepted_at: Option<DateTime<Utc>>,
}

/// One operator decision on an application.
#[derive(Debug, Serialize, ToSchema)]
pub struct DecisionView {
    pub id: String,
    pub decision: Decision,
    /// The rejection reason (null for approvals).
    pub reason: Option<String>,
    pub operator_id: String,
    pub decided_at: DateTime<Utc>,
}

/// An onboarding application in the operators' queue.
#[derive(Debug, Serialize, ToSchema)]
pub struct OnboardingSummary {
    pub seller_id: String,
    /// Whose application: a `seller`'s or a `partner`'s (partners are
    /// onboarded and certified the same way).
    pub role: mercato_domain::account::Role,
    pub seller_name: String,
    pub seller_email: String,
    pub entity_type: EntityType,
    pub legal_name: String,
    pub status: ApplicationStatus,
    pub submitted_at: Option<DateTime<Utc>>,
    pub updated_at: DateTime<Utc>,
}

/// A business certification in the operators' queue.
#[derive(Debug, Serialize, ToSchema)]
pub struct CertificationSummary {
    pub seller_id: String,
    /// Whose application: a `seller`'s or a `partner`'s (partners are
    /// onboarded and certified the same way).
    pub role: mercato_domain::account::Role,
    pub seller_name: String,
    pub seller_email: String,
    /// The legal name from the seller's onboarding application, if any.
    pub legal_name: Option<String>,
    pub entity_type: Option<EntityType>,
    pub bank_name: String,
    pub bank_account_masked: String,
    pub account_holder: String,
    pub tax_rate_bp: i64,
    pub currency: String,
    pub status: ApplicationStatus,
    pub submitted_at: Option<DateTime<Utc>>,
    pub updated_at: DateTime<Utc>,
}

/// An onboarding application as an operator reviews it: the seller, the
/// application, and every decision on it (oldest first).
#[derive(Debug, Serialize, ToSchema)]
pub struct OnboardingReview {
    pub seller_id: String,
    /// Whose application: a `seller`'s or a `partner`'s (partners are
    /// onboarded and certified the same way).
    pub role: mercato_domain::account::Role,
    pub seller_name: String,
    pub seller_email: String,
    #[serde(flatten)]
    pub application: OnboardingView,
    pub decisions: Vec<DecisionView>,
}

/// A business certification as an operator reviews it: the seller, the
/// certification, and every decision on it (oldest first).
#[derive(Debug, Serialize, ToSchema)]
pub struct CertificationReview {
    pub seller_id: String,
    /// Whose application: a `seller`'s or a `partner`'s (partners are
    /// onboarded and certified the same way).
    pub role: mercato_domain::account::Role,
    pub seller_name: String,
    pub seller_email: String,
    /// The legal name from the seller's onboarding application, to compare
    /// with the account holder.
    pub legal_name: Option<String>,
    #[serde(flatten)]
    pub application: CertificationView,
    pub decisions: Vec<DecisionView>,
}

/// A rejection: why, so the seller can fix the application.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RejectApplication {
    /// 1 to 500 characters, shown to the seller.
    #[schema(
        pattern = r"^[^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*[^\s\u0000-\u001F\u007F-\u009F][^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*$",
        max_length = 500
    )]
    pub reason: String,
}

impl OnboardingView {
    pub(super) fn from_row(r: seller_onboarding::Model) -> AppResult<OnboardingView> {
        Ok(OnboardingView {
            status: r.status,
            entity_type: r.entity_type,
            legal_name: r.legal_name,
            registration_number: r.registration_number,
            contact_name: r.contact_name,
            contact_phone: r.contact_phone,
            contact_email: r.contact_email,
            address: r.address,
            support_hours: r.support_hours,
            reason: r.reason,
            submitted_at: r.submitted_at,
            decided_at: r.decided_at,
            updated_at: r.updated_at,
        })
    }
}

impl CertificationView {
    pub(super) fn from_row(r: seller_certification::Model) -> AppResult<CertificationView> {
        Ok(CertificationView {
            status: r.status,
            bank_name: r.bank_name,
            bank_account_masked: r.bank_account_masked,
            account_holder: r.account_holder,
            tax_rate_bp: r.tax_rate_bp,
            currency: r.currency,
            reason: r.reason,
            submitted_at: r.submitted_at,
            decided_at: r.decided_at,
            updated_at: r.updated_at,
        })
    }
}

impl DecisionView {
    pub(super) fn from_row(r: application_decision::Model) -> AppResult<DecisionView> {
        Ok(DecisionView {
            decision: r.decision,
            id: r.id,
            reason: r.reason,
            operator_id: r.operator_id,
            decided_at: r.decided_at,
        })
    }
}

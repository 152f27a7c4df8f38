//! The conformance checker (`mercato isv check`): runs the production
//! interface's debug cases against any seller endpoint and reports, case by
//! case, what was expected and what came back.
//!
//! Every call is a debug call (`testFlag` "1" on basic calls, 1 on kit
//! calls) with order ids unique to the run, so running the checker against a
//! production seller creates only test instances, which it releases again.
//!
//! The same code serves two audiences: a seller developer testing an
//! integration from the command line, and the marketplace, which must see a
//! product's debug cases pass before the product can be submitted (spec §8);
//! [`CaseSet`] picks the cases for a period or a one-time product. It is the
//! marketplace side of the protocol and needs only `koo`, which is why it is
//! a crate of its own: the server uses it without linking the reference
//! seller (`mercato-isv`) and its store.
//!
//! Cases run one after the other in a fixed order (later lifecycle cases use
//! the instance the first one created). Each call has the protocol's 5 s
//! timeout; a transport error fails its case with a detail and the run goes
//! on, so one report always covers every selected case.

mod cases;
mod expect;
mod http;
mod kit;
mod license;
mod negative;
mod report;
mod wire;

pub use http::HttpTransport;
pub use report::{CaseResult, Report};
pub use wire::{BoxFuture, HttpAnswer, Transport, WireRequest};

use std::fmt;
use std::time::Duration;

/// One debug case. The order of [`CaseId::ALL`] is the order they run in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CaseId {
    /// newInstance: `000000`, or `000004` followed by appInfo on polling.
    NewInstance,
    /// newInstance again for the same order line: the same instanceId.
    NewInstanceRepeated,
    /// queryInstance: appInfo with a frontEndUrl.
    QueryInstance,
    /// refreshInstance, scene RENEWAL, with a new expireTime.
    Renew,
    /// updateInstanceStatus FREEZE.
    Freeze,
    /// updateInstanceStatus UNFREEZE.
    Unfreeze,
    /// upgradeInstance: the instanceId stays.
    Upgrade,
    /// Kit tenantSync add.
    KitTenantAdd,
    /// Kit tenantSync add of the same tenant: success again.
    KitTenantAddAgain,
    /// Kit singleOrgSync add.
    KitSingleOrg,
    /// Kit authSync add of one user.
    KitAuth,
    /// Kit tenantSync delete of a tenant never added: success.
    KitTenantDeleteAbsent,
    /// releaseInstance.
    Release,
    /// releaseInstance again: success again.
    ReleaseAgain,
    /// A wrong signature: `000001`.
    BadSignature,
    /// A timestamp ten minutes old: rejected.
    StaleTimestamp,
    /// No `nonce` parameter: rejected.
    MissingNonce,
    /// The same signed request twice: the second is rejected.
    ReplayedNonce,
    /// newInstance without orderLineId: `000002`.
    MissingField,
    /// getLicenseAsync: `000000` with instanceId and license.
    LicenseIssue,
    /// getLicenseAsync again for the same order line: the same license.
    LicenseIssueRepeated,
    /// refreshLicenseCode, scene RENEWAL, with a new expireTime.
    LicenseRenew,
    /// updateLicenseCodeStatus FREEZE.
    LicenseFreeze,
    /// updateLicenseCodeStatus UNFREEZE.
    LicenseUnfreeze,
    /// releaseLicenseCode.
    LicenseRelease,
    /// releaseLicenseCode again: success again.
    LicenseReleaseAgain,
}

impl CaseId {
    pub const ALL: [CaseId; 26] = [
        CaseId::NewInstance,
        CaseId::NewInstanceRepeated,
        CaseId::QueryInstance,
        CaseId::Renew,
        CaseId::Freeze,
        CaseId::Unfreeze,
        CaseId::Upgrade,
        CaseId::KitTenantAdd,
        CaseId::KitTenantAddAgain,
        CaseId::KitSingleOrg,
        CaseId::KitAuth,
        CaseId::KitTenantDeleteAbsent,
        CaseId::Release,
        CaseId::ReleaseAgain,
        CaseId::BadSignature,
        CaseId::StaleTimestamp,
        CaseId::MissingNonce,
        CaseId::ReplayedNonce,
        CaseId::MissingField,
        CaseId::LicenseIssue,
        CaseId::LicenseIssueRepeated,
        CaseId::LicenseRenew,
        CaseId::LicenseFreeze,
        CaseId::LicenseUnfreeze,
        CaseId::LicenseRelease,
        CaseId::LicenseReleaseAgain,
    ];

    /// The name shown in the report (stable: the marketplace stores it).
    pub fn name(self) -> &'static str {
        match self {
            CaseId::NewInstance => "newInstance",
            CaseId::NewInstanceRepeated => "newInstance repeated",
            CaseId::QueryInstance => "queryInstance",
            CaseId::Renew => "refreshInstance RENEWAL",
            CaseId::Freeze => "updateInstanceStatus FREEZE",
            CaseId::Unfreeze => "updateInstanceStatus UNFREEZE",
            CaseId::Upgrade => "upgradeInstance",
            CaseId::KitTenantAdd => "kit tenantSync add",
            CaseId::KitTenantAddAgain => "kit tenantSync add again",
            CaseId::KitSingleOrg => "kit singleOrgSync add",
            CaseId::KitAuth => "kit authSync add",
            CaseId::KitTenantDeleteAbsent => "kit tenantSync delete absent",
            CaseId::Release => "releaseInstance",
            CaseId::ReleaseAgain => "releaseInstance again",
            CaseId::BadSignature => "bad signature",
            CaseId::StaleTimestamp => "stale timestamp",
            CaseId::MissingNonce => "missing nonce",
            CaseId::ReplayedNonce => "replayed nonce",
            CaseId::MissingField => "missing orderLineId",
            CaseId::LicenseIssue => "getLicenseAsync",
            CaseId::LicenseIssueRepeated => "getLicenseAsync repeated",
            CaseId::LicenseRenew => "refreshLicenseCode RENEWAL",
            CaseId::LicenseFreeze => "updateLicenseCodeStatus FREEZE",
            CaseId::LicenseUnfreeze => "updateLicenseCodeStatus UNFREEZE",
            CaseId::LicenseRelease => "releaseLicenseCode",
            CaseId::LicenseReleaseAgain => "releaseLicenseCode again",
        }
    }

    /// The license interface's cases (license products).
    pub fn is_license(self) -> bool {
        matches!(
            self,
            CaseId::LicenseIssue
                | CaseId::LicenseIssueRepeated
                | CaseId::LicenseRenew
                | CaseId::LicenseFreeze
                | CaseId::LicenseUnfreeze
                | CaseId::LicenseRelease
                | CaseId::LicenseReleaseAgain
        )
    }

    /// Kit cases need the kit key.
    pub fn is_kit(self) -> bool {
        matches!(
            self,
            CaseId::KitTenantAdd
                | CaseId::KitTenantAddAgain
                | CaseId::KitSingleOrg
                | CaseId::KitAuth
                | CaseId::KitTenantDeleteAbsent
        )
    }

    /// Cases that act on the instance newInstance created.
    fn needs_instance(self) -> bool {
        matches!(
            self,
            CaseId::NewInstanceRepeated
                | CaseId::QueryInstance
                | CaseId::Renew
                | CaseId::Freeze
                | CaseId::Unfreeze
                | CaseId::Upgrade
                | CaseId::Release
                | CaseId::ReleaseAgain
        )
    }
}

/// Which cases to run.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum CaseSet {
    /// Everything a SaaS interface answers: lifecycle, negative cases, and
    /// the kit cases when a kit key is configured. What `mercato isv check`
    /// runs by default.
    #[default]
    Full,
    /// The license interface's cases (what a license product must pass
    /// before submission): getLicenseAsync (twice: the same code),
    /// refreshLicenseCode, updateLicenseCodeStatus (freeze and unfreeze),
    /// releaseLicenseCode (twice).
    LicenseProduct,
    /// The debug cases a period (yearly/monthly) SaaS product must pass
    /// before submission (spec §8): newInstance, refreshInstance,
    /// updateInstanceStatus (freeze and unfreeze), releaseInstance.
    PeriodProduct,
    /// The debug cases of a one-time product (spec §8): newInstance and
    /// releaseInstance.
    OneTimeProduct,
    /// Exactly these (plus newInstance when a selected case needs an
    /// instance), in the standard order.
    Only(Vec<CaseId>),
}

impl CaseSet {
    /// The cases to run, in order. Kit cases are dropped without a kit key.
    pub fn cases(&self, has_kit_key: bool) -> Vec<CaseId> {
        let wanted: Vec<CaseId> = match self {
            CaseSet::Full => CaseId::ALL.into_iter().filter(|c| !c.is_license()).collect(),
            CaseSet::LicenseProduct => CaseId::ALL.into_iter().filter(|c| c.is_license()).collect(),
            CaseSet::PeriodProduct => {
                vec![CaseId::NewInstance, CaseId::Renew, CaseId::Freeze, CaseId::Unfreeze, CaseId::Release]
            }
            CaseSet::OneTimeProduct => vec![CaseId::NewInstance, CaseId::Release],
            CaseSet::Only(ids) => {
                let mut ids = ids.clone();
                if ids.iter().any(|c| c.needs_instance()) {
                    ids.push(CaseId::NewInstance);
                }
                if ids.iter().any(|c| c.is_license()) {
                    ids.push(CaseId::LicenseIssue);
                }
                ids
            }
        };
        CaseId::ALL.into_iter().filter(|c| wanted.contains(c) && (has_kit_key || !c.is_kit())).collect()
    }
}

/// What to check and how.
#[derive(Clone)]
pub struct CheckConfig {
    /// The product's production-interface URL (basic calls; kit calls go
    /// to `<url>/produceAPI/v2/<name>`).
    pub url: String,
    /// The access key for basic calls.
    pub key: Vec<u8>,
    /// The kit key; kit cases run only with one.
    pub kit_key: Option<Vec<u8>>,
    pub cases: CaseSet,
    /// Allow plain HTTP to loopback hosts (never to any other host).
    pub allow_insecure: bool,
    /// Per call (the protocol's 5 s).
    pub call_timeout: Duration,
    /// How long to poll queryInstance after a `000004`.
    pub poll_timeout: Duration,
    /// Pause between polls.
    pub poll_interval: Duration,
}

impl CheckConfig {
    /// The full case set with the protocol's timeouts; HTTPS only.
    pub fn new(url: impl Into<String>, key: impl Into<Vec<u8>>) -> Self {
        CheckConfig {
            url: url.into(),
            key: key.into(),
            kit_key: None,
            cases: CaseSet::Full,
            allow_insecure: false,
            call_timeout: koo::client::CALL_TIMEOUT,
            poll_timeout: Duration::from_secs(30),
            poll_interval: Duration::from_millis(500),
        }
    }
}

// Keys stay out of logs and panic messages.
impl fmt::Debug for CheckConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CheckConfig")
            .field("url", &self.url)
            .field("key", &"<redacted>")
            .field("kit_key", &self.kit_key.as_ref().map(|_| "<redacted>"))
            .field("cases", &self.cases)
            .field("allow_insecure", &self.allow_insecure)
            .field("call_timeout", &self.call_timeout)
            .field("poll_timeout", &self.poll_timeout)
            .field("poll_interval", &self.poll_interval)
            .finish()
    }
}

/// Why no case could run at all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CheckError {
    /// Not an http(s) URL, or plain HTTP where it is not allowed.
    Url(String),
    /// An empty key (every signature would be meaningless).
    EmptyKey,
}

impl fmt::Display for CheckError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CheckError::Url(e) => f.write_str(e),
            CheckError::EmptyKey => f.write_str("the access key is empty"),
        }
    }
}

impl std::error::Error for CheckError {}

/// Check `config.url` against the marketplace's rule: HTTPS, or plain HTTP
/// to a loopback host when `allow_insecure` (the same rule as
/// `koo::client::Client`, which it uses).
pub fn check_url(url: &str, allow_insecure: bool) -> Result<(), CheckError> {
    // Only the scheme rule: the transport applies its address policy.
    let client = koo::client::Client::new(allow_insecure, koo::outbound::AddressPolicy::unrestricted())
        .map_err(|e| CheckError::Url(e.to_string()))?;
    client.check_url(url).map(|_| ()).map_err(|e| {
        let mut msg = e.to_string();
        if allow_insecure {
            msg.push_str(" (plain HTTP is allowed only to localhost / 127.0.0.0/8 / ::1)");
        } else if url.starts_with("http://") {
            msg.push_str(" (use --allow-insecure for a seller on this machine)");
        }
        CheckError::Url(msg)
    })
}

/// Run the selected cases. `Err` only when nothing could be sent (bad URL,
/// empty key); every other failure is a failing case in the report.
pub async fn run(config: &CheckConfig, transport: &dyn Transport) -> Result<Report, CheckError> {
    check_url(&config.url, config.allow_insecure)?;
    if config.key.is_empty() || config.kit_key.as_ref().is_some_and(|k| k.is_empty()) {
        return Err(CheckError::EmptyKey);
    }
    let mut run = cases::Run::new(config, transport);
    for case in config.cases.cases(config.kit_key.is_some()) {
        let result = run.case(case).await;
        tracing::debug!(case = result.name, pass = result.pass, got = %result.got, "debug case");
        run.results.push(result);
    }
    Ok(Report::new(config.url.clone(), run.results))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn case_sets() {
        assert_eq!(CaseSet::Full.cases(true).len(), 19);
        assert_eq!(CaseSet::LicenseProduct.cases(true).len(), 7);
        assert_eq!(
            CaseSet::Only(vec![CaseId::LicenseFreeze]).cases(false),
            [CaseId::LicenseIssue, CaseId::LicenseFreeze]
        );
        assert_eq!(CaseSet::Full.cases(false).len(), 14);
        assert_eq!(CaseSet::OneTimeProduct.cases(true), [CaseId::NewInstance, CaseId::Release]);
        assert_eq!(
            CaseSet::PeriodProduct.cases(false),
            [CaseId::NewInstance, CaseId::Renew, CaseId::Freeze, CaseId::Unfreeze, CaseId::Release]
        );
        assert_eq!(CaseSet::Only(vec![CaseId::Freeze]).cases(false), [CaseId::NewInstance, CaseId::Freeze]);
        assert_eq!(CaseSet::Only(vec![CaseId::KitAuth]).cases(false), []);
        assert_eq!(CaseSet::Only(vec![CaseId::BadSignature]).cases(false), [CaseId::BadSignature]);
    }

    #[test]
    fn names_are_unique() {
        let mut names: Vec<&str> = CaseId::ALL.iter().map(|c| c.name()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), CaseId::ALL.len());
    }

    #[test]
    fn url_rule() {
        assert!(check_url("https://isv.example.com/produce", false).is_ok());
        assert!(check_url("http://127.0.0.1:1/produce", true).is_ok());
        assert!(check_url("http://127.0.0.1:1/produce", false).is_err());
        assert!(check_url("http://example.com/produce", true).is_err());
        assert!(check_url("nonsense", true).is_err());
    }

    #[test]
    fn debug_redacts_keys() {
        let mut c = CheckConfig::new("https://x", b"secret-key".to_vec());
        c.kit_key = Some(b"kit-secret".to_vec());
        let s = format!("{c:?}");
        assert!(!s.contains("secret-key") && !s.contains("kit-secret"));
    }
}

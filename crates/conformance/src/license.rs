//! License-interface cases (license products with a license server): the
//! code is issued once per order line (a repeated getLicenseAsync answers
//! the same code), and renewal, freeze, unfreeze and release of it succeed,
//! release again too. They run on their own order line.

use super::cases::Run;
use super::expect::{self, fail, pass};
use super::wire::{explain, got};
use super::{CaseId, CaseResult};
use koo::ResultCode;
use koo::client::CallOutcome;

fn text_of<'o>(outcome: &'o CallOutcome, field: &str) -> Option<&'o str> {
    match outcome {
        CallOutcome::Answered { body, .. } => body.get(field)?.as_str().filter(|s| !s.trim().is_empty()),
        _ => None,
    }
}

impl Run<'_> {
    fn license_line(&self) -> (String, String) {
        let order = format!("{}L", self.order_id());
        let line = format!("{order}-000001");
        (order, line)
    }

    pub(super) async fn license_issue(&mut self, case: CaseId) -> CaseResult {
        const EXPECTED: &str = "000000 + instanceId + license";
        let (order, line) = self.license_line();
        let business_id = uuid::Uuid::new_v4().to_string();
        let body =
            Self::body("getLicenseAsync", &[("orderId", &order), ("orderLineId", &line), ("businessId", &business_id)]);
        let outcome = self.basic(&body).await;
        if outcome.code() != Some(&ResultCode::Success) {
            if case == CaseId::LicenseIssue {
                self.license_failure = explain(&outcome);
            }
            return fail(case.name(), EXPECTED, got(&outcome), explain(&outcome));
        }
        let (Some(instance), Some(code)) = (text_of(&outcome, "instanceId"), text_of(&outcome, "license")) else {
            if case == CaseId::LicenseIssue {
                self.license_failure = "no instanceId or license in its answer".into();
            }
            return fail(case.name(), EXPECTED, got(&outcome), "the answer needs instanceId and license");
        };
        match (&self.license, case) {
            (_, CaseId::LicenseIssue) => {
                self.license = Some((instance.to_string(), code.to_string()));
                pass(case.name(), EXPECTED, got(&outcome), format!("instanceId {instance}"))
            }
            (Some((_, first)), _) if first == code => pass(case.name(), EXPECTED, "same license", ""),
            (Some((_, first)), _) => fail(
                case.name(),
                "the same license",
                "another license",
                format!(
                    "a retry for the same order line got another code than {first}: every marketplace retry would issue a new license"
                ),
            ),
            (None, _) => fail(case.name(), EXPECTED, "not run", "getLicenseAsync gave no license to compare with"),
        }
    }

    pub(super) async fn license_call(&mut self, case: CaseId) -> CaseResult {
        let code = ResultCode::Success;
        let Some((instance, _)) = self.license.clone() else {
            let why = if self.license_failure.is_empty() { "it did not run" } else { &self.license_failure };
            return fail(
                case.name(),
                code.as_str(),
                "not run",
                format!("no license to act on; getLicenseAsync failed: {why}"),
            );
        };
        let body = match case {
            CaseId::LicenseRenew => {
                let expire = (chrono::Utc::now() + chrono::Duration::days(366)).format("%Y%m%d%H%M%S").to_string();
                let (order, line) = self.license_line();
                Self::body(
                    "refreshLicenseCode",
                    &[
                        ("scene", "RENEWAL"),
                        ("orderId", &format!("{order}R")),
                        ("orderLineId", &format!("{line}R")),
                        ("instanceId", &instance),
                        ("expireTime", &expire),
                    ],
                )
            }
            CaseId::LicenseFreeze => {
                Self::body("updateLicenseCodeStatus", &[("instanceId", &instance), ("status", "FREEZE")])
            }
            CaseId::LicenseUnfreeze => {
                Self::body("updateLicenseCodeStatus", &[("instanceId", &instance), ("status", "UNFREEZE")])
            }
            _ => Self::body("releaseLicenseCode", &[("instanceId", &instance)]),
        };
        let outcome = self.basic(&body).await;
        let mut result = expect::exact(case.name(), &code, &outcome);
        if case == CaseId::LicenseReleaseAgain && !result.pass {
            result.detail.push_str(" (releasing a released license must succeed again: the marketplace retries)");
        }
        result
    }
}

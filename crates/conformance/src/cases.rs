//! The instance lifecycle cases, and the run state they share.

use super::expect::{self, fail, front_end_url, instance_id_of, pass};
use super::wire::{self, Signing, Transport, explain, got};
use super::{CaseId, CaseResult, CheckConfig};
use koo::client::CallOutcome;
use koo::{CodeClass, ResultCode};
use serde_json::{Map, Value};
use std::time::Instant;

/// One run: the configuration, the ids it made up, what it learned so far.
pub(super) struct Run<'a> {
    pub(super) config: &'a CheckConfig,
    transport: &'a dyn Transport,
    /// Unique to the run, so repeated runs never collide on a seller.
    pub(super) tag: String,
    /// The instance newInstance created (`None` until it succeeds).
    pub(super) instance_id: Option<String>,
    /// Why newInstance gave no instance, for the cases that then cannot run.
    instance_failure: String,
    /// The license getLicenseAsync issued: (instanceId, code).
    pub(super) license: Option<(String, String)>,
    /// Why getLicenseAsync gave no license.
    pub(super) license_failure: String,
    pub(super) results: Vec<CaseResult>,
}

impl<'a> Run<'a> {
    pub(super) fn new(config: &'a CheckConfig, transport: &'a dyn Transport) -> Self {
        let nonce = koo::client::new_nonce();
        let tag = nonce.get(..12).unwrap_or(&nonce).to_ascii_uppercase();
        Run {
            config,
            transport,
            tag,
            instance_id: None,
            instance_failure: String::new(),
            license: None,
            license_failure: String::new(),
            results: Vec::new(),
        }
    }

    pub(super) async fn case(&mut self, case: CaseId) -> CaseResult {
        match case {
            CaseId::NewInstance => self.new_instance().await,
            CaseId::NewInstanceRepeated => self.new_instance_repeated().await,
            CaseId::QueryInstance => self.query_instance().await,
            CaseId::Renew => self.renew().await,
            CaseId::Freeze => self.set_status(case, "FREEZE").await,
            CaseId::Unfreeze => self.set_status(case, "UNFREEZE").await,
            CaseId::Upgrade => self.upgrade().await,
            CaseId::Release | CaseId::ReleaseAgain => self.release(case).await,
            CaseId::KitTenantAdd
            | CaseId::KitTenantAddAgain
            | CaseId::KitSingleOrg
            | CaseId::KitAuth
            | CaseId::KitTenantDeleteAbsent => self.kit_case(case).await,
            CaseId::BadSignature
            | CaseId::StaleTimestamp
            | CaseId::MissingNonce
            | CaseId::ReplayedNonce
            | CaseId::MissingField => self.negative_case(case).await,
            CaseId::LicenseIssue | CaseId::LicenseIssueRepeated => self.license_issue(case).await,
            CaseId::LicenseRenew
            | CaseId::LicenseFreeze
            | CaseId::LicenseUnfreeze
            | CaseId::LicenseRelease
            | CaseId::LicenseReleaseAgain => self.license_call(case).await,
        }
    }

    // ------------------------------------------------------------ plumbing

    pub(super) fn now_ms() -> i64 {
        chrono::Utc::now().timestamp_millis()
    }

    /// The run's order: every lifecycle call refers to it.
    pub(super) fn order_id(&self) -> String {
        format!("CHK{}", self.tag)
    }

    pub(super) fn order_line_id(&self) -> String {
        format!("{}-000001", self.order_id())
    }

    /// A basic-call body: `activity`, the given fields, `testFlag` "1".
    pub(super) fn body(activity: &str, fields: &[(&str, &str)]) -> Value {
        let mut map = Map::new();
        map.insert("activity".into(), activity.into());
        for (k, v) in fields {
            map.insert((*k).into(), (*v).into());
        }
        map.insert("testFlag".into(), koo::calls::TEST_FLAG.into());
        Value::Object(map)
    }

    /// Send a basic call correctly signed.
    pub(super) async fn basic(&self, body: &Value) -> CallOutcome {
        self.basic_signed(body, &Signing::fresh(&self.config.key, Self::now_ms())).await
    }

    /// Send a basic call with these signature parameters.
    pub(super) async fn basic_signed(&self, body: &Value, signing: &Signing) -> CallOutcome {
        match wire::basic_request(&self.config.url, body, signing) {
            Ok(request) => self.send(request).await,
            Err(e) => CallOutcome::Transport(format!("cannot build the request: {e}")),
        }
    }

    pub(super) async fn send(&self, request: wire::WireRequest) -> CallOutcome {
        wire::send(self.transport, request, self.config.call_timeout).await
    }

    /// The instance, or the failing result of a case that needs it.
    fn instance(&self, case: CaseId, expected: &str) -> Result<String, CaseResult> {
        self.instance_id.clone().ok_or_else(|| {
            let why = if self.instance_failure.is_empty() { "it did not run" } else { &self.instance_failure };
            fail(case.name(), expected, "not run", format!("no instance to act on; newInstance failed: {why}"))
        })
    }

    fn new_instance_body(&self) -> Value {
        let business_id = uuid::Uuid::new_v4().to_string();
        Self::body(
            "newInstance",
            &[("orderId", &self.order_id()), ("orderLineId", &self.order_line_id()), ("businessId", &business_id)],
        )
    }

    // ------------------------------------------------------------- cases

    async fn new_instance(&mut self) -> CaseResult {
        const EXPECTED: &str = "000000, or 000004 then appInfo";
        let name = CaseId::NewInstance.name();
        let outcome = self.basic(&self.new_instance_body()).await;
        if !expect::accepted(&outcome) {
            self.instance_failure = explain(&outcome);
            return fail(name, EXPECTED, got(&outcome), explain(&outcome));
        }
        let Some(id) = instance_id_of(&outcome) else {
            self.instance_failure = "no instanceId in its answer".into();
            return fail(
                name,
                EXPECTED,
                got(&outcome),
                "no instanceId in the answer (mandatory with 000000 and 000004)",
            );
        };
        self.instance_id = Some(id.clone());
        if outcome.code() != Some(&ResultCode::InProgress) {
            return pass(name, EXPECTED, got(&outcome), format!("instanceId {id}"));
        }
        let started = Instant::now();
        match self.poll_app_info(&id).await {
            Ok(_) => pass(
                name,
                EXPECTED,
                "000004 then appInfo",
                format!("instanceId {id}; appInfo after {:.1} s of polling", started.elapsed().as_secs_f64()),
            ),
            Err(why) => fail(name, EXPECTED, "000004", format!("instanceId {id}: {why}")),
        }
    }

    /// Poll queryInstance after a `000004` until the instance shows its
    /// appInfo, as the marketplace does. Transient failures keep polling;
    /// a refusal ends it.
    async fn poll_app_info(&self, id: &str) -> Result<String, String> {
        let deadline = Instant::now() + self.config.poll_timeout;
        loop {
            tokio::time::sleep(self.config.poll_interval).await;
            let outcome = self.basic(&Self::body("queryInstance", &[("instanceId", id)])).await;
            if let Some(url) = front_end_url(&outcome, id) {
                return Ok(url);
            }
            let still_pending = outcome.is_retryable()
                || matches!(outcome.code().map(ResultCode::class), Some(CodeClass::Success | CodeClass::InProgress));
            if !still_pending {
                return Err(format!("queryInstance while provisioning was refused: {}", explain(&outcome)));
            }
            if Instant::now() >= deadline {
                return Err(format!(
                    "no appInfo within {} s of polling queryInstance; last answer: {}",
                    self.config.poll_timeout.as_secs(),
                    explain(&outcome)
                ));
            }
        }
    }

    async fn new_instance_repeated(&mut self) -> CaseResult {
        const EXPECTED: &str = "same instanceId";
        let case = CaseId::NewInstanceRepeated;
        let first = match self.instance(case, EXPECTED) {
            Ok(id) => id,
            Err(result) => return result,
        };
        // A retry carries a new businessId but the same order line.
        let outcome = self.basic(&self.new_instance_body()).await;
        if !expect::accepted(&outcome) {
            return fail(case.name(), EXPECTED, got(&outcome), explain(&outcome));
        }
        match instance_id_of(&outcome) {
            Some(id) if id == first => pass(case.name(), EXPECTED, format!("{} same id", got(&outcome)), ""),
            Some(id) => fail(
                case.name(),
                EXPECTED,
                format!("{} other id", got(&outcome)),
                format!(
                    "instanceId {id} differs from the first call's {first}: every marketplace retry would create another instance (same orderId + orderLineId must give the same instanceId)"
                ),
            ),
            None => fail(case.name(), EXPECTED, got(&outcome), "no instanceId in the answer"),
        }
    }

    async fn query_instance(&mut self) -> CaseResult {
        const EXPECTED: &str = "000000 + frontEndUrl";
        let case = CaseId::QueryInstance;
        let id = match self.instance(case, EXPECTED) {
            Ok(id) => id,
            Err(result) => return result,
        };
        let outcome = self.basic(&Self::body("queryInstance", &[("instanceId", &id)])).await;
        if outcome.code() != Some(&ResultCode::Success) {
            return fail(case.name(), EXPECTED, got(&outcome), explain(&outcome));
        }
        match front_end_url(&outcome, &id) {
            Some(url) => pass(case.name(), EXPECTED, "000000 + frontEndUrl", format!("frontEndUrl {url}")),
            None => fail(
                case.name(),
                EXPECTED,
                "000000, no frontEndUrl",
                format!("the answer has no info[] entry for {id} with appInfo.frontEndUrl"),
            ),
        }
    }

    async fn renew(&mut self) -> CaseResult {
        let case = CaseId::Renew;
        let code = ResultCode::Success;
        let id = match self.instance(case, code.as_str()) {
            Ok(id) => id,
            Err(result) => return result,
        };
        // One year on, as a yearly renewal would set it (UTC yyyyMMddHHmmss).
        let expire = (chrono::Utc::now() + chrono::Duration::days(366)).format("%Y%m%d%H%M%S").to_string();
        let order = format!("{}R", self.order_id());
        let body = Self::body(
            "refreshInstance",
            &[
                ("scene", "RENEWAL"),
                ("orderId", &order),
                ("orderLineId", &format!("{order}-000001")),
                ("instanceId", &id),
                ("expireTime", &expire),
            ],
        );
        let outcome = self.basic(&body).await;
        expect::exact(case.name(), &code, &outcome)
    }

    async fn set_status(&mut self, case: CaseId, status: &str) -> CaseResult {
        let code = ResultCode::Success;
        let id = match self.instance(case, code.as_str()) {
            Ok(id) => id,
            Err(result) => return result,
        };
        let outcome = self.basic(&Self::body("updateInstanceStatus", &[("instanceId", &id), ("status", status)])).await;
        expect::exact(case.name(), &code, &outcome)
    }

    async fn upgrade(&mut self) -> CaseResult {
        let case = CaseId::Upgrade;
        const EXPECTED: &str = "000000, same instanceId";
        let id = match self.instance(case, EXPECTED) {
            Ok(id) => id,
            Err(result) => return result,
        };
        let order = format!("{}U", self.order_id());
        let body = Self::body(
            "upgradeInstance",
            &[("instanceId", &id), ("orderId", &order), ("orderLineId", &format!("{order}-000001"))],
        );
        let outcome = self.basic(&body).await;
        if outcome.code() != Some(&ResultCode::Success) {
            return fail(case.name(), EXPECTED, got(&outcome), explain(&outcome));
        }
        // The answer need not carry instanceId; if it does, it must not move.
        match instance_id_of(&outcome) {
            Some(other) if other != id => fail(
                case.name(),
                EXPECTED,
                "000000 other id",
                format!("the answer names instanceId {other}; an upgrade keeps {id}"),
            ),
            _ => pass(case.name(), EXPECTED, got(&outcome), ""),
        }
    }

    async fn release(&mut self, case: CaseId) -> CaseResult {
        let code = ResultCode::Success;
        let id = match self.instance(case, code.as_str()) {
            Ok(id) => id,
            Err(result) => return result,
        };
        let outcome = self.basic(&Self::body("releaseInstance", &[("instanceId", &id)])).await;
        let mut result = expect::exact(case.name(), &code, &outcome);
        if case == CaseId::ReleaseAgain && !result.pass {
            result
                .detail
                .push_str(" (releasing an already released instance must succeed again: the marketplace retries)");
        }
        result
    }
}

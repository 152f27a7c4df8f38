//! Kit cases (joint-operation SaaS, spec §4): adds are idempotent, deletes
//! of absent records succeed. They act on the lifecycle instance when there
//! is one (it is still live: they run before the release cases).

use super::cases::Run;
use super::expect;
use super::wire;
use super::{CaseId, CaseResult};
use koo::ResultCode;
use koo::calls::flag;
use koo::client::CallOutcome;
use serde_json::{Value, json};

impl Run<'_> {
    pub(super) async fn kit_case(&mut self, case: CaseId) -> CaseResult {
        let tenant = format!("T{}", self.tag);
        let outcome = match case {
            CaseId::KitTenantAdd | CaseId::KitTenantAddAgain => {
                self.kit("tenantSync", self.tenant_body(&tenant, flag::ADD)).await
            }
            CaseId::KitSingleOrg => {
                let body = self.with_common(
                    &tenant,
                    json!({"orgCode": format!("O{}", self.tag), "orgName": "Mercato check", "parentCode": "", "flag": flag::ADD}),
                );
                self.kit("singleOrgSync", body).await
            }
            CaseId::KitAuth => {
                let user = json!({
                    "userName": format!("check{}", self.tag.to_ascii_lowercase()),
                    "name": "Mercato Check",
                    "orgCode": format!("O{}", self.tag),
                    "role": "admin",
                    "enable": "true",
                    "email": "check@example.com",
                });
                let body = self.with_common(
                    &tenant,
                    json!({"appId": format!("A{}", self.tag), "currentSyncTime": Self::kit_time(), "flag": flag::ADD, "userList": [user]}),
                );
                self.kit("authSync", body).await
            }
            _ => self.kit("tenantSync", self.tenant_body(&format!("{tenant}-ABSENT"), flag::DELETE)).await,
        };
        let mut result = expect::exact(case.name(), &ResultCode::Success, &outcome);
        if !result.pass && matches!(case, CaseId::KitTenantAddAgain | CaseId::KitTenantDeleteAbsent) {
            result.detail.push_str(" (kit calls are idempotent: repeated adds and deletes of absent records succeed)");
        }
        result
    }

    /// `yyyyMMddHHmmssSSS`, the kit `timeStamp` format.
    fn kit_time() -> String {
        chrono::Utc::now().format("%Y%m%d%H%M%S%3f").to_string()
    }

    fn tenant_body(&self, tenant: &str, flag: i32) -> Value {
        self.with_common(
            tenant,
            json!({
                "orderId": self.order_id(),
                "tenantCode": tenant.to_ascii_lowercase(),
                "name": "Mercato check tenant",
                "domainName": "https://check.example.com",
                "flag": flag,
            }),
        )
    }

    /// Add the common kit fields: instanceId, tenantId, testFlag 1, timeStamp.
    fn with_common(&self, tenant: &str, mut body: Value) -> Value {
        let instance = self.instance_id.clone().unwrap_or_else(|| format!("{}-kit", self.order_id()));
        if let Value::Object(map) = &mut body {
            map.insert("instanceId".into(), instance.into());
            map.insert("tenantId".into(), tenant.into());
            map.insert("testFlag".into(), 1.into());
            map.insert("timeStamp".into(), Self::kit_time().into());
        }
        body
    }

    async fn kit(&self, name: &str, body: Value) -> CallOutcome {
        let Some(key) = &self.config.kit_key else {
            return CallOutcome::Transport("no kit key configured".into());
        };
        match wire::kit_request(&self.config.url, name, &body, key, Self::now_ms()) {
            Ok(request) => self.send(request).await,
            Err(e) => CallOutcome::Transport(format!("cannot build the request: {e}")),
        }
    }
}

//! The reference seller's answers: the `koo` SDK traits implemented on the
//! SQLite store, with the fault policy's `refuse` and `async_mode` applied.
//!
//! Behaviour decisions (documented for sellers copying it):
//! - newInstance: instanceId = the first call's businessId; a retry for the
//!   same (orderId, orderLineId) gets the same id, even after release.
//!   In async mode the answer is `000004` until the instance is ready.
//! - queryInstance: released and unknown ids are left out; if none is left,
//!   `000003`. If none of the remaining ones is ready yet, `000004`; otherwise
//!   `000000` with the ready ones' appInfo (not-ready ones without appInfo).
//! - A released instance is gone for every call (`000003`) except
//!   releaseInstance itself, which answers `000000` again.
//! - refreshInstance keeps the status: unfreezing after renewal is the
//!   marketplace's separate updateInstanceStatus call.
//! - License calls: getLicenseAsync issues one code per order line (same code
//!   on retries); the other license calls name it by instanceId.

use crate::faults::Faults;
use crate::store::{
    Application, KitScope, LicenseRequest, NewInstance, Org, Refresh, RefreshScene, SellerStore, StoreError, SyncFlag,
    Tenant, User,
};
use koo::ResultCode;
use koo::calls::{self, AppInfo, InstanceInfo, TEST_FLAG};
use koo::seller::{KitInterface, LicenseIssued, ProductionInterface, Provisioned, Refusal, Reply};
use std::sync::Arc;

/// The reference seller: state plus misbehaviour policy.
#[derive(Debug, Clone)]
pub struct ReferenceSeller {
    store: SellerStore,
    faults: Arc<Faults>,
}

fn refusal(e: StoreError) -> Refusal {
    match e {
        StoreError::NotFound(id) => Refusal::not_found(&id),
        StoreError::Invalid(msg) => Refusal::invalid(msg),
        StoreError::Db(e) => {
            tracing::error!(error = %e, "reference seller database error");
            Refusal::internal("database error")
        }
    }
}

fn scene(s: calls::RefreshScene) -> RefreshScene {
    match s {
        calls::RefreshScene::Renewal => RefreshScene::Renewal,
        calls::RefreshScene::TrialToFormal => RefreshScene::TrialToFormal,
        calls::RefreshScene::UnsubscribeRenewalPeriod => RefreshScene::UnsubscribeRenewalPeriod,
        calls::RefreshScene::RenewalChange => RefreshScene::RenewalChange,
    }
}

fn flag(wire: i32, allow_revoke: bool) -> Reply<SyncFlag> {
    SyncFlag::from_wire(i64::from(wire), allow_revoke).ok_or_else(|| Refusal::invalid(format!("bad flag {wire}")))
}

fn scope(instance_id: &str, tenant_id: &str) -> KitScope {
    KitScope { instance_id: instance_id.to_owned(), tenant_id: tenant_id.to_owned() }
}

impl ReferenceSeller {
    pub fn new(store: SellerStore, faults: Arc<Faults>) -> Self {
        ReferenceSeller { store, faults }
    }

    pub fn store(&self) -> &SellerStore {
        &self.store
    }

    pub fn faults(&self) -> &Faults {
        &self.faults
    }

    /// The configured purchase refusal, if any.
    fn refused(&self) -> Option<Refusal> {
        self.faults.policy().refuse.map(|code| Refusal::new(ResultCode::parse(&code)))
    }
}

impl ProductionInterface for ReferenceSeller {
    async fn new_instance(&self, call: calls::NewInstance) -> Reply<Provisioned> {
        if let Some(refusal) = self.refused() {
            return Err(refusal);
        }
        let now = self.store.now_ms();
        let new = NewInstance {
            order_id: call.order_id,
            order_line_id: call.order_line_id,
            business_id: call.business_id,
            test_flag: call.test_flag.as_deref() == Some(TEST_FLAG),
            ready_at_ms: self.faults.ready_at_ms(now),
        };
        let (instance, created) = self.store.create_instance(&new).await.map_err(refusal)?;
        tracing::info!(instance_id = %instance.instance_id, created, "newInstance");
        let instance_id = instance.instance_id.clone();
        // Read the clock again: a concurrent first call may have created the
        // instance with a ready time later than our `now`.
        Ok(if instance.is_ready(self.store.now_ms()) {
            Provisioned::Ready { instance_id }
        } else {
            Provisioned::InProgress { instance_id }
        })
    }

    async fn query_instance(&self, call: calls::QueryInstance) -> Reply<Vec<InstanceInfo>> {
        let now = self.store.now_ms();
        let mut info = Vec::new();
        let mut any_ready = false;
        for id in call.instance_ids() {
            let instance = match self.store.live_instance(id).await {
                Ok(instance) => instance,
                Err(StoreError::NotFound(_)) => continue,
                Err(e) => return Err(refusal(e)),
            };
            let ready = instance.is_ready(now);
            any_ready |= ready;
            let app = instance.app_info;
            info.push(InstanceInfo {
                instance_id: instance.instance_id,
                app_info: ready.then_some(AppInfo {
                    front_end_url: app.front_end_url,
                    admin_url: Some(app.admin_url),
                    user_name: Some(app.user_name),
                    password: Some(app.password),
                    memo: Some(app.memo),
                }),
                usage_info: None,
            });
        }
        match (info.is_empty(), any_ready) {
            (true, _) => Err(Refusal::not_found(&call.instance_id)),
            (false, false) => Err(Refusal::in_progress()),
            (false, true) => Ok(info),
        }
    }

    async fn release_instance(&self, call: calls::ReleaseInstance) -> Reply<()> {
        self.store
            .release(&call.instance_id, call.order_id.as_deref(), call.order_line_id.as_deref())
            .await
            .map_err(refusal)
    }

    async fn refresh_instance(&self, call: calls::RefreshInstance) -> Reply<()> {
        let refresh = Refresh {
            scene: scene(call.scene),
            order_id: call.order_id,
            order_line_id: call.order_line_id,
            expire_time: call.expire_time,
            product_id: call.product_id.filter(|p| !p.is_empty()),
            sku_code: None,
        };
        self.store.refresh(&call.instance_id, &refresh).await.map(|_| ()).map_err(refusal)
    }

    async fn update_instance_status(&self, call: calls::UpdateInstanceStatus) -> Reply<()> {
        let frozen = call.status == calls::InstanceStatus::Freeze;
        self.store.set_frozen(&call.instance_id, frozen).await.map(|_| ()).map_err(refusal)
    }

    async fn upgrade_instance(&self, call: calls::UpgradeInstance) -> Reply<()> {
        self.store
            .upgrade(&call.instance_id, &call.order_id, &call.order_line_id, None, None)
            .await
            .map(|_| ())
            .map_err(refusal)
    }

    async fn change_instance_check(&self, call: calls::ChangeInstanceCheck) -> Reply<()> {
        self.store.live_instance(&call.instance_id).await.map_err(refusal)?;
        match self.faults.policy().refuse_change.as_deref() {
            Some(code) => Err(Refusal::new(ResultCode::parse(code))),
            None => Ok(()),
        }
    }

    async fn order_notify(&self, call: calls::OrderNotify) -> Reply<()> {
        let test = call.test_flag.as_deref() == Some(TEST_FLAG);
        self.store.record_order_notify(&call.order_id, &call.order_line_id, test).await.map(|_| ()).map_err(refusal)
    }

    async fn get_license_async(&self, call: calls::GetLicenseAsync) -> Reply<LicenseIssued> {
        if let Some(refusal) = self.refused() {
            return Err(refusal);
        }
        let data = serde_json::to_string(&call).unwrap_or_default();
        let req = LicenseRequest {
            order_id: call.order_id,
            order_line_id: call.order_line_id,
            instance_id: call.business_id,
            expire_time: None,
            data,
        };
        let (license, _) = self.store.issue_license(&req).await.map_err(refusal)?;
        Ok(LicenseIssued::Ready { instance_id: license.instance_id, license: license.license_code })
    }

    async fn refresh_license_code(&self, call: calls::RefreshLicenseCode) -> Reply<()> {
        self.store.refresh_license(&call.instance_id, &call.expire_time).await.map(|_| ()).map_err(refusal)
    }

    async fn update_license_code_status(&self, call: calls::UpdateLicenseCodeStatus) -> Reply<()> {
        let status = match call.status {
            calls::InstanceStatus::Freeze => "FREEZE",
            calls::InstanceStatus::Unfreeze => "UNFREEZE",
        };
        self.store.set_license_status(&call.instance_id, status).await.map(|_| ()).map_err(refusal)
    }

    async fn release_license_code(&self, call: calls::ReleaseLicenseCode) -> Reply<()> {
        self.store.release_license(&call.instance_id).await.map_err(refusal)
    }
}

impl KitInterface for ReferenceSeller {
    async fn tenant_sync(&self, call: calls::TenantSync) -> Reply<()> {
        let flag = flag(call.flag, false)?;
        let tenant = Tenant {
            tenant_id: call.tenant_id.clone(),
            order_id: call.order_id,
            tenant_code: call.tenant_code,
            name: call.name,
            domain_name: call.domain_name,
        };
        self.store.sync_tenant(&scope(&call.instance_id, &call.tenant_id), &tenant, flag).await.map_err(refusal)
    }

    async fn application_sync(&self, call: calls::ApplicationSync) -> Reply<()> {
        let flag = flag(call.flag, false)?;
        let app = Application { app_id: call.app_id, client_id: call.client_id, client_secret: call.client_secret };
        self.store.sync_application(&scope(&call.instance_id, &call.tenant_id), &app, flag).await.map_err(refusal)
    }

    async fn auth_sync(&self, call: calls::AuthSync) -> Reply<()> {
        let flag = flag(call.flag, true)?;
        let users: Vec<User> = call
            .user_list
            .iter()
            .map(|u| User {
                user_name: u.user_name.clone(),
                name: u.name.clone(),
                org_code: u.org_code.clone(),
                role: u.role.clone(),
                revoked: false,
                data: serde_json::to_string(u).unwrap_or_default(),
            })
            .collect();
        if users.iter().any(|u| u.user_name.is_empty()) {
            return Err(Refusal::invalid("userName must not be empty"));
        }
        let scope = scope(&call.instance_id, &call.tenant_id);
        self.store.sync_users(&scope, &call.app_id, &users, flag).await.map_err(refusal)
    }

    async fn single_org_sync(&self, call: calls::SingleOrgSync) -> Reply<()> {
        let flag = flag(call.flag, false)?;
        let org = Org { org_code: call.org_code, org_name: call.org_name, parent_code: call.parent_code };
        self.store.sync_org(&scope(&call.instance_id, &call.tenant_id), &org, flag).await.map_err(refusal)
    }

    async fn all_org_sync(&self, call: calls::AllOrgSync) -> Reply<()> {
        let orgs: Vec<Org> = call
            .org_info_list
            .into_iter()
            .map(|o| Org { org_code: o.org_code, org_name: o.org_name, parent_code: o.parent_code })
            .collect();
        self.store.replace_orgs(&scope(&call.instance_id, &call.tenant_id), &orgs).await.map_err(refusal)
    }
}

//! The traits a seller implements, and what their methods answer.

use crate::calls::{
    AllOrgSync, ApplicationSync, AuthSync, ChangeInstanceCheck, GetLicenseAsync, InstanceInfo, NewInstance,
    OrderNotify, QueryInstance, RefreshInstance, RefreshLicenseCode, ReleaseInstance, ReleaseLicenseCode,
    SingleOrgSync, TenantSync, UpdateInstanceStatus, UpdateLicenseCodeStatus, UpgradeInstance,
};
use crate::codes::ResultCode;
use std::fmt;
use std::future::Future;

/// A call the seller does not accept: a result code and a message for the
/// marketplace's interface-message log. The `Err` side of every method.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub code: ResultCode,
    pub message: String,
}

impl Refusal {
    /// `code` with its standard message.
    pub fn new(code: ResultCode) -> Self {
        let message = code.message().to_owned();
        Refusal { code, message }
    }

    /// `code` with a message of your own.
    pub fn with_message(code: ResultCode, message: impl Into<String>) -> Self {
        Refusal { code, message: message.into() }
    }

    /// `000002` for a call this seller does not implement.
    pub fn unsupported(activity: &str) -> Self {
        Refusal::with_message(ResultCode::InvalidParam, format!("{activity} is not supported by this seller"))
    }

    /// `000002`: the request is wrong (the marketplace will not retry).
    pub fn invalid(message: impl Into<String>) -> Self {
        Refusal::with_message(ResultCode::InvalidParam, message)
    }

    /// `000003`: no such instance.
    pub fn not_found(instance_id: &str) -> Self {
        Refusal::with_message(ResultCode::InstanceNotFound, format!("instance {instance_id} does not exist"))
    }

    /// `000004`: still provisioning; ask again later (queryInstance).
    pub fn in_progress() -> Self {
        Refusal::new(ResultCode::InProgress)
    }

    /// `000005`: something broke on our side; the marketplace retries.
    pub fn internal(message: impl Into<String>) -> Self {
        Refusal::with_message(ResultCode::InternalError, message)
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl std::error::Error for Refusal {}

/// What the seller answers to a call: a value, or a refusal.
pub type Reply<T> = Result<T, Refusal>;

/// The answer to newInstance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Provisioned {
    /// `000000`: the instance is ready; queryInstance returns its appInfo.
    Ready { instance_id: String },
    /// `000004`: accepted, still being set up; the marketplace polls
    /// queryInstance until it returns appInfo.
    InProgress { instance_id: String },
}

impl Provisioned {
    pub fn instance_id(&self) -> &str {
        match self {
            Provisioned::Ready { instance_id } | Provisioned::InProgress { instance_id } => instance_id,
        }
    }
}

/// The answer to getLicenseAsync.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LicenseIssued {
    /// `000000` with the activation code.
    Ready { instance_id: String, license: String },
    /// `000004`: not yet; the marketplace asks again every 2 minutes.
    InProgress { instance_id: String },
}

/// The basic production-interface calls (spec §2), one method per
/// `activity`, plus the license calls, which arrive at the same URL.
///
/// `new_instance`, `query_instance` and `release_instance` are mandatory for
/// every product; the rest answer `000002` "not supported" unless
/// overridden (period products must also implement `refresh_instance` and
/// `update_instance_status`).
///
/// The SDK has already checked the signature, timestamp and nonce, and has
/// parsed the body into the typed call, before any method runs. Methods
/// must be idempotent: the marketplace retries on timeouts and `000005`
/// (see [`IdempotencyKey`](super::IdempotencyKey)).
///
/// Methods may be written as `async fn`; the returned futures must be `Send`.
pub trait ProductionInterface: Send + Sync + 'static {
    /// An order was paid. The same (orderId, orderLineId) must give the same
    /// instanceId every time; use the first call's businessId as the id.
    fn new_instance(&self, call: NewInstance) -> impl Future<Output = Reply<Provisioned>> + Send;

    /// The instances named by `call.instance_ids()`. An instance still
    /// provisioning has `app_info: None` (or answer `Refusal::in_progress()`).
    fn query_instance(&self, call: QueryInstance) -> impl Future<Output = Reply<Vec<InstanceInfo>>> + Send;

    /// Release the instance. Releasing it again must succeed.
    fn release_instance(&self, call: ReleaseInstance) -> impl Future<Output = Reply<()>> + Send;

    /// Renewal, trial to formal, refund of periods, renewal with a change (expireTime).
    fn refresh_instance(&self, call: RefreshInstance) -> impl Future<Output = Reply<()>> + Send {
        let _ = call;
        async { Err(Refusal::unsupported("refreshInstance")) }
    }

    /// Freeze (keep data, stop service) or unfreeze. Repeats must succeed.
    fn update_instance_status(&self, call: UpdateInstanceStatus) -> impl Future<Output = Reply<()>> + Send {
        let _ = call;
        async { Err(Refusal::unsupported("updateInstanceStatus")) }
    }

    /// A paid upgrade: same instance, new order.
    fn upgrade_instance(&self, call: UpgradeInstance) -> impl Future<Output = Reply<()>> + Send {
        let _ = call;
        async { Err(Refusal::unsupported("upgradeInstance")) }
    }

    /// May this instance be renewed into another specification? `Ok` = yes.
    fn change_instance_check(&self, call: ChangeInstanceCheck) -> impl Future<Output = Reply<()>> + Send {
        let _ = call;
        async { Err(Refusal::unsupported("changeInstanceCheck")) }
    }

    /// A non-SaaS order needs the seller's action.
    fn order_notify(&self, call: OrderNotify) -> impl Future<Output = Reply<()>> + Send {
        let _ = call;
        async { Err(Refusal::unsupported("orderNotify")) }
    }

    /// License products: issue the activation code (same code for the same
    /// order line on every call), or say it is not ready yet.
    fn get_license_async(&self, call: GetLicenseAsync) -> impl Future<Output = Reply<LicenseIssued>> + Send {
        let _ = call;
        async { Err(Refusal::unsupported("getLicenseAsync")) }
    }

    /// License products: renewal / period change of a license.
    fn refresh_license_code(&self, call: RefreshLicenseCode) -> impl Future<Output = Reply<()>> + Send {
        let _ = call;
        async { Err(Refusal::unsupported("refreshLicenseCode")) }
    }

    /// License products: freeze / unfreeze a license.
    fn update_license_code_status(&self, call: UpdateLicenseCodeStatus) -> impl Future<Output = Reply<()>> + Send {
        let _ = call;
        async { Err(Refusal::unsupported("updateLicenseCodeStatus")) }
    }

    /// License products: release a license; again must succeed.
    fn release_license_code(&self, call: ReleaseLicenseCode) -> impl Future<Output = Reply<()>> + Send {
        let _ = call;
        async { Err(Refusal::unsupported("releaseLicenseCode")) }
    }
}

/// The kit calls of joint-operation SaaS products (spec §4). All optional.
/// Each must be idempotent: a repeated add creates nothing new and succeeds,
/// a delete of something absent succeeds.
pub trait KitInterface: Send + Sync + 'static {
    fn tenant_sync(&self, call: TenantSync) -> impl Future<Output = Reply<()>> + Send {
        let _ = call;
        async { Err(Refusal::unsupported("tenantSync")) }
    }

    /// `client_secret` arrives RSA-OAEP encrypted with the seller's public key.
    fn application_sync(&self, call: ApplicationSync) -> impl Future<Output = Reply<()>> + Send {
        let _ = call;
        async { Err(Refusal::unsupported("applicationSync")) }
    }

    fn auth_sync(&self, call: AuthSync) -> impl Future<Output = Reply<()>> + Send {
        let _ = call;
        async { Err(Refusal::unsupported("authSync")) }
    }

    fn single_org_sync(&self, call: SingleOrgSync) -> impl Future<Output = Reply<()>> + Send {
        let _ = call;
        async { Err(Refusal::unsupported("singleOrgSync")) }
    }

    /// The whole organisation tree: replace what you had.
    fn all_org_sync(&self, call: AllOrgSync) -> impl Future<Output = Reply<()>> + Send {
        let _ = call;
        async { Err(Refusal::unsupported("allOrgSync")) }
    }
}

//! Typed bodies of the production-interface calls (spec §2 and §4), with
//! their camelCase wire names.
//!
//! Basic calls: every top-level value is a JSON string on the wire (sellers
//! bind the body as `Map<String,String>`), so every field here is a
//! `String`; `testFlag` is `"1"` on debug calls and omitted otherwise; the
//! one structured field, `changeInstanceCheck.productInfo`, travels as a
//! string holding compact JSON. Parse incoming bodies with
//! [`BasicCall::from_body`], which binds scalars the way Jackson does
//! (`1` -> `"1"`, `true` -> `"true"`, nulls dropped) before reading fields.
//!
//! Kit calls are ordinary JSON (`testFlag` and `flag` are integers) and are
//! routed by path (`/produceAPI/v2/<name>`), not by an `activity` field.
//!
//! License calls (our reading of KooGallery's license-code interface, which
//! the spec names but does not detail) are basic calls too:
//! - `refreshLicenseCode`: like `refreshInstance` (scene, orderId,
//!   orderLineId, instanceId, productId?, expireTime) for a license's
//!   renewal or period change;
//! - `updateLicenseCodeStatus`: instanceId, status FREEZE/UNFREEZE;
//! - `releaseLicenseCode`: instanceId, orderId?, orderLineId?;
//! - `getLicenseAsync`: orderId, orderLineId, businessId (as
//!   `newInstance`); answers `000000` with `instanceId` and `license` (the
//!   activation code) or `000004` to be asked again later (the marketplace
//!   re-asks every 2 minutes, up to 60 times).

use crate::canonical::{self, CanonicalError};
use crate::codes::ResultCode;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::fmt;

/// `testFlag` value of a basic debug call.
pub const TEST_FLAG: &str = "1";

/// `refreshInstance.scene`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum RefreshScene {
    /// Renewal of the subscription period.
    Renewal,
    /// A trial becomes a paid subscription.
    TrialToFormal,
    /// Refund of renewal periods (the expiry moves back).
    UnsubscribeRenewalPeriod,
    /// Renewal with a change of specification (`productId` is set).
    RenewalChange,
}

/// `updateInstanceStatus.status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum InstanceStatus {
    /// Expired, in arrears or in violation: stop service, keep data.
    Freeze,
    /// Back to normal.
    Unfreeze,
}

/// `newInstance`: an order was paid.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NewInstance {
    pub order_id: String,
    pub order_line_id: String,
    /// Unique per call; the recommended instanceId on first creation.
    pub business_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub test_flag: Option<String>,
}

/// `queryInstance`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct QueryInstance {
    /// One id, or up to 100 separated by commas.
    pub instance_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub test_flag: Option<String>,
}

impl QueryInstance {
    /// The queried ids (trimmed, empty parts skipped).
    pub fn instance_ids(&self) -> Vec<&str> {
        self.instance_id.split(',').map(str::trim).filter(|s| !s.is_empty()).collect()
    }
}

/// `refreshInstance`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RefreshInstance {
    pub scene: RefreshScene,
    pub order_id: String,
    pub order_line_id: String,
    pub instance_id: String,
    /// Set when the specification changes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product_id: Option<String>,
    /// UTC `yyyyMMddHHmmss`.
    pub expire_time: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub test_flag: Option<String>,
}

/// `updateInstanceStatus`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UpdateInstanceStatus {
    pub instance_id: String,
    pub status: InstanceStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub test_flag: Option<String>,
}

/// `releaseInstance`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReleaseInstance {
    pub instance_id: String,
    /// The refund order, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order_line_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub test_flag: Option<String>,
}

/// `upgradeInstance`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UpgradeInstance {
    /// Unchanged by the upgrade.
    pub instance_id: String,
    /// The upgrade order.
    pub order_id: String,
    pub order_line_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub test_flag: Option<String>,
}

/// Target specification of `changeInstanceCheck`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProductInfo {
    pub product_id: String,
    pub sku_code: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub linear_value: Option<String>,
}

/// `changeInstanceCheck`: may this instance be renewed into `productInfo`?
/// (`000000` = allowed.)
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChangeInstanceCheck {
    pub instance_id: String,
    /// On the wire a string holding compact JSON (top-level values of a
    /// basic call are strings).
    #[serde(with = "json_string")]
    pub product_info: ProductInfo,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub test_flag: Option<String>,
}

/// `orderNotify`: a non-SaaS order needs the seller's action.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderNotify {
    pub order_id: String,
    pub order_line_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub test_flag: Option<String>,
}

/// `refreshLicenseCode`: the fields of `refreshInstance`.
pub type RefreshLicenseCode = RefreshInstance;
/// `updateLicenseCodeStatus`: the fields of `updateInstanceStatus`.
pub type UpdateLicenseCodeStatus = UpdateInstanceStatus;
/// `releaseLicenseCode`: the fields of `releaseInstance`.
pub type ReleaseLicenseCode = ReleaseInstance;
/// `getLicenseAsync`: the fields of `newInstance`.
pub type GetLicenseAsync = NewInstance;

/// Any basic call, tagged by its `activity` field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "activity", rename_all = "camelCase")]
pub enum BasicCall {
    NewInstance(NewInstance),
    QueryInstance(QueryInstance),
    RefreshInstance(RefreshInstance),
    UpdateInstanceStatus(UpdateInstanceStatus),
    ReleaseInstance(ReleaseInstance),
    UpgradeInstance(UpgradeInstance),
    ChangeInstanceCheck(ChangeInstanceCheck),
    OrderNotify(OrderNotify),
    RefreshLicenseCode(RefreshLicenseCode),
    UpdateLicenseCodeStatus(UpdateLicenseCodeStatus),
    ReleaseLicenseCode(ReleaseLicenseCode),
    GetLicenseAsync(GetLicenseAsync),
}

/// Why a body is not a valid call (answer `000002`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallError {
    /// Not a JSON object of scalars.
    Body(CanonicalError),
    /// Unknown activity, missing field, bad enum value...
    Fields(String),
}

impl fmt::Display for CallError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CallError::Body(e) => e.fmt(f),
            CallError::Fields(e) => f.write_str(e),
        }
    }
}

impl std::error::Error for CallError {}

impl BasicCall {
    /// Parse a request body, binding top-level scalars as strings the way a
    /// Java seller's `Map<String,String>` does. Unknown fields are ignored.
    pub fn from_body(body: &[u8]) -> Result<BasicCall, CallError> {
        let map = canonical::string_map(body).map_err(CallError::Body)?;
        let obj: serde_json::Map<String, serde_json::Value> =
            map.into_iter().map(|(k, v)| (k, serde_json::Value::String(v))).collect();
        serde_json::from_value(serde_json::Value::Object(obj)).map_err(|e| CallError::Fields(e.to_string()))
    }

    /// The body to send: a JSON object whose top-level values are strings.
    pub fn to_body(&self) -> String {
        // Serialising these types cannot fail: string keys, string values,
        // and ProductInfo (itself plain strings) inside `json_string`.
        serde_json::to_string(self).unwrap_or_default()
    }

    /// The `activity` value.
    pub fn activity(&self) -> &'static str {
        match self {
            BasicCall::NewInstance(_) => "newInstance",
            BasicCall::QueryInstance(_) => "queryInstance",
            BasicCall::RefreshInstance(_) => "refreshInstance",
            BasicCall::UpdateInstanceStatus(_) => "updateInstanceStatus",
            BasicCall::ReleaseInstance(_) => "releaseInstance",
            BasicCall::UpgradeInstance(_) => "upgradeInstance",
            BasicCall::ChangeInstanceCheck(_) => "changeInstanceCheck",
            BasicCall::OrderNotify(_) => "orderNotify",
            BasicCall::RefreshLicenseCode(_) => "refreshLicenseCode",
            BasicCall::UpdateLicenseCodeStatus(_) => "updateLicenseCodeStatus",
            BasicCall::ReleaseLicenseCode(_) => "releaseLicenseCode",
            BasicCall::GetLicenseAsync(_) => "getLicenseAsync",
        }
    }

    /// The raw `testFlag`, if any.
    pub fn test_flag(&self) -> Option<&str> {
        match self {
            BasicCall::NewInstance(c) | BasicCall::GetLicenseAsync(c) => c.test_flag.as_deref(),
            BasicCall::QueryInstance(c) => c.test_flag.as_deref(),
            BasicCall::RefreshInstance(c) | BasicCall::RefreshLicenseCode(c) => c.test_flag.as_deref(),
            BasicCall::UpdateInstanceStatus(c) | BasicCall::UpdateLicenseCodeStatus(c) => c.test_flag.as_deref(),
            BasicCall::ReleaseInstance(c) | BasicCall::ReleaseLicenseCode(c) => c.test_flag.as_deref(),
            BasicCall::UpgradeInstance(c) => c.test_flag.as_deref(),
            BasicCall::ChangeInstanceCheck(c) => c.test_flag.as_deref(),
            BasicCall::OrderNotify(c) => c.test_flag.as_deref(),
        }
    }

    /// Whether this is a debug call (`testFlag` = `"1"`).
    pub fn is_test(&self) -> bool {
        self.test_flag() == Some(TEST_FLAG)
    }

    /// The `instanceId` the call is about, if it names one.
    pub fn instance_id(&self) -> Option<&str> {
        match self {
            BasicCall::NewInstance(_) | BasicCall::GetLicenseAsync(_) | BasicCall::OrderNotify(_) => None,
            BasicCall::QueryInstance(c) => Some(&c.instance_id),
            BasicCall::RefreshInstance(c) | BasicCall::RefreshLicenseCode(c) => Some(&c.instance_id),
            BasicCall::UpdateInstanceStatus(c) | BasicCall::UpdateLicenseCodeStatus(c) => Some(&c.instance_id),
            BasicCall::ReleaseInstance(c) | BasicCall::ReleaseLicenseCode(c) => Some(&c.instance_id),
            BasicCall::UpgradeInstance(c) => Some(&c.instance_id),
            BasicCall::ChangeInstanceCheck(c) => Some(&c.instance_id),
        }
    }
}

/// (De)serialise a struct as a string holding its compact JSON. Accepts an
/// inline object too, for callers building values by hand.
mod json_string {
    use serde::de::{DeserializeOwned, Error as _};
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub fn serialize<T: Serialize, S: Serializer>(v: &T, s: S) -> Result<S::Ok, S::Error> {
        let text = serde_json::to_string(v).map_err(serde::ser::Error::custom)?;
        s.serialize_str(&text)
    }

    pub fn deserialize<'de, T: DeserializeOwned, D: Deserializer<'de>>(d: D) -> Result<T, D::Error> {
        match serde_json::Value::deserialize(d)? {
            serde_json::Value::String(text) => serde_json::from_str(&text).map_err(D::Error::custom),
            other => serde_json::from_value(other).map_err(D::Error::custom),
        }
    }
}

// ---------------------------------------------------------------- responses

/// Any answer: `{"resultCode", "resultMsg", ...extras}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Response {
    pub result_code: ResultCode,
    #[serde(default)]
    pub result_msg: String,
    /// Other fields (instanceId, info, license...).
    #[serde(flatten)]
    pub extras: serde_json::Map<String, serde_json::Value>,
}

impl Response {
    /// `code` with its standard English message.
    pub fn new(code: ResultCode) -> Self {
        let result_msg = code.message().to_owned();
        Response { result_code: code, result_msg, extras: serde_json::Map::new() }
    }

    /// `000000` "success".
    pub fn success() -> Self {
        Response::new(ResultCode::Success)
    }

    /// Replace the message.
    pub fn with_message(mut self, msg: impl Into<String>) -> Self {
        self.result_msg = msg.into();
        self
    }

    /// Add an extra field.
    pub fn with(mut self, key: impl Into<String>, value: impl Into<serde_json::Value>) -> Self {
        self.extras.insert(key.into(), value.into());
        self
    }

    /// An extra field as a string, if it is one.
    pub fn extra_str(&self, key: &str) -> Option<&str> {
        self.extras.get(key).and_then(|v| v.as_str())
    }
}

/// Answer to `newInstance` (and `getLicenseAsync`'s `instanceId`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NewInstanceResponse {
    pub result_code: ResultCode,
    #[serde(default)]
    pub result_msg: String,
    /// Present with `000000` and `000004`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instance_id: Option<String>,
}

/// `queryInstance` answer element `appInfo`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AppInfo {
    pub front_end_url: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub admin_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memo: Option<String>,
}

/// `queryInstance` answer element.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InstanceInfo {
    pub instance_id: String,
    /// Absent while provisioning is still in progress.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app_info: Option<AppInfo>,
    /// Usage details; the fields are not fixed by KooGallery (spec §9), so
    /// they are passed through as JSON.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage_info: Option<serde_json::Value>,
}

/// Answer to `queryInstance`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct QueryInstanceResponse {
    pub result_code: ResultCode,
    #[serde(default)]
    pub result_msg: String,
    #[serde(default)]
    pub info: Vec<InstanceInfo>,
}

/// Answer to `getLicenseAsync`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GetLicenseAsyncResponse {
    pub result_code: ResultCode,
    #[serde(default)]
    pub result_msg: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instance_id: Option<String>,
    /// The activation code, with `000000`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub license: Option<String>,
}

// ---------------------------------------------------------------- kit calls

/// Values of the kit `flag` field.
pub mod flag {
    pub const DELETE: i32 = 0;
    pub const ADD: i32 = 1;
    pub const MODIFY: i32 = 2;
    /// authSync only: revoke the user's authorisation.
    pub const REVOKE: i32 = 3;
}

/// A kit call body, posted to `/produceAPI/v2/<NAME>`.
pub trait KitCall: Serialize + DeserializeOwned {
    /// The path segment.
    const NAME: &'static str;
}

/// The kit call names, for routing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KitCallName {
    TenantSync,
    ApplicationSync,
    AuthSync,
    SingleOrgSync,
    AllOrgSync,
}

impl KitCallName {
    pub const ALL: [KitCallName; 5] = [
        KitCallName::TenantSync,
        KitCallName::ApplicationSync,
        KitCallName::AuthSync,
        KitCallName::SingleOrgSync,
        KitCallName::AllOrgSync,
    ];

    /// The path segment.
    pub fn as_str(self) -> &'static str {
        match self {
            KitCallName::TenantSync => TenantSync::NAME,
            KitCallName::ApplicationSync => ApplicationSync::NAME,
            KitCallName::AuthSync => AuthSync::NAME,
            KitCallName::SingleOrgSync => SingleOrgSync::NAME,
            KitCallName::AllOrgSync => AllOrgSync::NAME,
        }
    }

    /// From a path segment (exact, case-sensitive).
    pub fn parse(name: &str) -> Option<Self> {
        KitCallName::ALL.into_iter().find(|n| n.as_str() == name)
    }
}

/// `tenantSync`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TenantSync {
    pub instance_id: String,
    pub order_id: String,
    pub tenant_id: String,
    pub tenant_code: String,
    pub name: String,
    pub domain_name: String,
    pub flag: i32,
    /// 1 on debug calls.
    #[serde(default)]
    pub test_flag: i32,
    /// `yyyyMMddHHmmssSSS`.
    #[serde(default)]
    pub time_stamp: String,
}

impl KitCall for TenantSync {
    const NAME: &'static str = "tenantSync";
}

/// `applicationSync`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ApplicationSync {
    pub instance_id: String,
    pub tenant_id: String,
    pub app_id: String,
    pub client_id: String,
    /// RSA-OAEP encrypted with the seller's public key (base64).
    pub client_secret: String,
    pub flag: i32,
    #[serde(default)]
    pub test_flag: i32,
    #[serde(default)]
    pub time_stamp: String,
}

impl KitCall for ApplicationSync {
    const NAME: &'static str = "applicationSync";
}

/// An `authSync.userList` element.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct KitUser {
    pub user_name: String,
    pub name: String,
    pub org_code: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub position: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub employee_code: Option<String>,
    /// 1..4.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub employee_type: Option<i32>,
    /// `user` or `admin`.
    pub role: String,
    /// `"true"` / `"false"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enable: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mobile: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub work_place: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extension: Option<serde_json::Map<String, serde_json::Value>>,
}

/// `authSync`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuthSync {
    pub instance_id: String,
    pub tenant_id: String,
    pub app_id: String,
    #[serde(default)]
    pub current_sync_time: String,
    /// 0 delete, 1 add, 2 modify, 3 revoke.
    pub flag: i32,
    #[serde(default)]
    pub user_list: Vec<KitUser>,
    #[serde(default)]
    pub test_flag: i32,
    #[serde(default)]
    pub time_stamp: String,
}

impl KitCall for AuthSync {
    const NAME: &'static str = "authSync";
}

/// `singleOrgSync`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SingleOrgSync {
    pub instance_id: String,
    pub tenant_id: String,
    pub org_code: String,
    pub org_name: String,
    /// `""` at the top.
    #[serde(default)]
    pub parent_code: String,
    pub flag: i32,
    #[serde(default)]
    pub test_flag: i32,
    #[serde(default)]
    pub time_stamp: String,
}

impl KitCall for SingleOrgSync {
    const NAME: &'static str = "singleOrgSync";
}

/// An `allOrgSync.orgInfoList` element.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrgInfo {
    pub org_code: String,
    pub org_name: String,
    #[serde(default)]
    pub parent_code: String,
}

/// `allOrgSync`: the whole organisation tree as a flat list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AllOrgSync {
    pub instance_id: String,
    pub tenant_id: String,
    #[serde(default)]
    pub org_info_list: Vec<OrgInfo>,
    #[serde(default)]
    pub test_flag: i32,
    #[serde(default)]
    pub time_stamp: String,
}

impl KitCall for AllOrgSync {
    const NAME: &'static str = "allOrgSync";
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_activity() {
        let bodies = [
            r#"{"activity":"newInstance","orderId":"o","orderLineId":"l","businessId":"b","testFlag":"1"}"#,
            r#"{"activity":"queryInstance","instanceId":"a, b,,c"}"#,
            r#"{"activity":"refreshInstance","scene":"TRIAL_TO_FORMAL","orderId":"o","orderLineId":"l","instanceId":"i","expireTime":"20271231235959","productId":null}"#,
            r#"{"activity":"updateInstanceStatus","instanceId":"i","status":"FREEZE"}"#,
            r#"{"activity":"releaseInstance","instanceId":"i"}"#,
            r#"{"activity":"upgradeInstance","instanceId":"i","orderId":"o","orderLineId":"l"}"#,
            r#"{"activity":"changeInstanceCheck","instanceId":"i","productInfo":"{\"productId\":\"p\",\"skuCode\":\"s\",\"linearValue\":\"10\"}"}"#,
            r#"{"activity":"orderNotify","orderId":"o","orderLineId":"l"}"#,
            r#"{"activity":"refreshLicenseCode","scene":"RENEWAL","orderId":"o","orderLineId":"l","instanceId":"i","expireTime":"20271231235959"}"#,
            r#"{"activity":"updateLicenseCodeStatus","instanceId":"i","status":"UNFREEZE"}"#,
            r#"{"activity":"releaseLicenseCode","instanceId":"i","orderId":"o"}"#,
            r#"{"activity":"getLicenseAsync","orderId":"o","orderLineId":"l","businessId":"b"}"#,
        ];
        for body in bodies {
            let call = BasicCall::from_body(body.as_bytes()).unwrap_or_else(|e| panic!("{body}: {e}"));
            assert!(body.contains(call.activity()));
            // Re-serialised: every top-level value is a string, and it parses back.
            let again = call.to_body();
            assert!(canonical::basic_payload(again.as_bytes()).is_ok(), "{again}");
            assert_eq!(BasicCall::from_body(again.as_bytes()).unwrap(), call);
        }
        let q = BasicCall::from_body(bodies[1].as_bytes()).unwrap();
        let BasicCall::QueryInstance(q) = q else { panic!() };
        assert_eq!(q.instance_ids(), ["a", "b", "c"]);
    }

    #[test]
    fn binds_like_jackson_and_rejects_bad() {
        let c = BasicCall::from_body(
            br#"{"activity":"newInstance","orderId":123,"orderLineId":true,"businessId":"b","extra":"x"}"#,
        )
        .unwrap();
        let BasicCall::NewInstance(n) = c else { panic!() };
        assert_eq!((n.order_id.as_str(), n.order_line_id.as_str()), ("123", "true"));
        assert!(!BasicCall::NewInstance(n).is_test());
        for bad in [
            &br#"{"activity":"nope"}"#[..],
            br#"{"orderId":"o"}"#,
            br#"{"activity":"newInstance","orderId":"o"}"#,
            br#"{"activity":"updateInstanceStatus","instanceId":"i","status":"PAUSE"}"#,
            br#"{"activity":"newInstance","orderId":{}}"#,
            br#"{"activity":"changeInstanceCheck","instanceId":"i","productInfo":"not json"}"#,
            b"[]",
            b"\xff",
        ] {
            assert!(BasicCall::from_body(bad).is_err());
        }
    }

    #[test]
    fn wire_names() {
        let c = BasicCall::ChangeInstanceCheck(ChangeInstanceCheck {
            instance_id: "i".into(),
            product_info: ProductInfo { product_id: "p".into(), sku_code: "s".into(), linear_value: None },
            test_flag: Some(TEST_FLAG.into()),
        });
        assert_eq!(
            c.to_body(),
            r#"{"activity":"changeInstanceCheck","instanceId":"i","productInfo":"{\"productId\":\"p\",\"skuCode\":\"s\"}","testFlag":"1"}"#
        );
        let r = Response::success().with("instanceId", "i-1");
        assert_eq!(
            serde_json::to_string(&r).unwrap(),
            r#"{"resultCode":"000000","resultMsg":"success","instanceId":"i-1"}"#
        );
        let q: QueryInstanceResponse = serde_json::from_str(
            r#"{"resultCode":"000000","resultMsg":"ok","info":[{"instanceId":"i","appInfo":{"frontEndUrl":"https://x","adminUrl":"https://y"}}]}"#,
        )
        .unwrap();
        assert_eq!(q.info[0].app_info.as_ref().unwrap().admin_url.as_deref(), Some("https://y"));
        assert_eq!(KitCallName::parse("authSync"), Some(KitCallName::AuthSync));
        assert_eq!(KitCallName::parse("AuthSync"), None);
    }

    #[test]
    fn kit_vector_body_parses() {
        let body = r#"{"instanceId":"huaiweitest123456","orderId":"CS1906666666ABCDE","tenantId":"68cbc86abc2018ab880d92f36422fa0e","tenantCode":"huawei","name":"huaiweitest","domainName":"https://example.tenantaccount.com","flag":1,"testFlag":0,"timeStamp":"20220413093539534"}"#;
        let t: TenantSync = serde_json::from_str(body).unwrap();
        assert_eq!(t.flag, flag::ADD);
        let a: AuthSync = serde_json::from_str(
            r#"{"instanceId":"i","tenantId":"t","appId":"a","flag":1,"userList":[{"userName":"u","name":"n","orgCode":"o","role":"admin","employeeType":2,"extension":{"k":"v"}}]}"#,
        )
        .unwrap();
        assert_eq!(a.user_list[0].employee_type, Some(2));
    }
}

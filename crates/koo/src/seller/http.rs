//! The axum wiring: read the body (bounded), verify, parse, check mandatory
//! fields, dispatch, and write the JSON answer. Every failure becomes a
//! result code; nothing here panics on input.

use super::interface::{KitInterface, LicenseIssued, ProductionInterface, Provisioned, Refusal, Reply};
use super::{NowMs, SellerConfig};
use crate::calls::{self, BasicCall, KitCallName, Response};
use crate::codes::ResultCode;
use crate::sign;
use crate::verify::{BasicVerifier, KitVerifier, VerifyError};
use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::IntoResponse;
use axum::routing::post;
use serde::de::DeserializeOwned;
use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;

/// What every handler shares: the seller, both verifiers (each with its
/// own nonce cache), and the keys for signing responses.
struct Shared<S> {
    service: Arc<S>,
    basic: BasicVerifier,
    kit: KitVerifier,
    key: Vec<u8>,
    kit_key: Vec<u8>,
    body_limit: usize,
    now_ms: NowMs,
}

fn shared<S>(service: Arc<S>, config: SellerConfig) -> Arc<Shared<S>> {
    let kit_key = config.kit_key.clone().unwrap_or_else(|| config.key.clone());
    Arc::new(Shared {
        service,
        basic: BasicVerifier::new(config.key.clone(), config.verify.clone()),
        kit: KitVerifier::new(kit_key.clone(), config.verify.clone()),
        key: config.key,
        kit_key,
        body_limit: config.body_limit,
        now_ms: config.now_ms,
    })
}

/// Basic and license calls at `POST <path>` (default `/produce`).
pub fn router<S: ProductionInterface>(service: Arc<S>, config: SellerConfig) -> Router {
    let path = config.path.clone();
    Router::new().route(&path, post(basic_handler::<S>)).with_state(shared(service, config))
}

/// [`router`] plus the kit calls at `POST <path>/produceAPI/v2/{name}`,
/// verified with `kit_key` (or `key` when no kit key is configured).
pub fn router_with_kit<S: ProductionInterface + KitInterface>(service: Arc<S>, config: SellerConfig) -> Router {
    let path = config.path.clone();
    Router::new()
        .route(&path, post(basic_handler::<S>))
        .route(&format!("{path}/produceAPI/v2/{{name}}"), post(kit_handler::<S>))
        .with_state(shared(service, config))
}

// ------------------------------------------------------------------ answers

/// Serialises an answer with the JSON content type and the legacy Body-Sign header.
fn answer(key: &[u8], status: StatusCode, response: &Response) -> axum::response::Response {
    let body = serde_json::to_vec(response)
        .unwrap_or_else(|_| br#"{"resultCode":"000005","resultMsg":"internal error"}"#.to_vec());
    let mut headers = HeaderMap::new();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json;charset=UTF-8"));
    if let Ok(value) = HeaderValue::from_str(&sign::body_sign_header(key, &body)) {
        headers.insert("body-sign", value);
    }
    (status, headers, body).into_response()
}

fn refusal_response(refusal: Refusal) -> Response {
    Response::new(refusal.code).with_message(refusal.message)
}

/// The code for a verification failure. A *missing* signature is an
/// authentication failure (`000001`) like a wrong one; missing timestamp
/// or nonce stay `000002` as the spec says.
fn verify_refusal(e: &VerifyError) -> Refusal {
    let code = match e {
        VerifyError::Missing("signature" | "x-sign") => ResultCode::AuthFailed,
        other => other.result_code(),
    };
    Refusal::with_message(code, e.to_string())
}

/// Reads at most `limit` bytes; anything larger (or a body that breaks off)
/// is answered `000002` with HTTP 413 before any parsing.
async fn read_body(body: Body, limit: usize, key: &[u8]) -> Result<Bytes, axum::response::Response> {
    axum::body::to_bytes(body, limit).await.map_err(|_| {
        let refusal = Refusal::invalid(format!("body larger than {limit} bytes or unreadable"));
        answer(key, StatusCode::PAYLOAD_TOO_LARGE, &refusal_response(refusal))
    })
}

/// Runs the seller's code on its own task, so a panic in it becomes a
/// retryable `000005` instead of a dropped connection.
async fn guarded<F>(fut: F) -> Response
where
    F: Future<Output = Response> + Send + 'static,
{
    match tokio::spawn(fut).await {
        Ok(response) => response,
        Err(e) => {
            tracing::error!(error = %e, "seller implementation panicked");
            refusal_response(Refusal::internal("internal error"))
        }
    }
}

// ------------------------------------------------------------ basic calls

async fn basic_handler<S: ProductionInterface>(
    State(shared): State<Arc<Shared<S>>>,
    uri: Uri,
    body: Body,
) -> axum::response::Response {
    let key = shared.key.as_slice();
    let bytes = match read_body(body, shared.body_limit, key).await {
        Ok(b) => b,
        Err(resp) => return resp,
    };
    let params = match Query::<HashMap<String, String>>::try_from_uri(&uri) {
        Ok(Query(params)) => params,
        Err(_) => return answer(key, StatusCode::OK, &refusal_response(Refusal::invalid("malformed query string"))),
    };
    let param = |name: &str| params.get(name).map(String::as_str);
    let now = (shared.now_ms)();
    if let Err(e) = shared.basic.verify(param("signature"), param("timestamp"), param("nonce"), &bytes, now) {
        tracing::debug!(error = %e, "basic call rejected");
        return answer(key, StatusCode::OK, &refusal_response(verify_refusal(&e)));
    }
    let call = match BasicCall::from_body(&bytes) {
        Ok(call) => call,
        Err(e) => return answer(key, StatusCode::OK, &refusal_response(Refusal::invalid(e.to_string()))),
    };
    if let Err(refusal) = check_mandatory(&call) {
        return answer(key, StatusCode::OK, &refusal_response(refusal));
    }
    let activity = call.activity();
    let service = shared.service.clone();
    let response = guarded(async move { dispatch_basic(service.as_ref(), call).await }).await;
    tracing::debug!(activity, code = %response.result_code, "basic call answered");
    answer(key, StatusCode::OK, &response)
}

/// Mandatory fields must be present (serde checked that) and non-empty.
fn check_mandatory(call: &BasicCall) -> Reply<()> {
    let fields: Vec<(&str, &str)> = match call {
        BasicCall::NewInstance(c) | BasicCall::GetLicenseAsync(c) => {
            vec![("orderId", &c.order_id), ("orderLineId", &c.order_line_id), ("businessId", &c.business_id)]
        }
        BasicCall::QueryInstance(c) => {
            let ids = c.instance_ids();
            if ids.len() > 100 {
                return Err(Refusal::invalid("at most 100 instanceIds per queryInstance"));
            }
            vec![("instanceId", if ids.is_empty() { "" } else { ids[0] })]
        }
        BasicCall::RefreshInstance(c) | BasicCall::RefreshLicenseCode(c) => vec![
            ("orderId", &c.order_id),
            ("orderLineId", &c.order_line_id),
            ("instanceId", &c.instance_id),
            ("expireTime", &c.expire_time),
        ],
        BasicCall::UpdateInstanceStatus(c) | BasicCall::UpdateLicenseCodeStatus(c) => {
            vec![("instanceId", &c.instance_id)]
        }
        BasicCall::ReleaseInstance(c) | BasicCall::ReleaseLicenseCode(c) => vec![("instanceId", &c.instance_id)],
        BasicCall::UpgradeInstance(c) => {
            vec![("instanceId", &c.instance_id), ("orderId", &c.order_id), ("orderLineId", &c.order_line_id)]
        }
        BasicCall::ChangeInstanceCheck(c) => vec![("instanceId", &c.instance_id)],
        BasicCall::OrderNotify(c) => vec![("orderId", &c.order_id), ("orderLineId", &c.order_line_id)],
    };
    match fields.iter().find(|(_, value)| value.trim().is_empty()) {
        Some((name, _)) => Err(Refusal::invalid(format!("{name} must not be empty"))),
        None => Ok(()),
    }
}

async fn dispatch_basic<S: ProductionInterface>(service: &S, call: BasicCall) -> Response {
    let done = |r: Reply<()>| r.map(|()| Response::success());
    let result: Reply<Response> = match call {
        BasicCall::NewInstance(c) => service.new_instance(c).await.map(|p| match p {
            Provisioned::Ready { instance_id } => Response::success().with("instanceId", instance_id),
            Provisioned::InProgress { instance_id } => {
                Response::new(ResultCode::InProgress).with("instanceId", instance_id)
            }
        }),
        BasicCall::QueryInstance(c) => service.query_instance(c).await.and_then(|info| {
            let info = serde_json::to_value(info).map_err(|e| Refusal::internal(e.to_string()))?;
            Ok(Response::success().with("info", info))
        }),
        BasicCall::RefreshInstance(c) => done(service.refresh_instance(c).await),
        BasicCall::UpdateInstanceStatus(c) => done(service.update_instance_status(c).await),
        BasicCall::ReleaseInstance(c) => done(service.release_instance(c).await),
        BasicCall::UpgradeInstance(c) => done(service.upgrade_instance(c).await),
        BasicCall::ChangeInstanceCheck(c) => done(service.change_instance_check(c).await),
        BasicCall::OrderNotify(c) => done(service.order_notify(c).await),
        BasicCall::GetLicenseAsync(c) => service.get_license_async(c).await.map(|issued| match issued {
            LicenseIssued::Ready { instance_id, license } => {
                Response::success().with("instanceId", instance_id).with("license", license)
            }
            LicenseIssued::InProgress { instance_id } => {
                Response::new(ResultCode::InProgress).with("instanceId", instance_id)
            }
        }),
        BasicCall::RefreshLicenseCode(c) => done(service.refresh_license_code(c).await),
        BasicCall::UpdateLicenseCodeStatus(c) => done(service.update_license_code_status(c).await),
        BasicCall::ReleaseLicenseCode(c) => done(service.release_license_code(c).await),
    };
    result.unwrap_or_else(refusal_response)
}

// -------------------------------------------------------------- kit calls

async fn kit_handler<S: KitInterface>(
    State(shared): State<Arc<Shared<S>>>,
    name: Result<Path<String>, PathRejection>,
    headers: HeaderMap,
    body: Body,
) -> axum::response::Response {
    let key = shared.kit_key.as_slice();
    let bytes = match read_body(body, shared.body_limit, key).await {
        Ok(b) => b,
        Err(resp) => return resp,
    };
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let now = (shared.now_ms)();
    if let Err(e) = shared.kit.verify(header("x-sign"), header("x-timestamp"), header("x-nonce"), &bytes, now) {
        tracing::debug!(error = %e, "kit call rejected");
        return answer(key, StatusCode::OK, &refusal_response(verify_refusal(&e)));
    }
    let Some(name) = name.ok().and_then(|Path(n)| KitCallName::parse(&n)) else {
        return answer(key, StatusCode::OK, &refusal_response(Refusal::invalid("unknown kit call")));
    };
    let service = shared.service.clone();
    let response = guarded(async move { dispatch_kit(service.as_ref(), name, &bytes).await }).await;
    tracing::debug!(name = name.as_str(), code = %response.result_code, "kit call answered");
    answer(key, StatusCode::OK, &response)
}

fn parse_kit<T: DeserializeOwned>(bytes: &[u8]) -> Reply<T> {
    serde_json::from_slice(bytes).map_err(|e| Refusal::invalid(format!("bad kit call body: {e}")))
}

/// `flag` must be 0 (delete), 1 (add), 2 (modify), or 3 (revoke) for authSync.
fn check_flag(flag: i32, allow_revoke: bool) -> Reply<()> {
    let max = if allow_revoke { calls::flag::REVOKE } else { calls::flag::MODIFY };
    if (calls::flag::DELETE..=max).contains(&flag) { Ok(()) } else { Err(Refusal::invalid(format!("bad flag {flag}"))) }
}

fn check_ids(instance_id: &str, tenant_id: &str) -> Reply<()> {
    if instance_id.trim().is_empty() || tenant_id.trim().is_empty() {
        return Err(Refusal::invalid("instanceId and tenantId must not be empty"));
    }
    Ok(())
}

async fn dispatch_kit<S: KitInterface>(service: &S, name: KitCallName, bytes: &[u8]) -> Response {
    let result: Reply<()> = async {
        match name {
            KitCallName::TenantSync => {
                let c: calls::TenantSync = parse_kit(bytes)?;
                check_ids(&c.instance_id, &c.tenant_id)?;
                check_flag(c.flag, false)?;
                service.tenant_sync(c).await
            }
            KitCallName::ApplicationSync => {
                let c: calls::ApplicationSync = parse_kit(bytes)?;
                check_ids(&c.instance_id, &c.tenant_id)?;
                check_flag(c.flag, false)?;
                service.application_sync(c).await
            }
            KitCallName::AuthSync => {
                let c: calls::AuthSync = parse_kit(bytes)?;
                check_ids(&c.instance_id, &c.tenant_id)?;
                check_flag(c.flag, true)?;
                service.auth_sync(c).await
            }
            KitCallName::SingleOrgSync => {
                let c: calls::SingleOrgSync = parse_kit(bytes)?;
                check_ids(&c.instance_id, &c.tenant_id)?;
                check_flag(c.flag, false)?;
                service.single_org_sync(c).await
            }
            KitCallName::AllOrgSync => {
                let c: calls::AllOrgSync = parse_kit(bytes)?;
                check_ids(&c.instance_id, &c.tenant_id)?;
                service.all_org_sync(c).await
            }
        }
    }
    .await;
    result.map(|()| Response::success()).unwrap_or_else(refusal_response)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calls::{InstanceInfo, NewInstance, QueryInstance, ReleaseInstance};
    use crate::{canonical, client};

    /// A seller that implements only the mandatory calls, and panics on release.
    struct Minimal;

    impl ProductionInterface for Minimal {
        async fn new_instance(&self, call: NewInstance) -> Reply<Provisioned> {
            Ok(Provisioned::Ready { instance_id: call.business_id })
        }
        async fn query_instance(&self, _call: QueryInstance) -> Reply<Vec<InstanceInfo>> {
            Ok(Vec::new())
        }
        #[allow(clippy::panic)]
        async fn release_instance(&self, _call: ReleaseInstance) -> Reply<()> {
            panic!("seller bug")
        }
    }

    async fn post(url: &str, body: &str) -> serde_json::Value {
        let payload = canonical::basic_payload(body.as_bytes()).unwrap_or_default();
        let (ts, nonce) = (super::super::wall_clock_ms().to_string(), client::new_nonce());
        let sig = sign::basic_signature(b"k", &nonce, &ts, &payload);
        let response = reqwest::Client::new()
            .post(format!("{url}?signature={sig}&timestamp={ts}&nonce={nonce}"))
            .body(body.to_owned())
            .send()
            .await;
        match response {
            Ok(r) => r.json().await.unwrap_or_default(),
            Err(_) => serde_json::Value::Null,
        }
    }

    #[tokio::test]
    async fn defaults_answer_unsupported_and_panics_answer_000005() {
        let app = router(Arc::new(Minimal), SellerConfig::new("k").with_path("saasproduce/"));
        let Ok(listener) = tokio::net::TcpListener::bind("127.0.0.1:0").await else { return };
        let Ok(addr) = listener.local_addr() else { return };
        tokio::spawn(async move { axum::serve(listener, app).await });
        let url = format!("http://{addr}/saasproduce");
        let ok = post(&url, r#"{"activity":"newInstance","orderId":"o","orderLineId":"l","businessId":"b"}"#).await;
        assert_eq!((ok["resultCode"].as_str(), ok["instanceId"].as_str()), (Some("000000"), Some("b")));
        let unsupported =
            post(&url, r#"{"activity":"upgradeInstance","instanceId":"b","orderId":"o","orderLineId":"l"}"#).await;
        assert_eq!(unsupported["resultCode"], "000002");
        assert!(unsupported["resultMsg"].as_str().unwrap_or_default().contains("not supported"));
        let panicked = post(&url, r#"{"activity":"releaseInstance","instanceId":"b"}"#).await;
        assert_eq!(panicked["resultCode"], "000005");
        // The server is still alive after the panic.
        let again = post(&url, r#"{"activity":"queryInstance","instanceId":"b"}"#).await;
        assert_eq!(again["resultCode"], "000000");
    }
}

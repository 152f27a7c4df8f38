//! The client against a real HTTP server on 127.0.0.1 that verifies with
//! this crate's verifiers.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use koo::calls::{BasicCall, NewInstance, TEST_FLAG, TenantSync, flag};
use koo::client::{CallOutcome, Client, ClientError};
use koo::outbound::AddressPolicy;
use koo::verify::{BasicVerifier, KitVerifier, VerifyConfig};
use koo::{CodeClass, ResultCode};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

const KEY: &[u8] = b"basic-key";
const KIT_KEY: &[u8] = b"kit-key";

struct Seller {
    basic: BasicVerifier,
    kit: KitVerifier,
    bodies: Mutex<Vec<Vec<u8>>>,
}

fn now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}

fn answer(code: ResultCode) -> String {
    format!(r#"{{"resultCode":"{}","resultMsg":"{}","instanceId":"i-1"}}"#, code, code.message())
}

async fn produce(State(s): State<Arc<Seller>>, Query(q): Query<HashMap<String, String>>, body: Bytes) -> String {
    s.bodies.lock().unwrap().push(body.to_vec());
    let get = |k: &str| q.get(k).map(String::as_str);
    match s.basic.verify(get("signature"), get("timestamp"), get("nonce"), &body, now_ms()) {
        Err(e) => answer(e.result_code()),
        Ok(()) => match BasicCall::from_body(&body) {
            Ok(_) => answer(ResultCode::Success),
            Err(_) => answer(ResultCode::InvalidParam),
        },
    }
}

async fn kit(State(s): State<Arc<Seller>>, headers: HeaderMap, body: Bytes) -> String {
    let get = |k: &str| headers.get(k).and_then(|v| v.to_str().ok());
    match s.kit.verify(get("x-sign"), get("x-timestamp"), get("x-nonce"), &body, now_ms()) {
        Err(e) => answer(e.result_code()),
        Ok(()) => answer(ResultCode::Success),
    }
}

async fn serve() -> (String, Arc<Seller>) {
    let seller = Arc::new(Seller {
        basic: BasicVerifier::new(KEY, VerifyConfig::default()),
        kit: KitVerifier::new(KIT_KEY, VerifyConfig::default()),
        bodies: Mutex::new(Vec::new()),
    });
    let app = Router::new()
        .route("/produce", post(produce))
        .route("/produce/produceAPI/v2/tenantSync", post(kit))
        .route("/html", post(|| async { "<html>oops</html>" }))
        .route("/boom", post(|| async { (StatusCode::BAD_GATEWAY, "upstream down") }))
        .route("/busy", post(|| async { r#"{"resultCode":"000005","resultMsg":"busy"}"# }))
        .route("/sold-out", post(|| async { r#"{"resultCode":"000106","resultMsg":"sold out"}"# }))
        .route(
            "/slow",
            post(|| async {
                tokio::time::sleep(Duration::from_secs(3)).await;
                "{}"
            }),
        )
        .with_state(seller.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("http://{addr}"), seller)
}

fn new_instance() -> BasicCall {
    BasicCall::NewInstance(NewInstance {
        order_id: "CS1".into(),
        order_line_id: "CS1-000001".into(),
        business_id: "b-\u{1F600}/\"x\"".into(),
        test_flag: Some(TEST_FLAG.into()),
    })
}

#[tokio::test]
async fn basic_call_is_signed_and_recorded() {
    let (base, seller) = serve().await;
    let client = Client::new(true, AddressPolicy::allowing_loopback()).unwrap();
    let ex = client.call_basic(&format!("{base}/produce"), KEY, &new_instance(), now_ms()).await.unwrap();
    match &ex.outcome {
        CallOutcome::Answered { code, body, http_status, .. } => {
            assert_eq!(*code, ResultCode::Success);
            assert_eq!(*http_status, 200);
            assert_eq!(body["instanceId"], "i-1");
        }
        other => panic!("{other:?}"),
    }
    assert!(!ex.outcome.is_retryable());
    assert_eq!(ex.nonce.len(), 64);
    assert!(ex.url.contains(&format!("signature={}", ex.signature)));
    // The recorded body is exactly what the seller received.
    assert_eq!(seller.bodies.lock().unwrap().last().unwrap(), ex.request_body.as_bytes());

    // Wrong key -> 000001, a rejection that is not retried.
    let ex = client.call_basic(&format!("{base}/produce"), b"wrong", &new_instance(), now_ms()).await.unwrap();
    assert_eq!(ex.outcome.code(), Some(&ResultCode::AuthFailed));
    assert_eq!(ex.outcome.code().map(ResultCode::class), Some(CodeClass::Rejected));
    assert!(!ex.outcome.is_retryable());

    // Stale timestamp -> 000001.
    let ex = client.call_basic(&format!("{base}/produce"), KEY, &new_instance(), now_ms() - 120_000).await.unwrap();
    assert_eq!(ex.outcome.code(), Some(&ResultCode::AuthFailed));

    // A raw JSON value of strings works too; unknown activity -> 000002.
    let raw = serde_json::json!({"activity": "dance", "orderId": "x", "gone": null});
    let ex = client.call_basic(&format!("{base}/produce"), KEY, &raw, now_ms()).await.unwrap();
    assert_eq!(ex.outcome.code(), Some(&ResultCode::InvalidParam));
}

#[tokio::test]
async fn basic_bodies_must_be_strings() {
    let client = Client::new(true, AddressPolicy::allowing_loopback()).unwrap();
    for body in [serde_json::json!({"activity": "newInstance", "n": 1}), serde_json::json!(["x"])] {
        let err = client.call_basic("http://127.0.0.1:9/p", KEY, &body, 0).await.unwrap_err();
        assert!(matches!(err, ClientError::BadBody(_)), "{err}");
    }
}

#[tokio::test]
async fn kit_call_posts_to_produce_api() {
    let (base, _seller) = serve().await;
    let client = Client::new(true, AddressPolicy::allowing_loopback()).unwrap();
    let body = TenantSync {
        instance_id: "i".into(),
        order_id: "o".into(),
        tenant_id: "t".into(),
        tenant_code: "c".into(),
        name: "n\u{2028}".into(),
        domain_name: "https://d".into(),
        flag: flag::ADD,
        test_flag: 1,
        time_stamp: "20220413093539534".into(),
    };
    let ex = client.call_kit(&format!("{base}/produce/"), "tenantSync", KIT_KEY, &body, now_ms()).await.unwrap();
    assert!(ex.url.ends_with("/produce/produceAPI/v2/tenantSync"), "{}", ex.url);
    assert_eq!(ex.outcome.code(), Some(&ResultCode::Success), "{:?}", ex.outcome);
    let ex = client.call_kit(&format!("{base}/produce"), "tenantSync", KEY, &body, now_ms()).await.unwrap();
    assert_eq!(ex.outcome.code(), Some(&ResultCode::AuthFailed));
}

#[tokio::test]
async fn failure_outcomes() {
    let (base, _seller) = serve().await;
    let client = Client::with_timeout(true, AddressPolicy::allowing_loopback(), Duration::from_millis(500)).unwrap();
    let call = |path: &'static str| {
        let client = client.clone();
        let url = format!("{base}{path}");
        async move { client.call_basic(&url, KEY, &new_instance(), now_ms()).await.unwrap().outcome }
    };
    let o = call("/html").await;
    assert!(matches!(o, CallOutcome::Unparseable { http_status: 200, .. }) && o.is_retryable(), "{o:?}");
    let o = call("/boom").await;
    assert!(matches!(o, CallOutcome::HttpError { status: 502, .. }) && o.is_retryable(), "{o:?}");
    let o = call("/missing").await;
    assert!(matches!(o, CallOutcome::HttpError { status: 404, .. }) && !o.is_retryable(), "{o:?}");
    let o = call("/busy").await;
    assert!(o.code() == Some(&ResultCode::InternalError) && o.is_retryable(), "{o:?}");
    let o = call("/sold-out").await;
    assert!(o.code().map(ResultCode::class) == Some(CodeClass::Refused) && !o.is_retryable(), "{o:?}");
    let o = call("/slow").await;
    assert!(matches!(&o, CallOutcome::Transport(m) if m.starts_with("timeout")) && o.is_retryable(), "{o:?}");

    // A port just released: connection refused.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dead = listener.local_addr().unwrap();
    drop(listener);
    let ex = client.call_basic(&format!("http://{dead}/p"), KEY, &new_instance(), now_ms()).await.unwrap();
    assert!(matches!(ex.outcome, CallOutcome::Transport(_)) && ex.outcome.is_retryable());
}

#[tokio::test]
async fn https_required_unless_loopback_allowed() {
    let (base, _seller) = serve().await;
    let strict = Client::new(false, AddressPolicy::public_only()).unwrap();
    let err = strict.call_basic(&format!("{base}/produce"), KEY, &new_instance(), now_ms()).await.unwrap_err();
    assert!(matches!(err, ClientError::InsecureUrl(_)));
    let err = strict.call_kit(&base, "tenantSync", KIT_KEY, &serde_json::json!({}), now_ms()).await.unwrap_err();
    assert!(matches!(err, ClientError::InsecureUrl(_)));
}

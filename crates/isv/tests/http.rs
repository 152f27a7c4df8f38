//! End to end: the reference seller on 127.0.0.1:0, called with real signed
//! HTTP requests (koo's client for good calls, hand-signed ones for bad input).

use koo::client::{CallOutcome, Client};
use koo::outbound::AddressPolicy;
use koo::{canonical, sign};
use mercato_isv::{FaultPolicy, ManualClock, ReferenceSellerConfig};
use serde_json::{Value, json};
use std::sync::Arc;

const KEY: &str = "basic-access-key";
const KIT_KEY: &str = "kit-access-key";

struct Seller {
    url: String,
    clock: Arc<ManualClock>,
    client: Client,
    http: reqwest::Client,
    _dir: tempfile::TempDir,
    _stop: tokio::sync::oneshot::Sender<()>,
}

async fn start(faults: FaultPolicy) -> Seller {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(chrono::Utc::now().timestamp_millis());
    let mut config = ReferenceSellerConfig::new(KEY, dir.path().join("seller.db"));
    config.kit_key = Some(KIT_KEY.into());
    config.faults = faults;
    config.clock = clock.clone();
    let (listener, addr) = mercato_isv::bind(0).await.unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(mercato_isv::serve_on(listener, config, async {
        let _ = stopped.await;
    }));
    Seller {
        url: format!("http://{addr}/produce"),
        clock,
        client: Client::new(true, AddressPolicy::allowing_loopback()).unwrap(),
        http: reqwest::Client::new(),
        _dir: dir,
        _stop: stop,
    }
}

impl Seller {
    fn now(&self) -> i64 {
        use mercato_isv::Clock;
        self.clock.now_ms()
    }

    async fn outcome(&self, body: Value) -> CallOutcome {
        self.client.call_basic(&self.url, KEY.as_bytes(), &body, self.now()).await.unwrap().outcome
    }

    /// A signed basic call; returns (resultCode, whole answer).
    async fn call(&self, body: Value) -> (String, Value) {
        match self.outcome(body).await {
            CallOutcome::Answered { code, body, .. } => (code.as_str().to_owned(), body),
            other => panic!("no protocol answer: {other:?}"),
        }
    }

    async fn kit(&self, name: &str, body: Value) -> String {
        let exchange = self.client.call_kit(&self.url, name, KIT_KEY.as_bytes(), &body, self.now()).await.unwrap();
        match exchange.outcome {
            CallOutcome::Answered { code, .. } => code.as_str().to_owned(),
            other => panic!("no protocol answer: {other:?}"),
        }
    }

    /// A raw POST to `<url><suffix>` with the given query string and body.
    async fn raw(&self, suffix: &str, query: &str, headers: &[(&str, String)], body: Vec<u8>) -> (u16, Value) {
        let mut request = self.http.post(format!("{}{suffix}?{query}", self.url)).body(body);
        for (name, value) in headers {
            request = request.header(*name, value);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let text = response.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
    }

    /// Signs `body` correctly (when it can be canonicalised) and posts it,
    /// letting the test override any query parameter.
    async fn signed_raw(&self, body: &[u8], timestamp: Option<String>, nonce: Option<&str>, bad_sig: bool) -> Value {
        let ts = timestamp.unwrap_or_else(|| self.now().to_string());
        let nonce_value = nonce.map(str::to_owned).unwrap_or_else(koo::client::new_nonce);
        let signature = match canonical::basic_payload(body) {
            Ok(payload) if !bad_sig => sign::basic_signature(KEY.as_bytes(), &nonce_value, &ts, &payload),
            _ => "00".repeat(32),
        };
        let mut query = format!("signature={signature}&timestamp={ts}");
        if nonce.is_none() || nonce != Some("") {
            query.push_str(&format!("&nonce={nonce_value}"));
        }
        self.raw("", &query, &[], body.to_vec()).await.1
    }
}

fn code(v: &Value) -> &str {
    v["resultCode"].as_str().unwrap_or("<none>")
}

fn new_instance(order: &str, business: &str) -> Value {
    json!({"activity": "newInstance", "orderId": order, "orderLineId": format!("{order}-1"), "businessId": business, "testFlag": "1"})
}

#[tokio::test]
async fn instance_lifecycle() {
    let s = start(FaultPolicy::default()).await;
    // Idempotent newInstance.
    let (c, first) = s.call(new_instance("O1", "B1")).await;
    assert_eq!(c, "000000");
    assert_eq!(first["instanceId"], "B1");
    let (c, again) = s.call(new_instance("O1", "B2")).await;
    assert_eq!(c, "000000");
    assert_eq!(again["instanceId"], "B1");
    // Query.
    let (c, q) = s.call(json!({"activity": "queryInstance", "instanceId": "B1"})).await;
    assert_eq!(c, "000000");
    assert_eq!(q["info"][0]["instanceId"], "B1");
    assert!(q["info"][0]["appInfo"]["frontEndUrl"].as_str().unwrap().starts_with("https://"));
    assert!(q["info"][0]["appInfo"]["password"].is_string());
    let (c, _) = s.call(json!({"activity": "queryInstance", "instanceId": "nope"})).await;
    assert_eq!(c, "000003");
    // Renew, trial to formal, renewal with change.
    for (scene, expiry) in [("RENEWAL", "20301231235959"), ("TRIAL_TO_FORMAL", "20311231235959")] {
        let body = json!({"activity": "refreshInstance", "scene": scene, "orderId": "R1", "orderLineId": "R1-1",
                          "instanceId": "B1", "expireTime": expiry});
        assert_eq!(s.call(body).await.0, "000000");
    }
    let change = json!({"activity": "refreshInstance", "scene": "RENEWAL_CHANGE", "orderId": "R2", "orderLineId": "R2-1",
                        "instanceId": "B1", "expireTime": "20321231235959", "productId": "P-big"});
    assert_eq!(s.call(change).await.0, "000000");
    let bad_expiry = json!({"activity": "refreshInstance", "scene": "RENEWAL", "orderId": "R3", "orderLineId": "R3-1",
                            "instanceId": "B1", "expireTime": "next year"});
    assert_eq!(s.call(bad_expiry).await.0, "000002");
    // Freeze / unfreeze, each twice.
    for status in ["FREEZE", "FREEZE", "UNFREEZE", "UNFREEZE"] {
        let body = json!({"activity": "updateInstanceStatus", "instanceId": "B1", "status": status});
        assert_eq!(s.call(body).await.0, "000000", "{status}");
    }
    // Upgrade, change check, order notify.
    let upgrade = json!({"activity": "upgradeInstance", "instanceId": "B1", "orderId": "U1", "orderLineId": "U1-1"});
    assert_eq!(s.call(upgrade).await.0, "000000");
    let check = json!({"activity": "changeInstanceCheck", "instanceId": "B1",
                       "productInfo": "{\"productId\":\"P2\",\"skuCode\":\"S2\",\"linearValue\":\"10\"}"});
    assert_eq!(s.call(check).await.0, "000000");
    let notify = json!({"activity": "orderNotify", "orderId": "N1", "orderLineId": "N1-1"});
    assert_eq!(s.call(notify.clone()).await.0, "000000");
    assert_eq!(s.call(notify).await.0, "000000");
    // Release twice; afterwards the instance is gone for everything else.
    let release = json!({"activity": "releaseInstance", "instanceId": "B1"});
    assert_eq!(s.call(release.clone()).await.0, "000000");
    assert_eq!(s.call(release).await.0, "000000");
    let (c, _) = s.call(json!({"activity": "queryInstance", "instanceId": "B1"})).await;
    assert_eq!(c, "000003");
    let freeze = json!({"activity": "updateInstanceStatus", "instanceId": "B1", "status": "FREEZE"});
    assert_eq!(s.call(freeze).await.0, "000003");
    let release_unknown = json!({"activity": "releaseInstance", "instanceId": "never"});
    assert_eq!(s.call(release_unknown).await.0, "000003");
}

#[tokio::test]
async fn license_calls() {
    let s = start(FaultPolicy::default()).await;
    let get = |business: &str| json!({"activity": "getLicenseAsync", "orderId": "L1", "orderLineId": "L1-1", "businessId": business});
    let (c, first) = s.call(get("LB1")).await;
    assert_eq!(c, "000000");
    assert_eq!(first["instanceId"], "LB1");
    let code_value = first["license"].as_str().unwrap().to_owned();
    let (_, again) = s.call(get("LB2")).await;
    assert_eq!(again["license"], code_value.as_str());
    assert_eq!(again["instanceId"], "LB1");
    let refresh = json!({"activity": "refreshLicenseCode", "scene": "RENEWAL", "orderId": "L2", "orderLineId": "L2-1",
                         "instanceId": "LB1", "expireTime": "20301231000000"});
    assert_eq!(s.call(refresh).await.0, "000000");
    let freeze = json!({"activity": "updateLicenseCodeStatus", "instanceId": "LB1", "status": "FREEZE"});
    assert_eq!(s.call(freeze).await.0, "000000");
    let release = json!({"activity": "releaseLicenseCode", "instanceId": "LB1"});
    assert_eq!(s.call(release.clone()).await.0, "000000");
    assert_eq!(s.call(release).await.0, "000000");
}

#[tokio::test]
async fn async_provisioning_then_query() {
    let s = start(FaultPolicy { async_mode: true, async_delay_ms: 3_000, ..Default::default() }).await;
    let (c, answer) = s.call(new_instance("O1", "B1")).await;
    assert_eq!(c, "000004");
    assert_eq!(answer["instanceId"], "B1");
    let (c, _) = s.call(json!({"activity": "queryInstance", "instanceId": "B1"})).await;
    assert_eq!(c, "000004");
    // A retry of the purchase is still in progress, same id.
    let (c, answer) = s.call(new_instance("O1", "B9")).await;
    assert_eq!((c.as_str(), &answer["instanceId"]), ("000004", &json!("B1")));
    s.clock.advance_ms(3_000);
    let (c, q) = s.call(json!({"activity": "queryInstance", "instanceId": "B1"})).await;
    assert_eq!(c, "000000");
    assert!(q["info"][0]["appInfo"]["frontEndUrl"].is_string());
    let (c, _) = s.call(new_instance("O1", "B9")).await;
    assert_eq!(c, "000000");
}

#[tokio::test]
async fn kit_calls_are_idempotent() {
    let s = start(FaultPolicy::default()).await;
    let common = |mut v: Value| {
        v["instanceId"] = json!("I1");
        v["tenantId"] = json!("T1");
        v["testFlag"] = json!(1);
        v["timeStamp"] = json!("20240101000000000");
        v
    };
    let calls = [
        (
            "tenantSync",
            json!({"orderId": "O1", "tenantCode": "acme", "name": "Acme", "domainName": "acme.example.com", "flag": 1}),
        ),
        ("applicationSync", json!({"appId": "A1", "clientId": "C1", "clientSecret": "ciphertext==", "flag": 1})),
        (
            "authSync",
            json!({"appId": "A1", "currentSyncTime": "20240101000000000", "flag": 1, "userList": [
                {"userName": "alice", "name": "Alice", "orgCode": "root", "role": "admin", "enable": "true", "extension": {"k": "v"}}
            ]}),
        ),
        ("singleOrgSync", json!({"orgCode": "root", "orgName": "Root", "parentCode": "", "flag": 1})),
        (
            "allOrgSync",
            json!({"orgInfoList": [{"orgCode": "root", "orgName": "Root", "parentCode": ""},
                                              {"orgCode": "dev", "orgName": "Dev", "parentCode": "root"}]}),
        ),
        (
            "authSync",
            json!({"appId": "A1", "flag": 3, "userList": [{"userName": "alice", "name": "Alice", "orgCode": "root", "role": "admin"}]}),
        ),
        (
            "authSync",
            json!({"appId": "A1", "flag": 0, "userList": [{"userName": "bob", "name": "Bob", "orgCode": "root", "role": "user"}]}),
        ),
        ("singleOrgSync", json!({"orgCode": "gone", "orgName": "Gone", "parentCode": "root", "flag": 0})),
        (
            "tenantSync",
            json!({"orderId": "O1", "tenantCode": "acme", "name": "Acme", "domainName": "acme.example.com", "flag": 0}),
        ),
    ];
    for (name, body) in calls {
        let body = common(body);
        assert_eq!(s.kit(name, body.clone()).await, "000000", "{name} first");
        assert_eq!(s.kit(name, body).await, "000000", "{name} again");
    }
    // Bad flag, wrong type, unknown name, wrong key.
    let bad_flag = common(json!({"orderId": "O1", "tenantCode": "a", "name": "A", "domainName": "d", "flag": 3}));
    assert_eq!(s.kit("tenantSync", bad_flag).await, "000002");
    let wrong_type = common(json!({"orderId": "O1", "tenantCode": "a", "name": "A", "domainName": "d", "flag": "1"}));
    assert_eq!(s.kit("tenantSync", wrong_type).await, "000002");
    assert_eq!(s.kit("noSuchSync", common(json!({}))).await, "000002");
    let body = common(json!({"orgInfoList": []}));
    let exchange = s.client.call_kit(&s.url, "allOrgSync", KEY.as_bytes(), &body, s.now()).await.unwrap();
    assert_eq!(exchange.outcome.code().map(|c| c.as_str().to_owned()).as_deref(), Some("000001"));
    // Missing kit headers.
    let (_, answer) = s.raw("/produceAPI/v2/allOrgSync", "", &[], b"{}".to_vec()).await;
    assert_eq!(code(&answer), "000001");
}

#[tokio::test]
async fn refuse_code_refuses_every_purchase() {
    let s = start(FaultPolicy { refuse: Some("000106".into()), ..Default::default() }).await;
    for i in 0..3 {
        let (c, _) = s.call(new_instance(&format!("O{i}"), &format!("B{i}"))).await;
        assert_eq!(c, "000106");
    }
}

#[tokio::test]
async fn fail_rate_one_always_fails() {
    let s = start(FaultPolicy { fail_rate: 1.0, seed: Some(3), ..Default::default() }).await;
    let mut kinds = std::collections::BTreeSet::new();
    for i in 0..12 {
        let outcome = s.outcome(new_instance(&format!("O{i}"), &format!("B{i}"))).await;
        assert!(outcome.is_retryable(), "{outcome:?}");
        match outcome {
            CallOutcome::HttpError { status: 500, .. } => kinds.insert("500"),
            CallOutcome::Answered { code, .. } if code.as_str() == "000005" => kinds.insert("000005"),
            other => panic!("{other:?}"),
        };
    }
    assert_eq!(kinds.len(), 2, "both failure kinds appear: {kinds:?}");
}

#[tokio::test]
async fn down_for_answers_503_then_serves() {
    let s = start(FaultPolicy { down_for_secs: 5, ..Default::default() }).await;
    assert!(matches!(s.outcome(new_instance("O1", "B1")).await, CallOutcome::HttpError { status: 503, .. }));
    s.clock.advance_ms(5_000);
    assert_eq!(s.call(new_instance("O1", "B1")).await.0, "000000");
}

#[tokio::test]
async fn latency_delays_answers() {
    let s = start(FaultPolicy { latency_ms: 150, ..Default::default() }).await;
    let started = std::time::Instant::now();
    assert_eq!(s.call(new_instance("O1", "B1")).await.0, "000000");
    assert!(started.elapsed() >= std::time::Duration::from_millis(150));
}

#[tokio::test]
async fn bad_input_gets_the_right_code() {
    let s = start(FaultPolicy::default()).await;
    let good = br#"{"activity":"newInstance","orderId":"O1","orderLineId":"O1-1","businessId":"B1"}"#;

    // Signature: wrong -> 000001; missing -> 000001.
    assert_eq!(code(&s.signed_raw(good, None, None, true).await), "000001");
    let ts = s.now();
    let (_, answer) = s.raw("", &format!("timestamp={ts}&nonce=abc"), &[], good.to_vec()).await;
    assert_eq!(code(&answer), "000001");
    // Missing nonce / timestamp -> 000002; non-numeric timestamp -> 000002.
    assert_eq!(code(&s.signed_raw(good, None, Some(""), false).await), "000002");
    let (_, answer) = s.raw("", "signature=00&nonce=abc", &[], good.to_vec()).await;
    assert_eq!(code(&answer), "000002");
    assert_eq!(code(&s.signed_raw(good, Some("12x4".into()), None, false).await), "000002");
    // Stale timestamp and replayed nonce are rejected (000001).
    let stale = (s.now() - 61_000).to_string();
    assert_eq!(code(&s.signed_raw(good, Some(stale), None, false).await), "000001");
    let nonce = koo::client::new_nonce();
    assert_eq!(code(&s.signed_raw(good, None, Some(&nonce), false).await), "000000");
    assert_eq!(code(&s.signed_raw(good, None, Some(&nonce), false).await), "000001");
    // Unknown activity, missing or empty mandatory field, wrong enum, nested value.
    for body in [
        &br#"{"activity":"makeCoffee","orderId":"O1"}"#[..],
        br#"{"orderId":"O1"}"#,
        br#"{"activity":"newInstance","orderId":"O1","orderLineId":"O1-1"}"#,
        br#"{"activity":"newInstance","orderId":"","orderLineId":"O1-1","businessId":"B"}"#,
        br#"{"activity":"updateInstanceStatus","instanceId":"B1","status":"PAUSE"}"#,
        br#"{"activity":"newInstance","orderId":{"a":1},"orderLineId":"O1-1","businessId":"B"}"#,
        br#"{"activity":"queryInstance","instanceId":" , "}"#,
    ] {
        let answer = s.signed_raw(body, None, None, false).await;
        assert_eq!(code(&answer), "000002", "{}", String::from_utf8_lossy(body));
    }
    // Malformed JSON, not an object, invalid UTF-8.
    for body in [&b"{\"activity\":"[..], b"[1,2]", b"", b"{\"activity\":\"newInstance\",\"orderId\":\"\xff\xfe\"}"] {
        let answer = s.signed_raw(body, None, None, false).await;
        assert_eq!(code(&answer), "000002", "{body:?}");
    }
    // Oversized body: 413 with a JSON 000002.
    let big = format!(r#"{{"activity":"newInstance","orderId":"{}"}}"#, "x".repeat(70 * 1024));
    let (status, answer) = s.raw("", "signature=00&timestamp=1&nonce=n", &[], big.into_bytes()).await;
    assert_eq!((status, code(&answer)), (413, "000002"));
    // Malformed query string.
    let (_, answer) = s.raw("", "signature=%zz&timestamp=%ff%fe&nonce=n", &[], good.to_vec()).await;
    assert!(["000001", "000002"].contains(&code(&answer)), "{answer}");
}

#[tokio::test]
async fn responses_carry_a_valid_body_sign_header() {
    let s = start(FaultPolicy::default()).await;
    let body = new_instance("O1", "B1");
    let bytes = serde_json::to_vec(&body).unwrap();
    let payload = canonical::basic_payload(&bytes).unwrap();
    let (ts, nonce) = (s.now().to_string(), koo::client::new_nonce());
    let signature = sign::basic_signature(KEY.as_bytes(), &nonce, &ts, &payload);
    let response = s
        .http
        .post(format!("{}?signature={signature}&timestamp={ts}&nonce={nonce}", s.url))
        .body(bytes)
        .send()
        .await
        .unwrap();
    let header = response.headers().get("body-sign").unwrap().to_str().unwrap().to_owned();
    let text = response.bytes().await.unwrap();
    assert_eq!(sign::parse_body_sign_header(&header).unwrap(), sign::body_sign(KEY.as_bytes(), &text));
}

#[tokio::test]
async fn slow_answers_come_after_the_work_and_the_policy_changes_while_serving() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = ReferenceSellerConfig::new(KEY, dir.path().join("seller.db"));
    config.faults = FaultPolicy { slow_rate: 1.0, slow_ms: 600, ..Default::default() };
    let seller = mercato_isv::Controlled::open(&config).await.unwrap();
    let (listener, addr) = mercato_isv::bind(0).await.unwrap();
    tokio::spawn(mercato_isv::Controlled::serve(seller.router, listener, std::future::pending()));
    let url = format!("http://{addr}/produce");
    let client = Client::new(true, AddressPolicy::allowing_loopback()).unwrap();
    let now = || chrono::Utc::now().timestamp_millis();

    let started = std::time::Instant::now();
    let call = {
        let (client, url) = (client.clone(), url.clone());
        tokio::spawn(async move { client.call_basic(&url, KEY.as_bytes(), &new_instance("O1", "B1"), now()).await })
    };
    // The instance exists while its answer is still held back.
    let deadline = std::time::Instant::now() + std::time::Duration::from_millis(500);
    while seller.store.all_instances().await.unwrap().is_empty() {
        assert!(std::time::Instant::now() < deadline, "the instance was not created before the answer");
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert!(!call.is_finished());
    let answered = call.await.unwrap().unwrap();
    assert!(matches!(answered.outcome, CallOutcome::Answered { .. }), "{:?}", answered.outcome);
    assert!(started.elapsed() >= std::time::Duration::from_millis(600));

    // No more slowness; then down for a while, then up again.
    seller.faults.set_policy(FaultPolicy::default());
    let started = std::time::Instant::now();
    client.call_basic(&url, KEY.as_bytes(), &new_instance("O2", "B2"), now()).await.unwrap();
    assert!(started.elapsed() < std::time::Duration::from_millis(600));
    seller.faults.go_down_for(std::time::Duration::from_secs(60));
    let down = client.call_basic(&url, KEY.as_bytes(), &new_instance("O3", "B3"), now()).await.unwrap();
    assert!(matches!(down.outcome, CallOutcome::HttpError { status: 503, .. }), "{:?}", down.outcome);
    seller.faults.go_down_for(std::time::Duration::ZERO);
    let up = client.call_basic(&url, KEY.as_bytes(), &new_instance("O3", "B3"), now()).await.unwrap();
    assert!(matches!(up.outcome, CallOutcome::Answered { .. }), "{:?}", up.outcome);
    assert_eq!(seller.store.all_instances().await.unwrap().len(), 3);
}

//! The conformance checker against the real reference seller, served
//! in-process on 127.0.0.1. (The checker's runs without a seller are tested
//! in `mercato-conformance`.)

use mercato_conformance::{BoxFuture, CaseId, CaseSet, CheckConfig, HttpAnswer, Report, Transport, WireRequest};
use mercato_isv::{FaultPolicy, ReferenceSellerConfig};
use std::time::Duration;
use tokio::sync::oneshot;

const KEY: &str = "test-access-key-0123456789";
const KIT_KEY: &str = "test-kit-key-0123456789";

/// reqwest as the checker's transport: no redirects, the answer read whole
/// (the reference seller's answers are small).
struct Http(reqwest::Client);

impl Http {
    fn new() -> Self {
        let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("client");
        Http(client)
    }
}

impl Transport for Http {
    fn post(&self, request: WireRequest) -> BoxFuture<'_, Result<HttpAnswer, String>> {
        Box::pin(async move {
            let mut builder =
                self.0.post(&request.url).header("content-type", "application/json;charset=UTF-8").body(request.body);
            for (name, value) in &request.headers {
                builder = builder.header(name, value);
            }
            let response = builder.send().await.map_err(|e| format!("{e:?}"))?;
            let status = response.status().as_u16();
            let body = response.text().await.map_err(|e| format!("{e:?}"))?;
            Ok(HttpAnswer { status, body })
        })
    }
}

/// A running reference seller; stops when dropped.
struct Seller {
    url: String,
    _stop: oneshot::Sender<()>,
    _dir: tempfile::TempDir,
}

async fn seller(faults: FaultPolicy) -> Seller {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut config = ReferenceSellerConfig::new(KEY, dir.path().join("seller.db"));
    config.kit_key = Some(KIT_KEY.into());
    config.faults = faults;
    let (listener, addr) = mercato_isv::bind(0).await.expect("bind");
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(async move {
        let _ = mercato_isv::serve_on(listener, config, async {
            let _ = stopped.await;
        })
        .await;
    });
    Seller { url: format!("http://{addr}/produce"), _stop: stop, _dir: dir }
}

fn config(url: &str, key: &str, kit_key: Option<&str>) -> CheckConfig {
    let mut c = CheckConfig::new(url, key.as_bytes().to_vec());
    c.kit_key = kit_key.map(|k| k.as_bytes().to_vec());
    c.allow_insecure = true;
    c.poll_interval = Duration::from_millis(100);
    c
}

async fn run(config: &CheckConfig) -> Report {
    mercato_conformance::run(config, &Http::new()).await.expect("the run starts")
}

fn names(report: &Report) -> Vec<&str> {
    report.cases.iter().map(|c| c.name.as_str()).collect()
}

#[tokio::test]
async fn every_case_passes_against_the_reference_seller() {
    let s = seller(FaultPolicy::default()).await;
    let report = run(&config(&s.url, KEY, Some(KIT_KEY))).await;
    assert!(report.all_passed(), "{}", report.to_table());
    let saas: Vec<CaseId> = CaseId::ALL.into_iter().filter(|c| !c.is_license()).collect();
    assert_eq!(report.cases.len(), saas.len());
    assert_eq!(names(&report), saas.iter().map(|c| c.name()).collect::<Vec<_>>());
    assert_eq!(report.to_table().lines().last(), Some(format!("{} passed, 0 failed", saas.len()).as_str()));
}

#[tokio::test]
async fn the_license_cases_pass_against_the_reference_seller() {
    let s = seller(FaultPolicy::default()).await;
    let mut c = config(&s.url, KEY, None);
    c.cases = CaseSet::LicenseProduct;
    let report = run(&c).await;
    assert!(report.all_passed(), "{}", report.to_table());
    assert_eq!(
        names(&report),
        [
            "getLicenseAsync",
            "getLicenseAsync repeated",
            "refreshLicenseCode RENEWAL",
            "updateLicenseCodeStatus FREEZE",
            "updateLicenseCodeStatus UNFREEZE",
            "releaseLicenseCode",
            "releaseLicenseCode again",
        ]
    );
    // A seller that refuses codes fails the issue and every case after it.
    let refusing = seller(FaultPolicy { refuse: Some("000106".into()), ..Default::default() }).await;
    let report = run(&CheckConfig { url: refusing.url.clone(), ..c }).await;
    assert_eq!(report.failed, 7, "{}", report.to_table());
}

#[tokio::test]
async fn async_provisioning_is_polled_until_app_info() {
    let s = seller(FaultPolicy { async_mode: true, async_delay_ms: 600, ..Default::default() }).await;
    let report = run(&config(&s.url, KEY, None)).await;
    assert!(report.all_passed(), "{}", report.to_table());
    let first = &report.cases[0];
    assert_eq!(first.got, "000004 then appInfo");
    assert!(first.detail.contains("polling"), "{}", first.detail);
}

#[tokio::test]
async fn product_case_sets_follow_the_spec() {
    let s = seller(FaultPolicy::default()).await;
    let mut c = config(&s.url, KEY, Some(KIT_KEY));
    c.cases = CaseSet::PeriodProduct;
    let report = run(&c).await;
    assert!(report.all_passed(), "{}", report.to_table());
    assert_eq!(
        names(&report),
        [
            "newInstance",
            "refreshInstance RENEWAL",
            "updateInstanceStatus FREEZE",
            "updateInstanceStatus UNFREEZE",
            "releaseInstance"
        ]
    );
    c.cases = CaseSet::OneTimeProduct;
    let report = run(&c).await;
    assert!(report.all_passed(), "{}", report.to_table());
    assert_eq!(names(&report), ["newInstance", "releaseInstance"]);
}

#[tokio::test]
async fn a_failing_seller_fails_every_case_with_details() {
    let s = seller(FaultPolicy { fail_rate: 1.0, seed: Some(3), ..Default::default() }).await;
    let report = run(&config(&s.url, KEY, Some(KIT_KEY))).await;
    assert!(!report.all_passed());
    assert_eq!(report.failed, report.cases.len(), "{}", report.to_table());
    for case in &report.cases {
        assert!(!case.detail.is_empty(), "{case:?}");
        assert!(["HTTP 500", "000005", "not run"].iter().any(|g| case.got.contains(g)), "{case:?}");
    }
    assert!(report.to_table().ends_with(&format!("0 passed, {} failed\n", report.cases.len())));
}

#[tokio::test]
async fn a_wrong_key_gets_000001_everywhere() {
    let s = seller(FaultPolicy::default()).await;
    let report = run(&config(&s.url, "not-the-seller-key", Some("not-the-kit-key"))).await;
    assert!(!report.all_passed());
    for case in &report.cases {
        match case.name.as_str() {
            // These expect a refusal, and a wrong key is refused too.
            "bad signature" | "stale timestamp" | "missing nonce" => assert!(case.pass, "{case:?}"),
            _ => {
                assert!(!case.pass, "{case:?}");
                assert!(case.got.contains("000001") || case.got == "not run", "{case:?}");
                assert!(case.detail.contains("000001"), "{case:?}");
            }
        }
    }
}

#[tokio::test]
async fn slow_answers_time_out_per_call() {
    let s = seller(FaultPolicy { latency_ms: 1_500, ..Default::default() }).await;
    let mut c = config(&s.url, KEY, None);
    c.cases = CaseSet::OneTimeProduct;
    c.call_timeout = Duration::from_millis(300);
    let report = run(&c).await;
    assert_eq!(report.failed, 2);
    assert!(report.cases[0].detail.contains("timeout"), "{:?}", report.cases[0]);
}

#[tokio::test]
async fn renderings_contain_every_case() {
    let s = seller(FaultPolicy::default()).await;
    let report = run(&config(&s.url, KEY, Some(KIT_KEY))).await;
    let table = report.to_table();
    let json: serde_json::Value = serde_json::from_str(&report.to_json()).expect("json");
    let json_names: Vec<&str> =
        json["cases"].as_array().expect("cases").iter().filter_map(|c| c["name"].as_str()).collect();
    let saas: Vec<CaseId> = CaseId::ALL.into_iter().filter(|c| !c.is_license()).collect();
    for id in &saas {
        assert!(table.lines().any(|l| l.starts_with(id.name())), "{} missing from\n{table}", id.name());
        assert!(json_names.contains(&id.name()), "{} missing from the JSON", id.name());
    }
    assert_eq!(json["passed"], saas.len());
    assert_eq!(json["failed"], 0);
}

//! The checker without a seller to judge: runs that cannot start, and an
//! endpoint where nothing listens. Runs against a real seller are tested in
//! `mercato-isv`, against the reference seller.

use mercato_conformance::{CaseId, CheckConfig, CheckError, HttpTransport, run};

const KEY: &[u8] = b"test-access-key-0123456789";
const KIT_KEY: &[u8] = b"test-kit-key-0123456789";

fn config(url: &str) -> CheckConfig {
    let mut c = CheckConfig::new(url, KEY);
    c.kit_key = Some(KIT_KEY.to_vec());
    c.allow_insecure = true;
    c
}

fn http() -> HttpTransport {
    HttpTransport::new().expect("client")
}

#[tokio::test]
async fn nothing_listening_fails_every_case_with_a_transport_detail() {
    // A port that was free a moment ago: connections to it are refused.
    let addr = std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("bind");
    let report = run(&config(&format!("http://{addr}/produce")), &http()).await.expect("the run starts");
    assert_eq!(report.cases.len(), CaseId::ALL.iter().filter(|c| !c.is_license()).count());
    assert_eq!(report.failed, report.cases.len());
    for case in &report.cases {
        assert!(case.detail.contains("transport"), "{case:?}");
    }
    let mut license = config(&format!("http://{addr}/produce"));
    license.cases = mercato_conformance::CaseSet::LicenseProduct;
    let report = run(&license, &http()).await.expect("the run starts");
    assert_eq!(report.cases.len(), 7);
    assert_eq!(report.failed, 7);
    assert!(report.cases[0].detail.contains("transport"), "{:?}", report.cases[0]);
    assert!(report.cases[2].detail.contains("getLicenseAsync failed"), "{:?}", report.cases[2]);
}

#[tokio::test]
async fn plain_http_is_refused_off_loopback_and_without_permission() {
    let mut c = config("http://example.com/produce");
    assert!(matches!(run(&c, &http()).await, Err(CheckError::Url(_))));
    c.url = "http://127.0.0.1:1/produce".into();
    c.allow_insecure = false;
    assert!(matches!(run(&c, &http()).await, Err(CheckError::Url(_))));
    c.allow_insecure = true;
    c.key = Vec::new();
    assert_eq!(run(&c, &http()).await.err(), Some(CheckError::EmptyKey));
}

//! The outbound guard on real connections: refused addresses are never
//! connected to, whatever form the URL gives them, and the refusal names no
//! network detail.

use axum::Router;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::any;
use koo::calls::{BasicCall, NewInstance};
use koo::client::{CallOutcome, Client};
use koo::outbound::{self, AddressPolicy};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

/// A server on `ip` that counts the requests it gets and answers `reply`.
async fn counting_server(ip: &str, reply: Reply) -> (String, Arc<AtomicUsize>) {
    let hits = Arc::new(AtomicUsize::new(0));
    let counter = hits.clone();
    let app = Router::new().fallback(any(move || {
        let reply = reply.clone();
        counter.fetch_add(1, Ordering::SeqCst);
        async move {
            match reply {
                Reply::Success => r#"{"resultCode":"000000","resultMsg":"ok"}"#.into_response(),
                Reply::RedirectTo(to) => (StatusCode::TEMPORARY_REDIRECT, [(header::LOCATION, to)]).into_response(),
            }
        }
    }));
    let listener = tokio::net::TcpListener::bind((ip, 0)).await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("{ip}:{port}"), hits)
}

#[derive(Clone)]
enum Reply {
    Success,
    RedirectTo(String),
}

fn call() -> BasicCall {
    BasicCall::NewInstance(NewInstance {
        order_id: "CS1".into(),
        order_line_id: "CS1-000001".into(),
        business_id: "b-1".into(),
        test_flag: None,
    })
}

fn client(addresses: AddressPolicy) -> Client {
    Client::with_timeout(true, addresses, Duration::from_secs(2)).unwrap()
}

async fn outcome(client: &Client, url: &str) -> CallOutcome {
    client.call_basic(url, b"key", &call(), 0).await.unwrap().outcome
}

#[tokio::test]
async fn every_non_public_address_class_is_refused_before_connecting() {
    let (addr, hits) = counting_server("127.0.0.1", Reply::Success).await;
    let port = addr.rsplit_once(':').unwrap().1;
    let guarded = client(AddressPolicy::public_only());
    let urls = [
        format!("http://{addr}/produce"),
        format!("http://localhost:{port}/produce"),
        format!("http://[::1]:{port}/produce"),
        format!("https://127.0.0.1:{port}/produce"),
        format!("https://0x7f000001:{port}/produce"),
        format!("https://[::ffff:127.0.0.1]:{port}/produce"),
        "https://169.254.169.254/latest/meta-data/".into(),
        "https://10.0.0.1/".into(),
        "https://172.16.0.1/".into(),
        "https://192.168.1.1/".into(),
        "https://100.64.0.1/".into(),
        "https://224.0.0.1/".into(),
        "https://0.0.0.0/".into(),
        "https://[fe80::1]/".into(),
        "https://[fd00:ec2::254]/".into(),
        "https://[::]/".into(),
    ];
    for url in &urls {
        let got = outcome(&guarded, url).await;
        assert_eq!(got, CallOutcome::Transport(outbound::REFUSED.into()), "{url}");
    }
    assert_eq!(hits.load(Ordering::SeqCst), 0, "a refused address was connected to");

    // The same server with loopback on the allow-list: the calls go through,
    // by address and by a name resolving to it.
    let allowed = client(AddressPolicy::allowing_loopback());
    for url in [format!("http://{addr}/produce"), format!("http://localhost:{port}/produce")] {
        assert!(matches!(outcome(&allowed, &url).await, CallOutcome::Answered { .. }), "{url}");
    }
    assert_eq!(hits.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn a_refused_host_reads_the_same_whether_it_listens_or_not() {
    let (open, _) = counting_server("127.0.0.1", Reply::Success).await;
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    let guarded = client(AddressPolicy::public_only());
    let a = outcome(&guarded, &format!("http://{open}/p")).await;
    let b = outcome(&guarded, &format!("http://{closed}/p")).await;
    assert_eq!(a, b);
    let CallOutcome::Transport(text) = a else { panic!("not a transport refusal: {a:?}") };
    assert_eq!(text, outbound::REFUSED);
    // Unguarded, the closed port would say so: the guard is what hides it.
    let open_policy = client(AddressPolicy::allowing_loopback());
    let CallOutcome::Transport(detail) = outcome(&open_policy, &format!("http://{closed}/p")).await else {
        panic!("a closed port answered")
    };
    assert_ne!(detail, outbound::REFUSED);
}

#[tokio::test]
async fn redirects_to_private_addresses_are_not_followed() {
    // 127.0.0.2 stands for a private host: only 127.0.0.1 is allowed.
    let (target, target_hits) = counting_server("127.0.0.2", Reply::Success).await;
    let (start, _) = counting_server("127.0.0.1", Reply::RedirectTo(format!("http://{target}/internal"))).await;
    let only_start: AddressPolicy = "127.0.0.1".parse().unwrap();

    // Signed calls never follow a redirect: the seller's answer is the 307.
    let signed = client(only_start.clone());
    let got = outcome(&signed, &format!("http://{start}/produce")).await;
    assert!(matches!(got, CallOutcome::HttpError { status: 307, .. }), "{got:?}");

    // A caller that follows redirects has each target checked like the first.
    let following = only_start.client_builder_following(5).build().unwrap();
    let err = following.get(format!("http://{start}/hook")).send().await.unwrap_err();
    assert!(outbound::is_refusal(&err), "{err:?}");
    let (to_metadata, _) =
        counting_server("127.0.0.1", Reply::RedirectTo("http://169.254.169.254/latest/meta-data/".into())).await;
    let err = following.get(format!("http://{to_metadata}/hook")).send().await.unwrap_err();
    assert!(outbound::is_refusal(&err), "{err:?}");
    assert_eq!(target_hits.load(Ordering::SeqCst), 0, "the redirect target was reached");

    // Allowed, the same redirect is followed: the check is what stopped it.
    let loopback = AddressPolicy::allowing_loopback().client_builder_following(5).build().unwrap();
    let answer = loopback.get(format!("http://{start}/hook")).send().await.unwrap();
    assert_eq!(answer.status(), 200);
    assert_eq!(target_hits.load(Ordering::SeqCst), 1);
}

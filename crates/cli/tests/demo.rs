//! The README's first command: `mercato demo` seeds a marketplace a newcomer
//! can click through, and prints keys that work.

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_mercato");

/// The demo process, stopped when the test ends, also when it fails (a
/// failed run once left its demo writing into CI's log for an hour).
struct Demo(Child);

impl Drop for Demo {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test]
async fn demo_seeds_a_browsable_marketplace_and_prints_working_keys() {
    let dir = tempfile::tempdir().unwrap();
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut demo = Demo(
        Command::new(BIN)
            .args(["demo", "--listen", &format!("127.0.0.1:{port}")])
            .arg("--data-dir")
            .arg(dir.path())
            .env("MERCATO_LOG", "warn")
            .env_remove("MERCATO_DATABASE_URL")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap(),
    );
    // Read stdout until the welcome text is complete.
    let stdout = demo.0.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut text = String::new();
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            text.push_str(&line);
            text.push('\n');
            if line.contains("Press Ctrl-C") {
                break;
            }
        }
        let _ = tx.send(text);
    });
    let deadline = Instant::now() + Duration::from_secs(120);
    let text = loop {
        if let Ok(t) = rx.try_recv() {
            break t;
        }
        if let Ok(Some(status)) = demo.0.try_wait() {
            panic!("demo exited early: {status}");
        }
        assert!(Instant::now() < deadline, "demo did not finish seeding");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let key_of = |label: &str| {
        text.lines()
            .find(|l| l.trim_start().starts_with(label))
            .and_then(|l| l.split_whitespace().nth(1))
            .unwrap_or_else(|| panic!("no {label} key in:\n{text}"))
            .to_string()
    };
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    let catalog: serde_json::Value =
        client.get(format!("{base}/api/v1/catalog/products?limit=100")).send().await.unwrap().json().await.unwrap();
    let items = catalog["items"].as_array().unwrap();
    assert!(items.len() >= 12, "a dozen listed products: {}", items.len());
    let types: std::collections::HashSet<_> = items.iter().map(|p| p["type"].as_str().unwrap()).collect();
    assert!(types.len() >= 6, "several product types: {types:?}");
    assert!(items.iter().any(|p| p["name"].as_str().unwrap().contains("数据库")), "some products are in Chinese");

    for label in ["operator", "buyer", "seller"] {
        let me: serde_json::Value = client
            .get(format!("{base}/api/v1/me"))
            .bearer_auth(key_of(label))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(me["role"], label, "{label} key works");
    }
    let buyer = key_of("buyer");
    let wallet = get(&client, &base, "/api/v1/buyer/wallet", &buyer).await;
    // The demo buyer bought one month of a SaaS product and a pay-per-use
    // API (nothing to pay up front), which the reference seller provisioned,
    // a manual service and a license.
    let orders = get(&client, &base, "/api/v1/buyer/orders", &buyer).await;
    let amounts: Vec<i64> =
        orders["items"].as_array().unwrap().iter().map(|o| o["amount_minor"].as_i64().unwrap()).collect();
    assert_eq!(amounts.len(), 4, "{orders}");
    assert!(amounts.contains(&0), "{orders}");
    let spent: i64 = amounts.iter().sum();
    assert!(spent > 0, "{orders}");
    assert_eq!(
        wallet["balances"][0]["available_minor"].as_i64().unwrap(),
        1_000_000 - spent,
        "the buyer has wallet credit left: {wallet}"
    );
    walk_supervised_flows(&client, &base, &buyer, &text).await;
    walk_invoice(&client, &base, &buyer, &key_of("operator"), &text).await;
    let subs = get(&client, &base, "/api/v1/buyer/subscriptions", &buyer).await;
    let sub = subs["items"].as_array().unwrap().iter().find(|s| s["charging_mode"] == "period").unwrap();
    assert_eq!(sub["status"], "active", "{subs}");
    assert_eq!(sub["period"], "month", "{subs}");
    assert!(sub["instance_id"].is_string(), "provisioned by the seller: {subs}");
    let sub_path = format!("/api/v1/buyer/subscriptions/{}", sub["id"].as_str().unwrap());
    let usage_sub = subs["items"].as_array().unwrap().iter().find(|s| s["charging_mode"] == "on_demand").unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    walk_channel(&client, &base, &buyer, &text).await;

    // The demo runs on the test clock: 32 days on, the subscription has
    // expired and the demo's own worker freezes it.
    assert!(text.contains("/api/v1/operator/test-clock"), "prints the test clock's curl lines");
    let op = key_of("operator");
    let before = get(&client, &base, "/api/v1/operator/test-clock", &op).await;
    let moved: serde_json::Value = client
        .post(format!("{base}/api/v1/operator/test-clock"))
        .bearer_auth(&op)
        .json(&serde_json::json!({"advance_secs": 32 * 86_400}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let at = |v: &serde_json::Value| chrono::DateTime::parse_from_rfc3339(v["now"].as_str().unwrap()).unwrap();
    assert_eq!((at(&moved) - at(&before)).num_days(), 32, "{before} -> {moved}");
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let now = get(&client, &base, &sub_path, &buyer).await;
        if now["status"] == "frozen" {
            break;
        }
        assert_eq!(now["status"], "active", "nothing but the freeze happens: {now}");
        assert!(Instant::now() < deadline, "the subscription was not frozen within 30 s: {now}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // The usage its seller reported for the pay-per-use API was rated and
    // charged once its hour closed: 4999.75 GB at CNY 0.00015.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        // The half hour may straddle two hours: one charge each, each
        // rounded on its own (so 74-76 fen in all).
        let from = (at(&before) - chrono::Duration::hours(2)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        let path =
            format!("/api/v1/buyer/subscriptions/{usage_sub}/usage?from={from}&to={}", moved["now"].as_str().unwrap());
        let usage = get(&client, &base, &path, &buyer).await;
        if usage["total"]["quantity"] == "4999.75" {
            let charges = get(&client, &base, "/api/v1/buyer/usage/charges", &buyer).await;
            let items = charges["items"].as_array().unwrap();
            let total: i64 = items.iter().map(|c| c["amount_minor"].as_i64().unwrap()).sum();
            assert_eq!(total, usage["total"]["amount_minor"].as_i64().unwrap(), "{charges} {usage}");
            assert!((74..=76).contains(&total), "{charges}");
            assert!(items.iter().all(|c| c["status"] == "paid"), "{charges}");
            break;
        }
        assert!(Instant::now() < deadline, "the usage was not charged within 30 s");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // The month the demo started in has ended, and a day more: the scheduler
    // settled it, and Northwind has a statement with its subscription's sale.
    assert!(text.contains("/api/v1/seller/statements"), "prints the statement curl line");
    let northwind = seller_keys(dir.path())[1].clone();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let page = get(&client, &base, "/api/v1/seller/statements", &northwind).await;
        if let Some(first) = page["items"].as_array().and_then(|items| items.first()) {
            assert!(first["net_minor"].as_i64().unwrap() > 0, "{page}");
            let id = first["id"].as_str().unwrap();
            let detail = get(&client, &base, &format!("/api/v1/seller/statements/{id}"), &northwind).await;
            let kinds: Vec<&str> =
                detail["lines"]["items"].as_array().unwrap().iter().map(|l| l["kind"].as_str().unwrap()).collect();
            assert!(kinds.contains(&"sale"), "{detail}");
            // Through the printed lines: confirmed, approved, in the bank
            // file, paid; the trial balance reconciles it.
            post(&client, &base, &format!("/api/v1/seller/statements/{id}/confirm"), &northwind, None).await;
            post(&client, &base, &format!("/api/v1/operator/statements/{id}/approve"), &op, None).await;
            let res = client
                .get(format!("{base}/api/v1/operator/payouts/bank-file.csv"))
                .bearer_auth(&op)
                .send()
                .await
                .unwrap();
            let file = res.text().await.unwrap();
            assert!(file.lines().any(|l| l.starts_with(&format!("\"{id}\""))), "{file}");
            let paid = serde_json::json!({"provider": "manual", "reference": "BANK-0001"});
            let done = post(&client, &base, &format!("/api/v1/operator/statements/{id}/payout"), &op, Some(paid)).await;
            assert_eq!(done["statement"]["status"], "paid", "{done}");
            let tb = get(&client, &base, "/api/v1/operator/ledger/trial-balance", &op).await;
            assert_eq!(tb["settlement_problems"], serde_json::json!([]), "{tb}");
            assert_eq!(tb["settlement"][0]["paid"], 1, "{tb}");
            break;
        }
        assert!(Instant::now() < deadline, "no statement within 30 s: {page}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(text.contains("curl"), "prints ready curl lines");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.path().join("demo-keys.json")).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "the keys file holds the operator's key");
    }

    // No secret the demo handled is in its database in clear.
    let secrets = known_secrets(&client, &base, dir.path()).await;
    let mut recorded = 0;
    for seller in seller_keys(dir.path()) {
        let view = get(&client, &base, "/api/v1/seller/interface-messages?limit=100", &seller).await;
        recorded += view["items"].as_array().map_or(0, Vec::len);
        for secret in &secrets {
            assert!(!view.to_string().contains(secret.as_str()), "a seller sees a secret in interface messages");
        }
    }
    assert!(recorded > 0, "calls were recorded");
    drop(demo); // killed: what it wrote is on disk, WAL included
    let mut dump = Vec::new();
    for file in ["mercato.db", "mercato.db-wal"] {
        dump.extend(std::fs::read(dir.path().join(file)).unwrap_or_default());
    }
    assert!(dump.len() > 100_000, "the database was read: {} bytes", dump.len());
    for secret in &secrets {
        let found = dump.windows(secret.len()).any(|w| w == secret.as_bytes());
        assert!(!found, "a secret of {} characters is in the database file in clear", secret.len());
    }
}

/// Walks the printed channel lines: the partner's key, the offer and the
/// coupon the buyer holds, an order priced through both.
async fn walk_channel(client: &reqwest::Client, base: &str, buyer: &str, text: &str) {
    let partner = text
        .lines()
        .find(|l| l.trim_start().starts_with("partner "))
        .and_then(|l| l.split_whitespace().nth(1))
        .unwrap_or_else(|| panic!("no partner key in:\n{text}"));
    let me = get(client, base, "/api/v1/me", partner).await;
    assert_eq!(me["role"], "partner", "{me}");
    let customers = get(client, base, "/api/v1/partner/customers", partner).await;
    assert_eq!(customers["items"][0]["status"], "active", "the buyer is bound: {customers}");
    let offers = get(client, base, "/api/v1/buyer/private-offers", buyer).await;
    let offer = offers["items"][0]["id"].as_str().unwrap_or_else(|| panic!("an offer: {offers}")).to_string();
    let coupons = get(client, base, "/api/v1/buyer/coupons", buyer).await;
    let coupon = coupons["items"][0]["id"].as_str().unwrap_or_else(|| panic!("a coupon: {coupons}")).to_string();
    // The printed order line, as a newcomer would paste it.
    let line = text.lines().find(|l| l.contains("\"offer_id\"")).expect("the printed order with the offer");
    assert!(line.contains(&offer) && line.contains(&coupon), "{line}");
    let body: serde_json::Value =
        serde_json::from_str(line.split("-d '").nth(1).unwrap().split('\'').next().unwrap()).unwrap();
    let order = post(client, base, "/api/v1/buyer/orders", buyer, Some(body)).await;
    assert_eq!(order["amount_minor"], 10_760, "147.00 - 20% - 10.00: {order}");
    assert_eq!(order["lines"][0]["list_minor"], 14_700, "{order}");
    let id = order["id"].as_str().unwrap();
    let paid = post(client, base, &format!("/api/v1/buyer/orders/{id}/pay"), buyer, Some(serde_json::json!({}))).await;
    assert_eq!(paid["status"], "paid", "{paid}");
}

/// Walks the printed invoice lines: the buyer's request for the accepted
/// service order, the platform's issue, the PDF.
async fn walk_invoice(client: &reqwest::Client, base: &str, buyer: &str, op: &str, text: &str) {
    let line =
        text.lines().find(|l| l.contains("/api/v1/buyer/invoices") && l.contains("-d '")).expect("an invoice line");
    let body = line.split("-d '").nth(1).unwrap().split('\'').next().unwrap();
    let body: serde_json::Value = serde_json::from_str(body).unwrap();
    let asked =
        client.post(format!("{base}/api/v1/buyer/invoices")).bearer_auth(buyer).json(&body).send().await.unwrap();
    assert_eq!(asked.status(), 201);
    let asked: serde_json::Value = asked.json().await.unwrap();
    let id = asked["invoice"]["id"].as_str().unwrap().to_string();
    let queue = get(client, base, "/api/v1/operator/invoices?status=requested", op).await;
    assert!(queue["items"].as_array().unwrap().iter().any(|i| i["id"] == id.as_str()), "{queue}");
    let issued = post(client, base, &format!("/api/v1/operator/invoices/{id}/issue"), op, None).await;
    assert_eq!(issued["invoice"]["status"], "issued", "{issued}");
    let pdf = client.get(format!("{base}/api/v1/buyer/invoices/{id}/pdf")).bearer_auth(buyer).send().await.unwrap();
    assert_eq!(pdf.status(), 200);
    assert!(pdf.bytes().await.unwrap().starts_with(b"%PDF-"), "a PDF");
}

/// Walks the two flows the welcome text prints: the manual service waiting
/// for acceptance is accepted with the printed curl line's request, the
/// license is activated and checked with the printed `mercato isv open-api`
/// commands.
async fn walk_supervised_flows(client: &reqwest::Client, base: &str, buyer: &str, text: &str) {
    let line_with = |needle: &str| {
        text.lines().find(|l| l.contains(needle)).unwrap_or_else(|| panic!("no line with {needle} in:\n{text}")).trim()
    };
    let accept_url = line_with("/accept").split_whitespace().last().unwrap().to_string();
    let supervision_path = accept_url.strip_prefix(base).unwrap().trim_end_matches("/accept").to_string();
    let before = get(client, base, &supervision_path, buyer).await;
    assert_eq!(before["supervision"]["status"], "awaiting_acceptance", "{before}");
    let actions: Vec<&str> =
        before["timeline"].as_array().unwrap().iter().map(|s| s["action"].as_str().unwrap()).collect();
    assert_eq!(actions, ["opened", "submit_requirements", "start_delivery", "complete_delivery"]);
    assert_eq!(before["attachments"].as_array().unwrap().len(), 2, "requirements and report: {before}");
    let accepted = client
        .post(&accept_url)
        .bearer_auth(buyer)
        .json(&serde_json::json!({"note": "accepted"}))
        .send()
        .await
        .unwrap();
    assert_eq!(accepted.status(), 200);
    let order = before["supervision"]["order_id"].as_str().unwrap();
    assert_eq!(get(client, base, &format!("/api/v1/buyer/orders/{order}"), buyer).await["status"], "completed");

    let run = |line: &str| {
        let (head, body) = line.split_once(" --body ").unwrap();
        let args: Vec<&str> = head.split_whitespace().skip(1).collect();
        let out = Command::new(BIN).args(&args).arg("--body").arg(body.trim().trim_matches('\'')).output().unwrap();
        assert!(out.status.success(), "{line}: {}", String::from_utf8_lossy(&out.stderr));
        serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap()
    };
    assert_eq!(run(line_with("license/activate"))["error_code"], "MKT.0000");
    assert_eq!(run(line_with("license/heartbeat"))["status"], "ALIVE");
    let subs = get(client, base, "/api/v1/buyer/subscriptions", buyer).await;
    let license = subs["items"].as_array().unwrap().iter().find(|s| s["delivery_mode"] == "license_code").unwrap();
    assert!(license["license"]["activated_at"].is_string(), "{license}");
    let order = license["order_id"].as_str().unwrap();
    assert_eq!(get(client, base, &format!("/api/v1/buyer/orders/{order}"), buyer).await["status"], "completed");
}

fn seller_keys(dir: &std::path::Path) -> Vec<String> {
    let keys: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("demo-keys.json")).unwrap()).unwrap();
    keys["sellers"].as_array().unwrap().iter().map(|s| s["api_key"].as_str().unwrap().to_string()).collect()
}

/// Every secret the demo handled that a test can learn: the API keys it
/// printed, its sellers' endpoint key, the appInfo passwords its reference
/// seller gave the buyer, a fresh open-API secret key, the master key.
async fn known_secrets(client: &reqwest::Client, base: &str, dir: &std::path::Path) -> Vec<String> {
    fn collect(v: &serde_json::Value, names: &[&str], out: &mut Vec<String>) {
        match v {
            serde_json::Value::Object(map) => {
                for (k, v) in map {
                    match v.as_str() {
                        Some(s) if names.contains(&k.as_str()) => out.push(s.to_string()),
                        _ => collect(v, names, out),
                    }
                }
            }
            serde_json::Value::Array(items) => items.iter().for_each(|v| collect(v, names, out)),
            _ => {}
        }
    }
    let keys: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("demo-keys.json")).unwrap()).unwrap();
    let mut api_keys = Vec::new();
    collect(&keys, &["api_key", "seller_sk"], &mut api_keys);
    assert!(api_keys.len() >= 4, "operator, buyer and sellers: {keys}");
    let buyer = keys["buyer"]["api_key"].as_str().unwrap();
    let mut passwords = Vec::new();
    let subscriptions = get(client, base, "/api/v1/buyer/subscriptions?limit=100", buyer).await;
    collect(&subscriptions, &["password"], &mut passwords);
    assert!(!passwords.is_empty(), "the reference seller gave the buyer a password");
    let seller = keys["sellers"][0]["api_key"].as_str().unwrap();
    let res = client
        .post(format!("{base}/api/v1/seller/open-api-credentials"))
        .bearer_auth(seller)
        .json(&serde_json::json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let created: serde_json::Value = res.json().await.unwrap();
    let sk = created["secret_access_key"].as_str().unwrap().to_string();
    let master = std::fs::read_to_string(dir.join("master.key")).unwrap().trim().to_string();
    let mut secrets = api_keys;
    secrets.extend(passwords);
    secrets.extend([sk, master, "demo-access-key-0001".to_string()]);
    assert!(secrets.iter().all(|s| s.len() >= 8), "secrets long enough to be found by chance never");
    secrets
}

async fn post(
    client: &reqwest::Client,
    base: &str,
    path: &str,
    key: &str,
    body: Option<serde_json::Value>,
) -> serde_json::Value {
    let mut req = client.post(format!("{base}{path}")).bearer_auth(key);
    if let Some(b) = body {
        req = req.json(&b);
    }
    let res = req.send().await.unwrap();
    assert!(matches!(res.status().as_u16(), 200 | 201), "POST {path}: {}", res.status());
    res.json().await.unwrap()
}

async fn get(client: &reqwest::Client, base: &str, path: &str, key: &str) -> serde_json::Value {
    let res = client.get(format!("{base}{path}")).bearer_auth(key).send().await.unwrap();
    assert_eq!(res.status(), 200, "GET {path}");
    res.json().await.unwrap()
}

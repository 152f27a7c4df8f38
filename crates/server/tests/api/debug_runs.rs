//! Debug runs: a SaaS product's debug cases run against its seller endpoint
//! (a real reference seller here) and must pass before it can be submitted.

use crate::helpers::{SHARED_SELLER_KEY, TestApp, period_sku, product_form, shared_seller, spawn_app, spawn_with};
use koo::outbound::{AddressPolicy, REFUSED};
use mercato_domain::catalog::DebugRunStatus;
use mercato_isv::FaultPolicy;
use serde_json::{Value, json};

const PERIOD_CASES: [&str; 5] = [
    "newInstance",
    "refreshInstance RENEWAL",
    "updateInstanceStatus FREEZE",
    "updateInstanceStatus UNFREEZE",
    "releaseInstance",
];

fn one_time_sku(code: &str) -> Value {
    json!({"sku_code": code, "name": "Perpetual", "charging_mode": "one_time",
           "prices": {"one_time_minor": 50000}, "currency": "CNY"})
}

/// A draft SaaS product with `endpoint` and the given SKUs; returns its id.
async fn saas_product(app: &TestApp, key: &str, endpoint: Value, skus: &[Value]) -> String {
    let mut form = product_form("Debugged");
    form["endpoint"] = endpoint;
    let id = app.post("/api/v1/seller/products", Some(key), form).await.expect(201)["id"].as_str().unwrap().to_string();
    for sku in skus {
        app.post(&format!("/api/v1/seller/products/{id}/skus"), Some(key), sku.clone()).await.expect(201);
    }
    id
}

fn names(run: &Value) -> Vec<&str> {
    run["cases"].as_array().unwrap().iter().map(|c| c["name"].as_str().unwrap()).collect()
}

#[tokio::test]
async fn a_passing_run_against_a_reference_seller_is_stored() {
    let app = spawn_app().await;
    let (seller_id, key, _) = app.approved_seller().await;
    let endpoint = json!({"url": shared_seller(), "access_key": SHARED_SELLER_KEY});
    let id = saas_product(&app, &key, endpoint, &[period_sku("m")]).await;

    let run = app.debug_run(&key, &id).await.expect(200);
    assert_eq!(run["passed"], true, "{run}");
    assert_eq!(run["status"], "passed");
    assert_eq!(run["case_set"], "period_product");
    assert_eq!(run["product_id"], id.as_str());
    assert_eq!(run["endpoint_url"], shared_seller());
    assert_eq!(run["current_endpoint"], true);
    assert_eq!(names(&run), PERIOD_CASES);
    for case in run["cases"].as_array().unwrap() {
        assert_eq!(case["pass"], true, "{case}");
        assert!(case["expected"].is_string() && case["got"].is_string() && case["detail"].is_string());
    }
    let run_id = run["id"].as_str().unwrap();
    assert!(run_id.starts_with("dbg_") && run_id.len() == 36, "{run_id}");
    assert!(run["started_at"].is_string() && run["finished_at"].is_string());
    assert!(!run.to_string().contains(SHARED_SELLER_KEY), "the key is never shown");

    // Stored, with a fingerprint rather than the key.
    let row = mercato_store::repo::debug_runs::find(&app.state.db.conn, run_id).await.unwrap().expect("stored");
    assert_eq!(row.seller_id, seller_id);
    assert_eq!(row.status, DebugRunStatus::Passed);
    assert_eq!(row.endpoint_url, shared_seller());
    assert!(!row.endpoint_fingerprint.contains(SHARED_SELLER_KEY) && row.endpoint_fingerprint.len() == 64);
    assert_eq!(serde_json::from_str::<Value>(&row.cases_json).unwrap(), run["cases"]);

    // Listed newest first, paged.
    let second = app.passing_debug_run(&key, &id).await;
    let runs = app.get(&format!("/api/v1/seller/products/{id}/debug-runs?limit=1"), Some(&key)).await.expect(200);
    assert_eq!(runs["items"].as_array().unwrap().len(), 1);
    assert_eq!(runs["items"][0]["id"], second["id"]);
    let cursor = runs["next_cursor"].as_str().expect("a second page");
    let next = app
        .get(&format!("/api/v1/seller/products/{id}/debug-runs?limit=1&cursor={cursor}"), Some(&key))
        .await
        .expect(200);
    assert_eq!(next["items"][0]["id"], run_id);
    assert!(next["next_cursor"].is_null());
}

#[tokio::test]
async fn a_failing_seller_fails_the_run_with_case_details() {
    let app = spawn_app().await;
    let (_, key, _) = app.approved_seller().await;
    let broken = app.reference_seller("k-broken", FaultPolicy { fail_rate: 1.0, ..Default::default() }).await;
    let id = saas_product(&app, &key, json!({"url": broken, "access_key": "k-broken"}), &[period_sku("m")]).await;
    let run = app.debug_run(&key, &id).await.expect(200);
    assert_eq!(run["passed"], false, "{run}");
    assert_eq!(run["status"], "failed");
    assert_eq!(names(&run), PERIOD_CASES, "every case is reported");
    let first = &run["cases"][0];
    assert_eq!(first["pass"], false);
    assert!(first["expected"].as_str().unwrap().starts_with("000000"), "{first}");
    assert!(!first["detail"].as_str().unwrap().is_empty(), "{first}");

    // A wrong key: the seller refuses the signature.
    let wrong = json!({"url": shared_seller(), "access_key": "not-the-sellers-key"});
    let id = saas_product(&app, &key, wrong, &[period_sku("m")]).await;
    let run = app.debug_run(&key, &id).await.expect(200);
    assert_eq!(run["passed"], false, "{run}");
    assert_eq!(run["cases"][0]["got"], "000001", "{run}");
    app.post(&format!("/api/v1/seller/products/{id}/submit"), Some(&key), json!({}))
        .await
        .problem(409, "debug_run_required");
}

#[tokio::test]
async fn submission_needs_a_passing_run_against_the_current_endpoint() {
    let app = spawn_app().await;
    let (_, key, op) = app.approved_seller().await;
    let wrong = json!({"url": shared_seller(), "access_key": "not-the-sellers-key"});
    let id = saas_product(&app, &key, wrong, &[period_sku("m")]).await;
    let path = format!("/api/v1/seller/products/{id}");
    let submit_path = format!("{path}/submit");
    let submit = || app.post(&submit_path, Some(&key), json!({}));

    // No run yet.
    let body = submit().await.problem(409, "debug_run_required");
    assert!(body["detail"].as_str().unwrap().contains("debug-run"), "{body}");
    // A failed run.
    assert_eq!(app.debug_run(&key, &id).await.expect(200)["passed"], false);
    let body = submit().await.problem(409, "debug_run_required");
    assert!(body["detail"].as_str().unwrap().contains("failed"), "{body}");
    // Fixed endpoint, passing run.
    let good = json!({"endpoint": {"url": shared_seller(), "access_key": SHARED_SELLER_KEY}});
    app.patch(&path, Some(&key), good.clone()).await.expect(200);
    let passed = app.passing_debug_run(&key, &id).await;
    // The endpoint changes (another seller server, same key): the run is stale.
    let other = app.reference_seller(SHARED_SELLER_KEY, Default::default()).await;
    app.patch(&path, Some(&key), json!({"endpoint": {"url": other, "access_key": SHARED_SELLER_KEY}}))
        .await
        .expect(200);
    let body = submit().await.problem(409, "debug_run_required");
    assert!(body["detail"].as_str().unwrap().contains("endpoint changed"), "{body}");
    let runs = app.get(&format!("{path}/debug-runs"), Some(&key)).await.expect(200);
    assert_eq!(runs["items"][0]["id"], passed["id"]);
    assert_eq!(runs["items"][0]["current_endpoint"], false);
    // So is a change of key alone.
    app.patch(&path, Some(&key), good.clone()).await.expect(200);
    let run = app.passing_debug_run(&key, &id).await;
    app.patch(&path, Some(&key), json!({"endpoint": {"url": shared_seller(), "access_key": "rotated-key"}}))
        .await
        .expect(200);
    submit().await.problem(409, "debug_run_required");
    // Setting the tested endpoint again makes the run current again.
    app.patch(&path, Some(&key), good).await.expect(200);
    let submitted = submit().await.expect(200);
    assert_eq!(submitted["status"], "in_review");

    // The operator sees the run the submission relied on, case by case.
    let review = submitted["pending_review_id"].as_str().unwrap();
    let detail = app.get(&format!("/api/v1/operator/reviews/{review}"), Some(&op)).await.expect(200);
    assert_eq!(detail["debug_run"]["id"], run["id"]);
    assert_eq!(detail["debug_run"]["passed"], true);
    assert_eq!(detail["debug_run"]["current_endpoint"], true);
    assert_eq!(names(&detail["debug_run"]), PERIOD_CASES);
    app.post(&format!("/api/v1/operator/reviews/{review}/approve"), Some(&op), json!({})).await.expect(200);

    // A revision that changes the endpoint needs a new run too.
    app.patch(&path, Some(&key), json!({"endpoint": {"url": other, "access_key": SHARED_SELLER_KEY}}))
        .await
        .expect(200);
    submit().await.problem(409, "debug_run_required");
    let revision_run = app.passing_debug_run(&key, &id).await;
    let submitted = submit().await.expect(200);
    assert_eq!(submitted["revision_state"], "in_review");
    let review = submitted["pending_review_id"].as_str().unwrap();
    let detail = app.get(&format!("/api/v1/operator/reviews/{review}"), Some(&op)).await.expect(200);
    assert_eq!(detail["debug_run"]["id"], revision_run["id"]);
    assert_eq!(detail["debug_run"]["endpoint_url"], other.as_str());
}

#[tokio::test]
async fn a_one_time_product_runs_only_the_one_time_cases() {
    let app = spawn_app().await;
    let (_, key, _) = app.approved_seller().await;
    let endpoint = json!({"url": shared_seller(), "access_key": SHARED_SELLER_KEY});
    let id = saas_product(&app, &key, endpoint, &[one_time_sku("perp")]).await;
    let run = app.passing_debug_run(&key, &id).await;
    assert_eq!(run["case_set"], "one_time_product");
    assert_eq!(names(&run), ["newInstance", "releaseInstance"]);

    // Adding a period SKU needs the period cases before submission.
    app.post(&format!("/api/v1/seller/products/{id}/skus"), Some(&key), period_sku("m")).await.expect(201);
    let body = app
        .post(&format!("/api/v1/seller/products/{id}/submit"), Some(&key), json!({}))
        .await
        .problem(409, "debug_run_required");
    assert!(body["detail"].as_str().unwrap().contains("period"), "{body}");
    let run = app.passing_debug_run(&key, &id).await;
    assert_eq!(run["case_set"], "period_product");
    app.post(&format!("/api/v1/seller/products/{id}/submit"), Some(&key), json!({})).await.expect(200);
}

#[tokio::test]
async fn runs_apply_only_to_saas_products_with_an_endpoint_of_their_seller() {
    let app = spawn_app().await;
    let (_, key, _) = app.approved_seller().await;
    let (_, other) = app.signup("seller").await;
    // Neither SaaS nor a license server.
    let mut form = product_form("Service");
    form["type"] = json!("manual_service");
    form.as_object_mut().unwrap().remove("endpoint");
    let service =
        app.post("/api/v1/seller/products", Some(&key), form).await.expect(201)["id"].as_str().unwrap().to_string();
    app.debug_run(&key, &service).await.problem(409, "not_applicable");
    // A license without a license server.
    let mut form = product_form("License");
    form["type"] = json!("license");
    form.as_object_mut().unwrap().remove("endpoint");
    let lic =
        app.post("/api/v1/seller/products", Some(&key), form).await.expect(201)["id"].as_str().unwrap().to_string();
    app.debug_run(&key, &lic).await.problem(409, "endpoint_required");
    // SaaS without an endpoint.
    let mut form = product_form("Bare");
    form.as_object_mut().unwrap().remove("endpoint");
    let bare =
        app.post("/api/v1/seller/products", Some(&key), form).await.expect(201)["id"].as_str().unwrap().to_string();
    app.debug_run(&key, &bare).await.problem(409, "endpoint_required");
    // Another seller's product, an unknown one, no key, a buyer.
    let id = saas_product(&app, &key, json!({"url": shared_seller(), "access_key": SHARED_SELLER_KEY}), &[]).await;
    app.debug_run(&other, &id).await.problem(404, "not_found");
    app.get(&format!("/api/v1/seller/products/{id}/debug-runs"), Some(&other)).await.problem(404, "not_found");
    app.debug_run(&key, "prd_0193a0a0a0a0a0a0a0a0a0a0a0a0a0a0").await.problem(404, "not_found");
    app.post(&format!("/api/v1/seller/products/{id}/debug-run"), None, json!({})).await.problem(401, "unauthorized");
    let (_, buyer) = app.signup("buyer").await;
    app.debug_run(&buyer, &id).await.problem(403, "forbidden");
    let runs = app.get(&format!("/api/v1/seller/products/{id}/debug-runs"), Some(&key)).await.expect(200);
    assert!(runs["items"].as_array().unwrap().is_empty(), "nothing ran");
}

#[tokio::test]
async fn one_run_per_product_at_a_time() {
    let app = spawn_app().await;
    let (_, key, _) = app.approved_seller().await;
    let slow = app.reference_seller("slow-seller-key", FaultPolicy { latency_ms: 300, ..Default::default() }).await;
    let id = saas_product(&app, &key, json!({"url": slow, "access_key": "slow-seller-key"}), &[period_sku("m")]).await;
    let (a, b) = tokio::join!(app.debug_run(&key, &id), app.debug_run(&key, &id));
    let mut statuses = [a.status.as_u16(), b.status.as_u16()];
    statuses.sort();
    assert_eq!(statuses, [200, 409], "{} / {}", a.body, b.body);
    let (won, lost) = if a.status == 200 { (a, b) } else { (b, a) };
    assert_eq!(won.body["passed"], true, "{}", won.body);
    lost.problem(409, "debug_run_in_progress");
    // Once it finished, another run may start.
    app.passing_debug_run(&key, &id).await;
}

#[tokio::test]
async fn a_seller_endpoint_on_the_marketplaces_own_network_is_refused_without_detail() {
    // No allow-list: the shared reference seller on 127.0.0.1 is internal.
    let app = spawn_with(|c| c.outbound_allow = AddressPolicy::public_only()).await;
    let (_, key, _) = app.approved_seller().await;
    // Names are checked when resolved: a listening server and a closed
    // port behind names for loopback (IP literals are refused when saved).
    let dead_port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let live_port = shared_seller().rsplit_once(':').unwrap().1.split('/').next().unwrap().to_string();
    let mut details = Vec::new();
    for port in [live_port, dead_port.to_string()] {
        let url = format!("http://localhost:{port}/produce");
        let id =
            saas_product(&app, &key, json!({"url": url, "access_key": SHARED_SELLER_KEY}), &[period_sku("m")]).await;
        let run = app.debug_run(&key, &id).await.expect(200);
        assert_eq!(run["passed"], false, "{run}");
        let first = &run["cases"][0];
        assert_eq!(first["detail"], REFUSED, "{url}: {first}");
        details.push(run["cases"].to_string());
    }
    // A listening server and a closed port look alike.
    assert!(details.windows(2).all(|w| w[0] == w[1]), "{details:?}");

    // An IP literal that could never be called is refused when saved.
    for url in ["https://169.254.169.254/latest", "https://10.0.0.1/p", "https://[::1]/p", "https://[::ffff:a00:1]/"] {
        let mut form = product_form("Internal");
        form["endpoint"] = json!({"url": url, "access_key": SHARED_SELLER_KEY});
        let problem = app.post("/api/v1/seller/products", Some(&key), form).await.problem(422, "validation_failed");
        assert_eq!(problem["errors"][0]["field"], "endpoint.url", "{url}: {problem}");
    }
}

#[tokio::test]
async fn a_license_server_passes_the_license_cases_before_its_product_is_submitted() {
    let app = spawn_app().await;
    let (_, key, _) = app.approved_seller().await;
    let mut form = product_form("Licensed software");
    form["type"] = json!("license");
    let id =
        app.post("/api/v1/seller/products", Some(&key), form).await.expect(201)["id"].as_str().unwrap().to_string();
    app.post(&format!("/api/v1/seller/products/{id}/skus"), Some(&key), one_time_sku("perpetual")).await.expect(201);
    let submit = format!("/api/v1/seller/products/{id}/submit");
    app.post(&submit, Some(&key), json!({})).await.problem(409, "debug_run_required");
    let run = app.passing_debug_run(&key, &id).await;
    assert_eq!(run["case_set"], "license_product");
    let names: Vec<&str> = run["cases"].as_array().unwrap().iter().map(|c| c["name"].as_str().unwrap()).collect();
    assert_eq!(names.first(), Some(&"getLicenseAsync"));
    assert!(names.contains(&"releaseLicenseCode again"), "{names:?}");
    assert_eq!(names.len(), 7);
    app.post(&submit, Some(&key), json!({})).await.expect(200);
}

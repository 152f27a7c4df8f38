//! Seller onboarding, business certification, the seller agreement, and the
//! operators' review of the applications.

use crate::helpers::{Res, TestApp, certification_form, onboarding_form, spawn_app};
use mercato_domain::onboarding::Decision;
use mercato_store::entity::{application_decision, seller_certification};
use mercato_store::sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};

/// Saves and submits the seller's onboarding application.
async fn submit_onboarding(app: &TestApp, key: &str) {
    app.put("/api/v1/seller/onboarding", Some(key), onboarding_form()).await.expect(200);
    app.post("/api/v1/seller/onboarding/submit", Some(key), json!({})).await.expect(200);
}

/// A seller with an approved onboarding application and a saved (draft)
/// certification; returns (seller id, seller key, operator key).
async fn onboarded_seller(app: &TestApp) -> (String, String, String) {
    let (id, key) = app.signup("seller").await;
    let op = app.operator().await;
    submit_onboarding(app, &key).await;
    app.post(&format!("/api/v1/operator/onboarding/{id}/approve"), Some(&op), json!({})).await.expect(200);
    app.put("/api/v1/seller/certification", Some(&key), certification_form()).await.expect(200);
    (id, key, op)
}

#[tokio::test]
async fn happy_path_onboards_certifies_and_accepts_the_agreement() {
    let app = spawn_app().await;
    let (id, key) = app.signup("seller").await;
    let op = app.operator().await;

    app.get("/api/v1/seller/onboarding", Some(&key)).await.problem(404, "not_found");
    let saved = app.put("/api/v1/seller/onboarding", Some(&key), onboarding_form()).await.expect(200);
    assert_eq!(saved["status"], "draft");
    assert_eq!(saved["legal_name"], "云数据科技有限公司");
    assert_eq!(saved["entity_type"], "enterprise");
    assert_eq!(saved["reason"], Value::Null);
    assert_eq!(saved["submitted_at"], Value::Null);

    let submitted = app.post("/api/v1/seller/onboarding/submit", Some(&key), json!({})).await.expect(200);
    assert_eq!(submitted["status"], "submitted");
    assert!(submitted["submitted_at"].is_string());

    // The operator's queue shows it with the seller's account.
    let queue = app.get("/api/v1/operator/onboarding?status=submitted", Some(&op)).await.expect(200);
    let items = queue["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["seller_id"], id.as_str());
    assert_eq!(items[0]["seller_name"], "Test seller");
    assert!(items[0]["seller_email"].as_str().unwrap().ends_with("@example.com"));
    assert_eq!(items[0]["legal_name"], "云数据科技有限公司");
    assert_eq!(items[0]["entity_type"], "enterprise");
    assert_eq!(items[0]["status"], "submitted");
    assert!(items[0]["submitted_at"].is_string());
    assert_eq!(queue["next_cursor"], Value::Null);
    let approved_queue = app.get("/api/v1/operator/onboarding?status=approved", Some(&op)).await.expect(200);
    assert!(approved_queue["items"].as_array().unwrap().is_empty());

    let approved =
        app.post(&format!("/api/v1/operator/onboarding/{id}/approve"), Some(&op), json!({})).await.expect(200);
    assert_eq!(approved["status"], "approved");
    assert_eq!(approved["decisions"].as_array().unwrap().len(), 1);
    assert_eq!(approved["decisions"][0]["decision"], "approved");
    let mine = app.get("/api/v1/seller/onboarding", Some(&key)).await.expect(200);
    assert_eq!(mine["status"], "approved");
    assert!(mine["decided_at"].is_string());

    // Certification.
    app.get("/api/v1/seller/certification", Some(&key)).await.problem(404, "not_found");
    let cert = app.put("/api/v1/seller/certification", Some(&key), certification_form()).await.expect(200);
    assert_eq!(cert["status"], "draft");
    assert_eq!(cert["bank_account_masked"], "**** 1234");
    assert_eq!(cert["tax_rate_bp"], 600);
    assert_eq!(cert["currency"], "CNY");
    assert!(cert.get("bank_account").is_none());
    let cert = app.post("/api/v1/seller/certification/submit", Some(&key), json!({})).await.expect(200);
    assert_eq!(cert["status"], "submitted");
    let queue = app.get("/api/v1/operator/certification?status=submitted", Some(&op)).await.expect(200);
    assert_eq!(queue["items"][0]["seller_id"], id.as_str());
    assert_eq!(queue["items"][0]["legal_name"], "云数据科技有限公司");
    assert_eq!(queue["items"][0]["bank_account_masked"], "**** 1234");
    let review = app.get(&format!("/api/v1/operator/certification/{id}"), Some(&op)).await.expect(200);
    assert_eq!(review["status"], "submitted");
    assert_eq!(review["account_holder"], "云数据科技有限公司");
    let cert =
        app.post(&format!("/api/v1/operator/certification/{id}/approve"), Some(&op), json!({})).await.expect(200);
    assert_eq!(cert["status"], "approved");
    assert_eq!(app.get("/api/v1/seller/certification", Some(&key)).await.expect(200)["status"], "approved");

    // Agreement.
    let agreement = app.get("/api/v1/seller/agreement", Some(&key)).await.expect(200);
    assert_eq!(agreement["accepted_at"], Value::Null);
    let version = agreement["version"].as_str().unwrap().to_string();
    let accepted = app.post("/api/v1/seller/agreement/accept", Some(&key), json!({})).await.expect(200);
    assert_eq!(accepted["version"], version.as_str());
    assert!(accepted["accepted_at"].is_string());

    // The helper used by the other suites takes the same path.
    app.approved_seller().await;
}

#[tokio::test]
async fn rejection_reason_reaches_the_seller_who_edits_and_resubmits() {
    let app = spawn_app().await;
    let (id, key) = app.signup("seller").await;
    let op = app.operator().await;
    submit_onboarding(&app, &key).await;

    let rejected = app
        .post(
            &format!("/api/v1/operator/onboarding/{id}/reject"),
            Some(&op),
            json!({"reason": "The registration number does not match the licence."}),
        )
        .await
        .expect(200);
    assert_eq!(rejected["status"], "rejected");

    let mine = app.get("/api/v1/seller/onboarding", Some(&key)).await.expect(200);
    assert_eq!(mine["status"], "rejected");
    assert_eq!(mine["reason"], "The registration number does not match the licence.");

    // A rejected application cannot be decided again until resubmitted.
    app.post(&format!("/api/v1/operator/onboarding/{id}/approve"), Some(&op), json!({}))
        .await
        .problem(409, "not_submitted");

    let mut form = onboarding_form();
    form["registration_number"] = json!("91310000MA1FL0XX2Y");
    let edited = app.put("/api/v1/seller/onboarding", Some(&key), form).await.expect(200);
    assert_eq!(edited["status"], "draft");
    assert_eq!(edited["registration_number"], "91310000MA1FL0XX2Y");
    assert_eq!(
        edited["reason"], "The registration number does not match the licence.",
        "the last reason stays visible"
    );
    app.post("/api/v1/seller/onboarding/submit", Some(&key), json!({})).await.expect(200);

    let approved =
        app.post(&format!("/api/v1/operator/onboarding/{id}/approve"), Some(&op), json!({})).await.expect(200);
    assert_eq!(approved["status"], "approved");
    assert_eq!(approved["reason"], Value::Null);

    let review = app.get(&format!("/api/v1/operator/onboarding/{id}"), Some(&op)).await.expect(200);
    assert_eq!(review["seller_id"], id.as_str());
    assert_eq!(review["registration_number"], "91310000MA1FL0XX2Y");
    let decisions = review["decisions"].as_array().unwrap();
    assert_eq!(decisions.len(), 2, "{review}");
    assert_eq!(decisions[0]["decision"], "rejected");
    assert_eq!(decisions[0]["reason"], "The registration number does not match the licence.");
    assert_eq!(decisions[1]["decision"], "approved");
    assert_eq!(decisions[1]["reason"], Value::Null);
    assert!(decisions[0]["operator_id"].as_str().unwrap().starts_with("acc_"));
    assert!(decisions[0]["decided_at"].as_str().unwrap() <= decisions[1]["decided_at"].as_str().unwrap());

    // Certification goes through the same cycle.
    app.put("/api/v1/seller/certification", Some(&key), certification_form()).await.expect(200);
    app.post("/api/v1/seller/certification/submit", Some(&key), json!({})).await.expect(200);
    app.post(
        &format!("/api/v1/operator/certification/{id}/reject"),
        Some(&op),
        json!({"reason": "Holder name differs"}),
    )
    .await
    .expect(200);
    let cert = app.get("/api/v1/seller/certification", Some(&key)).await.expect(200);
    assert_eq!(cert["status"], "rejected");
    assert_eq!(cert["reason"], "Holder name differs");
    app.put("/api/v1/seller/certification", Some(&key), certification_form()).await.expect(200);
    app.post("/api/v1/seller/certification/submit", Some(&key), json!({})).await.expect(200);
    app.post(&format!("/api/v1/operator/certification/{id}/approve"), Some(&op), json!({})).await.expect(200);
    let review = app.get(&format!("/api/v1/operator/certification/{id}"), Some(&op)).await.expect(200);
    let decisions: Vec<_> = review["decisions"].as_array().unwrap().iter().map(|d| d["decision"].clone()).collect();
    assert_eq!(decisions, [json!("rejected"), json!("approved")]);
}

#[tokio::test]
async fn invalid_applications_list_every_field_and_write_nothing() {
    let app = spawn_app().await;
    let (_, key) = app.signup("seller").await;

    let mut form = onboarding_form();
    form["legal_name"] = json!("");
    form["contact_phone"] = json!("call me");
    form["contact_email"] = json!("nope");
    form["registration_number"] = json!("a b");
    let body = app.put("/api/v1/seller/onboarding", Some(&key), form).await.problem(422, "validation_failed");
    let mut fields = Res::fields(&body);
    fields.sort();
    fields.dedup(); // "a b" is both too short and has a space: two messages, one field
    assert_eq!(fields, ["contact_email", "contact_phone", "legal_name", "registration_number"]);
    app.get("/api/v1/seller/onboarding", Some(&key)).await.problem(404, "not_found");

    let mut form = onboarding_form();
    form["entity_type"] = json!("cooperative");
    let body = app.put("/api/v1/seller/onboarding", Some(&key), form).await.problem(422, "validation_failed");
    assert_eq!(body["errors"][0]["field"], "entity_type");
    assert!(body["errors"][0]["message"].as_str().unwrap().contains("individual"));

    let mut cert = certification_form();
    cert["bank_account"] = json!("12");
    cert["tax_rate_bp"] = json!(10_001);
    cert["currency"] = json!("XYZ");
    cert["bank_name"] = json!(" ");
    let body = app.put("/api/v1/seller/certification", Some(&key), cert).await.problem(422, "validation_failed");
    let mut fields = Res::fields(&body);
    fields.sort();
    assert_eq!(fields, ["bank_account", "bank_name", "currency", "tax_rate_bp"]);
    app.get("/api/v1/seller/certification", Some(&key)).await.problem(404, "not_found");

    // A valid draft is not overwritten by an invalid edit.
    app.put("/api/v1/seller/onboarding", Some(&key), onboarding_form()).await.expect(200);
    let mut form = onboarding_form();
    form["legal_name"] = json!("x");
    app.put("/api/v1/seller/onboarding", Some(&key), form).await.problem(422, "validation_failed");
    assert_eq!(app.get("/api/v1/seller/onboarding", Some(&key)).await.expect(200)["legal_name"], "云数据科技有限公司");
}

#[tokio::test]
async fn applications_move_only_as_the_review_cycle_allows() {
    let app = spawn_app().await;
    let (id, key) = app.signup("seller").await;
    let op = app.operator().await;

    app.post("/api/v1/seller/onboarding/submit", Some(&key), json!({})).await.problem(409, "nothing_to_submit");
    app.post("/api/v1/seller/certification/submit", Some(&key), json!({})).await.problem(409, "nothing_to_submit");
    app.put("/api/v1/seller/onboarding", Some(&key), onboarding_form()).await.expect(200);

    // A draft cannot be decided.
    app.post(&format!("/api/v1/operator/onboarding/{id}/approve"), Some(&op), json!({}))
        .await
        .problem(409, "not_submitted");
    app.post(&format!("/api/v1/operator/onboarding/{id}/reject"), Some(&op), json!({"reason": "no"}))
        .await
        .problem(409, "not_submitted");

    // Under review: no edits, no second submission.
    app.post("/api/v1/seller/onboarding/submit", Some(&key), json!({})).await.expect(200);
    app.post("/api/v1/seller/onboarding/submit", Some(&key), json!({})).await.problem(409, "under_review");
    app.put("/api/v1/seller/onboarding", Some(&key), onboarding_form()).await.problem(409, "under_review");

    // Certification before onboarding approval can be saved but not submitted.
    app.put("/api/v1/seller/certification", Some(&key), certification_form()).await.expect(200);
    app.post("/api/v1/seller/certification/submit", Some(&key), json!({}))
        .await
        .problem(409, "onboarding_not_approved");
    assert_eq!(app.get("/api/v1/seller/certification", Some(&key)).await.expect(200)["status"], "draft");

    // Approved: final; deciding twice is a conflict and records nothing more.
    app.post(&format!("/api/v1/operator/onboarding/{id}/approve"), Some(&op), json!({})).await.expect(200);
    app.post(&format!("/api/v1/operator/onboarding/{id}/approve"), Some(&op), json!({}))
        .await
        .problem(409, "already_approved");
    app.post(&format!("/api/v1/operator/onboarding/{id}/reject"), Some(&op), json!({"reason": "changed my mind"}))
        .await
        .problem(409, "already_approved");
    app.put("/api/v1/seller/onboarding", Some(&key), onboarding_form()).await.problem(409, "already_approved");
    app.post("/api/v1/seller/onboarding/submit", Some(&key), json!({})).await.problem(409, "already_approved");
    let review = app.get(&format!("/api/v1/operator/onboarding/{id}"), Some(&op)).await.expect(200);
    assert_eq!(review["decisions"].as_array().unwrap().len(), 1);

    // Now the certification can go; the same rules apply to it.
    app.post("/api/v1/seller/certification/submit", Some(&key), json!({})).await.expect(200);
    app.put("/api/v1/seller/certification", Some(&key), certification_form()).await.problem(409, "under_review");
    app.post(&format!("/api/v1/operator/certification/{id}/approve"), Some(&op), json!({})).await.expect(200);
    app.post(&format!("/api/v1/operator/certification/{id}/approve"), Some(&op), json!({}))
        .await
        .problem(409, "already_approved");
    app.put("/api/v1/seller/certification", Some(&key), certification_form()).await.problem(409, "already_approved");
}

#[tokio::test]
async fn operator_requests_are_checked() {
    let app = spawn_app().await;
    let (id, key) = app.signup("seller").await;
    let op = app.operator().await;
    submit_onboarding(&app, &key).await;

    // Unknown or malformed seller ids.
    let (other, _) = app.signup("seller").await;
    for path in [
        format!("/api/v1/operator/onboarding/{other}"),
        "/api/v1/operator/onboarding/acc_00000000000000000000000000000000".to_string(),
        "/api/v1/operator/onboarding/nope".to_string(),
        format!("/api/v1/operator/certification/{id}"),
    ] {
        app.get(&path, Some(&op)).await.problem(404, "not_found");
    }
    app.post(&format!("/api/v1/operator/onboarding/{other}/approve"), Some(&op), json!({}))
        .await
        .problem(404, "not_found");
    app.post(
        "/api/v1/operator/onboarding/acc_00000000000000000000000000000000/reject",
        Some(&op),
        json!({"reason": "x"}),
    )
    .await
    .problem(404, "not_found");
    app.post(&format!("/api/v1/operator/certification/{id}/approve"), Some(&op), json!({}))
        .await
        .problem(404, "not_found");

    // Rejecting needs a reason of 1-500 characters.
    for body in [json!({}), json!({"reason": ""}), json!({"reason": "   "}), json!({"reason": "x".repeat(501)})] {
        let problem = app
            .post(&format!("/api/v1/operator/onboarding/{id}/reject"), Some(&op), body)
            .await
            .problem(422, "validation_failed");
        assert_eq!(Res::fields(&problem), ["reason"]);
    }
    assert_eq!(app.get("/api/v1/seller/onboarding", Some(&key)).await.expect(200)["status"], "submitted");

    // Unknown status filter names the allowed values; bad paging is refused.
    let problem =
        app.get("/api/v1/operator/onboarding?status=pending", Some(&op)).await.problem(422, "validation_failed");
    assert_eq!(Res::fields(&problem), ["status"]);
    let message = problem["errors"][0]["message"].as_str().unwrap();
    assert!(message.contains("submitted") && message.contains("rejected"), "{message}");
    app.get("/api/v1/operator/certification?status=nope", Some(&op)).await.problem(422, "validation_failed");
    app.get("/api/v1/operator/onboarding?limit=0", Some(&op)).await.problem(422, "validation_failed");

    // Approve accepts a missing body as well as `{}`.
    let res = app
        .client
        .post(app.url(&format!("/api/v1/operator/onboarding/{id}/approve")))
        .bearer_auth(&op)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
}

#[tokio::test]
async fn roles_and_keys_are_enforced() {
    let app = spawn_app().await;
    let (seller_id, seller) = app.signup("seller").await;
    let (_, buyer) = app.signup("buyer").await;
    let op = app.operator().await;
    submit_onboarding(&app, &seller).await;

    let seller_paths = [
        ("put", "/api/v1/seller/onboarding"),
        ("get", "/api/v1/seller/onboarding"),
        ("post", "/api/v1/seller/onboarding/submit"),
        ("put", "/api/v1/seller/certification"),
        ("get", "/api/v1/seller/certification"),
        ("post", "/api/v1/seller/certification/submit"),
        ("get", "/api/v1/seller/agreement"),
        ("post", "/api/v1/seller/agreement/accept"),
    ];
    let approve = format!("/api/v1/operator/onboarding/{seller_id}/approve");
    let reject = format!("/api/v1/operator/certification/{seller_id}/reject");
    let detail = format!("/api/v1/operator/onboarding/{seller_id}");
    let operator_paths = [
        ("get", "/api/v1/operator/onboarding"),
        ("get", "/api/v1/operator/certification"),
        ("get", detail.as_str()),
        ("post", approve.as_str()),
        ("post", reject.as_str()),
    ];
    let call = |m: &'static str, path: String, key: Option<String>| {
        let app = &app;
        async move {
            let method = reqwest::Method::from_bytes(m.to_uppercase().as_bytes()).unwrap();
            let body = (m != "get").then(onboarding_form);
            app.call(method, &path, key.as_deref(), body).await
        }
    };
    for (m, path) in seller_paths {
        call(m, path.into(), None).await.problem(401, "unauthorized");
        call(m, path.into(), Some(buyer.clone())).await.problem(403, "forbidden");
        call(m, path.into(), Some(op.clone())).await.problem(403, "forbidden");
    }
    for (m, path) in operator_paths {
        call(m, path.into(), None).await.problem(401, "unauthorized");
        call(m, path.into(), Some(seller.clone())).await.problem(403, "forbidden");
        call(m, path.into(), Some(buyer.clone())).await.problem(403, "forbidden");
    }
    // Nothing was decided by those attempts.
    assert_eq!(app.get("/api/v1/seller/onboarding", Some(&seller)).await.expect(200)["status"], "submitted");
}

#[tokio::test]
async fn bank_account_is_never_shown_and_stored_encrypted() {
    let app = spawn_app().await;
    let (id, key, op) = onboarded_seller(&app).await;
    let digits = "6222021001001234";
    let spaced = "6222 0210 0100 1234";

    let mut bodies = Vec::new();
    bodies.push(app.get("/api/v1/seller/certification", Some(&key)).await.expect(200));
    bodies.push(app.post("/api/v1/seller/certification/submit", Some(&key), json!({})).await.expect(200));
    bodies.push(app.get("/api/v1/operator/certification?status=submitted", Some(&op)).await.expect(200));
    bodies.push(app.get(&format!("/api/v1/operator/certification/{id}"), Some(&op)).await.expect(200));
    bodies.push(
        app.post(&format!("/api/v1/operator/certification/{id}/approve"), Some(&op), json!({})).await.expect(200),
    );
    for body in &bodies {
        let text = body.to_string();
        assert!(!text.contains(digits) && !text.contains(spaced) && !text.contains("02100100"), "leaked: {text}");
        assert!(text.contains("**** 1234"), "masked form shown: {text}");
    }

    let row = seller_certification::Entity::find_by_id(id.clone()).one(&app.state.db.conn).await.unwrap().unwrap();
    assert!(
        !row.bank_account_enc.contains(digits) && !row.bank_account_enc.contains("1234"),
        "{}",
        row.bank_account_enc
    );
    assert_eq!(row.bank_account_masked, "**** 1234");
    assert_eq!(
        app.state.crypto.decrypt("seller_certification.bank_account", &row.bank_account_enc).unwrap(),
        digits,
        "the stored ciphertext opens to the compact number"
    );
}

#[tokio::test]
async fn accepting_the_agreement_twice_keeps_the_first_acceptance() {
    let app = spawn_app().await;
    let (_, key) = app.signup("seller").await;
    let first = app.post("/api/v1/seller/agreement/accept", Some(&key), json!({})).await.expect(200);
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    // Also without a body.
    let res = app.client.post(app.url("/api/v1/seller/agreement/accept")).bearer_auth(&key).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let second: Value = res.json().await.unwrap();
    assert_eq!(first, second);
    let shown = app.get("/api/v1/seller/agreement", Some(&key)).await.expect(200);
    assert_eq!(shown["accepted_at"], first["accepted_at"]);
    assert_eq!(shown["version"], first["version"]);
}

#[tokio::test]
async fn queues_page_through_every_application() {
    let app = spawn_app().await;
    let op = app.operator().await;
    let mut ids = Vec::new();
    for _ in 0..5 {
        let (id, key) = app.signup("seller").await;
        submit_onboarding(&app, &key).await;
        ids.push(id);
    }
    // One more that only saved a draft.
    let (_, draft) = app.signup("seller").await;
    app.put("/api/v1/seller/onboarding", Some(&draft), onboarding_form()).await.expect(200);

    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/api/v1/operator/onboarding?status=submitted&limit=2&cursor={c}"),
            None => "/api/v1/operator/onboarding?status=submitted&limit=2".to_string(),
        };
        let page = app.get(&path, Some(&op)).await.expect(200);
        for item in page["items"].as_array().unwrap() {
            assert_eq!(item["status"], "submitted");
            seen.push(item["seller_id"].as_str().unwrap().to_string());
        }
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => break,
        }
    }
    ids.sort();
    assert_eq!(seen, ids);
    let all = app.get("/api/v1/operator/onboarding", Some(&op)).await.expect(200);
    assert_eq!(all["items"].as_array().unwrap().len(), 6);
}

#[tokio::test]
async fn two_operators_approving_at_once_make_one_decision() {
    let app = spawn_app().await;
    let (id, key) = app.signup("seller").await;
    let op1 = app.operator().await;
    let op2 = app.operator().await;
    submit_onboarding(&app, &key).await;

    let path = format!("/api/v1/operator/onboarding/{id}/approve");
    let (a, b) = tokio::join!(app.post(&path, Some(&op1), json!({})), app.post(&path, Some(&op2), json!({})));
    let mut statuses = [a.status.as_u16(), b.status.as_u16()];
    statuses.sort();
    assert_eq!(statuses, [200, 409], "a: {} b: {}", a.body, b.body);
    let loser = if a.status == 409 { a } else { b };
    assert_eq!(loser.body["code"], "already_approved");

    let rows = application_decision::Entity::find()
        .filter(application_decision::Column::SellerId.eq(id.as_str()))
        .all(&app.state.db.conn)
        .await
        .unwrap();
    assert_eq!(rows.len(), 1, "exactly one decision recorded: {rows:?}");
    assert_eq!(rows[0].decision, Decision::Approved);

    // Same for an approve racing a reject on the certification.
    app.put("/api/v1/seller/certification", Some(&key), certification_form()).await.expect(200);
    app.post("/api/v1/seller/certification/submit", Some(&key), json!({})).await.expect(200);
    let approve = format!("/api/v1/operator/certification/{id}/approve");
    let reject = format!("/api/v1/operator/certification/{id}/reject");
    let (a, b) =
        tokio::join!(app.post(&approve, Some(&op1), json!({})), app.post(&reject, Some(&op2), json!({"reason": "no"})));
    let mut statuses = [a.status.as_u16(), b.status.as_u16()];
    statuses.sort();
    assert_eq!(statuses, [200, 409], "a: {} b: {}", a.body, b.body);
    let rows = application_decision::Entity::find()
        .filter(application_decision::Column::SellerId.eq(id.as_str()))
        .filter(application_decision::Column::Application.eq("certification"))
        .all(&app.state.db.conn)
        .await
        .unwrap();
    assert_eq!(rows.len(), 1, "exactly one certification decision: {rows:?}");
}

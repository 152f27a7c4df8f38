//! Invoices (开票 / 退票) end to end on the test clock: a buyer requests one
//! for a paid order, its issuer (the platform for joint-operation
//! products, the seller for general-cooperation ones) issues it with the
//! next number of its own sequence, the PDF is read back with a PDF parser,
//! a return makes the credit note; amounts come from the ledger (refunds
//! taken off, newest purchase first); bad requests change nothing.

use crate::helpers::{Res, TestApp, period_sku, product_form, shared_seller, spawn_with};
use crate::supervision::{Market, one_time_sku};
use mercato_domain::invoicing::TaxRateBp;
use serde_json::{Value, json};

const INVOICES: &str = "/api/v1/buyer/invoices";
/// The platform's invoice tax rate in these tests (13 %); sellers are
/// certified at 6 %.
const PLATFORM_RATE_BP: i64 = 1_300;
const USCC: &str = "91350100M000100Y43";

/// An approved seller and a buyer holding 250,000 CNY, on the test clock,
/// with the platform invoicing at 13 %.
async fn market() -> Market {
    let app = spawn_with(|c| {
        c.test_clock = true;
        c.worker_enabled = false;
        c.invoice_tax_rate_bp = TaxRateBp::new(PLATFORM_RATE_BP).unwrap();
        c.invoice_platform_name = "Mercato Marketplace Ltd".into();
    })
    .await;
    let (_, seller_key, op) = app.approved_seller().await;
    let (buyer_id, buyer_key) = app.signup("buyer").await;
    app.credit_wallet(&op, &buyer_id, 250_000, "CNY").await;
    Market { app, op, seller_key, buyer_key }
}

/// A listed manual service of `seller_key` sold once for 50,000, of
/// `cooperation`; returns its SKU id.
async fn service(app: &TestApp, seller_key: &str, op: &str, cooperation: &str) -> String {
    let mut form = product_form(&format!("Setup service ({cooperation})"));
    form["type"] = json!("manual_service");
    form["cooperation"] = json!(cooperation);
    form.as_object_mut().unwrap().remove("endpoint");
    let id = app.listed_product(seller_key, op, form, &[one_time_sku("setup")]).await;
    let detail = app.get(&format!("/api/v1/catalog/products/{id}"), None).await.expect(200);
    detail["skus"][0]["id"].as_str().unwrap().to_string()
}

fn ask(order_id: &str, title: &str) -> Value {
    json!({"order_id": order_id, "title": title, "tax_id": USCC, "address": "88 Century Avenue, Shanghai"})
}

fn id_of(v: &Value) -> String {
    v["invoice"]["id"].as_str().unwrap().to_string()
}

async fn year(m: &Market) -> String {
    let now = m.app.get("/api/v1/operator/test-clock", Some(&m.op)).await.expect(200);
    now["now"].as_str().unwrap()[..4].to_string()
}

/// The invoice ids `key` sees at `path`.
async fn listed(app: &TestApp, path: &str, key: &str) -> Vec<String> {
    let page = app.get(path, Some(key)).await.expect(200);
    page["items"].as_array().unwrap().iter().map(|i| i["id"].as_str().unwrap().to_string()).collect()
}

/// Downloads a PDF; (status, bytes, content type).
async fn download(app: &TestApp, path: &str, key: &str) -> (u16, Vec<u8>, String) {
    let res = app.client.get(app.url(path)).bearer_auth(key).send().await.unwrap();
    let status = res.status().as_u16();
    let ct = res.headers().get("content-type").map(|v| v.to_str().unwrap().to_string()).unwrap_or_default();
    (status, res.bytes().await.unwrap().to_vec(), ct)
}

/// The text of every page, read back by a PDF parser.
fn pdf_text(bytes: &[u8]) -> String {
    let doc = lopdf::Document::load_mem(bytes).expect("a readable PDF");
    let pages: Vec<u32> = doc.get_pages().keys().copied().collect();
    doc.extract_text(&pages).expect("its text")
}

async fn pdf_of(app: &TestApp, path: &str, key: &str) -> String {
    let (status, bytes, ct) = download(app, path, key).await;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&bytes));
    assert_eq!(ct, "application/pdf");
    pdf_text(&bytes)
}

async fn notifications(app: &TestApp, key: &str) -> Vec<String> {
    let page = app.get("/api/v1/notifications?limit=100", Some(key)).await.expect(200);
    page["items"].as_array().unwrap().iter().map(|n| n["kind"].as_str().unwrap().to_string()).collect()
}

#[tokio::test]
async fn an_invoice_is_issued_read_back_from_its_pdf_and_returned_with_a_credit_note() {
    let m = market().await;
    let app = &m.app;
    let sku = service(app, &m.seller_key, &m.op, "joint").await;
    let order = m.buy(&sku, json!({})).await;
    let order_id = order["id"].as_str().unwrap();
    let y = year(&m).await;

    let asked = app.post(INVOICES, Some(&m.buyer_key), ask(order_id, "Acme Trading GmbH")).await.expect(201);
    let inv = &asked["invoice"];
    let id = id_of(&asked);
    assert!(id.starts_with("inv_"), "{id}");
    assert_eq!(
        (inv["status"].as_str(), inv["issuer"].as_str(), inv["issuer_id"].as_str()),
        (Some("requested"), Some("platform"), Some("platform"))
    );
    // 50,000 paid, tax contained at 13 %: 50,000 - round(50,000 / 1.13) = 5,752.
    assert_eq!(
        (inv["total_minor"].as_i64(), inv["tax_rate_bp"].as_i64(), inv["tax_minor"].as_i64()),
        (Some(50_000), Some(1_300), Some(5_752))
    );
    assert_eq!(inv["number"], Value::Null);
    assert_eq!(asked["lines"].as_array().unwrap().len(), 1);
    assert_eq!(asked["lines"][0]["sku_code"], "setup");
    assert_eq!(asked["events"][0]["action"], "request");

    // No document before it is issued.
    let (status, body, _) = download(app, &format!("{INVOICES}/{id}/pdf"), &m.buyer_key).await;
    assert_eq!(status, 409);
    assert_eq!(serde_json::from_slice::<Value>(&body).unwrap()["code"], "invoice_not_issued");
    // A joint-operation product's invoice is the platform's: not the seller's.
    app.get(&format!("/api/v1/seller/invoices/{id}"), Some(&m.seller_key)).await.problem(404, "not_found");
    app.post(&format!("/api/v1/seller/invoices/{id}/issue"), Some(&m.seller_key), json!({}))
        .await
        .problem(404, "not_found");
    assert!(listed(app, "/api/v1/seller/invoices", &m.seller_key).await.is_empty());
    assert_eq!(listed(app, "/api/v1/operator/invoices?status=requested", &m.op).await, std::slice::from_ref(&id));

    let issued = app.post(&format!("/api/v1/operator/invoices/{id}/issue"), Some(&m.op), json!({})).await.expect(200);
    let number = format!("INV-{y}-000001");
    assert_eq!(issued["invoice"]["number"], number.as_str());
    assert_eq!(issued["invoice"]["status"], "issued");
    assert_eq!(issued["events"][1]["action"], "issue");
    assert!(notifications(app, &m.buyer_key).await.contains(&"invoice_issued".to_string()));
    assert!(listed(app, "/api/v1/operator/invoices?status=requested", &m.op).await.is_empty());
    // Issued once: again is out of order.
    app.post(&format!("/api/v1/operator/invoices/{id}/issue"), Some(&m.op), json!({}))
        .await
        .problem(409, "out_of_order");

    let text = pdf_of(app, &format!("{INVOICES}/{id}/pdf"), &m.buyer_key).await;
    for expected in [
        "INVOICE",
        number.as_str(),
        "Acme Trading GmbH",
        USCC,
        "88 Century Avenue, Shanghai",
        "500.00",
        "57.52",
        "13%",
        "CNY",
        "Mercato Marketplace Ltd",
        order_id,
        "Setup service (joint)",
    ] {
        assert!(text.contains(expected), "the invoice shows {expected:?}: {text}");
    }
    assert!(!text.contains("CREDIT NOTE"));
    assert_eq!(pdf_of(app, &format!("/api/v1/operator/invoices/{id}/pdf"), &m.op).await, text);
    // No credit note before a return; the order has its invoice.
    let (status, _, _) = download(app, &format!("{INVOICES}/{id}/pdf?document=credit_note"), &m.buyer_key).await;
    assert_eq!(status, 409);
    app.post(INVOICES, Some(&m.buyer_key), ask(order_id, "Acme Trading GmbH")).await.problem(409, "already_invoiced");
    assert_eq!(listed(app, INVOICES, &m.buyer_key).await, std::slice::from_ref(&id));

    // 退票: the credit note cancels it.
    let returned = app
        .post(&format!("{INVOICES}/{id}/return"), Some(&m.buyer_key), json!({"reason": "wrong company name"}))
        .await
        .expect(200);
    let credit_note = format!("CN-{y}-000001");
    assert_eq!(returned["invoice"]["status"], "returned");
    assert_eq!(returned["invoice"]["credit_note_number"], credit_note.as_str());
    assert_eq!(returned["events"][2]["note"], "wrong company name");
    let cn = pdf_of(app, &format!("{INVOICES}/{id}/pdf?document=credit_note"), &m.buyer_key).await;
    for expected in [
        "CREDIT NOTE",
        credit_note.as_str(),
        "Cancels invoice",
        number.as_str(),
        "-500.00",
        "-57.52",
        "Acme Trading GmbH",
        USCC,
    ] {
        assert!(cn.contains(expected), "the credit note shows {expected:?}: {cn}");
    }
    // The invoice itself is still there to download.
    assert!(pdf_of(app, &format!("{INVOICES}/{id}/pdf"), &m.buyer_key).await.contains(&number));
    app.post(&format!("{INVOICES}/{id}/return"), Some(&m.buyer_key), json!({"reason": "again"}))
        .await
        .problem(409, "out_of_order");

    // The order may be invoiced again: the platform's next number. A title
    // the PDF's fonts cannot draw is kept exactly and drawn as `?`.
    let again = app.post(INVOICES, Some(&m.buyer_key), ask(order_id, "云数据科技有限公司")).await.expect(201);
    let second = id_of(&again);
    assert_eq!(again["invoice"]["title"], "云数据科技有限公司");
    let issued =
        app.post(&format!("/api/v1/operator/invoices/{second}/issue"), Some(&m.op), json!({})).await.expect(200);
    assert_eq!(issued["invoice"]["number"], format!("INV-{y}-000002"));
    let text = pdf_of(app, &format!("{INVOICES}/{second}/pdf"), &m.buyer_key).await;
    assert!(text.contains("?????????") && text.contains(&format!("INV-{y}-000002")), "{text}");
    assert_eq!(listed(app, INVOICES, &m.buyer_key).await, [second, id]);
    app.assert_ledger_balanced().await;
}

#[tokio::test]
async fn each_issuer_numbers_its_own_invoices_and_only_its_own() {
    let m = market().await;
    let app = &m.app;
    let y = year(&m).await;
    let joint = service(app, &m.seller_key, &m.op, "joint").await;
    let general = service(app, &m.seller_key, &m.op, "general").await;
    let (other_seller, other_key, _) = app.approved_seller().await;

    let mut platform = Vec::new();
    for _ in 0..2 {
        let order = m.buy(&joint, json!({})).await;
        platform.push(id_of(
            &app.post(INVOICES, Some(&m.buyer_key), ask(order["id"].as_str().unwrap(), "Acme")).await.expect(201),
        ));
    }
    let order = m.buy(&general, json!({})).await;
    let own = app.post(INVOICES, Some(&m.buyer_key), ask(order["id"].as_str().unwrap(), "Acme")).await.expect(201);
    let own_id = id_of(&own);
    assert_eq!(own["invoice"]["issuer"], "seller");
    assert_ne!(own["invoice"]["issuer_id"], other_seller.as_str());
    // The seller's certified rate: 6 % of 50,000 is 2,830.
    assert_eq!(
        (own["invoice"]["tax_rate_bp"].as_i64(), own["invoice"]["tax_minor"].as_i64()),
        (Some(600), Some(2_830))
    );
    assert!(notifications(app, &m.seller_key).await.contains(&"invoice_requested".to_string()));

    // Two of the platform's issued at once: two numbers, one after the other.
    let paths: Vec<String> = platform.iter().map(|id| format!("/api/v1/operator/invoices/{id}/issue")).collect();
    let (a, b) =
        tokio::join!(app.post(&paths[0], Some(&m.op), json!({})), app.post(&paths[1], Some(&m.op), json!({})),);
    let mut numbers = vec![a.expect(200)["invoice"]["number"].clone(), b.expect(200)["invoice"]["number"].clone()];
    numbers.sort_by_key(|n| n.as_str().unwrap().to_string());
    assert_eq!(numbers, [json!(format!("INV-{y}-000001")), json!(format!("INV-{y}-000002"))]);

    // Two requests of one order at once: one invoice; two issues of it at
    // once: one number.
    let order = m.buy(&joint, json!({})).await;
    let order_id = order["id"].as_str().unwrap();
    let (a, b) = tokio::join!(
        app.post(INVOICES, Some(&m.buyer_key), ask(order_id, "Acme")),
        app.post(INVOICES, Some(&m.buyer_key), ask(order_id, "Acme")),
    );
    let mut codes = vec![a.status.as_u16(), b.status.as_u16()];
    codes.sort();
    assert_eq!(codes, [201, 409], "{} / {}", a.body, b.body);
    let made = if a.status.as_u16() == 201 { a.body } else { b.body };
    let path = format!("/api/v1/operator/invoices/{}/issue", id_of(&made));
    let (a, b) = tokio::join!(app.post(&path, Some(&m.op), json!({})), app.post(&path, Some(&m.op), json!({})));
    let (won, lost) = if a.status.as_u16() == 200 { (a, b) } else { (b, a) };
    assert_eq!(won.body["invoice"]["number"], format!("INV-{y}-000003"));
    assert_eq!(lost.status.as_u16(), 409, "{}", lost.body);
    assert!(["out_of_order", "invoice_changed"].contains(&lost.body["code"].as_str().unwrap()), "{}", lost.body);

    // The general-cooperation one is the seller's: not an operator's, not
    // another seller's.
    app.post(&format!("/api/v1/operator/invoices/{own_id}/issue"), Some(&m.op), json!({}))
        .await
        .problem(404, "not_found");
    app.post(&format!("/api/v1/seller/invoices/{own_id}/issue"), Some(&other_key), json!({}))
        .await
        .problem(404, "not_found");
    let (status, _, _) = download(app, &format!("/api/v1/seller/invoices/{own_id}/pdf"), &other_key).await;
    assert_eq!(status, 404);
    assert!(!listed(app, "/api/v1/operator/invoices", &m.op).await.contains(&own_id));
    assert!(listed(app, "/api/v1/seller/invoices", &other_key).await.is_empty());
    assert_eq!(
        app.get(&format!("{INVOICES}/{own_id}"), Some(&m.buyer_key)).await.expect(200)["invoice"]["status"],
        "requested"
    );

    // Its seller issues it: its own sequence starts at 1.
    assert_eq!(
        listed(app, "/api/v1/seller/invoices?status=requested", &m.seller_key).await,
        std::slice::from_ref(&own_id)
    );
    let issued =
        app.post(&format!("/api/v1/seller/invoices/{own_id}/issue"), Some(&m.seller_key), json!({})).await.expect(200);
    assert_eq!(issued["invoice"]["number"], format!("INV-{y}-000001"));
    let text = pdf_of(app, &format!("/api/v1/seller/invoices/{own_id}/pdf"), &m.seller_key).await;
    for expected in [format!("INV-{y}-000001").as_str(), "Test seller", "91310000MA1FL0XX1X", "500.00", "28.30", "6%"] {
        assert!(text.contains(expected), "the seller's invoice shows {expected:?}: {text}");
    }
    assert!(!text.contains("Mercato Marketplace Ltd"));
    // Its credit note is also numbered in the seller's own sequence, and
    // the seller hears of the return.
    let returned = app
        .post(&format!("{INVOICES}/{own_id}/return"), Some(&m.buyer_key), json!({"reason": "cancelled project"}))
        .await
        .expect(200);
    assert_eq!(returned["invoice"]["credit_note_number"], format!("CN-{y}-000001"));
    assert!(notifications(app, &m.seller_key).await.contains(&"invoice_returned".to_string()));
}

#[tokio::test]
async fn refunds_come_off_the_invoice_newest_purchase_first() {
    let m = market().await;
    let app = &m.app;
    let saas = m.product("saas", Some(shared_seller().to_string()), period_sku("std")).await;
    let purchase = m.buy(&saas, json!({"period": "month", "period_count": 1})).await;
    m.run_jobs().await;
    let subs = app.get("/api/v1/buyer/subscriptions", Some(&m.buyer_key)).await.expect(200);
    let sub = subs["items"][0]["id"].as_str().unwrap().to_string();
    let renewal = app
        .post(
            &format!("/api/v1/buyer/subscriptions/{sub}/renew"),
            Some(&m.buyer_key),
            json!({"period": "month", "period_count": 1}),
        )
        .await
        .expect(200);
    m.run_jobs().await;
    // The renewal's term is refunded in full: it falls on the renewal order.
    app.post(
        &format!("/api/v1/buyer/subscriptions/{sub}/unsubscribe"),
        Some(&m.buyer_key),
        json!({"scope": "renewal_periods"}),
    )
    .await
    .expect(200);
    let body = app
        .post(INVOICES, Some(&m.buyer_key), ask(renewal["order_id"].as_str().unwrap(), "Acme"))
        .await
        .problem(409, "nothing_to_invoice");
    assert!(body["detail"].as_str().unwrap().contains("9900 refunded"), "{body}");

    // Ten days in, the rest is refunded pro rata: the purchase's invoice
    // is what is left of it, with the refund as a line of its own.
    m.advance_secs(10 * 86_400).await;
    let before = m.wallet().await;
    app.post(
        &format!("/api/v1/buyer/subscriptions/{sub}/unsubscribe"),
        Some(&m.buyer_key),
        json!({"scope": "subscription"}),
    )
    .await
    .expect(200);
    let refund = m.wallet().await - before;
    assert!(0 < refund && refund < 9_900, "pro rata: {refund}");
    let inv = app.post(INVOICES, Some(&m.buyer_key), ask(purchase["id"].as_str().unwrap(), "Acme")).await.expect(201);
    let total = 9_900 - refund;
    assert_eq!(
        (
            inv["invoice"]["paid_minor"].as_i64(),
            inv["invoice"]["refunded_minor"].as_i64(),
            inv["invoice"]["total_minor"].as_i64()
        ),
        (Some(9_900), Some(refund), Some(total))
    );
    let amounts: Vec<i64> =
        inv["lines"].as_array().unwrap().iter().map(|l| l["amount_minor"].as_i64().unwrap()).collect();
    assert_eq!(amounts, [9_900, -refund]);
    assert_eq!(inv["lines"][1]["description"], "Refunded");
    let id = id_of(&inv);
    app.post(&format!("/api/v1/operator/invoices/{id}/issue"), Some(&m.op), json!({})).await.expect(200);
    let text = pdf_of(app, &format!("{INVOICES}/{id}/pdf"), &m.buyer_key).await;
    let shown = format!("{}.{:02}", total / 100, total % 100);
    assert!(text.contains("Refunded") && text.contains(&shown), "{shown}: {text}");
    // The refund order itself is not invoiced.
    let orders = app.get("/api/v1/buyer/orders", Some(&m.buyer_key)).await.expect(200);
    let refund_order = orders["items"].as_array().unwrap().iter().find(|o| o["status"] == "refunded").unwrap();
    app.post(INVOICES, Some(&m.buyer_key), ask(refund_order["id"].as_str().unwrap(), "Acme"))
        .await
        .problem(409, "not_invoiceable");
    app.assert_ledger_balanced().await;
}

#[tokio::test]
async fn bad_requests_are_refused_and_change_nothing() {
    let m = market().await;
    let app = &m.app;
    let sku = service(app, &m.seller_key, &m.op, "joint").await;
    let paid = m.buy(&sku, json!({})).await;
    let paid_id = paid["id"].as_str().unwrap().to_string();
    let unpaid = app.post("/api/v1/buyer/orders", Some(&m.buyer_key), json!({"sku_id": sku})).await.expect(201);
    let (other_id, other_key) = app.signup("buyer").await;
    app.credit_wallet(&m.op, &other_id, 50_000, "CNY").await;
    let nothing = async || {
        assert!(listed(app, INVOICES, &m.buyer_key).await.is_empty());
        assert!(listed(app, "/api/v1/operator/invoices", &m.op).await.is_empty());
    };

    app.post(INVOICES, Some(&m.buyer_key), ask(unpaid["id"].as_str().unwrap(), "Acme"))
        .await
        .problem(409, "order_unpaid");
    nothing().await;
    // Another buyer's order is not found.
    let body = app.post(INVOICES, Some(&other_key), ask(&paid_id, "Acme")).await.problem(404, "not_found");
    assert_eq!(Res::fields(&body), ["order_id"]);
    app.post(INVOICES, Some(&m.buyer_key), ask("no-such-order", "Acme")).await.problem(404, "not_found");
    nothing().await;
    // Tax ids: a credit code whose check character is wrong, a number of
    // no known shape; bad title and address named together.
    for (tax_id, says) in
        [("91350100M000100Y44", "check character"), ("12345", "VAT number"), ("DE-123", "letters and digits")]
    {
        let mut body = ask(&paid_id, "Acme");
        body["tax_id"] = json!(tax_id);
        let p = app.post(INVOICES, Some(&m.buyer_key), body).await.problem(422, "validation_failed");
        assert_eq!(Res::fields(&p), ["tax_id"], "{tax_id}");
        assert!(p["errors"][0]["message"].as_str().unwrap().contains(says), "{tax_id}: {p}");
    }
    let p = app
        .post(
            INVOICES,
            Some(&m.buyer_key),
            json!({"order_id": paid_id, "title": " ", "tax_id": "DE123456789", "address": "x".repeat(501)}),
        )
        .await
        .problem(422, "validation_failed");
    assert_eq!(Res::fields(&p), ["title", "address"]);
    nothing().await;

    // With a key, a retry answers the first request again.
    let path = INVOICES;
    let first = app.post_idem(path, &m.buyer_key, "inv-1", Some(ask(&paid_id, "Acme"))).await;
    let first = first.expect(201);
    let again = app.post_idem(path, &m.buyer_key, "inv-1", Some(ask(&paid_id, "Acme"))).await;
    assert_eq!(again.headers.get("idempotent-replayed").map(|v| v.to_str().unwrap()), Some("true"));
    assert_eq!(again.expect(201)["invoice"]["id"], first["invoice"]["id"]);
    let id = id_of(&first);
    assert_eq!(listed(app, INVOICES, &m.buyer_key).await, std::slice::from_ref(&id));
    // Without a key, a second request of the order is refused.
    app.post(INVOICES, Some(&m.buyer_key), ask(&paid_id, "Acme")).await.problem(409, "already_invoiced");

    // Another buyer cannot see, download or return it.
    app.get(&format!("{INVOICES}/{id}"), Some(&other_key)).await.problem(404, "not_found");
    assert_eq!(download(app, &format!("{INVOICES}/{id}/pdf"), &other_key).await.0, 404);
    app.post(&format!("{INVOICES}/{id}/return"), Some(&other_key), json!({"reason": "mine"}))
        .await
        .problem(404, "not_found");
    assert!(listed(app, INVOICES, &other_key).await.is_empty());
    // Only an issued invoice is returned; a bad document is named.
    app.post(&format!("{INVOICES}/{id}/return"), Some(&m.buyer_key), json!({"reason": "early"}))
        .await
        .problem(409, "out_of_order");
    let p = app
        .get(&format!("{INVOICES}/{id}/pdf?document=receipt"), Some(&m.buyer_key))
        .await
        .problem(422, "validation_failed");
    assert_eq!(Res::fields(&p), ["document"]);
    app.get(&format!("{INVOICES}/inv_nonsense"), Some(&m.buyer_key)).await.problem(404, "not_found");
    let p = app.get(&format!("{INVOICES}?status=lost"), Some(&m.buyer_key)).await.problem(422, "validation_failed");
    assert_eq!(Res::fields(&p), ["status"]);
    let now = app.get(&format!("{INVOICES}/{id}"), Some(&m.buyer_key)).await.expect(200);
    assert_eq!((now["invoice"]["status"].as_str(), now["events"].as_array().unwrap().len()), (Some("requested"), 1));

    // The platform rejects it with a reason (none is refused); the buyer
    // hears of it, there is no document, and the order may be asked again.
    let reject = format!("/api/v1/operator/invoices/{id}/reject");
    app.post(&reject, Some(&m.op), json!({"reason": " "})).await.problem(422, "validation_failed");
    let rejected =
        app.post(&reject, Some(&m.op), json!({"reason": "tax id belongs to another company"})).await.expect(200);
    assert_eq!(rejected["invoice"]["status"], "rejected");
    assert!(notifications(app, &m.buyer_key).await.contains(&"invoice_rejected".to_string()));
    assert_eq!(download(app, &format!("{INVOICES}/{id}/pdf"), &m.buyer_key).await.0, 409);
    app.post(&format!("/api/v1/operator/invoices/{id}/issue"), Some(&m.op), json!({}))
        .await
        .problem(409, "out_of_order");
    app.post(INVOICES, Some(&m.buyer_key), ask(&paid_id, "Acme AG")).await.expect(201);
    assert_eq!(listed(app, INVOICES, &m.buyer_key).await.len(), 2);
}

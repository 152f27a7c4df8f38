//! Settlement runs on the test clock: a month of sales, a refund clawed back,
//! a supervised delivery completed after the month's end settled in the next
//! period, the exact statement amounts, and runs that settle a period once.

use crate::helpers::period_sku;
use crate::supervision::{Market, market, one_time_sku};
use chrono::{DateTime, Datelike, TimeZone, Utc};
use mercato_domain::settlement::Calendar;
use mercato_server::app::settlement;
use serde_json::{Value, json};

const RUNS: &str = "/api/v1/operator/settlement-runs";

pub fn ts(v: &Value) -> DateTime<Utc> {
    serde_json::from_value(v.clone()).unwrap()
}

pub async fn now(m: &Market) -> DateTime<Utc> {
    ts(&m.app.get("/api/v1/operator/test-clock", Some(&m.op)).await.expect(200)["now"])
}

/// Moves the test clock to `at` or at most a second past it (it moves in
/// whole seconds).
pub async fn advance_to(m: &Market, at: DateTime<Utc>) {
    let secs = ((at - now(m).await).num_milliseconds() + 999).div_euclid(1000);
    assert!(secs >= 0, "the clock only moves forward");
    m.advance_secs(secs).await;
}

/// The first instant of the month after `t`'s (UTC).
pub fn next_month(t: DateTime<Utc>) -> DateTime<Utc> {
    let (y, mo) = if t.month() == 12 { (t.year() + 1, 1) } else { (t.year(), t.month() + 1) };
    Utc.with_ymd_and_hms(y, mo, 1, 0, 0, 0).unwrap()
}

fn label(t: DateTime<Utc>) -> String {
    Calendar::default().period_of(t).label
}

async fn statement_of(m: &Market, period: &str) -> Value {
    let page = m.app.get(&format!("/api/v1/seller/statements?period={period}"), Some(&m.seller_key)).await.expect(200);
    let items = page["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "one statement per seller, period and currency: {page}");
    let id = items[0]["id"].as_str().unwrap();
    m.app.get(&format!("/api/v1/seller/statements/{id}"), Some(&m.seller_key)).await.expect(200)
}

/// Buys the manual service `sku` and takes it through requirements and
/// delivery; returns the order and the supervision awaiting acceptance.
async fn awaiting_acceptance(m: &Market, sku: &str) -> (Value, String) {
    let order = m.buy(sku, json!({})).await;
    let id = m.supervision_of(order["id"].as_str().unwrap()).await["id"].as_str().unwrap().to_string();
    m.step("buyer", &m.buyer_key, &id, "submit-requirements", json!({"note": "go"})).await.expect(200);
    m.deliver(&id).await;
    (order, id)
}

/// Buys the manual service `sku` and takes it through requirements,
/// delivery and acceptance now.
async fn delivered_service(m: &Market, sku: &str) {
    let (_, id) = awaiting_acceptance(m, sku).await;
    m.step("buyer", &m.buyer_key, &id, "accept", json!({})).await.expect(200);
}

/// A market whose buyer was delivered a manual service (50,000) this month,
/// on a clock two days past the month's end (its cut-off passed); the
/// month's instant.
async fn a_closed_month() -> (Market, DateTime<Utc>) {
    let m = market().await;
    let service = m.product("manual_service", None, one_time_sku("setup")).await;
    delivered_service(&m, &service).await;
    let month = now(&m).await;
    advance_to(&m, next_month(month) + chrono::Duration::days(2)).await;
    (m, month)
}

/// Buys a month of the period SKU `sku`, provisioned, and unsubscribes at
/// once (refunded in full); returns the order.
async fn unsubscribed_at_once(m: &Market, sku: &str) -> Value {
    let order = m.buy(sku, json!({"period": "month", "period_count": 1})).await;
    settle_jobs(m).await;
    let sub = subscription_of(m, &order).await;
    assert_eq!(sub["status"], "active");
    m.app
        .post(
            &format!("/api/v1/buyer/subscriptions/{}/unsubscribe", sub["id"].as_str().unwrap()),
            Some(&m.buyer_key),
            json!({"scope": "subscription"}),
        )
        .await
        .expect(200);
    order
}

#[tokio::test]
async fn a_month_settles_once_with_clawbacks_and_a_late_delivery_in_the_next_period() {
    let m = market().await;
    let saas = m.product("saas", Some(crate::helpers::shared_seller().to_string()), period_sku("std")).await;
    let service = m.product("manual_service", None, one_time_sku("setup")).await;
    let month = now(&m).await;
    let first = label(month);

    // A monthly SaaS purchase (9,900 at 20 % commission), delivered.
    m.buy(&saas, json!({"period": "month", "period_count": 1})).await;
    // Another, unsubscribed at once: refunded in full (clawed back).
    let refunded = unsubscribed_at_once(&m, &saas).await;
    // A manual service (50,000 at 20 %) bought this month, delivered and
    // accepted an hour after the month ends.
    let (order, id) = awaiting_acceptance(&m, &service).await;
    let end = next_month(month);
    advance_to(&m, end + chrono::Duration::hours(1)).await;
    m.step("buyer", &m.buyer_key, &id, "accept", json!({})).await.expect(200);

    // The month is not settleable before its cut-off (24 h after its end).
    let open = m.app.post(RUNS, Some(&m.op), json!({"period": first})).await.problem(409, "period_open");
    assert!(open["detail"].as_str().unwrap().contains(&first), "{open}");
    m.app.post(RUNS, Some(&m.op), json!({"period": "2026-13"})).await.problem(422, "validation_failed");
    advance_to(&m, end + chrono::Duration::hours(24) + chrono::Duration::minutes(1)).await;
    let run = m.app.post(RUNS, Some(&m.op), json!({"period": first})).await.expect(201);
    assert_eq!((run["statements"].as_i64(), run["lines"].as_i64()), (Some(1), Some(3)));
    // Again: the same run, nothing new.
    let again = m.app.post(RUNS, Some(&m.op), json!({"period": first})).await.expect(200);
    assert_eq!(again["created_at"], run["created_at"]);
    assert!(settlement::scheduled(&m.app.state).await.unwrap().is_empty(), "the scheduler finds it settled");

    // Sale 9,900 + sale 9,900 - clawback 9,900; commission 1,980 each way;
    // net 7,920 of which 6 % tax contained: 7,920 - round(7,920 / 1.06) = 448.
    let s = statement_of(&m, &first).await;
    let st = &s["statement"];
    assert_eq!(
        (st["gross_minor"].as_i64(), st["commission_minor"].as_i64(), st["net_minor"].as_i64()),
        (Some(9_900), Some(1_980), Some(7_920)),
        "{s}"
    );
    assert_eq!((st["tax_rate_bp"].as_i64(), st["tax_minor"].as_i64()), (Some(600), Some(448)));
    assert_eq!(st["status"], "issued");
    let kinds: Vec<&str> =
        s["lines"]["items"].as_array().unwrap().iter().map(|l| l["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["sale", "sale", "clawback"]);
    let clawback = &s["lines"]["items"][2];
    assert_eq!((clawback["gross_minor"].as_i64(), clawback["net_minor"].as_i64()), (Some(-9_900), Some(-7_920)));
    let news = m.notifications(&m.seller_key).await;
    assert!(news.contains(&"statement_issued".to_string()), "{news:?}");

    // Transaction details: the same lines, summing to the statement, filtered and paged.
    let tx = |q: String| {
        let key = m.seller_key.clone();
        let app = &m.app;
        async move { app.get(&format!("/api/v1/seller/transactions?{q}"), Some(&key)).await.expect(200) }
    };
    let all = tx(format!("period={first}")).await;
    let items = all["items"].as_array().unwrap();
    assert_eq!(items.len(), 3);
    let sum = |f: &str| items.iter().map(|l| l[f].as_i64().unwrap()).sum::<i64>();
    assert_eq!((sum("gross_minor"), sum("net_minor")), (9_900, 7_920));
    assert!(items.iter().all(|l| l["statement_id"] == st["id"] && l["period"] == json!(first)));
    assert_eq!(tx("kind=clawback".into()).await["items"].as_array().unwrap().len(), 1);
    let refunded_order = refunded["id"].as_str().unwrap();
    assert_eq!(tx(format!("order_id={refunded_order}")).await["items"].as_array().unwrap().len(), 1);
    assert_eq!(tx("customer=acc_nobody".into()).await["items"], json!([]));
    let page = tx("limit=2".into()).await;
    assert_eq!(page["items"].as_array().unwrap().len(), 2);
    let cursor = page["next_cursor"].as_str().unwrap().to_string();
    let rest = tx(format!("limit=2&cursor={cursor}")).await;
    assert_eq!(rest["items"].as_array().unwrap().len(), 1);
    assert!(rest["next_cursor"].is_null());
    m.app.get("/api/v1/seller/transactions?kind=refund", Some(&m.seller_key)).await.problem(422, "validation_failed");
    m.app.get("/api/v1/seller/transactions?cursor=x", Some(&m.seller_key)).await.problem(422, "validation_failed");

    // The late delivery is the next period's, settled by the scheduler once
    // that period's cut-off has passed.
    let second = label(end);
    m.app.post(RUNS, Some(&m.op), json!({"period": second})).await.problem(409, "period_open");
    // Two more months pass at once: the scheduler settles both, in order.
    let third_end = next_month(next_month(end));
    advance_to(&m, third_end + chrono::Duration::hours(25)).await;
    let runs = settlement::scheduled(&m.app.state).await.unwrap();
    let made: Vec<(&str, i64, i64)> = runs.iter().map(|r| (r.period.as_str(), r.statements, r.lines)).collect();
    assert_eq!(made, [(second.as_str(), 1, 1), (label(next_month(end)).as_str(), 0, 0)]);
    let s = statement_of(&m, &second).await;
    let st = &s["statement"];
    assert_eq!(
        (st["gross_minor"].as_i64(), st["commission_minor"].as_i64(), st["net_minor"].as_i64()),
        (Some(50_000), Some(10_000), Some(40_000))
    );
    assert_eq!(s["lines"]["items"][0]["order_id"], order["id"]);

    // Sellers see only their own; operators see all.
    let (_, other, _) = m.app.approved_seller().await;
    let theirs = m.app.get("/api/v1/seller/statements", Some(&other)).await.expect(200);
    assert_eq!(theirs["items"], json!([]));
    let theirs = m.app.get("/api/v1/seller/transactions", Some(&other)).await.expect(200);
    assert_eq!(theirs["items"], json!([]));
    let everyone = m.app.get("/api/v1/operator/transactions?limit=100", Some(&m.op)).await.expect(200);
    assert_eq!(everyone["items"].as_array().unwrap().len(), 4);
    let id = st["id"].as_str().unwrap();
    m.app.get(&format!("/api/v1/seller/statements/{id}"), Some(&other)).await.problem(404, "not_found");
    m.app.get(&format!("/api/v1/operator/statements/{id}"), Some(&m.op)).await.expect(200);
    let all = m.app.get(RUNS, Some(&m.op)).await.expect(200);
    assert_eq!(all["items"].as_array().unwrap().len(), 3);
    m.app.assert_ledger_balanced().await;
}

#[tokio::test]
async fn two_runs_at_once_write_one_set_of_statements() {
    let (m, month) = a_closed_month().await;
    let period = Calendar::default().period_of(month);

    // Two nodes' workers on one database, settling at the same moment.
    let other = crate::helpers::spawn_node(&m.app, |_| {}).await;
    let (a, b) =
        tokio::join!(settlement::settle(&m.app.state, &period, None), settlement::settle(&other.state, &period, None));
    let (a, b) = (a.unwrap(), b.unwrap());
    assert!(a.1 ^ b.1, "exactly one run made the statements: {a:?} {b:?}");
    assert_eq!((a.0.statements, b.0.statements), (1, 1));
    let all = m.app.get(&format!("/api/v1/operator/statements?period={}", period.label), Some(&m.op)).await.expect(200);
    assert_eq!(all["items"].as_array().unwrap().len(), 1);
    assert_eq!(all["items"][0]["lines"], 1);
}

#[tokio::test]
async fn a_statement_is_confirmed_or_disputed_approved_by_another_operator_and_paid() {
    let (m, month) = a_closed_month().await;
    m.app.post(RUNS, Some(&m.op), json!({"period": label(month)})).await.expect(201);
    let s = statement_of(&m, &label(month)).await;
    let id = s["statement"]["id"].as_str().unwrap().to_string();
    assert_eq!(s["statement"]["issued_by"], s["events"][0]["actor_id"]);
    let seller = |action: &str| format!("/api/v1/seller/statements/{id}/{action}");
    let operator = |action: &str| format!("/api/v1/operator/statements/{id}/{action}");
    let pay = json!({"provider": "manual", "reference": "CMB-20270103-0001"});

    // Out of order, or another seller's: refused, nothing changes.
    m.app.post(&operator("approve"), Some(&m.op), json!({})).await.problem(409, "out_of_order");
    m.app.post(&operator("payout"), Some(&m.op), pay.clone()).await.problem(409, "out_of_order");
    let (_, other_seller, _) = m.app.approved_seller().await;
    m.app.post(&seller("confirm"), Some(&other_seller), json!({})).await.problem(404, "not_found");

    // Disputed with a reason, answered, confirmed.
    m.app.post(&seller("dispute"), Some(&m.seller_key), json!({"note": ""})).await.problem(422, "validation_failed");
    let d = m
        .app
        .post(&seller("dispute"), Some(&m.seller_key), json!({"note": "the report fee is missing"}))
        .await
        .expect(200);
    assert_eq!(d["statement"]["status"], "disputed");
    m.app.post(&seller("confirm"), Some(&m.seller_key), json!({})).await.problem(409, "out_of_order");
    let d = m
        .app
        .post(&operator("reissue"), Some(&m.op), json!({"note": "the fee is billed next month"}))
        .await
        .expect(200);
    assert_eq!(d["statement"]["status"], "issued");
    m.app.post(&seller("confirm"), Some(&m.seller_key), json!({})).await.expect(200);

    // The issuer may not approve; another operator does.
    let p = m.app.post(&operator("approve"), Some(&m.op), json!({})).await.problem(403, "approver_is_issuer");
    assert!(p["detail"].as_str().unwrap().contains("another operator"), "{p}");
    let second = m.app.operator().await;
    m.app.post(&operator("approve"), Some(&second), json!({})).await.expect(200);

    // Paid: one payout entry; returned: reversed and approved again; paid again.
    m.app
        .post(&operator("payout"), Some(&second), json!({"provider": "wire", "reference": "x"}))
        .await
        .problem(422, "validation_failed");
    let d = m.app.post(&operator("payout"), Some(&second), pay.clone()).await.expect(200);
    assert_eq!(
        (d["statement"]["status"].as_str(), d["statement"]["payout_reference"].as_str()),
        (Some("paid"), Some("CMB-20270103-0001"))
    );
    m.app.assert_ledger_balanced().await;
    m.app.post(&operator("payout"), Some(&second), pay.clone()).await.problem(409, "out_of_order");
    let d = m.app.post(&operator("payout-failed"), Some(&second), json!({"note": "account closed"})).await.expect(200);
    assert_eq!(d["statement"]["status"], "approved");
    assert!(d["statement"]["payout_reference"].is_null());
    let d = m
        .app
        .post(&operator("payout"), Some(&second), json!({"provider": "manual", "reference": "CMB-2"}))
        .await
        .expect(200);
    let actions: Vec<&str> = d["events"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(actions, ["issue", "dispute", "reissue", "confirm", "approve", "pay", "payout_failed", "pay"]);
    let news = m.notifications(&m.seller_key).await;
    for kind in
        ["statement_issued", "statement_reissue", "statement_approve", "statement_pay", "statement_payout_failed"]
    {
        assert!(news.contains(&kind.to_string()), "{kind}: {news:?}");
    }
    // Two payouts, one reversed: the seller's payable went down by the net once.
    let entries = m.app.get("/api/v1/operator/ledger/entries?limit=100", Some(&m.op)).await.expect(200);
    let payouts = entries["items"].as_array().unwrap().iter().filter(|e| e["kind"] == "payout").count();
    assert_eq!(payouts, 2, "{entries}");
    m.app.assert_ledger_balanced().await;
}

#[tokio::test]
async fn an_unanswered_statement_is_confirmed_after_the_configured_days() {
    let (m, month) = a_closed_month().await;
    let made = settlement::scheduled(&m.app.state).await.unwrap();
    assert_eq!(made.len(), 1);
    assert_eq!(settlement::lifecycle::auto_confirm(&m.app.state).await.unwrap(), 0);
    m.advance_secs(7 * 86_400 + 60).await;
    assert_eq!(settlement::lifecycle::auto_confirm(&m.app.state).await.unwrap(), 1);
    assert_eq!(settlement::lifecycle::auto_confirm(&m.app.state).await.unwrap(), 0);
    let s = statement_of(&m, &label(month)).await;
    assert_eq!(s["statement"]["status"], "confirmed");
    assert_eq!(s["events"][1]["actor"], "marketplace");
    // Issued by the scheduler: any operator approves it.
    let id = s["statement"]["id"].as_str().unwrap();
    m.app.post(&format!("/api/v1/operator/statements/{id}/approve"), Some(&m.op), json!({})).await.expect(200);
}

#[tokio::test]
async fn the_scheduler_settles_a_period_an_operator_skipped() {
    let m = market().await;
    let service = m.product("manual_service", None, one_time_sku("setup")).await;
    delivered_service(&m, &service).await;
    let month = now(&m).await;
    let later = next_month(month);
    advance_to(&m, next_month(later) + chrono::Duration::days(2)).await;
    // The operator settles the later (empty) month first.
    let run = m.app.post(RUNS, Some(&m.op), json!({"period": label(later)})).await.expect(201);
    assert_eq!(run["statements"], 0);
    let made = settlement::scheduled(&m.app.state).await.unwrap();
    let periods: Vec<(&str, i64)> = made.iter().map(|r| (r.period.as_str(), r.statements)).collect();
    assert_eq!(periods, [(label(month).as_str(), 1)]);
    assert!(settlement::scheduled(&m.app.state).await.unwrap().is_empty());
}

/// The buyer's subscription bought with `order`.
async fn subscription_of(m: &Market, order: &Value) -> Value {
    let subs = m.app.get("/api/v1/buyer/subscriptions?limit=100", Some(&m.buyer_key)).await.expect(200);
    subs["items"].as_array().unwrap().iter().find(|s| s["order_id"] == order["id"]).cloned().expect("a subscription")
}

/// Runs the due jobs until none is left (a few rounds at most).
async fn settle_jobs(m: &Market) {
    for _ in 0..20 {
        if m.run_jobs().await == 0 {
            return;
        }
    }
    panic!("jobs still due after 20 rounds");
}

/// A CSV download: (content type, body).
async fn csv(m: &Market, path: &str, key: &str) -> (String, String) {
    let res = m.app.client.get(m.app.url(path)).bearer_auth(key).send().await.unwrap();
    assert_eq!(res.status().as_u16(), 200, "{path}");
    let ct = res.headers()["content-type"].to_str().unwrap().to_string();
    (ct, res.text().await.unwrap())
}

/// The CSV's records without the header, split on commas (the fields these
/// tests read hold none).
fn records(text: &str) -> Vec<Vec<String>> {
    text.split("\r\n")
        .skip(1)
        .filter(|l| !l.is_empty())
        .map(|l| l.split(',').map(|f| f.trim_matches('"').to_string()).collect())
        .collect()
}

#[tokio::test]
async fn a_month_of_purchases_renewals_usage_and_refunds_settles_exactly_and_reconciles() {
    let m = market().await;
    let shared = crate::helpers::shared_seller().to_string();
    let saas = m.product("saas", Some(shared.clone()), period_sku("std")).await;
    let payg_sku = json!({"sku_code": "payg", "name": "Pay as you go", "charging_mode": "on_demand",
        "currency": "CNY", "metering": {"unit": "GB", "unit_price": "0.05", "billing": "hourly"}});
    let payg = m.product("saas", Some(shared), payg_sku).await;
    let service = m.product("manual_service", None, one_time_sku("setup")).await;
    let me = m.app.get("/api/v1/me", Some(&m.seller_key)).await.expect(200);
    let cred = m.app.post("/api/v1/seller/open-api-credentials", Some(&m.seller_key), json!({})).await.expect(201);
    let seller = crate::usage_shop::Seller {
        id: me["id"].as_str().unwrap().to_string(),
        key: m.seller_key.clone(),
        ak: cred["access_key_id"].as_str().unwrap().to_string(),
        sk: cred["secret_access_key"].as_str().unwrap().to_string(),
    };
    // One hour into a fresh month.
    let start = next_month(now(&m).await) + chrono::Duration::hours(1);
    advance_to(&m, start).await;
    let month = label(start);

    // A monthly subscription (9,900), provisioned, then renewed for a month
    // (9,900 more, delivered when the seller's server takes the renewal).
    let bought = m.buy(&saas, json!({"period": "month", "period_count": 1})).await;
    settle_jobs(&m).await;
    let sub = subscription_of(&m, &bought).await;
    let renew = format!("/api/v1/buyer/subscriptions/{}/renew", sub["id"].as_str().unwrap());
    m.app
        .post_idem(&renew, &m.buyer_key, "renew-1", Some(json!({"period": "month", "period_count": 1})))
        .await
        .expect(200);
    settle_jobs(&m).await;
    // Another, unsubscribed at once: refunded in full and clawed back.
    unsubscribed_at_once(&m, &saas).await;
    // Pay-per-use: 12.75 GB at 0.05 CNY in one hour = 63.75 fen, charged 64
    // once the hour has closed (its commission 20 %: 12.8, rounded down for
    // the platform as every commission: 12).
    let metered = m.buy(&payg, json!({})).await;
    settle_jobs(&m).await;
    let instance = subscription_of(&m, &metered).await["instance_id"].as_str().unwrap().to_string();
    let h = start + chrono::Duration::hours(1);
    advance_to(&m, h + chrono::Duration::minutes(30)).await;
    let records_pushed = json!({"usage_records": [
        crate::usage_shop::rec(&instance, "u1", h + chrono::Duration::minutes(1), h + chrono::Duration::minutes(10), "10.5"),
        crate::usage_shop::rec(&instance, "u2", h + chrono::Duration::minutes(10), h + chrono::Duration::minutes(20), "2.25"),
    ]});
    let (status, body) = crate::usage_shop::push_as(&m.app, &seller, &records_pushed).await;
    assert_eq!(status, 200, "{body}");
    let checked = mercato_server::app::usage::intake::validate_all(&m.app.state).await.unwrap();
    assert_eq!((checked.valid, checked.error), (2, 0), "{body}");
    advance_to(&m, h + chrono::Duration::minutes(75)).await;
    // Rating catches up period by period (the clock jumped a month).
    let rated = mercato_server::app::usage::rating::rate_due(&m.app.state).await.unwrap();
    let (lines, paid) = (rated.lines, rated.paid);
    assert_eq!((lines, paid), (1, 1));
    // A manual service (50,000) bought and delivered this month, accepted
    // only after the month's cut-off (24 h after its end): its supervision
    // was not finished when the month was billed, so it settles next period.
    let (order, id) = awaiting_acceptance(&m, &service).await;
    let end = next_month(start);
    advance_to(&m, end + chrono::Duration::hours(24) + chrono::Duration::minutes(30)).await;
    m.step("buyer", &m.buyer_key, &id, "accept", json!({})).await.expect(200);

    advance_to(&m, end + chrono::Duration::hours(25)).await;
    let run = m.app.post(RUNS, Some(&m.op), json!({"period": month})).await.expect(201);
    assert_eq!((run["statements"].as_i64(), run["lines"].as_i64()), (Some(1), Some(5)), "{run}");
    // Sales 3 x 9,900 (purchase, renewal, the unsubscribed one), usage 64,
    // clawback -9,900: gross 19,864; commission 3 x 1,980 + 12 - 1,980 =
    // 3,972; net 15,892, of which 6 % contained: 15,892 - round(15,892 /
    // 1.06 = 14,992.45) = 900.
    let s = statement_of(&m, &month).await;
    let st = &s["statement"];
    let totals = ["gross_minor", "commission_minor", "net_minor", "tax_minor"].map(|f| st[f].as_i64().unwrap());
    assert_eq!(totals, [19_864, 3_972, 15_892, 900], "{s}");
    let mut kinds: Vec<&str> =
        s["lines"]["items"].as_array().unwrap().iter().map(|l| l["kind"].as_str().unwrap()).collect();
    kinds.sort();
    assert_eq!(kinds, ["clawback", "sale", "sale", "sale", "usage"]);
    let usage = s["lines"]["items"].as_array().unwrap().iter().find(|l| l["kind"] == "usage").unwrap().clone();
    assert_eq!((usage["gross_minor"].as_i64(), usage["commission_minor"].as_i64()), (Some(64), Some(12)));

    // The transaction details as CSV: the same five lines, adding up to the net.
    let path = format!("/api/v1/seller/transactions/export.csv?period={month}");
    let (ct, text) = csv(&m, &path, &m.seller_key).await;
    assert!(ct.starts_with("text/csv"), "{ct}");
    assert!(text.starts_with("\"statement_id\",\"seller_id\",\"period\""), "{text}");
    let rows = records(&text);
    assert_eq!(rows.len(), 5, "{text}");
    assert_eq!(rows.iter().map(|r| r[14].parse::<i64>().unwrap()).sum::<i64>(), 15_892, "{text}");
    assert!(rows.iter().any(|r| r[5] == "clawback" && r[12] == "-9900"), "amounts stay numbers: {text}");
    // Read two lines at a time, the stream is the same file.
    let params = settlement::TransactionParams { period: Some(month.clone()), ..Default::default() };
    let paged = settlement::exports::transactions_csv_paged(&m.app.state, Some(seller.id.clone()), params, 2).unwrap();
    let chunks: Vec<_> = futures_util::StreamExt::collect::<Vec<_>>(paged).await;
    assert_eq!(chunks.len(), 4, "the header and three pages");
    let joined: Vec<u8> = chunks.into_iter().flat_map(|c| c.unwrap().to_vec()).collect();
    assert_eq!(String::from_utf8(joined).unwrap(), text);
    let (_, none) = csv(&m, &format!("{path}&product_type=manual_service"), &m.seller_key).await;
    assert_eq!(records(&none).len(), 0);
    let bad = m.app.get("/api/v1/seller/transactions/export.csv?product_type=boat", Some(&m.seller_key)).await;
    bad.problem(422, "validation_failed");

    // Confirmed, approved by a second operator, in the bank file, paid.
    let sid = st["id"].as_str().unwrap().to_string();
    m.app.post(&format!("/api/v1/seller/statements/{sid}/confirm"), Some(&m.seller_key), json!({})).await.expect(200);
    let (_, empty) = csv(&m, "/api/v1/operator/payouts/bank-file.csv", &m.op).await;
    assert_eq!(records(&empty).len(), 0, "nothing approved yet: {empty}");
    let second = m.app.operator().await;
    m.app.post(&format!("/api/v1/operator/statements/{sid}/approve"), Some(&second), json!({})).await.expect(200);
    let (_, bank) = csv(&m, &format!("/api/v1/operator/payouts/bank-file.csv?period={month}"), &m.op).await;
    let transfers = records(&bank);
    assert_eq!(transfers.len(), 1, "{bank}");
    assert_eq!(transfers[0][0], sid);
    assert_eq!((transfers[0][3].as_str(), transfers[0][4].as_str()), ("云数据科技有限公司", "Industrial Bank"));
    assert!(transfers[0][5].replace(' ', "").ends_with("62220210 01001234".replace(' ', "").as_str()), "{bank}");
    assert_eq!((transfers[0][7].as_str(), transfers[0][8].as_str()), ("15892", "158.92"));
    m.app
        .post(
            &format!("/api/v1/operator/statements/{sid}/payout"),
            Some(&second),
            json!({"provider": "manual", "reference": "CMB-BATCH-7"}),
        )
        .await
        .expect(200);
    let (_, after) = csv(&m, "/api/v1/operator/payouts/bank-file.csv", &m.op).await;
    assert_eq!(records(&after).len(), 0, "paid statements leave the bank file");

    // The ledger and its reconciliation with settlement: the statement's net
    // is what the seller's payable moved in its lines' entries, one payout.
    let tb = m.app.get("/api/v1/operator/ledger/trial-balance", Some(&m.op)).await.expect(200);
    assert_eq!(tb["settlement_problems"], json!([]), "{tb}");
    assert_eq!(
        tb["settlement"],
        json!([{"period": month, "currency": "CNY", "statements": 1, "net_minor": 15_892,
            "ledger_net_minor": 15_892, "paid": 1, "payouts_in_force": 1}])
    );
    m.app.assert_ledger_balanced().await;

    // The late supervision settles in the next period.
    let next = label(end);
    advance_to(&m, next_month(end) + chrono::Duration::hours(25)).await;
    let made = settlement::scheduled(&m.app.state).await.unwrap();
    assert_eq!(made.iter().map(|r| (r.period.as_str(), r.lines)).collect::<Vec<_>>(), [(next.as_str(), 1)]);
    let late = statement_of(&m, &next).await;
    assert_eq!(late["statement"]["net_minor"], 40_000);
    let (_, service_rows) =
        csv(&m, "/api/v1/seller/transactions/export.csv?product_type=manual_service", &m.seller_key).await;
    let service_rows = records(&service_rows);
    assert_eq!(service_rows.len(), 1);
    assert_eq!(
        (service_rows[0][2].as_str(), service_rows[0][7].as_str()),
        (next.as_str(), order["id"].as_str().unwrap())
    );
    m.app.assert_ledger_balanced().await;
}

#[tokio::test]
async fn the_ledger_check_finds_a_statement_that_disagrees_with_the_ledger() {
    use mercato_store::sea_orm::ConnectionTrait;
    let (m, month) = a_closed_month().await;
    m.app.post(RUNS, Some(&m.op), json!({"period": label(month)})).await.expect(201);
    m.app.assert_ledger_balanced().await;
    let id = statement_of(&m, &label(month)).await["statement"]["id"].as_str().unwrap().to_string();

    // A statement whose net no longer matches its lines or the ledger.
    m.app
        .state
        .db
        .conn
        .execute_unprepared(&format!("UPDATE statements SET net_minor = net_minor + 1 WHERE id = '{id}'"))
        .await
        .unwrap();
    let report = mercato_server::app::ledger::check_state(&m.app.state).await.unwrap();
    assert!(!report.is_ok());
    assert!(report.problems.iter().any(|p| p.contains(&id) && p.contains("payable moved 40000")), "{report}");
    let tb = m.app.get("/api/v1/operator/ledger/trial-balance", Some(&m.op)).await.expect(200);
    assert_eq!(tb["settlement_problems"].as_array().unwrap().len(), 2, "{tb}");
    assert_eq!(tb["settlement"][0]["net_minor"], 40_001);

    // A paid statement without its payout entry.
    m.app
        .state
        .db
        .conn
        .execute_unprepared(&format!(
            "UPDATE statements SET net_minor = net_minor - 1, status = 'paid' WHERE id = '{id}'"
        ))
        .await
        .unwrap();
    let report = mercato_server::app::ledger::check_state(&m.app.state).await.unwrap();
    assert_eq!(report.problems.len(), 1, "{report}");
    assert!(report.problems[0].contains("0 payout"), "{report}");
}

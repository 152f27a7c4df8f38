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

fn ts(v: &Value) -> DateTime<Utc> {
    serde_json::from_value(v.clone()).unwrap()
}

async fn now(m: &Market) -> DateTime<Utc> {
    ts(&m.app.get("/api/v1/operator/test-clock", Some(&m.op)).await.expect(200)["now"])
}

async fn advance_to(m: &Market, at: DateTime<Utc>) {
    let secs = (at - now(m).await).num_seconds();
    assert!(secs >= 0, "the clock only moves forward");
    m.advance_secs(secs).await;
}

/// The first instant of the month after `t`'s (UTC).
fn next_month(t: DateTime<Utc>) -> DateTime<Utc> {
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

/// Buys the manual service `sku` and takes it through requirements,
/// delivery and acceptance now.
async fn delivered_service(m: &Market, sku: &str) {
    let order = m.buy(sku, json!({})).await;
    let id = m.supervision_of(order["id"].as_str().unwrap()).await["id"].as_str().unwrap().to_string();
    m.step("buyer", &m.buyer_key, &id, "submit-requirements", json!({"note": "go"})).await.expect(200);
    m.deliver(&id).await;
    m.step("buyer", &m.buyer_key, &id, "accept", json!({})).await.expect(200);
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
    let refunded = m.buy(&saas, json!({"period": "month", "period_count": 1})).await;
    m.run_jobs().await;
    let subs = m.app.get("/api/v1/buyer/subscriptions", Some(&m.buyer_key)).await.expect(200);
    let sub = subs["items"].as_array().unwrap().iter().find(|s| s["order_id"] == refunded["id"]).unwrap().clone();
    assert_eq!(sub["status"], "active");
    m.app
        .post(
            &format!("/api/v1/buyer/subscriptions/{}/unsubscribe", sub["id"].as_str().unwrap()),
            Some(&m.buyer_key),
            json!({"scope": "subscription"}),
        )
        .await
        .expect(200);
    // A manual service (50,000 at 20 %) bought this month, delivered and
    // accepted an hour after the month ends.
    let order = m.buy(&service, json!({})).await;
    let id = m.supervision_of(order["id"].as_str().unwrap()).await["id"].as_str().unwrap().to_string();
    m.step("buyer", &m.buyer_key, &id, "submit-requirements", json!({"note": "go"})).await.expect(200);
    m.deliver(&id).await;
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
    let m = market().await;
    let service = m.product("manual_service", None, one_time_sku("setup")).await;
    delivered_service(&m, &service).await;
    let month = now(&m).await;
    advance_to(&m, next_month(month) + chrono::Duration::days(2)).await;
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
    let m = market().await;
    let service = m.product("manual_service", None, one_time_sku("setup")).await;
    delivered_service(&m, &service).await;
    let month = now(&m).await;
    advance_to(&m, next_month(month) + chrono::Duration::days(2)).await;
    m.app.post(RUNS, Some(&m.op), json!({"period": label(month)})).await.expect(201);
    let s = statement_of(&m, &label(month)).await;
    let id = s["statement"]["id"].as_str().unwrap().to_string();
    assert_eq!(s["statement"]["issued_by"], s["events"][0]["actor_id"]);
    let seller = |action: &str| format!("/api/v1/seller/statements/{id}/{action}");
    let operator = |action: &str| format!("/api/v1/operator/statements/{id}/{action}");
    let pay = json!({"provider": "manual", "reference": "CMB-20270103-0001"});

    // Out of order, or another seller's: refused, nothing changes.
    m.app.post(&operator("approve"), Some(&m.op), json!({})).await.problem(409, "out_of_order");
    m.app.post(&operator("pay"), Some(&m.op), pay.clone()).await.problem(409, "out_of_order");
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
        .post(&operator("pay"), Some(&second), json!({"provider": "wire", "reference": "x"}))
        .await
        .problem(422, "validation_failed");
    let d = m.app.post(&operator("pay"), Some(&second), pay.clone()).await.expect(200);
    assert_eq!(
        (d["statement"]["status"].as_str(), d["statement"]["payout_reference"].as_str()),
        (Some("paid"), Some("CMB-20270103-0001"))
    );
    m.app.assert_ledger_balanced().await;
    m.app.post(&operator("pay"), Some(&second), pay.clone()).await.problem(409, "out_of_order");
    let d = m.app.post(&operator("payout-failed"), Some(&second), json!({"note": "account closed"})).await.expect(200);
    assert_eq!(d["statement"]["status"], "approved");
    assert!(d["statement"]["payout_reference"].is_null());
    let d = m
        .app
        .post(&operator("pay"), Some(&second), json!({"provider": "manual", "reference": "CMB-2"}))
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
    let m = market().await;
    let service = m.product("manual_service", None, one_time_sku("setup")).await;
    delivered_service(&m, &service).await;
    let month = now(&m).await;
    advance_to(&m, next_month(month) + chrono::Duration::days(2)).await;
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

//! Usage views on the test clock, through the real path: buy, push signed
//! records, validate, move past the period close, rate, then read the
//! buyer's usage per hour and day, charges, packages, and the seller's
//! per-instance usage; authorization and bad parameters.

use crate::usage_shop::{Shop, rec, seller_on, shop};
use chrono::{DateTime, Duration, DurationRound, SecondsFormat, Utc};
use mercato_server::app::usage::intake::Validated;
use mercato_server::app::usage::rating::{RatingReport, rate_due};
use serde_json::{Value, json};

const CHARGES: &str = "/api/v1/buyer/usage/charges";
const PACKAGES: &str = "/api/v1/buyer/usage/packages";

/// The shared shop's steps these tests repeat.
trait Steps {
    async fn push_valid(&self, records: Vec<Value>);
    async fn rate(&self) -> RatingReport;
    async fn buyer_get(&self, path: &str) -> Value;
}

impl Steps for Shop {
    /// Pushes records as the shop's seller and validates them, all valid.
    async fn push_valid(&self, records: Vec<Value>) {
        let n = records.len() as u64;
        self.push(&self.seller, records).await;
        assert_eq!(self.validate().await, Validated { valid: n, error: 0, duplicate: 0 });
    }

    async fn rate(&self) -> RatingReport {
        rate_due(&self.app.state).await.unwrap()
    }

    async fn buyer_get(&self, path: &str) -> Value {
        self.app.get(path, Some(&self.buyer_key)).await.expect(200)
    }
}

/// How times appear in JSON answers.
fn iso(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

/// A time as a query parameter value.
fn q(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// The start of the UTC day after `t`.
fn next_day(t: DateTime<Utc>) -> DateTime<Utc> {
    t.duration_trunc(Duration::days(1)).unwrap() + Duration::days(1)
}

/// (period_start, records, quantity, package, overage, amount_minor) of a view's items.
fn periods(view: &Value) -> Vec<(String, i64, String, String, String, i64)> {
    view["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["period_start"].as_str().unwrap().to_string(),
                i["records"].as_i64().unwrap(),
                i["quantity"].as_str().unwrap().to_string(),
                i["package_quantity"].as_str().unwrap().to_string(),
                i["overage_quantity"].as_str().unwrap().to_string(),
                i["amount_minor"].as_i64().unwrap(),
            )
        })
        .collect()
}

fn p(
    start: DateTime<Utc>,
    records: i64,
    qty: &str,
    pkg: &str,
    over: &str,
    amount: i64,
) -> (String, i64, String, String, String, i64) {
    (iso(start), records, qty.into(), pkg.into(), over.into(), amount)
}

#[tokio::test]
async fn rated_usage_shows_per_hour_and_day_with_charges_and_the_sellers_view() {
    let s = shop().await;
    let sub = s.buy("payg").await;
    let ins = sub.instance_id.clone().unwrap();
    // Two hours of one UTC day: D 01:00 and D 02:00.
    let day = next_day(s.app.state.now());
    let (h1, h2) = (day + Duration::hours(1), day + Duration::hours(2));
    let m = Duration::minutes;
    s.advance_to(h1 + m(30)).await;
    s.push_valid(vec![rec(&ins, "a-1", h1, h1 + m(10), "1.5"), rec(&ins, "a-2", h1 + m(10), h1 + m(20), "2.25")]).await;
    s.advance_to(h2 + m(40)).await;
    s.push_valid(vec![rec(&ins, "b-1", h2, h2 + m(30), "10.1234")]).await;
    // Past the close of the second hour (:15 of the next).
    s.advance_to(h2 + Duration::hours(1) + m(16)).await;
    let report = s.rate().await;
    assert_eq!((report.records, report.lines, report.paid, report.arrears), (3, 2, 2, 0), "{report:?}");

    // Per hour (the billing's default): 3.75 GB x 0.05 = 18.75 fen -> 19;
    // 10.1234 GB x 0.05 = 50.617 fen -> 51.
    let base = format!("/api/v1/buyer/subscriptions/{}/usage", sub.id);
    let range = format!("from={}&to={}", q(day), q(day + Duration::days(1)));
    let hourly = s.buyer_get(&format!("{base}?{range}")).await;
    assert_eq!(hourly["granularity"], "hour");
    assert_eq!(hourly["billing"], "hourly");
    assert_eq!(hourly["instance_id"], ins.as_str());
    assert_eq!(
        (hourly["from"].as_str().unwrap(), hourly["to"].as_str().unwrap()),
        (&*iso(day), &*iso(day + Duration::days(1)))
    );
    assert_eq!(periods(&hourly), [p(h1, 2, "3.75", "0", "3.75", 19), p(h2, 1, "10.1234", "0", "10.1234", 51)]);
    assert_eq!(hourly["items"][0]["period_end"], iso(h2));
    assert_eq!(hourly["items"][0]["currency"], "CNY");
    let total = json!({"records": 3, "quantity": "13.8734", "package_quantity": "0", "overage_quantity": "13.8734",
        "amount_minor": 70, "currency": "CNY"});
    assert_eq!(hourly["total"], total);

    // Per day: the same sums in one item; the default range (the last 7 days) holds them too.
    let daily = s.buyer_get(&format!("{base}?granularity=day&{range}")).await;
    assert_eq!(periods(&daily), [p(day, 3, "13.8734", "0", "13.8734", 70)]);
    assert_eq!(daily["items"][0]["period_end"], iso(day + Duration::days(1)));
    assert_eq!(daily["total"], total);
    assert_eq!(s.buyer_get(&base).await["total"], total);
    assert_eq!(s.buyer_get(&format!("{base}?granularity=day")).await["total"], total);
    // A range is widened to whole periods: 01:30-02:10 is the two hours.
    let narrow = s.buyer_get(&format!("{base}?from={}&to={}", q(h1 + m(30)), q(h2 + m(10)))).await;
    assert_eq!(periods(&narrow).len(), 2);
    assert_eq!(narrow["from"], iso(h1));
    // An empty range.
    let before = s.buyer_get(&format!("{base}?from={}&to={}", q(day - Duration::days(2)), q(day))).await;
    assert_eq!(before["items"], json!([]));
    assert_eq!(before["total"]["quantity"], "0");
    assert_eq!(before["total"]["amount_minor"], 0);

    // Charges: one per hour, newest first, paid from the wallet.
    let charges = s.buyer_get(CHARGES).await;
    let items = charges["items"].as_array().unwrap();
    assert_eq!(items.len(), 2, "{charges}");
    assert_eq!(charges["next_cursor"], Value::Null);
    assert_eq!((items[0]["period_start"].as_str().unwrap(), items[0]["amount_minor"].as_i64()), (&*iso(h2), Some(51)));
    assert_eq!((items[1]["period_start"].as_str().unwrap(), items[1]["amount_minor"].as_i64()), (&*iso(h1), Some(19)));
    for c in items {
        assert_eq!(
            (c["status"].as_str(), c["billing"].as_str(), c["currency"].as_str()),
            (Some("paid"), Some("hourly"), Some("CNY"))
        );
        assert!(c["entry_id"].as_str().is_some_and(|e| !e.is_empty()), "{c}");
        assert!(c["paid_at"].is_string(), "{c}");
    }
    assert_eq!(s.app.wallet_available(&s.buyer_key, "CNY").await, 1_000_000 - 70);
    let page1 = s.buyer_get(&format!("{CHARGES}?limit=1")).await;
    assert_eq!(page1["items"][0]["id"], items[0]["id"]);
    let cursor = page1["next_cursor"].as_str().unwrap().to_string();
    let page2 = s.buyer_get(&format!("{CHARGES}?limit=1&cursor={cursor}")).await;
    assert_eq!(page2["items"][0]["id"], items[1]["id"]);
    assert_eq!(page2["next_cursor"], Value::Null);
    assert_eq!(s.buyer_get(&format!("{CHARGES}?status=paid")).await["items"].as_array().unwrap().len(), 2);
    assert_eq!(s.buyer_get(&format!("{CHARGES}?status=arrears")).await["items"], json!([]));

    let id = items[1]["id"].as_str().unwrap();
    let detail = s.buyer_get(&format!("{CHARGES}/{id}")).await;
    assert_eq!(detail["amount_minor"], 19);
    assert_eq!(
        detail["lines"],
        json!([{"instance_id": ins, "subscription_id": sub.id, "product_id": sub.product_id,
            "period_start": iso(h1), "records": 2, "quantity": "3.75", "package_quantity": "0",
            "overage_quantity": "3.75", "unit_price": "0.05", "amount_minor": 19}])
    );

    // The seller's view of the instance: the same periods, with buyer and subscription.
    let seller_base = format!("/api/v1/seller/usage/instances/{ins}");
    let seen = s.app.get(&format!("{seller_base}?{range}"), Some(&s.seller.key)).await.expect(200);
    assert_eq!(periods(&seen), periods(&hourly));
    assert_eq!(seen["total"], total);
    assert_eq!(seen["subscription_id"], sub.id.as_str());
    assert_eq!(seen["items"][1]["buyer_id"], s.buyer_id.as_str());
    assert_eq!(seen["items"][1]["subscription_id"], sub.id.as_str());
    let seen_daily =
        s.app.get(&format!("{seller_base}?granularity=day&{range}"), Some(&s.seller.key)).await.expect(200);
    assert_eq!(periods(&seen_daily), [p(day, 3, "13.8734", "0", "13.8734", 70)]);

    // Nobody else sees any of it: 404, as for what does not exist.
    let (_, other_buyer) = s.app.signup("buyer").await;
    s.app.get(&base, Some(&other_buyer)).await.problem(404, "not_found");
    s.app.get(&format!("{CHARGES}/{id}"), Some(&other_buyer)).await.problem(404, "not_found");
    assert_eq!(s.app.get(CHARGES, Some(&other_buyer)).await.expect(200)["items"], json!([]));
    let (other_seller, _) = seller_on(&s.app).await;
    s.app.get(&seller_base, Some(&other_seller.key)).await.problem(404, "not_found");
    // A second rating pass changes nothing.
    assert_eq!(s.rate().await.lines, 0);
    assert_eq!(s.buyer_get(&format!("{base}?{range}")).await["total"], total);
    s.app.assert_ledger_balanced().await;
}

#[tokio::test]
async fn packages_cover_usage_first_and_show_what_is_left() {
    let s = shop().await;
    let empty = s.buyer_get(PACKAGES).await;
    assert_eq!(empty, json!({"items": [], "next_cursor": null}));
    let pack = s.buy("pack").await;
    let sub = s.buy("payg").await;
    let ins = sub.instance_id.clone().unwrap();

    // Before any usage: the whole quota is left and there is no draw.
    let before = s.buyer_get(PACKAGES).await;
    let items = before["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{before}");
    let item = &items[0];
    assert_eq!(item["subscription_id"], pack.id.as_str());
    assert_eq!(item["product_id"], sub.product_id.as_str());
    assert_eq!(item["product_name"], "Log Insight");
    assert_eq!(item["instance_id"], pack.instance_id.as_deref().unwrap());
    assert_eq!(item["status"], "active");
    assert_eq!(
        (item["quota"].as_str(), item["used"].as_str(), item["remaining"].as_str()),
        (Some("1000"), Some("0"), Some("1000"))
    );
    assert_eq!((item["draws"].as_i64(), &item["last_draw_period_start"]), (Some(0), &Value::Null));
    assert_eq!(item["starts_at"], iso(pack.starts_at));

    let h = next_day(s.app.state.now()) + Duration::hours(3);
    let m = Duration::minutes;
    s.advance_to(h + m(30)).await;
    s.push_valid(vec![rec(&ins, "p-1", h, h + m(10), "3.75"), rec(&ins, "p-2", h + m(10), h + m(20), "0.0001")]).await;
    s.advance_to(h + Duration::hours(1) + m(16)).await;
    let report = s.rate().await;
    assert_eq!((report.records, report.lines, report.paid, report.arrears), (2, 1, 0, 0), "{report:?}");

    let view = s.buyer_get(&format!("/api/v1/buyer/subscriptions/{}/usage", sub.id)).await;
    assert_eq!(periods(&view), [p(h, 2, "3.7501", "3.7501", "0", 0)]);
    assert_eq!(view["total"]["package_quantity"], "3.7501");
    assert_eq!(s.buyer_get(CHARGES).await["items"], json!([]), "nothing to charge");
    assert_eq!(s.app.wallet_available(&s.buyer_key, "CNY").await, 1_000_000 - 7000);

    let after = s.buyer_get(PACKAGES).await;
    let item = &after["items"][0];
    assert_eq!(
        (item["quota"].as_str(), item["used"].as_str(), item["remaining"].as_str()),
        (Some("1000"), Some("3.7501"), Some("996.2499"))
    );
    assert_eq!((item["draws"].as_i64(), item["last_draw_period_start"].as_str()), (Some(1), Some(&*iso(h))));
    assert_eq!(item["expires_at"], iso(pack.expires_at.unwrap()));

    // Paging, and other buyers see none.
    let second = s.buy("pack").await;
    let page1 = s.buyer_get(&format!("{PACKAGES}?limit=1")).await;
    assert_eq!(page1["items"][0]["subscription_id"], second.id.as_str(), "newest first");
    let cursor = page1["next_cursor"].as_str().unwrap().to_string();
    let page2 = s.buyer_get(&format!("{PACKAGES}?limit=1&cursor={cursor}")).await;
    assert_eq!(page2["items"][0]["subscription_id"], pack.id.as_str());
    assert_eq!(page2["next_cursor"], Value::Null);
    let (_, other_buyer) = s.app.signup("buyer").await;
    assert_eq!(s.app.get(PACKAGES, Some(&other_buyer)).await.expect(200)["items"], json!([]));
}

#[tokio::test]
async fn daily_billing_is_viewed_per_day_only() {
    let s = shop().await;
    let sub = s.buy("daily").await;
    let ins = sub.instance_id.clone().unwrap();
    let base = format!("/api/v1/buyer/subscriptions/{}/usage", sub.id);
    // The subscription's billing decides: a conflict naming the field.
    let body = s
        .app
        .get(&format!("{base}?granularity=hour"), Some(&s.buyer_key))
        .await
        .problem(409, "granularity_unavailable");
    assert_eq!(body["errors"][0]["field"], "granularity");
    assert!(body["errors"][0]["message"].as_str().unwrap().contains("billed daily"), "{body}");
    s.app
        .get(&format!("/api/v1/seller/usage/instances/{ins}?granularity=hour"), Some(&s.seller.key))
        .await
        .problem(409, "granularity_unavailable");

    // Usage in two hours of one day is one daily line:
    // 12.3456 GB x 0.5 = 6.1728 CNY -> 617 fen.
    let day = next_day(s.app.state.now());
    let m = Duration::minutes;
    s.advance_to(day + Duration::hours(5)).await;
    s.push_valid(vec![
        rec(&ins, "d-1", day + Duration::hours(1), day + Duration::hours(1) + m(5), "10"),
        rec(&ins, "d-2", day + Duration::hours(4), day + Duration::hours(4) + m(5), "2.3456"),
    ])
    .await;
    // A day closes at 01:00 the next day.
    s.advance_to(day + Duration::hours(25) + m(1)).await;
    let report = s.rate().await;
    assert_eq!((report.records, report.lines, report.paid), (2, 1, 1), "{report:?}");
    let view = s.buyer_get(&base).await;
    assert_eq!(view["granularity"], "day");
    assert_eq!(view["billing"], "daily");
    assert_eq!(periods(&view), [p(day, 2, "12.3456", "0", "12.3456", 617)]);
    let charges = s.buyer_get(CHARGES).await;
    assert_eq!(charges["items"][0]["billing"], "daily");
    assert_eq!(charges["items"][0]["period_end"], iso(day + Duration::days(1)));
    assert_eq!(charges["items"][0]["amount_minor"], 617);
}

#[tokio::test]
async fn bad_parameters_and_other_tenants_get_clear_answers() {
    let s = shop().await;
    let sub = s.buy("payg").await;
    let ins = sub.instance_id.clone().unwrap();
    let period = s.buy("std").await;
    let base = format!("/api/v1/buyer/subscriptions/{}/usage", sub.id);
    let key = Some(s.buyer_key.as_str());
    let fields = |body: &Value| -> Vec<String> {
        body["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap().to_string()).collect()
    };

    // Nothing rated yet: empty views and lists.
    let view = s.buyer_get(&base).await;
    assert_eq!(view["items"], json!([]));
    assert_eq!(view["granularity"], "hour");
    assert_eq!(
        view["total"],
        json!({"records": 0, "quantity": "0", "package_quantity": "0", "overage_quantity": "0",
        "amount_minor": 0, "currency": "CNY"})
    );
    let now = s.app.state.now();
    let hour = now.duration_trunc(Duration::hours(1)).unwrap();
    let to = if hour == now { now } else { hour + Duration::hours(1) };
    assert_eq!(view["to"], iso(to), "to defaults to now, widened to the hour");
    assert_eq!(view["from"], iso(hour - Duration::days(7)));
    assert_eq!(s.buyer_get(CHARGES).await, json!({"items": [], "next_cursor": null}));
    assert_eq!(s.buyer_get(PACKAGES).await, json!({"items": [], "next_cursor": null}));
    let seller_base = format!("/api/v1/seller/usage/instances/{ins}");
    let seen = s.app.get(&seller_base, Some(&s.seller.key)).await.expect(200);
    assert_eq!((seen["items"].clone(), seen["buyer_id"].as_str()), (json!([]), Some(s.buyer_id.as_str())));

    // 422 naming the field.
    for (query, want) in [
        ("granularity=week", vec!["granularity"]),
        ("from=yesterday", vec!["from"]),
        ("from=2026-01-01&to=2026-01-02", vec!["from", "to"]),
        ("to=not-a-time", vec!["to"]),
    ] {
        let body = s.app.get(&format!("{base}?{query}"), key).await.problem(422, "validation_failed");
        assert_eq!(fields(&body), want, "{query}: {body}");
        let body =
            s.app.get(&format!("{seller_base}?{query}"), Some(&s.seller.key)).await.problem(422, "validation_failed");
        assert_eq!(fields(&body), want, "{query}: {body}");
    }
    // 93 days exactly is answered whole; a longer range for its first 93
    // days, the answer's `to` saying where it stops.
    let whole = s.app.get(&format!("{base}?from=2026-01-01T00:00:00Z&to=2026-04-04T00:00:00Z"), key).await.expect(200);
    assert_eq!(
        (whole["from"].as_str(), whole["to"].as_str()),
        (Some("2026-01-01T00:00:00Z"), Some("2026-04-04T00:00:00Z"))
    );
    let first = s.app.get(&format!("{base}?from=2026-01-01T00:00:00Z&to=2027-01-01T00:00:00Z"), key).await.expect(200);
    assert_eq!(first["to"], "2026-04-04T00:00:00Z");
    // A range that ends at or before it starts is empty, like any filter
    // that matches nothing.
    for query in
        ["from=2026-03-01T00:00:00Z&to=2026-03-01T00:00:00Z", "from=2026-03-02T00:30:00Z&to=2026-03-01T00:00:00Z"]
    {
        for (path, key) in [(&base, key), (&seller_base, Some(s.seller.key.as_str()))] {
            let empty = s.app.get(&format!("{path}?{query}"), key).await.expect(200);
            assert_eq!(empty["items"], json!([]), "{query}");
            assert_eq!(empty["from"], empty["to"], "{query}: {empty}");
        }
    }
    for query in ["status=open", "limit=0", "limit=101", "cursor=garbage"] {
        let body = s.app.get(&format!("{CHARGES}?{query}"), key).await.problem(422, "validation_failed");
        assert_eq!(fields(&body), [query.split('=').next().unwrap()], "{query}");
    }
    for query in ["limit=0", "cursor=garbage"] {
        let body = s.app.get(&format!("{PACKAGES}?{query}"), key).await.problem(422, "validation_failed");
        assert_eq!(fields(&body), [query.split('=').next().unwrap()], "{query}");
    }

    // Not pay-per-use: no usage to show.
    s.app.get(&format!("/api/v1/buyer/subscriptions/{}/usage", period.id), key).await.problem(409, "not_pay_per_use");

    // Other tenants and unknown ids: 404, the same answer.
    let (_, other_buyer) = s.app.signup("buyer").await;
    s.app.get(&base, Some(&other_buyer)).await.problem(404, "not_found");
    s.app.get("/api/v1/buyer/subscriptions/sub_0000/usage", key).await.problem(404, "not_found");
    s.app.get(&format!("{CHARGES}/uch_nothing"), key).await.problem(404, "not_found");
    let (other_seller, _) = seller_on(&s.app).await;
    s.app.get(&seller_base, Some(&other_seller.key)).await.problem(404, "not_found");
    s.app.get("/api/v1/seller/usage/instances/no-such-instance", Some(&s.seller.key)).await.problem(404, "not_found");

    // Roles: 401 without a key, 403 with the wrong one.
    s.app.get(&base, None).await.expect(401);
    s.app.get(CHARGES, Some(&s.seller.key)).await.expect(403);
    s.app.get(PACKAGES, Some(&s.seller.key)).await.expect(403);
    s.app.get(&seller_base, key).await.expect(403);
}

#[tokio::test]
async fn arrears_show_until_a_top_up_pays_them_and_a_packages_own_usage_is_never_charged() {
    let s = shop().await;
    // A buyer without money uses the on-demand SKU; the shop's buyer uses its
    // package's own instance.
    let (poor_id, poor_key) = s.app.signup("buyer").await;
    let sub = s.buy_as(&poor_key, "payg").await;
    let ins = sub.instance_id.clone().unwrap();
    let pack = s.buy("pack").await;
    let pack_ins = pack.instance_id.clone().unwrap();
    let h = next_day(s.now()) + Duration::hours(2);
    let m = Duration::minutes;
    s.advance_to(h + m(30)).await;
    let mut own = rec(&pack_ins, "q-2", h, h + m(10), "2.5");
    own["relate_pkg_instance"] = json!(pack_ins);
    s.push_valid(vec![rec(&ins, "q-1", h, h + m(10), "100"), own]).await;
    s.advance_to(h + Duration::hours(1) + m(16)).await;
    let report = s.rate().await;
    assert_eq!((report.records, report.lines, report.paid, report.arrears), (2, 2, 0, 1), "{report:?}");

    // 100 GB x 0.05 = 5 CNY, owed.
    let get = |path: String| {
        let key = poor_key.clone();
        let app = &s.app;
        async move { app.get(&path, Some(&key)).await.expect(200) }
    };
    let owed = get(format!("{CHARGES}?status=arrears")).await;
    let items = owed["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{owed}");
    let charge_id = items[0]["id"].as_str().unwrap().to_string();
    assert_eq!((items[0]["amount_minor"].as_i64(), items[0]["status"].as_str()), (Some(500), Some("arrears")));
    assert_eq!((&items[0]["entry_id"], &items[0]["paid_at"]), (&Value::Null, &Value::Null));
    assert_eq!(get(format!("{CHARGES}?status=paid")).await["items"], json!([]));
    let view = get(format!("/api/v1/buyer/subscriptions/{}/usage", sub.id)).await;
    assert_eq!(periods(&view), [p(h, 1, "100", "0", "100", 500)]);

    // A top-up pays it.
    s.app.credit_wallet(&s.op, &poor_id, 800, "CNY").await;
    let paid = get(format!("{CHARGES}/{charge_id}")).await;
    assert_eq!(paid["status"], "paid");
    assert_eq!(paid["paid_at"], iso(s.now()));
    assert!(paid["entry_id"].as_str().is_some_and(|e| !e.is_empty()), "{paid}");
    assert_eq!(paid["lines"][0]["unit_price"], "0.05");
    assert_eq!(get(format!("{CHARGES}?status=arrears")).await["items"], json!([]));
    assert_eq!(s.app.wallet_available(&poor_key, "CNY").await, 300);

    // The package's own instance: covered by its package, never charged.
    let own_view = s.buyer_get(&format!("/api/v1/buyer/subscriptions/{}/usage", pack.id)).await;
    assert_eq!(own_view["billing"], "hourly");
    assert_eq!(periods(&own_view), [p(h, 1, "2.5", "2.5", "0", 0)]);
    let packages = s.buyer_get(PACKAGES).await;
    let item = &packages["items"][0];
    assert_eq!((item["used"].as_str(), item["remaining"].as_str()), (Some("2.5"), Some("997.5")));
    assert_eq!(item["draws"], 1);
    assert_eq!(s.buyer_get(CHARGES).await["items"], json!([]));
    s.app.assert_ledger_balanced().await;
}

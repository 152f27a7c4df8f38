//! Buying: orders priced on the server, paying from the wallet through the
//! ledger, subscriptions, fulfilment jobs, and the buyer and seller views.

use crate::helpers::{Res, TestApp, period_sku, product_form, spawn_with};
use mercato_store::entity::{job, subscription};
use mercato_store::sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};
use std::collections::HashMap;

const ORDERS: &str = "/api/v1/buyer/orders";

/// A listed SaaS product (joint operation: 20% commission) with one SKU of
/// every kind, plus a funded buyer.
struct Shop {
    app: TestApp,
    seller_id: String,
    seller_key: String,
    op: String,
    product_id: String,
    skus: HashMap<String, String>,
    buyer_id: String,
    buyer_key: String,
}

fn skus() -> Vec<Value> {
    vec![
        json!({
            "sku_code": "team", "name": "Team", "charging_mode": "period",
            "prices": {"month_minor": 1000, "year_minor": 10000}, "currency": "CNY", "trial_days": 14,
            "linear": {"name": "users", "unit": "user", "min": 5, "step": 5, "count": 20}
        }),
        json!({"sku_code": "monthly", "name": "Monthly", "charging_mode": "period",
            "prices": {"month_minor": 500}, "currency": "CNY"}),
        json!({"sku_code": "setup", "name": "Setup", "charging_mode": "one_time",
            "prices": {"one_time_minor": 2500}, "currency": "CNY"}),
        json!({"sku_code": "payg", "name": "Pay as you go", "charging_mode": "on_demand", "currency": "CNY",
            "metering": {"unit": "GB", "unit_price": "0.05", "billing": "daily"}}),
        json!({"sku_code": "pack", "name": "Package", "charging_mode": "on_demand_pkg", "currency": "CNY",
            "package": {"quota": "1000", "period_months": 6, "price_minor": 7000}}),
    ]
}

async fn shop() -> Shop {
    // No background worker: these tests look at orders as paying leaves
    // them (fulfilment has its own tests in fulfilment.rs).
    let app = spawn_with(|c| c.worker_enabled = false).await;
    let (seller_id, seller_key, op) = app.approved_seller().await;
    let product_id = app.listed_product(&seller_key, &op, product_form("Cloud DB"), &skus()).await;
    let detail = app.get(&format!("/api/v1/catalog/products/{product_id}"), None).await.expect(200);
    let skus = detail["skus"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["sku_code"].as_str().unwrap().to_string(), s["id"].as_str().unwrap().to_string()))
        .collect();
    let (buyer_id, buyer_key) = app.signup("buyer").await;
    Shop { app, seller_id, seller_key, op, product_id, skus, buyer_id, buyer_key }
}

impl Shop {
    fn sku(&self, code: &str) -> &str {
        &self.skus[code]
    }

    async fn order(&self, body: Value) -> Res {
        self.app.post(ORDERS, Some(&self.buyer_key), body).await
    }

    async fn pay(&self, order_id: &str) -> Res {
        self.app.post(&format!("{ORDERS}/{order_id}/pay"), Some(&self.buyer_key), json!({})).await
    }

    /// The ledger balance (debit - credit) of `account` in CNY.
    async fn balance(&self, account: &str) -> i64 {
        let tb = self.app.get("/api/v1/operator/ledger/trial-balance", Some(&self.op)).await.expect(200);
        tb["accounts"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["account"] == account && a["currency"] == "CNY")
            .map_or(0, |a| a["balance_minor"].as_i64().unwrap())
    }

    async fn jobs(&self) -> Vec<job::Model> {
        job::Entity::find()
            .filter(job::Column::Kind.eq("fulfil_new_instance"))
            .all(&self.app.state.db.conn)
            .await
            .unwrap()
    }

    async fn subscriptions(&self) -> Vec<subscription::Model> {
        subscription::Entity::find().all(&self.app.state.db.conn).await.unwrap()
    }
}

#[tokio::test]
async fn buying_a_period_sku_charges_the_wallet_and_starts_fulfilment() {
    let s = shop().await;
    s.app.credit_wallet(&s.op, &s.buyer_id, 100_000, "CNY").await;

    let order = s
        .order(
            json!({"sku_id": s.sku("team"), "period": "month", "period_count": 3, "quantity": 10, "auto_renew": true}),
        )
        .await
        .expect(201);
    let id = order["id"].as_str().unwrap().to_string();
    assert!(id.starts_with("CS") && id.len() == 17, "{id}");
    assert_eq!(order["status"], "pending_payment");
    assert_eq!(order["amount_minor"], 1000 * 3 * 10);
    assert_eq!(order["currency"], "CNY");
    let line = &order["lines"][0];
    assert_eq!(line["id"], format!("{id}-000001"));
    assert_eq!(line["product_id"], s.product_id);
    assert_eq!(line["sku_id"], s.sku("team"));
    assert_eq!(line["sku_code"], "team");
    assert_eq!(line["charging_mode"], "period");
    assert_eq!((line["period"].as_str(), line["period_count"].as_i64()), (Some("month"), Some(3)));
    assert_eq!((line["quantity"].as_i64(), line["trial"].as_bool()), (Some(10), Some(false)));
    assert_eq!(line["amount_minor"], 30_000);
    assert_eq!(s.app.wallet_available(&s.buyer_key, "CNY").await, 100_000, "placing an order moves no money");

    let paid = s.pay(&id).await.expect(200);
    assert_eq!(paid["status"], "paid");
    assert!(paid["paid_at"].is_string());
    assert_eq!(s.app.wallet_available(&s.buyer_key, "CNY").await, 70_000);
    // Joint SaaS: 20% commission.
    assert_eq!(s.balance(&format!("seller_payable:{}", s.seller_id)).await, -24_000);
    assert_eq!(s.balance("platform_commission").await, -6_000);

    let jobs = s.jobs().await;
    assert_eq!(jobs.len(), 1);
    assert_eq!(jobs[0].reference, format!("{id}-000001"));
    assert_eq!(jobs[0].status, "pending");
    let payload: Value = serde_json::from_str(&jobs[0].payload_json).unwrap();
    assert_eq!(payload["order_id"], id);

    let subs = s.app.get("/api/v1/buyer/subscriptions", Some(&s.buyer_key)).await.expect(200);
    let sub = &subs["items"][0];
    assert_eq!(subs["items"].as_array().unwrap().len(), 1);
    assert_eq!(sub["status"], "provisioning");
    assert_eq!(sub["order_id"], id);
    assert_eq!(sub["order_line_id"], format!("{id}-000001"));
    assert_eq!(sub["product_name"], "Cloud DB");
    assert_eq!(sub["auto_renew"], true);
    assert_eq!(sub["trial"], false);
    assert!(sub["instance_id"].is_null());
    assert_eq!(payload["subscription_id"], sub["id"]);
    let starts: chrono::DateTime<chrono::Utc> = sub["starts_at"].as_str().unwrap().parse().unwrap();
    let expires: chrono::DateTime<chrono::Utc> = sub["expires_at"].as_str().unwrap().parse().unwrap();
    assert_eq!(expires, starts.checked_add_months(chrono::Months::new(3)).unwrap());
    let sub_id = sub["id"].as_str().unwrap();
    let one = s.app.get(&format!("/api/v1/buyer/subscriptions/{sub_id}"), Some(&s.buyer_key)).await.expect(200);
    assert_eq!(one["id"], sub_id);

    // Auto-renew can be switched off.
    let patched = s
        .app
        .patch(&format!("/api/v1/buyer/subscriptions/{sub_id}"), Some(&s.buyer_key), json!({"auto_renew": false}))
        .await
        .expect(200);
    assert_eq!(patched["auto_renew"], false);

    // Views, and tenancy.
    let got = s.app.get(&format!("{ORDERS}/{id}"), Some(&s.buyer_key)).await.expect(200);
    assert_eq!(got, paid);
    let list = s.app.get(ORDERS, Some(&s.buyer_key)).await.expect(200);
    assert_eq!(list["items"][0]["id"], id);
    let (_, other) = s.app.signup("buyer").await;
    s.app.get(&format!("{ORDERS}/{id}"), Some(&other)).await.problem(404, "not_found");
    s.app.post(&format!("{ORDERS}/{id}/pay"), Some(&other), json!({})).await.problem(404, "not_found");
    s.app.post(&format!("{ORDERS}/{id}/cancel"), Some(&other), json!({})).await.problem(404, "not_found");
    s.app.get(&format!("/api/v1/buyer/subscriptions/{sub_id}"), Some(&other)).await.problem(404, "not_found");
    assert_eq!(s.app.get(ORDERS, Some(&other)).await.expect(200)["items"], json!([]));

    // Paying twice, cancelling a paid order.
    s.pay(&id).await.problem(409, "already_paid");
    s.app.post(&format!("{ORDERS}/{id}/cancel"), Some(&s.buyer_key), json!({})).await.problem(409, "already_paid");
    assert_eq!(s.app.wallet_available(&s.buyer_key, "CNY").await, 70_000);
    assert_eq!(s.jobs().await.len(), 1);
    s.app.assert_ledger_balanced().await;
}

#[tokio::test]
async fn one_time_trial_on_demand_and_package_orders() {
    let s = shop().await;
    s.app.credit_wallet(&s.op, &s.buyer_id, 10_000, "CNY").await;

    let one = s.order(json!({"sku_id": s.sku("setup")})).await.expect(201);
    assert_eq!(one["amount_minor"], 2500);
    s.pay(one["id"].as_str().unwrap()).await.expect(200);
    assert_eq!(s.app.wallet_available(&s.buyer_key, "CNY").await, 7_500);

    let trial = s.order(json!({"sku_id": s.sku("team"), "trial": true, "quantity": 5})).await.expect(201);
    assert_eq!(trial["amount_minor"], 0);
    assert_eq!(trial["lines"][0]["trial"], true);
    assert_eq!(trial["lines"][0]["trial_days"], 14);
    let paid = s.pay(trial["id"].as_str().unwrap()).await.expect(200);
    assert_eq!(paid["status"], "paid");
    // Once per buyer and product, even on another SKU of it.
    s.order(json!({"sku_id": s.sku("team"), "trial": true, "quantity": 5})).await.problem(409, "trial_used");

    let od = s.order(json!({"sku_id": s.sku("payg")})).await.expect(201);
    assert_eq!(od["amount_minor"], 0);
    s.pay(od["id"].as_str().unwrap()).await.expect(200);

    let pkg = s.order(json!({"sku_id": s.sku("pack")})).await.expect(201);
    assert_eq!(pkg["amount_minor"], 7000);
    s.pay(pkg["id"].as_str().unwrap()).await.expect(200);
    assert_eq!(s.app.wallet_available(&s.buyer_key, "CNY").await, 500);

    let subs = s.subscriptions().await;
    assert_eq!(subs.len(), 4);
    let by_order = |o: &Value| subs.iter().find(|x| x.order_id == o["id"].as_str().unwrap()).unwrap().clone();
    let t = by_order(&trial);
    assert!(t.trial);
    assert_eq!(t.expires_at, Some(t.starts_at + chrono::Duration::days(14)));
    assert_eq!(by_order(&one).expires_at, None);
    assert_eq!(by_order(&od).expires_at, None);
    let p = by_order(&pkg);
    assert_eq!(p.expires_at, p.starts_at.checked_add_months(chrono::Months::new(6)));
    assert_eq!(s.jobs().await.len(), 4, "one job per line, free orders too");

    // Only paid period subscriptions renew: a well-formed request that the
    // subscription's kind refuses is a conflict with it, not bad input.
    let tid = &t.id;
    s.app
        .patch(&format!("/api/v1/buyer/subscriptions/{tid}"), Some(&s.buyer_key), json!({"auto_renew": true}))
        .await
        .problem(409, "not_renewable");
    s.app.assert_ledger_balanced().await;
}

#[tokio::test]
async fn a_cancelled_unpaid_trial_can_be_taken_again() {
    let s = shop().await;
    let trial = s.order(json!({"sku_id": s.sku("team"), "trial": true, "quantity": 5})).await.expect(201);
    let id = trial["id"].as_str().unwrap();
    s.order(json!({"sku_id": s.sku("team"), "trial": true, "quantity": 5})).await.problem(409, "trial_used");
    let cancelled = s.app.post(&format!("{ORDERS}/{id}/cancel"), Some(&s.buyer_key), json!({})).await.expect(200);
    assert_eq!(cancelled["status"], "cancelled");
    s.pay(id).await.problem(409, "order_cancelled");
    s.app.post(&format!("{ORDERS}/{id}/cancel"), Some(&s.buyer_key), json!({})).await.problem(409, "order_cancelled");
    s.order(json!({"sku_id": s.sku("team"), "trial": true, "quantity": 5})).await.expect(201);
    assert!(s.subscriptions().await.is_empty());
}

#[tokio::test]
async fn paying_a_cancelled_order_is_refused() {
    let s = shop().await;
    s.app.credit_wallet(&s.op, &s.buyer_id, 10_000, "CNY").await;
    let o = s.order(json!({"sku_id": s.sku("setup")})).await.expect(201);
    let id = o["id"].as_str().unwrap();
    s.app.post(&format!("{ORDERS}/{id}/cancel"), Some(&s.buyer_key), json!({})).await.expect(200);
    s.pay(id).await.problem(409, "order_cancelled");
    assert_eq!(s.app.wallet_available(&s.buyer_key, "CNY").await, 10_000);
    assert!(s.jobs().await.is_empty());
    s.app.assert_ledger_balanced().await;
}

#[tokio::test]
async fn insufficient_funds_changes_nothing() {
    let s = shop().await;
    s.app.credit_wallet(&s.op, &s.buyer_id, 2_499, "CNY").await;
    let o = s.order(json!({"sku_id": s.sku("setup")})).await.expect(201);
    let id = o["id"].as_str().unwrap();
    s.pay(id).await.problem(402, "insufficient_funds");
    // With a key too; the failed attempt does not burn the key.
    s.app
        .post_idem(&format!("{ORDERS}/{id}/pay"), &s.buyer_key, "pay-1", None)
        .await
        .problem(402, "insufficient_funds");
    let still = s.app.get(&format!("{ORDERS}/{id}"), Some(&s.buyer_key)).await.expect(200);
    assert_eq!(still["status"], "pending_payment");
    assert_eq!(s.app.wallet_available(&s.buyer_key, "CNY").await, 2_499);
    assert!(s.subscriptions().await.is_empty());
    assert!(s.jobs().await.is_empty());
    assert_eq!(s.balance("platform_commission").await, 0);
    // Topped up, the same key now pays.
    s.app.credit_wallet(&s.op, &s.buyer_id, 1, "CNY").await;
    let paid = s.app.post_idem(&format!("{ORDERS}/{id}/pay"), &s.buyer_key, "pay-1", None).await.expect(200);
    assert_eq!(paid["status"], "paid");
    assert_eq!(s.app.wallet_available(&s.buyer_key, "CNY").await, 0);
    s.app.assert_ledger_balanced().await;
}

#[tokio::test]
async fn create_and_pay_are_idempotent() {
    let s = shop().await;
    s.app.credit_wallet(&s.op, &s.buyer_id, 10_000, "CNY").await;
    let body = json!({"sku_id": s.sku("monthly"), "period": "month", "period_count": 2});
    let first = s.app.post_idem(ORDERS, &s.buyer_key, "create-1", Some(body.clone())).await.expect(201);
    let again = s.app.post_idem(ORDERS, &s.buyer_key, "create-1", Some(body.clone())).await;
    assert_eq!(again.headers.get("idempotent-replayed").map(|v| v.to_str().unwrap()), Some("true"));
    assert_eq!(again.expect(201), first);
    assert_eq!(s.app.get(ORDERS, Some(&s.buyer_key)).await.expect(200)["items"].as_array().unwrap().len(), 1);
    let other = json!({"sku_id": s.sku("monthly"), "period": "month", "period_count": 3});
    s.app.post_idem(ORDERS, &s.buyer_key, "create-1", Some(other)).await.problem(422, "idempotency_key_reused");

    let id = first["id"].as_str().unwrap();
    let path = format!("{ORDERS}/{id}/pay");
    let paid = s.app.post_idem(&path, &s.buyer_key, "pay-1", None).await.expect(200);
    assert_eq!(s.app.post_idem(&path, &s.buyer_key, "pay-1", None).await.expect(200), paid);
    // A new key (or none) for the paid order is a second pay.
    s.app.post_idem(&path, &s.buyer_key, "pay-2", None).await.problem(409, "already_paid");
    assert_eq!(s.app.wallet_available(&s.buyer_key, "CNY").await, 9_000);
    assert_eq!(s.jobs().await.len(), 1);
    s.app.assert_ledger_balanced().await;
}

#[tokio::test]
async fn concurrent_duplicate_pays_charge_once() {
    let s = shop().await;
    s.app.credit_wallet(&s.op, &s.buyer_id, 100_000, "CNY").await;
    for with_key in [true, false] {
        let o = s.order(json!({"sku_id": s.sku("setup")})).await.expect(201);
        let path = format!("{ORDERS}/{}/pay", o["id"].as_str().unwrap());
        let idem = format!("same-{}", o["id"].as_str().unwrap());
        let mut tasks = Vec::new();
        for _ in 0..6 {
            let mut req = s.app.client.post(s.app.url(&path)).bearer_auth(&s.buyer_key).json(&json!({}));
            if with_key {
                req = req.header("Idempotency-Key", &idem);
            }
            tasks.push(tokio::spawn(async move {
                let res = req.send().await.unwrap();
                let status = res.status().as_u16();
                let body: Value = res.json().await.unwrap_or(Value::Null);
                (status, body)
            }));
        }
        let mut results = Vec::new();
        for t in tasks {
            results.push(t.await.unwrap());
        }
        let ok = results.iter().filter(|r| r.0 == 200).count();
        if with_key {
            assert_eq!(ok, 6, "every retry with the key gets the first answer: {results:?}");
        } else {
            assert_eq!(ok, 1, "exactly one pay wins: {results:?}");
            assert!(results.iter().all(|r| r.0 == 200 || r.1["code"] == "already_paid"), "{results:?}");
        }
    }
    assert_eq!(s.app.wallet_available(&s.buyer_key, "CNY").await, 100_000 - 2 * 2_500);
    assert_eq!(s.subscriptions().await.len(), 2);
    assert_eq!(s.jobs().await.len(), 2);
    s.app.assert_ledger_balanced().await;
}

#[tokio::test]
async fn bad_orders_name_the_field_and_write_nothing() {
    let s = shop().await;
    let team = s.sku("team").to_string();
    // What no SKU accepts (the schema says so): 422.
    let fields = |r: Res| Res::fields(&r.problem(422, "validation_failed"));
    let cases: Vec<(Value, &str)> = vec![
        (json!({"sku_id": team, "period": "week", "quantity": 5}), "period"),
        (json!({"sku_id": team, "period": "month", "period_count": 12, "quantity": 5}), "period_count"),
        (json!({"sku_id": team, "period": "month", "period_count": 0, "quantity": 5}), "period_count"),
        (json!({"sku_id": team, "period": "year", "period_count": 6, "quantity": 5}), "period_count"),
        (json!({"sku_id": team, "period_count": 2, "quantity": 5}), "period_count"),
        (json!({"sku_id": team, "period": "month", "quantity": 0}), "quantity"),
        (json!({"sku_id": s.sku("setup"), "auto_renew": true}), "auto_renew"),
        (json!({"sku_id": team, "trial": true, "quantity": 5, "auto_renew": true}), "auto_renew"),
        (json!({"sku_id": team, "trial": true, "period": "year", "quantity": 5}), "period"),
        (json!({"sku_id": team, "period": "month", "quantity": 5, "color": "red"}), "color"),
        (json!({"period": "month"}), "sku_id"),
    ];
    for (body, field) in cases {
        let got = fields(s.order(body.clone()).await);
        assert!(got.contains(&field.to_string()), "{body}: {got:?}");
    }
    // What this SKU does not offer: 409 `not_offered`, naming the fields.
    let not_offered = |r: Res| Res::fields(&r.problem(409, "not_offered"));
    let cases: Vec<(Value, &str)> = vec![
        (json!({"sku_id": team, "quantity": 5}), "period"),
        (json!({"sku_id": team, "period": "month", "quantity": 7}), "quantity"),
        (json!({"sku_id": team, "period": "month", "quantity": 105}), "quantity"),
        (json!({"sku_id": team, "period": "month"}), "quantity"),
        (json!({"sku_id": s.sku("monthly"), "period": "year"}), "period"),
        (json!({"sku_id": s.sku("monthly"), "period": "month", "quantity": 2}), "quantity"),
        (json!({"sku_id": s.sku("monthly"), "trial": true}), "trial"),
        (json!({"sku_id": s.sku("setup"), "period": "month"}), "period"),
    ];
    for (body, field) in cases {
        let got = not_offered(s.order(body.clone()).await);
        assert!(got.contains(&field.to_string()), "{body}: {got:?}");
    }
    // Unknown, never-listed and delisted SKUs.
    let unknown = s.order(json!({"sku_id": "sku_00000000000000000000000000000000"})).await.problem(404, "not_found");
    assert_eq!(Res::fields(&unknown), ["sku_id"]);
    let draft = s.app.post("/api/v1/seller/products", Some(&s.seller_key), product_form("Draft")).await.expect(201);
    let draft_sku = s
        .app
        .post(
            &format!("/api/v1/seller/products/{}/skus", draft["id"].as_str().unwrap()),
            Some(&s.seller_key),
            period_sku("d"),
        )
        .await
        .expect(201);
    s.order(json!({"sku_id": draft_sku["id"], "period": "month"})).await.problem(404, "not_found");
    s.app
        .post(&format!("/api/v1/seller/products/{}/delist", s.product_id), Some(&s.seller_key), json!({}))
        .await
        .expect(200);
    let off = s.order(json!({"sku_id": s.sku("setup")})).await.problem(409, "not_on_sale");
    assert_eq!(Res::fields(&off), ["sku_id"]);

    assert_eq!(s.app.get(ORDERS, Some(&s.buyer_key)).await.expect(200)["items"], json!([]), "nothing written");
    // Roles.
    s.app.post(ORDERS, Some(&s.seller_key), json!({"sku_id": team})).await.problem(403, "forbidden");
    s.app.get("/api/v1/buyer/orders/CS0000000000AAAAA", Some(&s.buyer_key)).await.problem(404, "not_found");
    s.app.get("/api/v1/buyer/orders?cursor=nope", Some(&s.buyer_key)).await.problem(422, "validation_failed");
}

#[tokio::test]
async fn sellers_see_and_export_their_orders() {
    let s = shop().await;
    // A buyer whose name would be a spreadsheet formula.
    let evil = s
        .app
        .post(
            "/api/v1/accounts",
            None,
            json!({"role": "buyer", "name": "=HYPERLINK(\"http://x\")", "email": "evil.corp@example.com", "password": "correct horse battery"}),
        )
        .await
        .expect(201);
    let evil_key = evil["api_key"].as_str().unwrap().to_string();
    s.app.credit_wallet(&s.op, &s.buyer_id, 100_000, "CNY").await;
    s.app.credit_wallet(&s.op, evil["id"].as_str().unwrap(), 100_000, "CNY").await;

    let a = s.order(json!({"sku_id": s.sku("setup")})).await.expect(201);
    s.pay(a["id"].as_str().unwrap()).await.expect(200);
    let b =
        s.app.post(ORDERS, Some(&evil_key), json!({"sku_id": s.sku("monthly"), "period": "month"})).await.expect(201);

    // Another seller's product and order are never shown.
    let (_, other_seller, _) = s.app.approved_seller().await;
    let other_product = s.app.listed_product(&other_seller, &s.op, product_form("Other"), &[period_sku("o")]).await;
    let detail = s.app.get(&format!("/api/v1/catalog/products/{other_product}"), None).await.expect(200);
    s.order(json!({"sku_id": detail["skus"][0]["id"], "period": "month"})).await.expect(201);

    let list = |q: &str| {
        let key = s.seller_key.clone();
        let app = &s.app;
        let q = q.to_string();
        async move { app.get(&format!("/api/v1/seller/orders{q}"), Some(&key)).await }
    };
    let all = list("").await.expect(200);
    let ids: Vec<&str> = all["items"].as_array().unwrap().iter().map(|o| o["id"].as_str().unwrap()).collect();
    assert_eq!(ids, [b["id"].as_str().unwrap(), a["id"].as_str().unwrap()], "newest first, own products only");
    assert_eq!(all["items"][1]["customer"]["id"], s.buyer_id);
    assert_eq!(all["items"][1]["amount_minor"], 2500);
    assert_eq!(all["items"][1]["status"], "paid");

    let one = |r: Res| r.expect(200)["items"].as_array().unwrap().iter().map(|o| o["id"].clone()).collect::<Vec<_>>();
    assert_eq!(one(list("?status=paid").await), [a["id"].clone()]);
    assert_eq!(one(list("?status=pending_payment").await), [b["id"].clone()]);
    assert_eq!(one(list("?customer=EVIL.CORP").await), [b["id"].clone()]);
    assert_eq!(one(list(&format!("?order_id={}", a["id"].as_str().unwrap())).await), [a["id"].clone()]);
    assert_eq!(one(list(&format!("?product_id={}", s.product_id)).await).len(), 2);
    assert_eq!(one(list(&format!("?product_id={other_product}")).await).len(), 0);
    assert_eq!(one(list("?created_from=2000-01-01T00:00:00Z&created_to=2100-01-01T00:00:00Z").await).len(), 2);
    assert_eq!(one(list("?created_from=2100-01-01T00:00:00Z").await).len(), 0);
    let page = list("?limit=1").await.expect(200);
    let cursor = page["next_cursor"].as_str().unwrap().to_string();
    assert_eq!(one(list(&format!("?limit=1&cursor={cursor}")).await), [a["id"].clone()]);
    for (q, field) in [
        ("?status=bogus", "status"),
        ("?created_from=yesterday", "created_from"),
        ("?created_to=2026-13-01", "created_to"),
        ("?order_id=nope", "order_id"),
        ("?limit=0", "limit"),
        ("?cursor=zzz", "cursor"),
    ] {
        let body = list(q).await.problem(422, "validation_failed");
        assert_eq!(Res::fields(&body), [field], "{q}");
    }

    let res = s
        .app
        .client
        .get(s.app.url("/api/v1/seller/orders/export.csv"))
        .bearer_auth(&s.seller_key)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.headers()["content-type"].to_str().unwrap().starts_with("text/csv"));
    let csv = res.text().await.unwrap();
    let rows: Vec<&str> = csv.split("\r\n").filter(|r| !r.is_empty()).collect();
    assert_eq!(rows.len(), 3, "{csv}");
    assert!(rows[0].starts_with("\"order_id\",\"order_line_id\",\"status\""));
    assert!(rows[1].contains("\"'=HYPERLINK(\"\"http://x\"\")\""), "guarded and quoted: {}", rows[1]);
    assert!(rows[2].contains(&format!("\"{}-000001\"", a["id"].as_str().unwrap())));
    assert!(!csv.contains("Other"), "another seller's lines are not exported");
    let filtered = s
        .app
        .client
        .get(s.app.url("/api/v1/seller/orders/export.csv?status=paid"))
        .bearer_auth(&s.seller_key)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(filtered.split("\r\n").filter(|r| !r.is_empty()).count(), 2);
    s.app
        .get("/api/v1/seller/orders/export.csv?created_to=x", Some(&s.seller_key))
        .await
        .problem(422, "validation_failed");
    s.app.get("/api/v1/seller/orders", Some(&s.buyer_key)).await.problem(403, "forbidden");
}

//! The operator's order view: every order, filtered and paged, and one
//! order with its subscriptions, ledger entries, seller calls, jobs and
//! follow-up orders.

use crate::helpers::{Res, SHARED_SELLER_KEY, TestApp, period_sku, product_form, spawn_on_test_clock};
use mercato_isv::FaultPolicy;
use mercato_store::entity::product;
use mercato_store::sea_orm::{ColumnTrait, EntityTrait, QueryFilter, sea_query::Expr};
use serde_json::{Value, json};

const ORDERS: &str = "/api/v1/buyer/orders";
const OP_ORDERS: &str = "/api/v1/operator/orders";
const MONTH: i64 = 9900;

struct Market {
    app: TestApp,
    op: String,
    sellers: [(String, String); 2],
    products: [String; 2],
    skus: [String; 2],
    buyers: [(String, String); 2],
}

/// Two sellers with a listed monthly product each, and two funded buyers.
async fn market() -> Market {
    let app = spawn_on_test_clock().await;
    let (s1, k1, op) = app.approved_seller().await;
    let (s2, k2) = app.signup("seller").await;
    app.approve_seller(&s2, &k2, &op).await;
    let p1 = app.listed_product(&k1, &op, product_form("Cloud DB"), &[period_sku("std")]).await;
    let p2 = app.listed_product(&k2, &op, product_form("Search API"), &[period_sku("std")]).await;
    let mut skus = Vec::new();
    for p in [&p1, &p2] {
        let detail = app.get(&format!("/api/v1/catalog/products/{p}"), None).await.expect(200);
        skus.push(detail["skus"][0]["id"].as_str().unwrap().to_string());
    }
    let mut buyers = Vec::new();
    for _ in 0..2 {
        let (id, key) = app.signup("buyer").await;
        app.credit_wallet(&op, &id, 10 * MONTH, "CNY").await;
        buyers.push((id, key));
    }
    let [sku1, sku2] = <[String; 2]>::try_from(skus).unwrap();
    let [b1, b2] = <[(String, String); 2]>::try_from(buyers).unwrap();
    Market { app, op, sellers: [(s1, k1), (s2, k2)], products: [p1, p2], skus: [sku1, sku2], buyers: [b1, b2] }
}

impl Market {
    async fn order(&self, buyer: usize, product: usize) -> String {
        let body = json!({"sku_id": self.skus[product], "period": "month", "period_count": 1});
        let o = self.app.post(ORDERS, Some(&self.buyers[buyer].1), body).await.expect(201);
        o["id"].as_str().unwrap().to_string()
    }

    async fn pay(&self, buyer: usize, order_id: &str) {
        self.app.post(&format!("{ORDERS}/{order_id}/pay"), Some(&self.buyers[buyer].1), json!({})).await.expect(200);
    }

    async fn run_jobs(&self) -> usize {
        self.app.worker("worker-a").run_due(10).await.unwrap()
    }

    async fn advance(&self, secs: i64) {
        self.app.post("/api/v1/operator/test-clock", Some(&self.op), json!({"advance_secs": secs})).await.expect(200);
    }

    async fn list(&self, query: &str) -> Res {
        self.app.get(&format!("{OP_ORDERS}?{query}"), Some(&self.op)).await
    }

    /// The ids listed for `query` (one page of up to 100).
    async fn ids(&self, query: &str) -> Vec<String> {
        let page = self.list(&format!("limit=100&{query}")).await.expect(200);
        assert_eq!(page["next_cursor"], Value::Null);
        page["items"].as_array().unwrap().iter().map(|o| o["id"].as_str().unwrap().to_string()).collect()
    }

    async fn detail(&self, order_id: &str) -> Value {
        self.app.get(&format!("{OP_ORDERS}/{order_id}"), Some(&self.op)).await.expect(200)
    }
}

fn ids_of<'a>(v: impl IntoIterator<Item = &'a String>) -> Vec<String> {
    v.into_iter().cloned().collect()
}

/// Orders of several buyers, sellers, products and states, an hour apart:
/// (paid then completed; unpaid; cancelled; a renewal of the first).
async fn four_orders(m: &Market) -> [String; 4] {
    let first = m.order(0, 0).await;
    m.pay(0, &first).await;
    assert_eq!(m.run_jobs().await, 1);
    m.advance(3600).await;
    let unpaid = m.order(1, 1).await;
    m.advance(3600).await;
    let cancelled = m.order(0, 1).await;
    m.app.post(&format!("{ORDERS}/{cancelled}/cancel"), Some(&m.buyers[0].1), json!({})).await.expect(200);
    m.advance(3600).await;
    let subs = m.app.get("/api/v1/buyer/subscriptions", Some(&m.buyers[0].1)).await.expect(200);
    let sub = subs["items"][0]["id"].as_str().unwrap();
    let renewal = m
        .app
        .post(
            &format!("/api/v1/buyer/subscriptions/{sub}/renew"),
            Some(&m.buyers[0].1),
            json!({"period": "month", "period_count": 1}),
        )
        .await
        .expect(200);
    assert_eq!(m.run_jobs().await, 1);
    [first, unpaid, cancelled, renewal["order_id"].as_str().unwrap().to_string()]
}

#[tokio::test]
async fn the_operator_lists_every_order_filtered_and_paged() {
    let m = market().await;
    let t0 = m.app.state.now();
    let [first, unpaid, cancelled, renewal] = four_orders(&m).await;

    let page = m.list("").await.expect(200);
    let items = page["items"].as_array().unwrap();
    let all: Vec<&str> = items.iter().map(|o| o["id"].as_str().unwrap()).collect();
    assert_eq!(all, [&renewal, &cancelled, &unpaid, &first], "newest first");
    assert_eq!(items[0]["status"], "completed");
    assert_eq!(items[0]["buyer_id"], m.buyers[0].0.as_str());
    assert_eq!(items[0]["lines"][0]["kind"], "renewal");
    assert_eq!(items[1]["status"], "cancelled");
    assert_eq!(items[2]["buyer_id"], m.buyers[1].0.as_str());
    assert_eq!(items[2]["status"], "pending_payment");
    assert_eq!(items[3]["amount_minor"], MONTH);
    assert_eq!(items[3]["lines"][0]["product_id"], m.products[0].as_str());

    // Filters, alone and together.
    assert_eq!(m.ids("status=completed").await, ids_of([&renewal, &first]));
    assert_eq!(m.ids("status=refunded").await, Vec::<String>::new());
    assert_eq!(m.ids(&format!("buyer_id={}", m.buyers[1].0)).await, ids_of([&unpaid]));
    assert_eq!(m.ids(&format!("seller_id={}", m.sellers[0].0)).await, ids_of([&renewal, &first]));
    assert_eq!(m.ids(&format!("seller_id={}", m.sellers[1].0)).await, ids_of([&cancelled, &unpaid]));
    assert_eq!(m.ids(&format!("product_id={}", m.products[1])).await, ids_of([&cancelled, &unpaid]));
    assert_eq!(m.ids(&format!("product_id={}&buyer_id={}", m.products[1], m.buyers[0].0)).await, ids_of([&cancelled]));
    let at = |h: i64| (t0 + chrono::Duration::minutes(h * 60 + 30)).to_rfc3339().replace('+', "%2B");
    assert_eq!(m.ids(&format!("created_from={}&created_to={}", at(0), at(2))).await, ids_of([&cancelled, &unpaid]));
    assert_eq!(m.ids(&format!("created_to={}", at(0))).await, ids_of([&first]));
    assert_eq!(m.ids(&format!("created_from={}&status=completed", at(0))).await, ids_of([&renewal]));
    assert_eq!(m.ids("buyer_id=acc_nobody").await, Vec::<String>::new());

    // Paging with the keyset cursor: every order once, in order.
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let q = match &cursor {
            Some(c) => format!("limit=1&cursor={c}"),
            None => "limit=1".to_string(),
        };
        let page = m.list(&q).await.expect(200);
        let items = page["items"].as_array().unwrap();
        assert_eq!(items.len(), 1);
        seen.push(items[0]["id"].as_str().unwrap().to_string());
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => break,
        }
    }
    assert_eq!(seen, ids_of([&renewal, &cancelled, &unpaid, &first]));
    let page = m.list(&format!("limit=2&status=completed&seller_id={}", m.sellers[0].0)).await.expect(200);
    assert_eq!(page["items"].as_array().unwrap().len(), 2);
    assert_eq!(page["next_cursor"], Value::Null);
}

#[tokio::test]
async fn bad_filters_name_the_field_and_only_operators_may_look() {
    let m = market().await;
    four_orders(&m).await;
    let fields = |r: Res| Res::fields(&r.problem(422, "validation_failed"));
    assert_eq!(fields(m.list("status=lost").await), ["status"]);
    assert_eq!(fields(m.list("created_from=yesterday").await), ["created_from"]);
    // An inverted range is well-formed and matches nothing.
    let empty = m.list("created_from=2027-01-02T00:00:00Z&created_to=2027-01-01T00:00:00Z").await.expect(200);
    assert_eq!(empty["items"].as_array().map(Vec::len), Some(0));
    assert_eq!(fields(m.list("status=lost&created_to=soon").await), ["status", "created_to"]);
    assert_eq!(fields(m.list("limit=0").await), ["limit"]);
    assert_eq!(fields(m.list("limit=101").await), ["limit"]);
    assert_eq!(fields(m.list("cursor=not-a-cursor").await), ["cursor"]);
    assert_eq!(fields(m.list(&format!("buyer_id={}", "x".repeat(65))).await), ["buyer_id"]);

    m.app.get(OP_ORDERS, None).await.problem(401, "unauthorized");
    m.app.get(OP_ORDERS, Some(&m.buyers[0].1)).await.problem(403, "forbidden");
    m.app.get(OP_ORDERS, Some(&m.sellers[0].1)).await.problem(403, "forbidden");
    let any = m.ids("").await.remove(0);
    m.app.get(&format!("{OP_ORDERS}/{any}"), Some(&m.buyers[0].1)).await.problem(403, "forbidden");
    m.app.get(&format!("{OP_ORDERS}/{any}"), None).await.problem(401, "unauthorized");
    m.app.get(&format!("{OP_ORDERS}/CS2611221430B4LVS"), Some(&m.op)).await.problem(404, "not_found");
    m.app.get(&format!("{OP_ORDERS}/nope"), Some(&m.op)).await.problem(404, "not_found");
}

#[tokio::test]
async fn an_order_shows_its_subscription_money_seller_calls_jobs_and_follow_ups() {
    let m = market().await;
    let [first, unpaid, _, renewal] = four_orders(&m).await;
    let buyer_sub =
        m.app.get("/api/v1/buyer/subscriptions", Some(&m.buyers[0].1)).await.expect(200)["items"][0].clone();
    let sub_id = buyer_sub["id"].as_str().unwrap();
    assert!(buyer_sub["app_info"]["password"].is_string(), "the buyer sees the password: {buyer_sub}");

    let d = m.detail(&first).await;
    assert_eq!(d["order"]["id"], first.as_str());
    assert_eq!(d["order"]["status"], "completed");
    assert_eq!(d["order"]["buyer_id"], m.buyers[0].0.as_str());
    assert_eq!(d["order"]["lines"][0]["kind"], "purchase");
    let line_id = d["order"]["lines"][0]["id"].as_str().unwrap();

    // The subscription: status, instance, expiry; appInfo without the password.
    let subs = d["subscriptions"].as_array().unwrap();
    assert_eq!(subs.len(), 1, "{d}");
    assert_eq!(subs[0]["id"], sub_id);
    assert_eq!(subs[0]["status"], "active");
    assert_eq!(subs[0]["instance_id"], buyer_sub["instance_id"]);
    assert!(subs[0]["instance_id"].is_string());
    assert_eq!(subs[0]["expires_at"], buyer_sub["expires_at"], "the renewed expiry");
    assert_eq!(subs[0]["app_info"]["front_end_url"], buyer_sub["app_info"]["front_end_url"]);
    assert_eq!(subs[0]["app_info"]["password"], Value::Null, "{d}");
    let password = buyer_sub["app_info"]["password"].as_str().unwrap();
    assert!(!d.to_string().contains(password), "the password appears nowhere: {d}");
    let answer = d["interface_messages"][1]["response_body"].as_str().unwrap();
    assert!(answer.contains("[redacted]") && answer.contains("frontEndUrl"), "{answer}");
    // Nor does the seller's own log keep it: recorded answers are redacted.
    let own = m.app.get("/api/v1/seller/interface-messages?limit=100", Some(&m.sellers[0].1)).await.expect(200);
    assert!(own.to_string().contains("[redacted]") && !own.to_string().contains(password), "{own}");

    // The money: the payment entry, balanced.
    let entries = d["ledger_entries"].as_array().unwrap();
    assert_eq!(entries.len(), 1, "{d}");
    assert_eq!(entries[0]["kind"], "payment");
    assert_eq!(entries[0]["reference"], first.as_str());
    let lines = entries[0]["lines"].as_array().unwrap();
    let debit: i64 = lines.iter().map(|l| l["debit_minor"].as_i64().unwrap()).sum();
    let credit: i64 = lines.iter().map(|l| l["credit_minor"].as_i64().unwrap()).sum();
    assert_eq!((debit, credit), (MONTH, MONTH));

    // The seller calls of its line (not the renewal's).
    let msgs = d["interface_messages"].as_array().unwrap();
    let activities: Vec<&str> = msgs.iter().map(|x| x["activity"].as_str().unwrap()).collect();
    assert_eq!(activities, ["newInstance", "queryInstance"], "{d}");
    for x in msgs {
        assert_eq!(x["order_line_id"], line_id);
        assert_eq!(x["result_code"], "000000");
        assert_eq!(x["attempt"], 1);
        assert!(x["duration_ms"].as_i64().is_some_and(|ms| ms >= 0));
        assert!(x["request_body"].as_str().unwrap().contains(x["activity"].as_str().unwrap()));
        assert!(x["response_body"].as_str().is_some());
    }

    // Its job.
    let jobs = d["jobs"].as_array().unwrap();
    assert_eq!(jobs.len(), 1, "{d}");
    assert_eq!(jobs[0]["kind"], "fulfil_new_instance");
    assert_eq!(jobs[0]["reference"], line_id);
    assert_eq!(jobs[0]["status"], "done");
    assert_eq!(jobs[0]["attempts"], 1);
    assert_eq!(jobs[0]["last_error"], Value::Null);

    // The subscription's follow-up orders: the renewal.
    let follow = d["follow_up_orders"].as_array().unwrap();
    assert_eq!(follow.len(), 1, "{d}");
    assert_eq!(follow[0]["order_id"], renewal.as_str());
    assert_eq!(follow[0]["kind"], "renewal");
    assert_eq!(follow[0]["subscription_id"], sub_id);
    assert_eq!(follow[0]["amount_minor"], MONTH);
    assert_eq!(follow[0]["currency"], "CNY");
    assert_eq!(follow[0]["status"], "completed");

    // The renewal order: the subscription it acts on, its own money, calls, job.
    let r = m.detail(&renewal).await;
    assert_eq!(r["order"]["lines"][0]["kind"], "renewal");
    assert_eq!(r["order"]["lines"][0]["renews_subscription_id"], sub_id);
    assert_eq!(r["subscriptions"].as_array().unwrap().len(), 1);
    assert_eq!(r["subscriptions"][0]["id"], sub_id);
    assert_eq!(r["subscriptions"][0]["order_id"], first.as_str());
    assert_eq!(r["ledger_entries"].as_array().unwrap().len(), 1);
    assert_eq!(r["ledger_entries"][0]["kind"], "payment");
    let activities: Vec<&str> =
        r["interface_messages"].as_array().unwrap().iter().map(|x| x["activity"].as_str().unwrap()).collect();
    assert_eq!(activities, ["refreshInstance"]);
    let kinds: Vec<&str> = r["jobs"].as_array().unwrap().iter().map(|j| j["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["renew_instance"]);
    assert_eq!(r["follow_up_orders"], json!([]), "not itself");

    // An unpaid order: nothing happened yet.
    let u = m.detail(&unpaid).await;
    assert_eq!(u["order"]["status"], "pending_payment");
    for key in ["subscriptions", "ledger_entries", "interface_messages", "jobs", "follow_up_orders"] {
        assert_eq!(u[key], json!([]), "{key}: {u}");
    }
}

#[tokio::test]
async fn a_stuck_delivery_shows_why() {
    let m = market().await;
    // The first seller's server is down.
    let down = m
        .app
        .reference_seller(SHARED_SELLER_KEY, FaultPolicy { down_for_secs: 86_400, ..FaultPolicy::default() })
        .await;
    product::Entity::update_many()
        .col_expr(product::Column::EndpointUrl, Expr::value(down))
        .filter(product::Column::Id.eq(&m.products[0]))
        .exec(&m.app.state.db.conn)
        .await
        .unwrap();
    let order = m.order(0, 0).await;
    m.pay(0, &order).await;
    assert_eq!(m.run_jobs().await, 1);
    m.advance(120).await;
    assert_eq!(m.run_jobs().await, 1);

    let d = m.detail(&order).await;
    assert_eq!(d["order"]["status"], "fulfilling");
    assert_eq!(d["subscriptions"][0]["status"], "provisioning");
    assert_eq!(d["subscriptions"][0]["instance_id"], Value::Null);
    assert_eq!(d["subscriptions"][0]["app_info"], Value::Null);
    let job = &d["jobs"][0];
    assert_eq!(job["kind"], "fulfil_new_instance");
    assert_eq!(job["status"], "pending");
    assert_eq!(job["attempts"], 2);
    assert!(job["last_error"].as_str().is_some_and(|e| e.contains("503")), "{job}");
    let next: chrono::DateTime<chrono::Utc> = serde_json::from_value(job["run_at"].clone()).unwrap();
    assert!(next > m.app.state.now(), "the next attempt is ahead: {job}");
    let msgs = d["interface_messages"].as_array().unwrap();
    assert_eq!(msgs.len(), 2);
    assert_eq!(msgs[0]["attempt"], 1);
    assert_eq!(msgs[1]["attempt"], 2);
    assert!(msgs.iter().all(|x| x["outcome"] == "retryable" && x["response_status"] == 503), "{msgs:?}");
    m.app.assert_ledger_balanced().await;
}

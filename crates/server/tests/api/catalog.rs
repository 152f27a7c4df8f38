//! The public catalog: search, filters, sorts, stable paging, and the detail
//! of a listed product. Only listed products are ever visible.

use crate::helpers::{DATABASES_CATEGORY, Res, SHARED_SELLER_KEY, TestApp, shared_seller, spawn_app};
use serde_json::{Value, json};
use std::collections::HashMap;

const INFRASTRUCTURE: &str = "cat_e14f458e358b5da593f1532e203a8548";
const MIDDLEWARE: &str = "cat_db554fa533405998a1160a2c28dfec66";
const DATA_SECURITY: &str = "cat_00acdf1b0e7c5c04ad7f5da3802ae50d";
const BIG_DATA: &str = "cat_fec405454d0b535790b74b685c78460f";
const HR: &str = "cat_51d4ba222e3f564d986358a2d37d340d";

fn form(name: &str, kind: &str, category: &str, tags: &[&str], description: &str) -> Value {
    let mut v = json!({
        "type": kind,
        "cooperation": "general",
        "name": name,
        "version": "2.1",
        "category_id": category,
        "summary": format!("{name} summary"),
        "description": description,
        "usage_guide": "Read the guide.",
        "support_terms": "Business hours.",
        "tags": tags,
    });
    if kind == "saas" {
        v["endpoint"] = json!({"url": shared_seller(), "access_key": SHARED_SELLER_KEY});
    }
    v
}

fn period(code: &str, month: i64) -> Value {
    json!({"sku_code": code, "name": format!("{code} plan"), "charging_mode": "period",
           "prices": {"month_minor": month, "year_minor": month * 10}, "currency": "CNY", "trial_days": 7})
}

fn one_time(code: &str, price: i64) -> Value {
    json!({"sku_code": code, "name": "Perpetual", "charging_mode": "one_time",
           "prices": {"one_time_minor": price}, "currency": "CNY"})
}

fn on_demand(code: &str) -> Value {
    json!({"sku_code": code, "name": "Pay as you go", "charging_mode": "on_demand", "currency": "CNY",
           "metering": {"unit": "GB", "unit_price": "0.05", "billing": "hourly"}})
}

fn package(code: &str, price: i64) -> Value {
    json!({"sku_code": code, "name": "Quota pack", "charging_mode": "on_demand_pkg", "currency": "CNY",
           "package": {"quota": "1000", "period_months": 12, "price_minor": price}})
}

/// Percent-encodes a query value.
fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// A marketplace with five listed products, plus one delisted, one draft
/// and one rejected. Listed in this order (oldest first):
/// mysql, audit, logs, redis, hr.
struct Shop {
    app: TestApp,
    ids: HashMap<&'static str, String>,
    names: HashMap<String, &'static str>,
}

impl Shop {
    async fn open() -> Shop {
        let app = spawn_app().await;
        let (_, key, op) = app.approved_seller().await;
        let mut ids = HashMap::new();
        let listed: [(&'static str, Value, Vec<Value>); 5] = [
            (
                "mysql",
                form(
                    "MySQL 云数据库 Pro",
                    "saas",
                    DATABASES_CATEGORY,
                    &["database", "mysql"],
                    "Managed relational service.",
                ),
                vec![period("std", 9900)],
            ),
            (
                "audit",
                form("数据库审计 Audit", "license", DATA_SECURITY, &["审计"], "Records every statement."),
                vec![one_time("perp", 50000)],
            ),
            ("logs", form("Log Insight", "api", BIG_DATA, &["logs"], "Parses MySQL slow logs."), vec![on_demand("gb")]),
            (
                "redis",
                form("Redis Cache 100% Managed", "image", MIDDLEWARE, &["cache"], "In-memory store."),
                vec![period("m", 1900), package("pkg", 500)],
            ),
            ("hr", form("HR Suite", "saas", HR, &["人力资源"], "Payroll and people."), vec![one_time("lic", 9900)]),
        ];
        for (label, product, skus) in listed {
            ids.insert(label, app.listed_product(&key, &op, product, &skus).await);
        }
        // Listed, then delisted by the seller.
        let gone = app
            .listed_product(
                &key,
                &op,
                form("MySQL Legacy", "saas", DATABASES_CATEGORY, &[], "Old."),
                &[period("o", 100)],
            )
            .await;
        app.post(&format!("/api/v1/seller/products/{gone}/delist"), Some(&key), json!({})).await.expect(200);
        ids.insert("delisted", gone);
        // Never submitted.
        let draft = app
            .post("/api/v1/seller/products", Some(&key), form("MySQL Draft", "saas", DATABASES_CATEGORY, &[], "Draft."))
            .await
            .expect(201);
        ids.insert("draft", draft["id"].as_str().unwrap().to_string());
        // Submitted and rejected.
        let rejected = app
            .post("/api/v1/seller/products", Some(&key), form("MySQL Rejected", "saas", DATABASES_CATEGORY, &[], "No."))
            .await
            .expect(201);
        let rid = rejected["id"].as_str().unwrap().to_string();
        app.post(&format!("/api/v1/seller/products/{rid}/skus"), Some(&key), period("r", 100)).await.expect(201);
        app.passing_debug_run(&key, &rid).await;
        let submitted =
            app.post(&format!("/api/v1/seller/products/{rid}/submit"), Some(&key), json!({})).await.expect(200);
        let review = submitted["pending_review_id"].as_str().unwrap();
        app.post(&format!("/api/v1/operator/reviews/{review}/reject"), Some(&op), json!({"reason": "Not ready."}))
            .await
            .expect(200);
        ids.insert("rejected", rid);
        let names = ids.iter().map(|(k, v)| (v.clone(), *k)).collect();
        Shop { app, ids, names }
    }

    fn id(&self, label: &str) -> &str {
        &self.ids[label]
    }

    async fn list(&self, query: &str) -> Value {
        self.app.get(&format!("/api/v1/catalog/products?{query}"), None).await.expect(200)
    }

    /// The labels of the products one page of `query` returns, in order.
    async fn labels(&self, query: &str) -> Vec<&'static str> {
        let page = self.list(query).await;
        self.labels_of(&page)
    }

    fn labels_of(&self, page: &Value) -> Vec<&'static str> {
        page["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| *self.names.get(i["id"].as_str().unwrap()).expect("a product of this shop"))
            .collect()
    }

    /// Follows `next_cursor` with limit=2 to the end, returning every label.
    async fn all_pages(&self, query: &str) -> Vec<&'static str> {
        let mut out = Vec::new();
        let mut cursor: Option<String> = None;
        for _ in 0..20 {
            let mut q = format!("{query}&limit=2");
            if let Some(c) = &cursor {
                q.push_str(&format!("&cursor={}", enc(c)));
            }
            let page = self.list(&q).await;
            let labels = self.labels_of(&page);
            assert!(labels.len() <= 2);
            out.extend(labels);
            match page["next_cursor"].as_str() {
                Some(c) => cursor = Some(c.to_string()),
                None => return out,
            }
        }
        panic!("paging did not end");
    }

    async fn invalid(&self, query: &str) -> Value {
        self.app.get(&format!("/api/v1/catalog/products?{query}"), None).await.problem(422, "validation_failed")
    }
}

#[tokio::test]
async fn keyword_search_in_english_and_chinese() {
    let shop = Shop::open().await;
    // Name matches rank above description-only matches; case does not matter.
    assert_eq!(shop.labels("q=mysql").await, ["mysql", "logs"]);
    assert_eq!(shop.labels("q=MySQL").await, ["mysql", "logs"]);
    assert_eq!(shop.labels("q=MYSQL&sort=newest").await, ["logs", "mysql"]);
    // Chinese substrings: a name starting with the term beats one containing it.
    assert_eq!(shop.labels(&format!("q={}", enc("数据库"))).await, ["audit", "mysql"]);
    assert_eq!(shop.labels(&format!("q={}", enc("审计"))).await, ["audit"]);
    // Tags are searched.
    assert_eq!(shop.labels(&format!("q={}", enc("人力资源"))).await, ["hr"]);
    assert_eq!(shop.labels("q=CACHE").await, ["redis"]);
    // Every term must occur.
    assert_eq!(shop.labels(&format!("q={}", enc("  mysql   PRO "))).await, ["mysql"]);
    assert!(shop.labels(&format!("q={}", enc("mysql nothing"))).await.is_empty());
    // % and _ are literal characters, not wildcards.
    assert_eq!(shop.labels(&format!("q={}", enc("100%"))).await, ["redis"]);
    assert!(shop.labels(&format!("q={}", enc("1%"))).await.is_empty());
    assert!(shop.labels(&format!("q={}", enc("s_l"))).await.is_empty());
    // A blank query is no query.
    assert_eq!(shop.labels("q=+").await, ["hr", "redis", "logs", "audit", "mysql"]);
}

#[tokio::test]
async fn items_show_the_listed_summary() {
    let shop = Shop::open().await;
    let page = shop.list(&format!("q={}", enc("redis"))).await;
    assert_eq!(page["next_cursor"], Value::Null);
    let item = &page["items"][0];
    assert_eq!(item["id"], shop.id("redis"));
    assert_eq!(item["name"], "Redis Cache 100% Managed");
    assert_eq!(item["summary"], "Redis Cache 100% Managed summary");
    assert_eq!(item["type"], "image");
    assert_eq!(item["cooperation"], "general");
    assert_eq!(item["category_id"], MIDDLEWARE);
    assert_eq!(item["tags"], json!(["cache"]));
    assert_eq!(item["seller"]["name"], "Test seller");
    assert!(item["seller"]["id"].as_str().unwrap().starts_with("acc_"));
    assert_eq!(item["from_price_minor"], 500);
    assert_eq!(item["currency"], "CNY");
    assert_eq!(item["charging_modes"], json!(["period", "on_demand_pkg"]));
    assert!(item["listed_at"].as_str().is_some());
    assert!(item.get("skus").is_none() && item.get("description").is_none());
    let logs = &shop.list("q=insight").await["items"][0];
    assert_eq!(logs["from_price_minor"], Value::Null, "pay-per-use only has no from price");
}

#[tokio::test]
async fn filters_by_category_type_mode_and_price() {
    let shop = Shop::open().await;
    assert_eq!(shop.labels(&format!("category={DATABASES_CATEGORY}")).await, ["mysql"]);
    // A parent category includes its sub-categories, by id or by slug.
    assert_eq!(shop.labels(&format!("category={INFRASTRUCTURE}")).await, ["redis", "mysql"]);
    assert_eq!(shop.labels("category=infrastructure").await, ["redis", "mysql"]);
    assert_eq!(shop.labels("category=security").await, ["audit"]);
    assert!(shop.labels("category=education").await.is_empty());

    assert_eq!(shop.labels("type=license").await, ["audit"]);
    assert_eq!(shop.labels("type=saas").await, ["hr", "mysql"]);
    assert_eq!(shop.labels("charging_mode=period").await, ["redis", "mysql"]);
    assert_eq!(shop.labels("charging_mode=on_demand").await, ["logs"]);
    assert_eq!(shop.labels("charging_mode=on_demand_pkg").await, ["redis"]);
    assert_eq!(shop.labels("charging_mode=one_time").await, ["hr", "audit"]);

    assert_eq!(shop.labels("min_price_minor=1000&max_price_minor=9900").await, ["hr", "mysql"]);
    assert_eq!(shop.labels("max_price_minor=500").await, ["redis"]);
    assert_eq!(shop.labels("min_price_minor=9901").await, ["audit"]);
    assert_eq!(shop.labels("min_price_minor=0").await.len(), 4, "products without a price are left out");
    assert_eq!(shop.labels("min_price_minor=500&max_price_minor=500").await, ["redis"]);

    // Filters combine.
    assert_eq!(shop.labels("type=saas&charging_mode=period&q=mysql").await, ["mysql"]);
    assert_eq!(shop.labels(&format!("category={INFRASTRUCTURE}&max_price_minor=1000")).await, ["redis"]);
}

#[tokio::test]
async fn sorts_and_stable_paging() {
    let shop = Shop::open().await;
    let newest = ["hr", "redis", "logs", "audit", "mysql"];
    assert_eq!(shop.labels("").await, newest, "newest first by default");
    assert_eq!(shop.labels("sort=newest").await, newest);
    // Equal prices (mysql and hr both start at 9900) are ordered by id; no price comes last.
    let (a, b) = if shop.id("mysql") < shop.id("hr") { ("mysql", "hr") } else { ("hr", "mysql") };
    assert_eq!(shop.labels("sort=price_asc").await, ["redis", a, b, "audit", "logs"]);
    assert_eq!(shop.labels("sort=price_desc").await, ["audit", b, a, "redis", "logs"]);
    // Relevance without a query is newest first.
    assert_eq!(shop.labels("sort=relevance").await, newest);

    for query in [
        "sort=newest",
        "sort=price_asc",
        "sort=price_desc",
        "sort=relevance",
        "q=s",
        "q=s&sort=price_desc",
        "q=e&sort=relevance",
        "min_price_minor=0&sort=price_asc",
    ] {
        let full = shop.labels(&format!("{query}&limit=100")).await;
        let paged = shop.all_pages(query).await;
        assert_eq!(paged, full, "paging {query}");
        let mut unique = paged.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), paged.len(), "no duplicates in {query}");
    }
    assert_eq!(shop.all_pages("sort=price_asc").await.len(), 5);

    // A relevance order with ties in score: "e" is in every name or text.
    let e = shop.labels("q=e&limit=100").await;
    assert_eq!(e.len(), 5);
    // limit 20 by default, a full page has no next cursor.
    assert_eq!(shop.list("").await["next_cursor"], Value::Null);
    assert!(shop.list("limit=4").await["next_cursor"].is_string());
}

#[tokio::test]
async fn unlisted_products_are_invisible() {
    let shop = Shop::open().await;
    let all = shop.labels("limit=100").await;
    for hidden in ["delisted", "draft", "rejected"] {
        assert!(!all.contains(&hidden));
        shop.app.get(&format!("/api/v1/catalog/products/{}", shop.id(hidden)), None).await.problem(404, "not_found");
    }
    assert_eq!(shop.labels("q=mysql&sort=newest").await, ["logs", "mysql"]);
    assert_eq!(shop.labels("q=legacy").await, Vec::<&str>::new());
    shop.app.get("/api/v1/catalog/products/prd_nope", None).await.problem(404, "not_found");
}

#[tokio::test]
async fn detail_has_the_listed_version_with_skus_and_no_secrets() {
    let shop = Shop::open().await;
    let res = shop.app.get(&format!("/api/v1/catalog/products/{}", shop.id("redis")), None).await;
    let text = res.body.to_string();
    let p = res.expect(200);
    assert_eq!(p["id"], shop.id("redis"));
    assert_eq!(p["name"], "Redis Cache 100% Managed");
    assert_eq!(p["version"], "2.1");
    assert_eq!(p["description"], "In-memory store.");
    assert_eq!(p["usage_guide"], "Read the guide.");
    assert_eq!(p["support_terms"], "Business hours.");
    assert_eq!(p["images"], json!([]));
    assert_eq!(p["from_price_minor"], 500);
    assert_eq!(p["charging_modes"], json!(["period", "on_demand_pkg"]));
    let skus = p["skus"].as_array().unwrap();
    assert_eq!(skus.len(), 2);
    let m = skus.iter().find(|s| s["sku_code"] == "m").unwrap();
    assert!(m["id"].as_str().unwrap().starts_with("sku_"));
    assert_eq!(m["charging_mode"], "period");
    assert_eq!(m["prices"], json!({"month_minor": 1900, "year_minor": 19000}));
    assert_eq!(m["trial_days"], 7);
    assert_eq!(m["currency"], "CNY");
    let pkg = skus.iter().find(|s| s["sku_code"] == "pkg").unwrap();
    assert_eq!(pkg["package"], json!({"quota": "1000", "period_months": 12, "price_minor": 500}));

    let res = shop.app.get(&format!("/api/v1/catalog/products/{}", shop.id("mysql")), None).await;
    let text_mysql = res.body.to_string();
    let p = res.expect(200);
    assert_eq!(p["type"], "saas");
    assert_eq!(p["skus"][0]["prices"]["month_minor"], 9900);
    for t in [&text, &text_mysql] {
        assert!(!t.contains("endpoint") && !t.contains(SHARED_SELLER_KEY) && !t.contains(shared_seller()), "{t}");
        assert!(!t.contains("content_json") && !t.contains("status"), "{t}");
    }
}

#[tokio::test]
async fn bad_parameters_are_named() {
    let shop = Shop::open().await;
    let field = |body: &Value| Res::fields(body);
    let message = |body: &Value| body["errors"][0]["message"].as_str().unwrap_or_default().to_string();

    let b = shop.invalid("type=wizard").await;
    assert_eq!(field(&b), ["type"]);
    assert!(message(&b).contains("saas") && message(&b).contains("app_orchestration"), "{b}");
    let b = shop.invalid("charging_mode=monthly").await;
    assert_eq!(field(&b), ["charging_mode"]);
    assert!(message(&b).contains("period") && message(&b).contains("on_demand_pkg"), "{b}");
    let b = shop.invalid("sort=cheapest").await;
    assert_eq!(field(&b), ["sort"]);
    assert!(message(&b).contains("price_asc"), "{b}");
    // A category that does not exist matches nothing, like any filter.
    let none = shop.list("category=nowhere").await;
    assert!(none["items"].as_array().unwrap().is_empty() && none["next_cursor"].is_null(), "{none}");
    assert!(shop.labels("category=nowhere&type=saas&sort=price_asc").await.is_empty());
    for q in ["limit=0", "limit=101", "limit=ten", "limit=-1"] {
        assert_eq!(field(&shop.invalid(q).await), ["limit"], "{q}");
    }
    for q in ["min_price_minor=-1", "min_price_minor=1.5", "min_price_minor=abc"] {
        assert_eq!(field(&shop.invalid(q).await), ["min_price_minor"], "{q}");
    }
    assert_eq!(field(&shop.invalid("max_price_minor=-5").await), ["max_price_minor"]);
    // Filters apply together: a minimum above the maximum matches nothing.
    assert!(shop.labels("min_price_minor=10&max_price_minor=9").await.is_empty());

    let eleven = (0..11).map(|i| format!("w{i}")).collect::<Vec<_>>().join(" ");
    for q in [eleven, "x".repeat(51), "ab ".repeat(67)] {
        assert_eq!(field(&shop.invalid(&format!("q={}", enc(&q))).await), ["q"]);
    }

    for c in ["garbage", "eyJrIjoxfQ", "!!!"] {
        assert_eq!(field(&shop.invalid(&format!("cursor={c}")).await), ["cursor"], "{c}");
    }
    // A cursor is valid only for the sort and filters it came with.
    let next = shop.list("sort=newest&limit=1").await["next_cursor"].as_str().unwrap().to_string();
    shop.list(&format!("sort=newest&limit=1&cursor={}", enc(&next))).await;
    shop.list(&format!("limit=3&cursor={}", enc(&next))).await;
    assert_eq!(field(&shop.invalid(&format!("sort=price_asc&cursor={}", enc(&next))).await), ["cursor"]);
    assert_eq!(field(&shop.invalid(&format!("sort=newest&type=saas&cursor={}", enc(&next))).await), ["cursor"]);

    // Every problem at once.
    let mut all = field(&shop.invalid("type=x&charging_mode=y&sort=z&limit=0&min_price_minor=-1&category=q").await);
    all.sort();
    assert_eq!(all, ["charging_mode", "limit", "min_price_minor", "sort", "type"]);
}

//! The channel end to end on the test clock: a partner binds a buyer, files
//! a demand, the seller answers with a private offer, the buyer buys with
//! the offer and a coupon; the seller's, the platform's and the partner's
//! amounts are exact in the ledger, in the seller's statement and in the
//! partner's (paid only after its invoice is received); a refund splits
//! back exactly; the order query shows the discounted amount. Then the
//! exclusive discount, the automatic attribution, one coupon raced by
//! twenty orders, and every refusal leaving the wallet and the coupon as
//! they were.

use crate::helpers::{certification_form, onboarding_form};
use crate::settlement::{advance_to, next_month, now};
use crate::signed_api::{QUERY, signed_get};
use crate::supervision::{Market, market};
use chrono::{DateTime, Duration, Utc};
use mercato_domain::settlement::Calendar;
use serde_json::{Value, json};

/// Monthly price of the joint-operation SKU.
const MONTH: i64 = 10_000;

fn iso(t: DateTime<Utc>) -> String {
    t.to_rfc3339()
}

struct Channel {
    m: Market,
    buyer_id: String,
    partner_id: String,
    partner_key: String,
    product_id: String,
    sku_id: String,
}

/// A certified partner, through the API: the seller flow's forms and review.
async fn certified_partner(m: &Market) -> (String, String) {
    let (id, key) = m.app.signup("partner").await;
    let app = &m.app;
    app.put("/api/v1/partner/onboarding", Some(&key), onboarding_form()).await.expect(200);
    app.post("/api/v1/partner/onboarding/submit", Some(&key), json!({})).await.expect(200);
    app.post(&format!("/api/v1/operator/onboarding/{id}/approve"), Some(&m.op), json!({})).await.expect(200);
    app.put("/api/v1/partner/certification", Some(&key), certification_form()).await.expect(200);
    app.post("/api/v1/partner/certification/submit", Some(&key), json!({})).await.expect(200);
    app.post(&format!("/api/v1/operator/certification/{id}/approve"), Some(&m.op), json!({})).await.expect(200);
    (id, key)
}

/// A market with a joint-operation SaaS product (monthly SKU), a funded
/// buyer (500,000) and a certified partner the buyer is bound to.
async fn channel() -> Channel {
    let m = market().await;
    let me = m.app.get("/api/v1/me", Some(&m.buyer_key)).await.expect(200);
    let (buyer_id, buyer_email) = (me["id"].as_str().unwrap().to_string(), me["email"].as_str().unwrap().to_string());
    m.app.credit_wallet(&m.op, &buyer_id, 250_000, "CNY").await;
    let sku = json!({"sku_code": "pro", "name": "Pro", "charging_mode": "period",
        "prices": {"month_minor": MONTH, "year_minor": MONTH * 10}, "currency": "CNY"});
    let sku_id = m.product("saas", Some(crate::helpers::shared_seller().to_string()), sku).await;
    let product_id = product_of(&m, &sku_id).await;
    let (partner_id, partner_key) = certified_partner(&m).await;
    let inv = m
        .app
        .post("/api/v1/partner/invitations", Some(&partner_key), json!({"buyer_email": buyer_email, "message": "hi"}))
        .await
        .expect(201);
    let path = format!("/api/v1/buyer/partner-invitations/{}/accept", inv["id"].as_str().unwrap());
    m.app.post(&path, Some(&m.buyer_key), json!({})).await.expect(200);
    Channel { m, buyer_id, partner_id, partner_key, product_id, sku_id }
}

/// The product of a listed SKU, from the catalog.
async fn product_of(m: &Market, sku_id: &str) -> String {
    let page = m.app.get("/api/v1/catalog/products?limit=100", None).await.expect(200);
    for p in page["items"].as_array().unwrap() {
        let id = p["id"].as_str().unwrap();
        let d = m.app.get(&format!("/api/v1/catalog/products/{id}"), None).await.expect(200);
        if d["skus"].as_array().unwrap().iter().any(|s| s["id"] == sku_id) {
            return id.to_string();
        }
    }
    panic!("no product holds {sku_id}")
}

impl Channel {
    /// The partner files a demand, the seller accepts it and makes a 15%
    /// offer for 3 months from it; returns the offer id.
    async fn offer_from_demand(&self) -> String {
        let m = &self.m;
        let demand = m
            .app
            .post(
                "/api/v1/partner/demands",
                Some(&self.partner_key),
                json!({"buyer_id": self.buyer_id, "product_id": self.product_id,
                    "needs": "20 seats for a quarter", "target_price_minor": 25_000, "currency": "CNY"}),
            )
            .await
            .expect(201);
        let id = demand["id"].as_str().unwrap();
        m.app.post(&format!("/api/v1/seller/demands/{id}/accept"), Some(&m.seller_key), json!({})).await.expect(200);
        let until = iso(now(m).await + Duration::days(20));
        let offer = m
            .app
            .post(
                "/api/v1/seller/private-offers",
                Some(&m.seller_key),
                json!({"demand_id": id, "product_id": self.product_id, "valid_until": until,
                    "message": "Quarterly price for your team",
                    "terms": {"skus": [{"sku_id": self.sku_id, "price": {"percent_off": {"percent_off_bp": 1_500}}}],
                        "period": "month", "period_count": 3}}),
            )
            .await
            .expect(201);
        offer["id"].as_str().unwrap().to_string()
    }

    /// A coupon batch of the seller: 2,000 off 20,000 on the product.
    async fn coupon_batch(&self, total: i64, per_buyer: i64) -> String {
        let m = &self.m;
        let until = iso(now(m).await + Duration::days(20));
        let batch = m
            .app
            .post(
                "/api/v1/seller/coupons",
                Some(&m.seller_key),
                json!({"name": "Spring", "threshold_minor": 20_000, "amount_off_minor": 2_000, "currency": "CNY",
                    "scope": {"product_ids": [self.product_id], "sku_ids": []}, "valid_until": until,
                    "total_count": total, "per_buyer_limit": per_buyer}),
            )
            .await
            .expect(201);
        batch["id"].as_str().unwrap().to_string()
    }

    async fn claim(&self, batch: &str) -> String {
        let c = self.m.app.post("/api/v1/buyer/coupons", Some(&self.m.buyer_key), json!({"batch_id": batch})).await;
        c.expect(201)["id"].as_str().unwrap().to_string()
    }

    async fn order(&self, body: Value) -> crate::helpers::Res {
        self.m.app.post("/api/v1/buyer/orders", Some(&self.m.buyer_key), body).await
    }

    async fn pay(&self, order: &Value) -> Value {
        let id = order["id"].as_str().unwrap();
        self.m.app.post(&format!("/api/v1/buyer/orders/{id}/pay"), Some(&self.m.buyer_key), json!({})).await.expect(200)
    }

    /// The lines of the order's entries of `kind`: account -> (debit, credit).
    async fn entry(&self, reference: &str, kind: &str) -> Vec<(String, i64, i64)> {
        let page = self
            .m
            .app
            .get(&format!("/api/v1/operator/ledger/entries?reference={reference}"), Some(&self.m.op))
            .await
            .expect(200);
        let e = page["items"].as_array().unwrap().iter().find(|e| e["kind"] == kind).cloned().expect("an entry");
        let mut lines: Vec<(String, i64, i64)> = e["lines"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| {
                let acc = l["account"].as_str().unwrap();
                let who = acc.split(':').next().unwrap().to_string();
                (who, l["debit_minor"].as_i64().unwrap(), l["credit_minor"].as_i64().unwrap())
            })
            .collect();
        lines.sort();
        lines
    }

    async fn run_jobs(&self) {
        for _ in 0..20 {
            if self.m.run_jobs().await == 0 {
                return;
            }
        }
        panic!("jobs still due after 20 rounds");
    }

    async fn subscription_of(&self, order: &Value) -> Value {
        let subs = self.m.app.get("/api/v1/buyer/subscriptions?limit=100", Some(&self.m.buyer_key)).await.expect(200);
        subs["items"].as_array().unwrap().iter().find(|s| s["order_id"] == order["id"]).cloned().expect("a sub")
    }
}

fn lines(v: &[(&str, i64, i64)]) -> Vec<(String, i64, i64)> {
    let mut out: Vec<(String, i64, i64)> = v.iter().map(|(a, d, c)| (a.to_string(), *d, *c)).collect();
    out.sort();
    out
}

#[tokio::test]
async fn demand_offer_and_coupon_split_exactly_in_the_ledger_the_statements_and_a_refund() {
    let c = channel().await;
    let m = &c.m;
    let month = now(m).await;
    let batch = c.coupon_batch(10, 2).await;

    // Order 1: 3 months at 10,000 = 30,000; 15% off = 4,500; coupon 2,000.
    let offer = c.offer_from_demand().await;
    assert!(m.notifications(&m.buyer_key).await.contains(&"private_offer_received".to_string()));
    assert!(m.notifications(&c.partner_key).await.contains(&"demand_offered".to_string()));
    let coupon = c.claim(&batch).await;
    let body =
        json!({"sku_id": c.sku_id, "period": "month", "period_count": 3, "offer_id": offer, "coupon_id": coupon});
    let placed = c.order(body).await.expect(201);
    assert_eq!(placed["amount_minor"], 23_500, "{placed}");
    let line = &placed["lines"][0];
    assert_eq!((line["list_minor"].as_i64(), line["amount_minor"].as_i64()), (Some(30_000), Some(23_500)));
    let steps: Vec<(&str, &str, i64)> = line["discounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| (d["kind"].as_str().unwrap(), d["borne_by"].as_str().unwrap(), d["amount_minor"].as_i64().unwrap()))
        .collect();
    assert_eq!(steps, [("private_offer", "seller", 4_500), ("coupon", "seller", 2_000)]);
    // The offer and the coupon are taken: a second order with either is refused.
    let again = json!({"sku_id": c.sku_id, "period": "month", "period_count": 3, "offer_id": offer});
    c.order(again).await.problem(409, "offer_used");
    let again = json!({"sku_id": c.sku_id, "period": "month", "period_count": 3, "coupon_id": coupon});
    c.order(again).await.problem(409, "coupon_used");

    let before = m.wallet().await;
    let paid = c.pay(&placed).await;
    assert_eq!(before - m.wallet().await, 23_500);
    let order1 = paid["id"].as_str().unwrap().to_string();
    // Commission 20% of 23,500 = 4,700, of which the partner's 5% = 1,175.
    let expected = lines(&[
        ("buyer_wallet", 23_500, 0),
        ("seller_payable", 0, 18_800),
        ("platform_commission", 0, 3_525),
        ("partner_payable", 0, 1_175),
    ]);
    assert_eq!(c.entry(&order1, "payment").await, expected);

    // The seller's order query shows the discounted amount.
    let cred = m.app.post("/api/v1/seller/open-api-credentials", Some(&m.seller_key), json!({})).await.expect(201);
    let (ak, sk) = (cred["access_key_id"].as_str().unwrap(), cred["secret_access_key"].as_str().unwrap());
    let (status, q) = signed_get(&m.app, QUERY, &[("orderId", &order1)], Utc::now(), ak, sk).await;
    assert_eq!(status, 200, "{q}");
    assert_eq!(q["orderInfo"]["orderLine"][0]["currencyAfterDiscount"], "235.00", "{q}");
    c.run_jobs().await;
    assert_eq!(c.subscription_of(&paid).await["status"], "active");

    // Order 2, the same deal again (a second offer, the second coupon),
    // unsubscribed at once: the five-day refund splits back exactly.
    let offer2 = c.offer_from_demand().await;
    let coupon2 = c.claim(&batch).await;
    let body =
        json!({"sku_id": c.sku_id, "period": "month", "period_count": 3, "offer_id": offer2, "coupon_id": coupon2});
    let paid2 = c.pay(&c.order(body).await.expect(201)).await;
    c.run_jobs().await;
    let sub2 = c.subscription_of(&paid2).await;
    let path = format!("/api/v1/buyer/subscriptions/{}/unsubscribe", sub2["id"].as_str().unwrap());
    let refund = m.app.post(&path, Some(&m.buyer_key), json!({"scope": "subscription"})).await.expect(200);
    assert_eq!((refund["rule"].as_str(), refund["amount_minor"].as_i64()), (Some("five_day_full"), Some(23_500)));
    let refund_order = refund["refund_order_id"].as_str().unwrap().to_string();
    let back = lines(&[
        ("buyer_wallet", 0, 23_500),
        ("seller_payable", 18_800, 0),
        ("platform_commission", 3_525, 0),
        ("partner_payable", 1_175, 0),
    ]);
    assert_eq!(c.entry(&refund_order, "refund").await, back, "{refund}");
    m.app.assert_ledger_balanced().await;

    // The month settles: the seller's statement holds the two sales at their
    // gross and the clawback; the partner's its two shares and the clawback.
    advance_to(m, next_month(month) + Duration::days(2)).await;
    let period = Calendar::default().period_of(month).label;
    m.app.post("/api/v1/operator/settlement-runs", Some(&m.op), json!({"period": period})).await.expect(201);
    let page = m.app.get(&format!("/api/v1/seller/statements?period={period}"), Some(&m.seller_key)).await.expect(200);
    let st = &page["items"][0];
    assert_eq!(
        (st["gross_minor"].as_i64(), st["commission_minor"].as_i64(), st["net_minor"].as_i64()),
        (Some(23_500 * 2 - 22_325), Some(4_700 * 2 - 3_525), Some(18_800)),
        "{st}"
    );
    let page = m.app.get("/api/v1/partner/statements", Some(&c.partner_key)).await.expect(200);
    assert_eq!(page["items"].as_array().unwrap().len(), 1, "{page}");
    let ps = &page["items"][0];
    assert_eq!(
        (ps["sales_minor"].as_i64(), ps["share_minor"].as_i64(), ps["lines"].as_i64()),
        (Some(23_500), Some(1_175), Some(3))
    );
    assert_eq!(ps["partner_id"], c.partner_id.as_str());
    let id = ps["id"].as_str().unwrap();
    let detail = m.app.get(&format!("/api/v1/partner/statements/{id}"), Some(&c.partner_key)).await.expect(200);
    let kinds: Vec<(&str, i64)> = detail["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| (l["kind"].as_str().unwrap(), l["share_minor"].as_i64().unwrap()))
        .collect();
    assert_eq!(kinds, [("sale", 1_175), ("sale", 1_175), ("clawback", -1_175)]);

    // Paid only once its invoice is received.
    let pay = format!("/api/v1/operator/partner-statements/{id}/payout");
    let payout = json!({"provider": "manual", "reference": "BANK-77"});
    m.app.post(&pay, Some(&m.op), payout.clone()).await.problem(409, "invoice_not_received");
    let received = format!("/api/v1/operator/partner-statements/{id}/invoice-received");
    m.app.post(&received, Some(&m.op), json!({"invoice_number": ""})).await.problem(422, "validation_failed");
    m.app.post(&received, Some(&m.op), json!({"invoice_number": "P-2026-001"})).await.expect(200);
    m.app.post(&received, Some(&m.op), json!({"invoice_number": "P-2026-001"})).await.problem(409, "out_of_order");
    let paid_st = m.app.post(&pay, Some(&m.op), payout.clone()).await.expect(200);
    assert_eq!(paid_st["statement"]["status"], "paid");
    assert_eq!(c.entry(id, "payout").await, lines(&[("partner_payable", 1_175, 0), ("platform_cash", 0, 1_175)]));
    m.app.post(&pay, Some(&m.op), payout).await.problem(409, "out_of_order");
    // Other partners and buyers do not see it.
    let (_, other) = m.app.signup("partner").await;
    m.app.get(&format!("/api/v1/partner/statements/{id}"), Some(&other)).await.problem(404, "not_found");

    // Performance: the month's two orders, one customer, GMV and shares net of the refund.
    let perf = m
        .app
        .get(&format!("/api/v1/partner/performance?from={period}&to={period}"), Some(&c.partner_key))
        .await
        .expect(200);
    assert_eq!(
        perf,
        json!([{"period": period, "currency": "CNY", "orders": 2, "customers": 1, "gmv_minor": 23_500, "share_minor": 1_175}])
    );
    let res = m
        .app
        .client
        .get(m.app.url(&format!("/api/v1/partner/performance.csv?from={period}&to={period}")))
        .bearer_auth(&c.partner_key)
        .send()
        .await
        .unwrap();
    assert!(res.headers()["content-type"].to_str().unwrap().starts_with("text/csv"));
    let text = res.text().await.unwrap();
    assert_eq!(
        text,
        format!(
            "\"period\",\"currency\",\"orders\",\"customers\",\"gmv_minor\",\"share_minor\"\r\n\"{period}\",\"CNY\",2,1,23500,1175\r\n"
        )
    );
    m.app.assert_ledger_balanced().await;
}

#[tokio::test]
async fn an_exclusive_discount_is_funded_by_the_partner_and_a_bound_buyer_is_attributed() {
    let c = channel().await;
    let m = &c.m;
    let until = iso(now(m).await + Duration::days(10));
    let d = m
        .app
        .post(
            "/api/v1/partner/exclusive-discounts",
            Some(&c.partner_key),
            json!({"buyer_id": c.buyer_id, "product_id": c.product_id, "percent_off_bp": 300,
                "reason": "a loyal customer", "valid_until": until}),
        )
        .await
        .expect(201);
    let id = d["id"].as_str().unwrap();
    // Not usable before an operator approves it.
    let body = json!({"sku_id": c.sku_id, "period": "month", "exclusive_discount_id": id});
    c.order(body.clone()).await.problem(409, "discount_not_approved");
    m.app.post(&format!("/api/v1/operator/exclusive-discounts/{id}/approve"), Some(&m.op), json!({})).await.expect(200);
    let placed = c.order(body).await.expect(201);
    assert_eq!(placed["amount_minor"], 9_700);
    assert_eq!(placed["lines"][0]["discounts"][0]["borne_by"], "partner");
    let paid = c.pay(&placed).await;
    // Seller and platform split 10,000; the partner's 500 pays the 300.
    let expected = lines(&[
        ("buyer_wallet", 9_700, 0),
        ("seller_payable", 0, 8_000),
        ("platform_commission", 0, 1_500),
        ("partner_payable", 0, 200),
    ]);
    assert_eq!(c.entry(paid["id"].as_str().unwrap(), "payment").await, expected);

    // Without a deal, the bound buyer's purchase is attributed to the partner.
    let plain = c.order(json!({"sku_id": c.sku_id, "period": "month"})).await.expect(201);
    assert_eq!(plain["amount_minor"], MONTH);
    assert_eq!(plain["lines"][0]["discounts"], json!([]));
    let paid = c.pay(&plain).await;
    let expected = lines(&[
        ("buyer_wallet", 10_000, 0),
        ("seller_payable", 0, 8_000),
        ("platform_commission", 0, 1_500),
        ("partner_payable", 0, 500),
    ]);
    assert_eq!(c.entry(paid["id"].as_str().unwrap(), "payment").await, expected);

    // Once the buyer ends the binding, the discount is refused and sales are
    // no longer attributed.
    m.app.post("/api/v1/buyer/partner/end", Some(&m.buyer_key), json!({"reason": "moving on"})).await.expect(200);
    let body = json!({"sku_id": c.sku_id, "period": "month", "exclusive_discount_id": id});
    c.order(body).await.problem(409, "not_bound");
    let paid = c.pay(&c.order(json!({"sku_id": c.sku_id, "period": "month"})).await.expect(201)).await;
    let expected =
        lines(&[("buyer_wallet", 10_000, 0), ("seller_payable", 0, 8_000), ("platform_commission", 0, 2_000)]);
    assert_eq!(c.entry(paid["id"].as_str().unwrap(), "payment").await, expected);
    m.app.assert_ledger_balanced().await;
}

#[tokio::test]
async fn twenty_concurrent_orders_with_one_coupon_charge_exactly_once() {
    let c = channel().await;
    let m = &c.m;
    let batch = c.coupon_batch(1, 1).await;
    let coupon = c.claim(&batch).await;
    let before = m.wallet().await;
    let tasks: Vec<_> = (0..20)
        .map(|_| {
            let (client, url, key) = (m.app.client.clone(), m.app.url("/api/v1/buyer/orders"), m.buyer_key.clone());
            let body = json!({"sku_id": c.sku_id, "period": "month", "period_count": 3, "coupon_id": coupon});
            tokio::spawn(async move {
                let res = client.post(url).bearer_auth(key).json(&body).send().await.unwrap();
                let status = res.status().as_u16();
                (status, res.json::<Value>().await.unwrap())
            })
        })
        .collect();
    let mut created = Vec::new();
    for t in tasks {
        let (status, body) = t.await.unwrap();
        match status {
            201 => created.push(body),
            409 => assert_eq!(body["code"], "coupon_used", "{body}"),
            other => panic!("unexpected {other}: {body}"),
        }
    }
    assert_eq!(created.len(), 1, "exactly one order took the coupon");
    let orders = m.app.get("/api/v1/buyer/orders?limit=100", Some(&m.buyer_key)).await.expect(200);
    assert_eq!(orders["items"].as_array().unwrap().len(), 1, "the refused orders wrote nothing");
    c.pay(&created[0]).await;
    assert_eq!(before - m.wallet().await, 28_000);
    let mine = m.app.get("/api/v1/buyer/coupons", Some(&m.buyer_key)).await.expect(200);
    assert_eq!(mine["items"][0]["status"], "used", "{mine}");
}

#[tokio::test]
async fn refused_deals_charge_nothing_and_consume_nothing() {
    let c = channel().await;
    let m = &c.m;
    let batch = c.coupon_batch(5, 5).await;
    let coupon = c.claim(&batch).await;
    let offer = c.offer_from_demand().await;
    let before = m.wallet().await;
    let three = |extra: Value| {
        let mut b = json!({"sku_id": c.sku_id, "period": "month", "period_count": 3});
        b.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        b
    };
    // Another buyer's offer and coupon are not found.
    let (other_id, other_key) = m.app.signup("buyer").await;
    m.app.credit_wallet(&m.op, &other_id, 100_000, "CNY").await;
    let theirs = m.app.post("/api/v1/buyer/orders", Some(&other_key), three(json!({"offer_id": offer}))).await;
    assert_eq!(theirs.problem(404, "not_found")["errors"][0]["field"], "offer_id");
    let theirs = m.app.post("/api/v1/buyer/orders", Some(&other_key), three(json!({"coupon_id": coupon}))).await;
    assert_eq!(theirs.problem(404, "not_found")["errors"][0]["field"], "coupon_id");
    // Malformed ids, both deals at once, other terms than the offer's, below the threshold.
    c.order(three(json!({"coupon_id": "cpn_nope"}))).await.problem(404, "not_found");
    c.order(three(json!({"offer_id": offer, "exclusive_discount_id": "xdc_x"})))
        .await
        .problem(422, "validation_failed");
    c.order(json!({"sku_id": c.sku_id, "period": "month", "period_count": 2, "offer_id": offer}))
        .await
        .problem(409, "offer_terms");
    c.order(json!({"sku_id": c.sku_id, "period": "month", "coupon_id": coupon}))
        .await
        .problem(409, "coupon_below_threshold");
    // Nothing was charged or taken: both still work.
    assert_eq!(m.wallet().await, before);
    let body = three(json!({"offer_id": offer, "coupon_id": coupon}));
    let ok = m.app.post_idem("/api/v1/buyer/orders", &m.buyer_key, "deal-1", Some(body.clone())).await.expect(201);
    // A retry of the order that took the offer and the coupon gets its answer.
    let retry = m.app.post_idem("/api/v1/buyer/orders", &m.buyer_key, "deal-1", Some(body)).await.expect(201);
    assert_eq!(retry["id"], ok["id"]);
    // Cancelled unpaid: both come back.
    let id = ok["id"].as_str().unwrap();
    m.app.post(&format!("/api/v1/buyer/orders/{id}/cancel"), Some(&m.buyer_key), json!({})).await.expect(200);
    let again = c.order(three(json!({"offer_id": offer, "coupon_id": coupon}))).await.expect(201);
    assert_eq!(again["amount_minor"], 23_500);
    // Expired: the clock passes the coupon's and the offer's window.
    let cid = again["id"].as_str().unwrap();
    m.app.post(&format!("/api/v1/buyer/orders/{cid}/cancel"), Some(&m.buyer_key), json!({})).await.expect(200);
    advance_to(m, now(m).await + Duration::days(21)).await;
    c.order(three(json!({"coupon_id": coupon}))).await.problem(409, "coupon_expired");
    c.order(three(json!({"offer_id": offer}))).await.problem(409, "offer_expired");
    assert_eq!(m.wallet().await, before);
    m.app.assert_ledger_balanced().await;
}

//! Private offers: a seller's prices for one buyer on a joint-operation
//! product, made directly or from a partner's accepted customer demand.

use crate::coupons::{Shop, shop};
use crate::helpers::Res;
use chrono::Duration;
use mercato_domain::channel::partners::DemandStatus;
use mercato_domain::ids::DemandId;
use mercato_store::entity::customer_demand;
use mercato_store::sea_orm::{ActiveModelTrait, EntityTrait};
use serde_json::{Value, json};

const OFFERS: &str = "/api/v1/seller/private-offers";
const MY_OFFERS: &str = "/api/v1/buyer/private-offers";

impl Shop {
    /// A valid direct offer: 15% off 3 months of `std`, the one-time `setup`
    /// at 40 000, for 10 days.
    async fn offer_body(&self) -> Value {
        let until = self.now().await + Duration::days(10);
        json!({
            "buyer_email": self.buyer_email,
            "product_id": self.joint,
            "terms": {
                "skus": [
                    {"sku_id": self.std_sku, "price": {"percent_off": {"percent_off_bp": 1_500}}},
                    {"sku_id": self.setup_sku, "price": {"unit_price": {"unit_price_minor": 40_000}}},
                ],
                "period": "month",
                "period_count": 3,
            },
            "valid_until": until,
            "message": "As agreed on the phone",
        })
    }

    async fn make_offer(&self, changes: Value) -> Res {
        let mut body = self.offer_body().await;
        body.as_object_mut().unwrap().extend(changes.as_object().cloned().unwrap());
        self.app.post(OFFERS, Some(&self.seller_key), body).await
    }

    async fn offer_count(&self) -> usize {
        let page = self.app.get(&format!("{OFFERS}?limit=100"), Some(&self.seller_key)).await.expect(200);
        page["items"].as_array().unwrap().len()
    }

    /// A customer demand passed to the seller for the joint product, in
    /// `status`, written with the store (the partners' API is another
    /// area's); returns its id and the partner's id.
    async fn demand(&self, status: DemandStatus) -> (String, String) {
        let (partner_id, _) = self.app.signup("partner").await;
        let id = DemandId::new();
        let row = customer_demand::Model {
            id: id.clone(),
            partner_id: partner_id.clone(),
            buyer_id: self.buyer_id.clone(),
            seller_id: self.seller_id.clone(),
            product_id: self.joint.clone(),
            needs: "50 seats for a year".into(),
            target_price_minor: Some(80_000),
            currency: "CNY".into(),
            status,
            seller_note: None,
            offer_id: None,
            created_at: self.now().await,
            decided_at: None,
        };
        customer_demand::ActiveModel::from(row).reset_all().insert(&self.app.state.db.conn).await.unwrap();
        (id.to_string(), partner_id)
    }

    async fn demand_row(&self, id: &str) -> customer_demand::Model {
        let id = DemandId::parse(id).unwrap();
        customer_demand::Entity::find_by_id(id).one(&self.app.state.db.conn).await.unwrap().unwrap()
    }
}

#[tokio::test]
async fn a_direct_offer_reaches_its_buyer_only() {
    let s = shop().await;
    let o = s.make_offer(json!({})).await.expect(201);
    let id = o["id"].as_str().unwrap();
    assert!(id.starts_with("ofr_"));
    assert_eq!((o["status"].as_str(), o["usable_now"].as_bool()), (Some("active"), Some(true)));
    assert_eq!(o["buyer_id"], s.buyer_id);
    assert!(o["demand_id"].is_null() && o["partner_id"].is_null() && o["share_bp"].is_null());

    let mine = s.app.get(MY_OFFERS, Some(&s.buyer_key)).await.expect(200);
    let items = mine["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    let seen = &items[0];
    assert_eq!(seen["id"], id);
    assert_eq!(seen["product_name"], "Joint service");
    assert_eq!(seen["message"], "As agreed on the phone");
    // 3 months at 9 900 = 29 700, 15% off = 25 245; setup 50 000 -> 40 000.
    let skus = seen["skus"].as_array().unwrap();
    assert_eq!((skus[0]["list_minor"].as_i64(), skus[0]["offered_minor"].as_i64()), (Some(29_700), Some(25_245)));
    assert_eq!((skus[1]["list_minor"].as_i64(), skus[1]["offered_minor"].as_i64()), (Some(50_000), Some(40_000)));
    assert_eq!(skus[0]["sku_code"], "std");
    let one = s.app.get(&format!("{MY_OFFERS}/{id}"), Some(&s.buyer_key)).await.expect(200);
    assert_eq!(one["id"], id);

    // Another buyer, another seller: 404; nothing in their lists.
    s.app.get(&format!("{MY_OFFERS}/{id}"), Some(&s.buyer2_key)).await.problem(404, "not_found");
    assert!(s.app.get(MY_OFFERS, Some(&s.buyer2_key)).await.expect(200)["items"].as_array().unwrap().is_empty());
    s.app.get(&format!("{OFFERS}/{id}"), Some(&s.other_seller_key)).await.problem(404, "not_found");
    s.app
        .post(&format!("{OFFERS}/{id}/withdraw"), Some(&s.other_seller_key), json!({}))
        .await
        .problem(404, "not_found");
    s.app.get(&format!("{MY_OFFERS}/ofr_bogus"), Some(&s.buyer_key)).await.problem(404, "not_found");

    let list = s.app.get(OFFERS, Some(&s.seller_key)).await.expect(200);
    assert_eq!(list["items"][0]["id"], id);
    let got = s.app.get(&format!("{OFFERS}/{id}"), Some(&s.seller_key)).await.expect(200);
    assert_eq!(got["terms"]["period_count"], 3);
    assert_eq!(got["terms"]["skus"][0]["price"]["percent_off"]["percent_off_bp"], 1_500);

    // Withdraw once.
    let w = s.app.post(&format!("{OFFERS}/{id}/withdraw"), Some(&s.seller_key), json!({})).await.expect(200);
    assert_eq!((w["status"].as_str(), w["usable_now"].as_bool()), (Some("withdrawn"), Some(false)));
    s.app
        .post(&format!("{OFFERS}/{id}/withdraw"), Some(&s.seller_key), json!({}))
        .await
        .problem(409, "offer_not_active");
    let seen = s.app.get(&format!("{MY_OFFERS}/{id}"), Some(&s.buyer_key)).await.expect(200);
    assert_eq!(seen["status"], "withdrawn");
    let active = s.app.get(&format!("{OFFERS}?status=active"), Some(&s.seller_key)).await.expect(200);
    assert!(active["items"].as_array().unwrap().is_empty());

    // Past its end it stays active in status but is not usable.
    let o = s.make_offer(json!({})).await.expect(201);
    s.advance(Duration::days(11)).await;
    let later = s.app.get(&format!("{MY_OFFERS}/{}", o["id"].as_str().unwrap()), Some(&s.buyer_key)).await.expect(200);
    assert_eq!((later["status"].as_str(), later["usable_now"].as_bool()), (Some("active"), Some(false)));
}

#[tokio::test]
async fn bad_offers_are_refused_and_create_nothing() {
    let s = shop().await;
    let sku = |id: &str, price: Value| json!({"sku_id": id, "price": price});
    let pct = |bp: i64| json!({"percent_off": {"percent_off_bp": bp}});
    let unit = |minor: i64| json!({"unit_price": {"unit_price_minor": minor}});
    let terms = |skus: Vec<Value>| json!({"skus": skus, "period": "month", "period_count": 3});

    // Product refusals.
    s.make_offer(json!({"product_id": s.general, "terms": {"skus": [sku(&s.general_sku, pct(100))]}}))
        .await
        .problem(409, "not_joint_operation");
    s.make_offer(json!({"product_id": s.draft, "terms": {"skus": [sku(&s.draft_sku, pct(100))]}}))
        .await
        .problem(409, "not_on_sale");
    let p = s
        .make_offer(json!({"product_id": s.foreign, "terms": {"skus": [sku(&s.foreign_sku, pct(100))]}}))
        .await
        .problem(404, "not_found");
    assert_eq!(Res::fields(&p), ["product_id"]);
    // Addressee refusals.
    let p = s.make_offer(json!({"buyer_email": "nobody@example.com"})).await.problem(404, "not_found");
    assert_eq!(Res::fields(&p), ["buyer_email"]);
    let mut no_one = s.offer_body().await;
    no_one.as_object_mut().unwrap().remove("buyer_email");
    let p = s.app.post(OFFERS, Some(&s.seller_key), no_one).await.problem(409, "terms_refused");
    assert_eq!(Res::fields(&p), ["buyer_email"]);

    // Term refusals, each naming its field.
    let now = s.now().await;
    let cases: Vec<(Value, &str)> = vec![
        (json!({"terms": terms(vec![sku(&s.std_sku, pct(0))])}), "terms.skus[0].price.percent_off_bp"),
        (json!({"terms": terms(vec![sku(&s.std_sku, pct(10_001))])}), "terms.skus[0].price.percent_off_bp"),
        (json!({"terms": terms(vec![sku(&s.std_sku, unit(9_901))])}), "terms.skus[0].price.unit_price_minor"),
        (json!({"terms": {"skus": [sku(&s.setup_sku, unit(50_001))]}}), "terms.skus[0].price.unit_price_minor"),
        (json!({"terms": terms(vec![sku(&s.std_sku, unit(-1))])}), "terms.skus[0].price.unit_price_minor"),
        (json!({"terms": terms(vec![sku(&s.general_sku, pct(100))])}), "terms.skus[0].sku_id"),
        (json!({"terms": terms(vec![sku(&s.std_sku, pct(100)), sku(&s.std_sku, pct(200))])}), "terms.skus[1].sku_id"),
        (json!({"terms": terms(vec![])}), "terms.skus"),
        (json!({"terms": {"skus": [sku(&s.std_sku, pct(100))]}}), "terms.period"),
        (
            json!({"terms": {"skus": [sku(&s.std_sku, pct(100))], "period": "month", "period_count": 12}}),
            "terms.period_count",
        ),
        (json!({"terms": {"skus": [sku(&s.setup_sku, pct(100))], "period": "month"}}), "terms.period"),
        (json!({"valid_until": now - Duration::seconds(1)}), "valid_until"),
        (json!({"valid_from": now + Duration::days(30)}), "valid_until"),
    ];
    // What the schema states is a 422 (an empty SKU list); what depends on
    // the SKUs, on each other or on now a 409 `terms_refused`.
    for (change, field) in cases {
        let (status, code) = if field == "terms.skus" { (422, "validation_failed") } else { (409, "terms_refused") };
        let p = s.make_offer(change.clone()).await.problem(status, code);
        assert_eq!(Res::fields(&p), [field], "{change}: {p}");
    }
    // A unit price at the list price, and 100% off, are fine.
    s.make_offer(json!({"terms": terms(vec![sku(&s.std_sku, unit(9_900)), sku(&s.setup_sku, pct(10_000))])}))
        .await
        .expect(201);
    assert_eq!(s.offer_count().await, 1, "only the good offer was created");
}

#[tokio::test]
async fn an_offer_from_an_accepted_demand_credits_its_partner_once() {
    let s = shop().await;
    let (demand, partner) = s.demand(DemandStatus::Accepted).await;

    // Naming the buyer too, or another product: refused.
    s.make_offer(json!({"demand_id": demand})).await.problem(409, "terms_refused");
    let mut body = s.offer_body().await;
    body.as_object_mut().unwrap().remove("buyer_email");
    body["demand_id"] = json!(demand);
    let mut other_product = body.clone();
    other_product["product_id"] = json!(s.general);
    let p = s.app.post(OFFERS, Some(&s.seller_key), other_product).await.problem(409, "terms_refused");
    assert_eq!(Res::fields(&p), ["product_id"]);
    // Another seller's view of the demand: 404.
    let mut theirs = body.clone();
    theirs["product_id"] = json!(s.foreign);
    s.app.post(OFFERS, Some(&s.other_seller_key), theirs).await.problem(404, "not_found");
    assert_eq!(s.demand_row(&demand).await.status, DemandStatus::Accepted, "refusals changed nothing");

    let o = s.app.post(OFFERS, Some(&s.seller_key), body.clone()).await.expect(201);
    assert_eq!(o["demand_id"], demand);
    assert_eq!(o["partner_id"], partner);
    assert_eq!(o["share_bp"], 500, "the operator's partner share (default)");
    assert_eq!(o["buyer_id"], s.buyer_id);
    let row = s.demand_row(&demand).await;
    assert_eq!(row.status, DemandStatus::Offered);
    assert_eq!(row.offer_id.as_deref(), o["id"].as_str());
    // The buyer sees the offer, not the partner's share.
    let seen = s.app.get(&format!("{MY_OFFERS}/{}", o["id"].as_str().unwrap()), Some(&s.buyer_key)).await.expect(200);
    assert!(seen["share_bp"].is_null() && seen["partner_id"].is_null());

    // A second offer for the same demand.
    s.app.post(OFFERS, Some(&s.seller_key), body).await.problem(409, "demand_already_offered");

    // Demands not accepted.
    for status in [DemandStatus::Submitted, DemandStatus::Declined] {
        let (d, _) = s.demand(status).await;
        let mut b = s.offer_body().await;
        b.as_object_mut().unwrap().remove("buyer_email");
        b["demand_id"] = json!(d);
        s.app.post(OFFERS, Some(&s.seller_key), b).await.problem(409, "demand_not_accepted");
    }
    let mut b = s.offer_body().await;
    b.as_object_mut().unwrap().remove("buyer_email");
    b["demand_id"] = json!(DemandId::new().to_string());
    s.app.post(OFFERS, Some(&s.seller_key), b).await.problem(404, "not_found");
    assert_eq!(s.offer_count().await, 1);
}

#[tokio::test]
async fn concurrent_offers_for_one_demand_make_one() {
    let s = shop().await;
    let (demand, _) = s.demand(DemandStatus::Accepted).await;
    let mut body = s.offer_body().await;
    body.as_object_mut().unwrap().remove("buyer_email");
    body["demand_id"] = json!(demand);
    let tries = (0..6).map(|_| s.app.post(OFFERS, Some(&s.seller_key), body.clone()));
    let results = futures_util::future::join_all(tries).await;
    let mut made = 0;
    for r in results {
        match r.status.as_u16() {
            201 => made += 1,
            409 => assert_eq!(r.body["code"], "demand_already_offered", "{}", r.body),
            other => panic!("unexpected {other}: {}", r.body),
        }
    }
    assert_eq!(made, 1);
    assert_eq!(s.offer_count().await, 1);
}

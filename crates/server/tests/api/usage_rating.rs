//! Rating and charging pay-per-use usage end to end on the test clock:
//! push -> validate -> period closes -> rated -> charged (ledger balanced);
//! packages before overage, earliest-expiring first; a package that stops
//! when used up; arrears freeze and a top-up unfreezes through the seller
//! calls; daily billing; and the same batches pushed from several
//! connections with charging run on two workers giving the single-pass
//! totals.

use crate::usage_shop::{Shop, rec, shop};
use chrono::{DateTime, Duration, DurationRound, Utc};
use mercato_domain::orders::SubscriptionStatus;
use mercato_server::app::usage::rating::{RatingReport, rate_due};
use mercato_store::entity::{job, ledger_entry, subscription, usage_charge, usage_line, usage_package, usage_record};
use mercato_store::sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use serde_json::{Value, json};

fn hour(t: DateTime<Utc>) -> DateTime<Utc> {
    t.duration_trunc(Duration::hours(1)).unwrap()
}

fn m(n: i64) -> Duration {
    Duration::minutes(n)
}

impl Shop {
    async fn rate(&self) -> RatingReport {
        rate_due(&self.app.state).await.unwrap()
    }

    async fn lines(&self) -> Vec<usage_line::Model> {
        usage_line::Entity::find()
            .order_by_asc(usage_line::Column::PeriodStart)
            .order_by_asc(usage_line::Column::InstanceId)
            .all(&self.app.state.db.conn)
            .await
            .unwrap()
    }

    async fn charges(&self) -> Vec<usage_charge::Model> {
        usage_charge::Entity::find()
            .order_by_asc(usage_charge::Column::PeriodStart)
            .all(&self.app.state.db.conn)
            .await
            .unwrap()
    }

    async fn subscription(&self, id: &str) -> subscription::Model {
        subscription::Entity::find_by_id(id.to_string()).one(&self.app.state.db.conn).await.unwrap().unwrap()
    }

    async fn wallet(&self, buyer_key: &str) -> i64 {
        self.app.wallet_available(buyer_key, "CNY").await
    }

    /// updateInstanceStatus calls the seller answered, oldest first: (instanceId, status).
    async fn status_calls(&self) -> Vec<(String, String)> {
        let page = self
            .app
            .get("/api/v1/seller/interface-messages?status=all&limit=100", Some(&self.seller.key))
            .await
            .expect(200);
        let mut v: Vec<(String, String)> = page["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|m| m["activity"] == "updateInstanceStatus" && m["outcome"] == "success")
            .map(|m| {
                let body: Value = serde_json::from_str(m["request_body"].as_str().unwrap()).unwrap();
                (body["instanceId"].as_str().unwrap().to_string(), body["status"].as_str().unwrap().to_string())
            })
            .collect();
        v.reverse();
        v
    }
}

fn with_package(mut r: Value, package: &str) -> Value {
    r["relate_pkg_instance"] = json!(package);
    r
}

#[tokio::test]
async fn usage_is_rated_and_charged_once_after_its_hour_closes() {
    let s = shop().await;
    let payg = s.buy("payg").await;
    let ins = payg.instance_id.clone().unwrap();
    let h = hour(s.now()) + Duration::hours(1);
    s.advance_to(h + m(30)).await;
    let pushed = s
        .push(
            &s.seller,
            vec![
                rec(&ins, "a", h + m(1), h + m(10), "10.5"),
                rec(&ins, "b", h + m(10), h + m(20), "2.25"),
                rec(&ins, "c-dup", h + m(1), h + m(10), "10.5"),
            ],
        )
        .await;
    assert_eq!(pushed["accepted"], 3);
    assert_eq!((s.validate().await.valid, s.validate().await.total()), (2, 0));
    // Still open at :14 of the next hour: nothing rated.
    s.advance_to(h + m(74)).await;
    assert_eq!(s.rate().await.lines, 0);
    assert!(s.lines().await.is_empty());
    // Closed at :15; a record arriving now is an error record, never charged.
    s.advance_to(h + m(75)).await;
    s.push(&s.seller, vec![rec(&ins, "d-late", h + m(30), h + m(40), "100")]).await;
    let decided = s.validate().await;
    assert_eq!((decided.error, decided.valid), (1, 0));
    let before = s.wallet(&s.buyer_key).await;

    let report = s.rate().await;
    assert_eq!((report.lines, report.records, report.paid, report.arrears), (1, 2, 1, 0));
    let lines = s.lines().await;
    assert_eq!(lines.len(), 1);
    let l = &lines[0];
    assert_eq!((l.instance_id.as_str(), l.period_start, l.billing.as_str()), (ins.as_str(), h, "hourly"));
    // 12.75 GB x 0.05 CNY = 0.6375 CNY = 63.75 fen, rounded half up once.
    assert_eq!((l.records, l.quantity_e4, l.package_e4, l.overage_e4, l.amount_minor), (2, 127_500, 0, 127_500, 64));
    assert_eq!(l.unit_price.as_deref(), Some("0.05"));
    assert_eq!(s.wallet(&s.buyer_key).await, before - 64);
    let charges = s.charges().await;
    assert_eq!(charges.len(), 1);
    assert_eq!((charges[0].amount_minor, charges[0].status.as_str()), (64, "paid"));
    assert_eq!(l.charge_id.as_deref(), Some(charges[0].id.as_str()));
    let entry = ledger_entry::Entity::find_by_id(charges[0].entry_id.clone().unwrap())
        .one(&s.app.state.db.conn)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((entry.kind.as_str(), entry.reference.as_str()), ("usage_charge", charges[0].id.as_str()));
    s.app.assert_ledger_balanced().await;

    // Rating again, later, changes nothing.
    s.advance(Duration::hours(3)).await;
    let again = s.rate().await;
    assert_eq!((again.lines, again.paid), (0, 0));
    assert_eq!(s.charges().await.len(), 1);
    assert_eq!(s.wallet(&s.buyer_key).await, before - 64);
}

#[tokio::test]
async fn packages_are_used_before_overage_earliest_expiring_first() {
    let s = shop().await;
    let first = s.buy("pack").await;
    s.advance(Duration::days(1)).await;
    let second = s.buy("pack").await;
    let payg = s.buy("payg").await;
    let ins = payg.instance_id.clone().unwrap();
    let h = hour(s.now()) + Duration::hours(1);
    s.advance_to(h + m(30)).await;
    s.push(&s.seller, vec![rec(&ins, "h1", h, h + m(20), "1200")]).await;
    s.advance_to(h + m(90)).await;
    s.push(&s.seller, vec![rec(&ins, "h2", h + m(60), h + m(80), "900")]).await;
    assert_eq!(s.validate().await.valid, 2);
    let before = s.wallet(&s.buyer_key).await;
    s.advance_to(h + m(140)).await;
    let report = s.rate().await;
    assert_eq!((report.lines, report.paid), (2, 1));

    let lines = s.lines().await;
    let q: Vec<(i64, i64, i64)> = lines.iter().map(|l| (l.package_e4, l.overage_e4, l.amount_minor)).collect();
    // Hour 1: 1000 from the first package, 200 from the second. Hour 2: the
    // second's last 800, then 100 GB at 0.05 = 5 CNY.
    assert_eq!(q, vec![(12_000_000, 0, 0), (8_000_000, 1_000_000, 500)]);
    let used = |id: &str| {
        let id = id.to_string();
        let db = s.app.state.db.conn.clone();
        async move { usage_package::Entity::find_by_id(id).one(&db).await.unwrap().unwrap().used_e4 }
    };
    assert_eq!(used(&first.id).await, 10_000_000);
    assert_eq!(used(&second.id).await, 10_000_000);
    let charges = s.charges().await;
    assert_eq!(charges.iter().map(|c| c.amount_minor).collect::<Vec<_>>(), vec![500]);
    assert_eq!(s.wallet(&s.buyer_key).await, before - 500);
    s.app.assert_ledger_balanced().await;
}

#[tokio::test]
async fn a_package_that_stops_when_used_up_freezes_its_instance() {
    let s = shop().await;
    // An earlier-expiring package of the same product: a package's own
    // instance does not draw on it.
    let other = s.buy("pack").await;
    s.advance(Duration::days(1)).await;
    let pack = s.buy("pack").await;
    let pins = pack.instance_id.clone().unwrap();
    let h = hour(s.now()) + Duration::hours(1);
    s.advance_to(h + m(30)).await;
    s.push(&s.seller, vec![with_package(rec(&pins, "p1", h, h + m(20), "600"), &pins)]).await;
    s.advance_to(h + m(90)).await;
    s.push(&s.seller, vec![with_package(rec(&pins, "p2", h + m(60), h + m(80), "300"), &pins)]).await;
    s.validate().await;
    let before = s.wallet(&s.buyer_key).await;
    s.advance_to(h + m(140)).await;
    s.rate().await;
    assert_eq!(s.subscription(&pack.id).await.status, SubscriptionStatus::Active, "100 GB are left");

    s.advance_to(h + m(150)).await;
    s.push(&s.seller, vec![with_package(rec(&pins, "p3", h + m(120), h + m(140), "250"), &pins)]).await;
    s.validate().await;
    s.advance_to(h + m(200)).await;
    s.rate().await;
    let lines = s.lines().await;
    let q: Vec<(i64, i64, i64)> = lines.iter().map(|l| (l.package_e4, l.overage_e4, l.amount_minor)).collect();
    assert_eq!(q, vec![(6_000_000, 0, 0), (3_000_000, 0, 0), (1_000_000, 1_500_000, 0)]);
    let sub = s.subscription(&pack.id).await;
    assert_eq!((sub.status.as_str(), sub.frozen_for.as_deref()), ("frozen", Some("package_used_up")));
    s.run_jobs().await;
    assert_eq!(s.status_calls().await, vec![(pins.clone(), "FREEZE".to_string())]);
    assert!(s.charges().await.is_empty(), "the overage of a package that stops is never charged");
    let used = usage_package::Entity::find().all(&s.app.state.db.conn).await.unwrap();
    let used: Vec<(String, i64)> = used.into_iter().map(|p| (p.subscription_id, p.used_e4)).collect();
    assert!(used.contains(&(pack.id.clone(), 10_000_000)), "{used:?}");
    assert!(!used.iter().any(|(id, u)| *id == other.id && *u != 0), "{used:?}");
    assert_eq!(s.wallet(&s.buyer_key).await, before);
}

#[tokio::test]
async fn arrears_freeze_the_instance_and_a_top_up_pays_them_and_unfreezes_it() {
    let s = shop().await;
    let (buyer_id, buyer_key) = s.app.signup("buyer").await;
    s.app.credit_wallet(&s.op, &buyer_id, 100, "CNY").await;
    let payg = s.buy_as(&buyer_key, "payg").await;
    let ins = payg.instance_id.clone().unwrap();
    let h = hour(s.now()) + Duration::hours(1);
    s.advance_to(h + m(30)).await;
    // 30 GB = 1.50 CNY: more than the wallet holds.
    s.push(&s.seller, vec![rec(&ins, "x1", h, h + m(20), "30")]).await;
    s.validate().await;
    s.advance_to(h + m(80)).await;
    let report = s.rate().await;
    assert_eq!((report.paid, report.arrears), (0, 1));
    let sub = s.subscription(&payg.id).await;
    assert_eq!((sub.status.as_str(), sub.frozen_for.as_deref()), ("frozen", Some("arrears")));
    assert_eq!(s.wallet(&buyer_key).await, 100, "nothing is taken from a wallet that cannot pay");
    s.run_jobs().await;
    assert_eq!(s.status_calls().await, vec![(ins.clone(), "FREEZE".to_string())]);

    // Usage reported for before the freeze is still rated; a buyer who owes
    // pays older debt first, so this charge waits too.
    s.push(&s.seller, vec![rec(&ins, "x2", h + m(60), h + m(70), "10")]).await;
    s.validate().await;
    s.advance_to(h + m(140)).await;
    let report = s.rate().await;
    assert_eq!((report.paid, report.arrears), (0, 1));
    s.app.assert_ledger_balanced().await;

    // A top-up pays both, oldest first, and unfreezes the instance.
    s.app.credit_wallet(&s.op, &buyer_id, 150, "CNY").await;
    let charges = s.charges().await;
    assert_eq!(
        charges.iter().map(|c| (c.amount_minor, c.status.as_str())).collect::<Vec<_>>(),
        vec![(150, "paid"), (50, "paid")]
    );
    assert!(charges.iter().all(|c| c.entry_id.is_some()));
    assert_eq!(s.wallet(&buyer_key).await, 100 + 150 - 200);
    let sub = s.subscription(&payg.id).await;
    assert_eq!((sub.status.as_str(), sub.frozen_for.as_deref()), ("active", None));
    s.run_jobs().await;
    assert_eq!(s.status_calls().await, vec![(ins.clone(), "FREEZE".to_string()), (ins, "UNFREEZE".to_string())]);
    s.app.assert_ledger_balanced().await;
    // Another top-up settles nothing more and sends nothing.
    s.app.credit_wallet(&s.op, &buyer_id, 10, "CNY").await;
    let unfreezes = job::Entity::find()
        .filter(job::Column::Kind.eq(mercato_server::app::subscriptions::lifecycle::UNFREEZE_INSTANCE))
        .all(&s.app.state.db.conn)
        .await
        .unwrap();
    assert_eq!(unfreezes.len(), 1);
}

#[tokio::test]
async fn a_daily_billed_instance_is_rated_per_day_after_one_am() {
    let s = shop().await;
    let daily = s.buy("daily").await;
    let ins = daily.instance_id.clone().unwrap();
    let day = s.now().duration_trunc(Duration::days(1)).unwrap() + Duration::days(1);
    s.advance_to(day + Duration::hours(10)).await;
    s.push(&s.seller, vec![rec(&ins, "d1", day + Duration::hours(9), day + Duration::hours(10), "2")]).await;
    // 00:40 the next day: the day still takes records; hours closed long ago.
    s.advance_to(day + Duration::hours(24) + m(40)).await;
    s.push(&s.seller, vec![rec(&ins, "d2", day + Duration::hours(23), day + Duration::hours(24) - m(1), "3")]).await;
    assert_eq!(s.validate().await.valid, 2);
    assert_eq!(s.rate().await.lines, 0, "the day closes at 01:00");
    s.advance_to(day + Duration::hours(25)).await;
    s.push(&s.seller, vec![rec(&ins, "d3", day + Duration::hours(23), day + Duration::hours(24) - m(1), "1")]).await;
    let late = s.validate().await;
    assert_eq!((late.valid, late.error), (0, 1));
    let report = s.rate().await;
    assert_eq!((report.lines, report.records), (1, 2));
    let l = &s.lines().await[0];
    // 5 GB x 0.5 CNY = 2.50 CNY.
    assert_eq!((l.billing.as_str(), l.period_start, l.quantity_e4, l.amount_minor), ("daily", day, 50_000, 250));
    let late_row = usage_record::Entity::find()
        .filter(usage_record::Column::MeteringSn.eq("d3"))
        .one(&s.app.state.db.conn)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(late_row.error_code.as_deref(), Some("MKT.9005"));
}

/// Batches over two hours for two instances: each record twice under two
/// metering_sns in different batches, and a window repeated under a new sn.
fn batches(a: &str, b: &str, h: DateTime<Utc>) -> Vec<Vec<Value>> {
    let mut all = Vec::new();
    for n in 0..240_i64 {
        let ins = if n % 2 == 0 { a } else { b };
        // 17 s apart: 68 minutes over two hours, all pushed at h + 70 min.
        let begin = h + Duration::seconds(n * 17);
        let usage = format!("{}.{:04}", n % 7 + 1, (n * 37) % 10_000);
        all.push(rec(ins, &format!("sn-{n:04}"), begin, begin + Duration::seconds(20), &usage));
        if n % 10 == 0 {
            all.push(rec(ins, &format!("dup-{n:04}"), begin, begin + Duration::seconds(20), &usage));
        }
    }
    // Three overlapping batches: [0, 160), [80, 240), [40, 200).
    vec![all[0..160].to_vec(), all[80..all.len()].to_vec(), all[40..200].to_vec()]
}

/// Totals of everything rating and charging wrote.
async fn totals(s: &Shop) -> (usize, i64, i64, i64, usize, i64, i64) {
    let lines = s.lines().await;
    let charges = s.charges().await;
    (
        lines.len(),
        lines.iter().map(|l| l.records).sum(),
        lines.iter().map(|l| l.quantity_e4).sum(),
        lines.iter().map(|l| l.amount_minor).sum(),
        charges.len(),
        charges.iter().filter(|c| c.status == "paid").map(|c| c.amount_minor).sum(),
        s.wallet(&s.buyer_key).await,
    )
}

async fn two_instances(s: &Shop) -> (String, String, DateTime<Utc>) {
    let a = s.buy("payg").await.instance_id.unwrap();
    let b = s.buy("payg").await.instance_id.unwrap();
    let h = hour(s.now()) + Duration::hours(1);
    s.advance_to(h + m(70)).await;
    (a, b, h)
}

#[tokio::test]
async fn concurrent_pushes_and_charging_on_two_workers_give_the_single_pass_totals() {
    // Single pass.
    let one = shop().await;
    let (a, b, h) = two_instances(&one).await;
    for batch in batches(&a, &b, h) {
        one.push(&one.seller, batch).await;
    }
    one.validate().await;
    one.advance_to(h + Duration::hours(2) + m(20)).await;
    one.rate().await;
    let expected = totals(&one).await;

    // The same batches from four connections at once, in different orders,
    // validated by two validators and rated by two workers at once, twice.
    let many = shop().await;
    let (a, b, h) = two_instances(&many).await;
    let sets = batches(&a, &b, h);
    let mut pushes = Vec::new();
    for c in 0..4 {
        let (base, seller) = (many.app.base.clone(), many.seller.clone());
        let mut order = sets.clone();
        order.rotate_left(c % 3);
        pushes.push(tokio::spawn(async move {
            // A client of its own: its own connections.
            let client = reqwest::Client::new();
            for batch in order {
                let (status, body) =
                    crate::usage_shop::push_with(&client, &base, &seller, &json!({ "usage_records": batch })).await;
                assert_eq!(status, 200, "{body}");
            }
        }));
    }
    for p in pushes {
        p.await.unwrap();
    }
    let (v1, v2) = tokio::join!(
        mercato_server::app::usage::intake::validate_all(&many.app.state),
        mercato_server::app::usage::intake::validate_all(&many.app.state)
    );
    v1.unwrap();
    v2.unwrap();
    many.advance_to(h + Duration::hours(2) + m(20)).await;
    for _ in 0..2 {
        let (r1, r2) = tokio::join!(rate_due(&many.app.state), rate_due(&many.app.state));
        r1.unwrap();
        r2.unwrap();
    }
    let got = totals(&many).await;
    assert_eq!(got, expected);
    // 240 distinct windows, 2 instances x 2 hours, one charge per hour.
    assert_eq!((got.0, got.1, got.4), (4, 240, 2));
    assert!(got.3 > 0 && got.3 == got.5);
    many.app.assert_ledger_balanced().await;
}

//! Rating storage: the per-backend period aggregate, the marks, packages,
//! the rows a period writes (in multi-row chunks), and charges in arrears
//! that concurrent top-ups claim once.

use crate::common::{TestDb, advisory_locks_of_others, count, time};
use crate::fixtures::{Market, Sub, account};
use chrono::Duration;
use mercato_domain::account::Role;
use mercato_domain::catalog::Billing;
use mercato_domain::catalog::ChargingMode;
use mercato_domain::orders::SubscriptionStatus;
use mercato_domain::usage::UsageRecord;
use mercato_store::entity::{usage_charge, usage_line, usage_package, usage_package_draw};
use mercato_store::repo::orders;
use mercato_store::repo::usage::{self, Outcome, STATUS_VALID};
use mercato_store::repo::usage_rating::{self as rating, CHARGE_ARREARS, CHARGE_PAID, InstanceUsage, PeriodBounds};
use mercato_store::sea_orm::{ConnectionTrait, EntityTrait};
use mercato_store::{Db, StoreError};
use std::collections::BTreeSet;

const SELLER: &str = "acc_seller";

fn valid(billing: &'static str) -> Outcome {
    Outcome { status: STATUS_VALID, error_code: None, error_reason: None, duplicate_of: None, billing: Some(billing) }
}

/// Stores one record received at `received_at` and, with `outcome`,
/// decides it.
#[allow(clippy::too_many_arguments)]
async fn put(
    db: &impl ConnectionTrait,
    sn: &str,
    instance: &str,
    begin: &str,
    end: &str,
    received_at: &str,
    usage_e4: i64,
    outcome: Option<Outcome>,
) {
    let r = UsageRecord {
        instance_id: instance.into(),
        metering_sn: sn.into(),
        record_time: None,
        begin_time: time(begin),
        end_time: time(end),
        usage_e4,
        relate_pkg_instance: None,
        position: 0,
    };
    let batch = mercato_domain::ids::UsageBatchId::new();
    assert_eq!(usage::insert_received(db, SELLER, time(received_at), batch.as_str(), &[r]).await.unwrap(), 1);
    if let Some(o) = outcome {
        assert_eq!(usage::set_outcome(db, &o, &[(SELLER.into(), sn.into())]).await.unwrap(), 1);
    }
}

#[tokio::test]
async fn a_period_sums_its_valid_records_per_instance_exactly() {
    let t = TestDb::new().await;
    account(&t.conn, SELLER, Role::Seller).await;
    let db = &t.conn;
    let hourly = || Some(valid("hourly"));
    // Above 2^52 each: a floating-point sum would lose the last digits.
    let big = 4_503_599_627_370_497;
    put(db, "a1", "ins-a", "2026-03-01T10:00:00Z", "2026-03-01T10:00:00Z", "2026-03-01T10:00:00Z", big, hourly()).await;
    put(db, "a2", "ins-a", "2026-03-01T10:00:00Z", "2026-03-01T10:59:59Z", "2026-03-01T12:14:59Z", big, hourly()).await;
    put(db, "a3", "ins-a", "2026-03-01T10:30:00Z", "2026-03-01T10:40:00Z", "2026-03-01T11:00:00Z", big, hourly()).await;
    put(db, "b1", "ins-b", "2026-03-01T10:00:00Z", "2026-03-01T10:10:00Z", "2026-03-01T10:20:00Z", 5, hourly()).await;
    // Outside the period: ends before it, ends at its end, received after it closed.
    put(db, "x1", "ins-a", "2026-03-01T09:00:00Z", "2026-03-01T09:59:59Z", "2026-03-01T10:05:00Z", 1, hourly()).await;
    put(db, "x2", "ins-a", "2026-03-01T10:00:00Z", "2026-03-01T11:00:00Z", "2026-03-01T11:01:00Z", 1, hourly()).await;
    put(db, "x3", "ins-b", "2026-03-01T10:00:00Z", "2026-03-01T10:10:00Z", "2026-03-01T12:15:00Z", 1, hourly()).await;
    // Another billing, and records that are not valid.
    let daily = Some(valid("daily"));
    put(db, "x4", "ins-c", "2026-03-01T10:00:00Z", "2026-03-01T10:10:00Z", "2026-03-01T10:20:00Z", 1, daily).await;
    put(db, "x5", "ins-c", "2026-03-01T10:00:00Z", "2026-03-01T10:10:00Z", "2026-03-01T10:20:00Z", 1, None).await;
    put(db, "x6", "ins-a", "2026-03-01T10:00:00Z", "2026-03-01T10:10:00Z", "2026-03-01T10:20:00Z", 1, None).await;
    usage::set_duplicates(db, "MKT.9006", &[(SELLER.into(), "x6".into(), "a1".into())]).await.unwrap();

    let bounds = PeriodBounds {
        billing: Billing::Hourly,
        start: time("2026-03-01T10:00:00Z"),
        end: time("2026-03-01T11:00:00Z"),
        closes_at: time("2026-03-01T12:15:00Z"),
    };
    let expected = vec![
        InstanceUsage { instance_id: "ins-a".into(), records: 3, quantity_e4: 3 * big },
        InstanceUsage { instance_id: "ins-b".into(), records: 1, quantity_e4: 5 },
    ];
    assert_eq!(rating::period_usage(db, bounds).await.unwrap(), expected);
    let daily = PeriodBounds { billing: Billing::Daily, ..bounds };
    let c = vec![InstanceUsage { instance_id: "ins-c".into(), records: 1, quantity_e4: 1 }];
    assert_eq!(rating::period_usage(db, daily).await.unwrap(), c);
    // A record ending at a period's end belongs to the next one.
    let next = PeriodBounds {
        start: bounds.end,
        end: bounds.end + Duration::hours(1),
        closes_at: bounds.closes_at + Duration::hours(1),
        ..bounds
    };
    let x2 = vec![InstanceUsage { instance_id: "ins-a".into(), records: 1, quantity_e4: 1 }];
    assert_eq!(rating::period_usage(db, next).await.unwrap(), x2);
}

#[tokio::test]
async fn the_mark_of_each_billing_moves_to_the_last_value_set() {
    let t = TestDb::new().await;
    assert_eq!(rating::rated_until(&t.conn, Billing::Hourly).await.unwrap(), None);
    let (t1, t2) = (time("2026-03-01T10:00:00Z"), time("2026-03-01T11:00:00Z"));
    rating::set_rated_until(&t.conn, Billing::Hourly, t1).await.unwrap();
    assert_eq!(rating::rated_until(&t.conn, Billing::Hourly).await.unwrap(), Some(t1));
    rating::set_rated_until(&t.conn, Billing::Hourly, t2).await.unwrap();
    assert_eq!(rating::rated_until(&t.conn, Billing::Hourly).await.unwrap(), Some(t2));
    assert_eq!(rating::rated_until(&t.conn, Billing::Daily).await.unwrap(), None);
    assert_eq!(count(&t.conn, "usage_rating_marks").await, 1);
}

#[tokio::test]
async fn earliest_receipts_are_found_by_status_billing_and_start() {
    let t = TestDb::new().await;
    account(&t.conn, SELLER, Role::Seller).await;
    let db = &t.conn;
    assert_eq!(rating::oldest_received(db).await.unwrap(), None);
    let (b, e) = ("2026-03-01T09:00:00Z", "2026-03-01T09:10:00Z");
    put(db, "v1", "ins-a", b, e, "2026-03-01T10:00:00Z", 1, Some(valid("hourly"))).await;
    put(db, "v2", "ins-a", b, e, "2026-03-01T12:00:00Z", 1, Some(valid("hourly"))).await;
    put(db, "v3", "ins-a", b, e, "2026-03-01T11:00:00Z", 1, Some(valid("daily"))).await;
    put(db, "r1", "ins-a", b, e, "2026-03-01T11:30:00Z", 1, None).await;
    put(db, "r2", "ins-a", b, e, "2026-03-01T13:00:00Z", 1, None).await;

    assert_eq!(rating::oldest_received(db).await.unwrap(), Some(time("2026-03-01T11:30:00Z")));
    let first = |billing: Billing, from: &'static str| async move {
        rating::first_valid_received(db, billing, time(from)).await.unwrap()
    };
    assert_eq!(first(Billing::Hourly, "2026-03-01T00:00:00Z").await, Some(time("2026-03-01T10:00:00Z")));
    assert_eq!(
        first(Billing::Hourly, "2026-03-01T10:00:00Z").await,
        Some(time("2026-03-01T10:00:00Z")),
        "from is inclusive"
    );
    assert_eq!(first(Billing::Hourly, "2026-03-01T10:00:01Z").await, Some(time("2026-03-01T12:00:00Z")));
    assert_eq!(first(Billing::Daily, "2026-03-01T00:00:00Z").await, Some(time("2026-03-01T11:00:00Z")));
    assert_eq!(first(Billing::Hourly, "2026-03-01T12:00:01Z").await, None);
}

fn package(id: &str, quota_e4: i64, used_e4: i64) -> usage_package::Model {
    usage_package::Model {
        subscription_id: id.into(),
        buyer_id: "acc_buyer".into(),
        product_id: "prd_a".into(),
        instance_id: Some(format!("ins-{id}")),
        quota_e4,
        used_e4,
        starts_at: time("2026-03-01T00:00:00Z"),
        expires_at: time("2026-04-01T00:00:00Z"),
    }
}

#[tokio::test]
async fn a_package_row_is_created_once_and_its_use_adds_up() {
    let t = TestDb::new().await;
    rating::insert_packages(&t.conn, vec![]).await.unwrap();
    rating::insert_packages(&t.conn, vec![package("p1", 100, 0), package("p2", 50, 10)]).await.unwrap();
    // A second rating run seeing the same package keeps the stored row.
    rating::insert_packages(&t.conn, vec![package("p1", 999, 999), package("p3", 7, 0)]).await.unwrap();
    rating::add_package_use(&t.conn, "p1", 30).await.unwrap();
    rating::add_package_use(&t.conn, "p1", 45).await.unwrap();
    rating::add_package_use(&t.conn, "p2", 1).await.unwrap();

    let ids = ["p1", "p2", "p3", "p9"].map(String::from);
    let mut found = rating::packages(&t.conn, &ids).await.unwrap();
    found.sort_by(|a, b| a.subscription_id.cmp(&b.subscription_id));
    assert_eq!(found, vec![package("p1", 100, 75), package("p2", 50, 11), package("p3", 7, 0)]);
}

#[tokio::test]
async fn package_subscriptions_are_the_buyers_live_packages_of_the_period() {
    let t = TestDb::new().await;
    let (a, b) = (Market::new(&t.conn, "a").await, Market::new(&t.conn, "b").await);
    let pkg = |id, status, starts: &str, expires: &str| Sub {
        id,
        instance: None,
        mode: ChargingMode::OnDemandPkg,
        status,
        starts_at: time(starts),
        expires_at: Some(time(expires)),
    };
    let (feb, apr) = ("2026-02-01T00:00:00Z", "2026-04-01T00:00:00Z");
    a.subscribe(&t.conn, pkg("p_active", SubscriptionStatus::Active, feb, apr)).await;
    a.subscribe(&t.conn, pkg("p_frozen", SubscriptionStatus::Frozen, feb, apr)).await;
    a.subscribe(&t.conn, pkg("p_late_start", SubscriptionStatus::Active, "2026-03-01T23:59:59Z", apr)).await;
    a.subscribe(&t.conn, pkg("p_early_end", SubscriptionStatus::Active, feb, "2026-03-01T00:00:01Z")).await;
    a.subscribe(&t.conn, pkg("p_released", SubscriptionStatus::Released, feb, apr)).await;
    a.subscribe(&t.conn, pkg("p_starts_at_end", SubscriptionStatus::Active, "2026-03-02T00:00:00Z", apr)).await;
    a.subscribe(&t.conn, pkg("p_ends_at_start", SubscriptionStatus::Active, feb, "2026-03-01T00:00:00Z")).await;
    a.subscribe(
        &t.conn,
        Sub { mode: ChargingMode::OnDemand, ..pkg("s_on_demand", SubscriptionStatus::Active, feb, apr) },
    )
    .await;
    b.subscribe(&t.conn, pkg("p_other_buyer", SubscriptionStatus::Active, feb, apr)).await;

    let (from, to) = (time("2026-03-01T00:00:00Z"), time("2026-03-02T00:00:00Z"));
    let buyers = [a.buyer.clone(), b.buyer.clone()];
    let found: BTreeSet<String> =
        rating::package_subscriptions(&t.conn, &buyers, std::slice::from_ref(&a.product), from, to)
            .await
            .unwrap()
            .into_iter()
            .map(|s| s.id)
            .collect();
    let expected: BTreeSet<String> = ["p_active", "p_frozen", "p_late_start", "p_early_end"].map(String::from).into();
    assert_eq!(found, expected);

    // The order lines behind them, by id.
    let lines =
        rating::order_lines(&t.conn, &["oln_p_active".into(), "oln_p_frozen".into(), "oln_x".into()]).await.unwrap();
    assert_eq!(lines.iter().map(|l| l.id.as_str()).collect::<BTreeSet<_>>(), ["oln_p_active", "oln_p_frozen"].into());
}

fn line(i: usize, charge_id: &str) -> usage_line::Model {
    usage_line::Model {
        instance_id: format!("ins{i:05}"),
        period_start: time("2026-03-01T10:00:00Z"),
        billing: Billing::Hourly,
        subscription_id: format!("sub{i}"),
        buyer_id: "acc_buyer".into(),
        seller_id: SELLER.into(),
        product_id: "prd_a".into(),
        records: 2,
        quantity_e4: 30_000,
        package_e4: 10_000,
        overage_e4: 20_000,
        unit_price: Some("0.5".into()),
        amount_minor: 100,
        commission_minor: 10,
        currency: "CNY".into(),
        charge_id: Some(charge_id.into()),
        rated_at: time("2026-03-01T12:15:00Z"),
    }
}

fn charge(id: &str, buyer: &str, period_start: &str, currency: &str, status: &str) -> usage_charge::Model {
    usage_charge::Model {
        id: id.into(),
        buyer_id: buyer.into(),
        billing: Billing::Hourly,
        period_start: time(period_start),
        currency: currency.into(),
        amount_minor: 100,
        status: status.into(),
        entry_id: None,
        created_at: time("2026-03-01T12:15:00Z"),
        paid_at: None,
    }
}

#[tokio::test]
async fn a_periods_rows_are_all_written_and_a_charge_once() {
    let t = TestDb::new().await;
    // Each above one multi-row statement (1000 rows).
    let lines: Vec<_> = (0..2100).map(|i| line(i, &format!("uch_{}", i % 3))).collect();
    rating::insert_lines(&t.conn, lines).await.unwrap();
    let draws: Vec<_> = (0..1500)
        .map(|i| usage_package_draw::Model {
            package_id: format!("pkg{}", i % 2),
            instance_id: format!("ins{i:05}"),
            period_start: time("2026-03-01T10:00:00Z"),
            quantity_e4: 10_000,
        })
        .collect();
    rating::insert_draws(&t.conn, draws).await.unwrap();
    let charges: Vec<_> = (0..1001)
        .map(|i| charge(&format!("uch_{i}"), &format!("acc_b{i}"), "2026-03-01T10:00:00Z", "CNY", CHARGE_PAID))
        .collect();
    rating::insert_charges(&t.conn, charges).await.unwrap();
    assert_eq!(count(&t.conn, "usage_lines").await, 2100);
    assert_eq!(count(&t.conn, "usage_package_draws").await, 1500);
    assert_eq!(count(&t.conn, "usage_charges").await, 1001);

    let of_one = rating::lines_of_charge(&t.conn, "uch_1").await.unwrap();
    assert_eq!(of_one.len(), 700);
    assert!(of_one.windows(2).all(|w| w[0].instance_id < w[1].instance_id), "by instance");
    assert_eq!(of_one[0], line(1, "uch_1"));

    // The same buyer, billing, period and currency again: refused.
    let again = charge("uch_again", "acc_b7", "2026-03-01T10:00:00Z", "CNY", CHARGE_ARREARS);
    let refused = rating::insert_charges(&t.conn, vec![again]).await;
    assert!(matches!(refused, Err(StoreError::Conflict(_))), "{refused:?}");
    assert_eq!(count(&t.conn, "usage_charges").await, 1001);
}

async fn find_charge(db: &impl ConnectionTrait, id: &str) -> usage_charge::Model {
    usage_charge::Entity::find_by_id(id.to_string()).one(db).await.unwrap().expect("charge")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn arrears_are_listed_oldest_first_and_each_paid_once() {
    let t = TestDb::new().await;
    let (b, o, p) = ("acc_b", "acc_o", "acc_p");
    rating::insert_charges(
        &t.conn,
        vec![
            charge("uch_new", b, "2026-03-01T10:00:00Z", "CNY", CHARGE_ARREARS),
            charge("uch_old", b, "2026-03-01T09:00:00Z", "CNY", CHARGE_ARREARS),
            charge("uch_usd", b, "2026-03-01T09:00:00Z", "USD", CHARGE_ARREARS),
            charge("uch_paid", b, "2026-03-01T08:00:00Z", "CNY", CHARGE_PAID),
            charge("uch_o", o, "2026-03-01T08:00:00Z", "CNY", CHARGE_ARREARS),
            charge("uch_p", p, "2026-03-01T08:00:00Z", "CNY", CHARGE_PAID),
        ],
    )
    .await
    .unwrap();
    let ids = |v: Vec<usage_charge::Model>| v.into_iter().map(|c| c.id).collect::<Vec<_>>();
    assert_eq!(ids(rating::arrears(&t.conn, b, Some("CNY")).await.unwrap()), ["uch_old", "uch_new"]);
    assert_eq!(ids(rating::arrears(&t.conn, b, None).await.unwrap()), ["uch_old", "uch_usd", "uch_new"]);
    // More buyers than one lookup takes (5000).
    let mut asked: Vec<String> = (0..5100).map(|i| format!("acc_nobody{i}")).collect();
    asked.extend([b, o, p].map(String::from));
    let owing: BTreeSet<String> = rating::buyers_in_arrears(&t.conn, &asked).await.unwrap().into_iter().collect();
    assert_eq!(owing, [b, o].map(String::from).into());

    let at = time("2026-03-02T08:00:00Z");
    assert!(rating::claim_arrears(&t.conn, "uch_old", at).await.unwrap());
    assert!(!rating::claim_arrears(&t.conn, "uch_old", at).await.unwrap(), "paid once");
    assert!(!rating::claim_arrears(&t.conn, "uch_paid", at).await.unwrap());
    assert!(!rating::claim_arrears(&t.conn, "uch_unknown", at).await.unwrap());
    rating::set_entry(&t.conn, "uch_old", "ent_1").await.unwrap();
    let paid = find_charge(&t.conn, "uch_old").await;
    assert_eq!((paid.status.as_str(), paid.paid_at, paid.entry_id.as_deref()), (CHARGE_PAID, Some(at), Some("ent_1")));
    assert_eq!(ids(rating::arrears(&t.conn, b, Some("CNY")).await.unwrap()), ["uch_new"]);

    // Concurrent top-ups: exactly one claims the charge.
    let mut topups = Vec::new();
    for _ in 0..8 {
        let db: Db = (*t).clone();
        topups.push(tokio::spawn(async move {
            let tx = db.write().await.unwrap();
            let won = rating::claim_arrears(&tx, "uch_new", at).await.unwrap();
            tx.commit().await.unwrap();
            won
        }));
    }
    let mut winners = 0;
    for topup in topups {
        winners += usize::from(topup.await.unwrap());
    }
    assert_eq!(winners, 1);
    assert_eq!(find_charge(&t.conn, "uch_new").await.status, CHARGE_PAID);
}

#[tokio::test]
async fn subscriptions_frozen_for_a_reason_are_found_until_cleared() {
    let t = TestDb::new().await;
    let (a, b) = (Market::new(&t.conn, "a").await, Market::new(&t.conn, "b").await);
    let frozen = |id, instance| Sub { status: SubscriptionStatus::Frozen, ..Sub::on_demand(id, instance) };
    a.subscribe(&t.conn, frozen("s_arrears", "ins-1")).await;
    a.subscribe(&t.conn, frozen("s_used_up", "ins-2")).await;
    a.subscribe(&t.conn, Sub::on_demand("s_active", "ins-3")).await;
    b.subscribe(&t.conn, frozen("s_other_buyer", "ins-4")).await;
    for (id, why) in [("s_arrears", "arrears"), ("s_used_up", "package_used_up"), ("s_active", "arrears")] {
        rating::set_frozen_for(&t.conn, id, Some(why)).await.unwrap();
    }
    rating::set_frozen_for(&t.conn, "s_other_buyer", Some("arrears")).await.unwrap();

    let ids = |v: Vec<mercato_store::entity::subscription::Model>| v.into_iter().map(|s| s.id).collect::<Vec<_>>();
    assert_eq!(ids(rating::frozen_for(&t.conn, &a.buyer, "arrears").await.unwrap()), ["s_arrears"]);
    assert_eq!(ids(rating::frozen_for(&t.conn, &a.buyer, "package_used_up").await.unwrap()), ["s_used_up"]);
    rating::set_frozen_for(&t.conn, "s_arrears", None).await.unwrap();
    assert!(rating::frozen_for(&t.conn, &a.buyer, "arrears").await.unwrap().is_empty());
    let cleared = orders::find_subscription(&t.conn, "s_arrears").await.unwrap().unwrap();
    assert_eq!((cleared.status.as_str(), cleared.frozen_for), ("frozen", None));
}

#[tokio::test]
async fn the_rating_lock_is_its_own_and_lasts_until_the_transaction_ends() {
    let t = TestDb::new().await;
    let tx = t.write().await.unwrap();
    rating::lock_rating(&tx).await.unwrap();
    usage::lock_validator(&tx).await.unwrap();
    if t.is_postgres() {
        let observer = t.connect().await;
        assert_eq!(advisory_locks_of_others(&observer).await, 2, "rating and validation take different locks");
        tx.commit().await.unwrap();
        assert_eq!(advisory_locks_of_others(&observer).await, 0);
    } else {
        tx.commit().await.unwrap();
    }
}

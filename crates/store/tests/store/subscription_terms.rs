//! Conditional changes to a subscription's term and specification: each
//! names the row as read, so of two changes decided from one read only one
//! wins, and a change decided from a stale read changes nothing.

use crate::common::{TestDb, time};
use crate::fixtures::{Market, Sub};
use mercato_domain::catalog::ChargingMode;
use mercato_domain::orders::{Period, SubscriptionStatus};
use mercato_store::Db;
use mercato_store::repo::orders;
use mercato_store::repo::subscription_terms::{self as terms, Conversion, Seen, Spec};

const ACTIVE: SubscriptionStatus = SubscriptionStatus::Active;

async fn monthly(t: &TestDb, expires: &str) -> Market {
    let m = Market::new(&t.conn, "terms").await;
    let sub = Sub { mode: ChargingMode::Period, expires_at: Some(time(expires)), ..Sub::on_demand("sub_t", "ins_t") };
    m.subscribe(&t.conn, sub).await;
    m
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn of_two_renewals_from_one_read_only_one_extends_the_term() {
    let t = TestDb::new().await;
    monthly(&t, "2026-02-01T00:00:00Z").await;
    let mut racers = Vec::new();
    for i in 0..4 {
        let db: Db = (*t).clone();
        racers.push(tokio::spawn(async move {
            let seen = Seen { id: "sub_t", status: ACTIVE, spec_line_id: None };
            let tx = db.write().await.unwrap();
            let to = time("2026-03-01T00:00:00Z") + chrono::Duration::days(i);
            let won =
                terms::extend_term(&tx, &seen, time("2026-02-01T00:00:00Z"), to, None, time("2026-01-20T00:00:00Z"))
                    .await
                    .unwrap();
            tx.commit().await.unwrap();
            won.then_some(to)
        }));
    }
    let mut won = Vec::new();
    for r in racers {
        won.extend(r.await.unwrap());
    }
    assert_eq!(won.len(), 1, "{won:?}");
    let sub = orders::find_subscription(&t.conn, "sub_t").await.unwrap().unwrap();
    assert_eq!(sub.expires_at, Some(won[0]));
    assert_eq!((sub.sku_id.as_str(), sub.spec_line_id), ("sku_terms", None), "no specification change asked");
}

#[tokio::test]
async fn a_change_decided_from_a_stale_read_changes_nothing() {
    let t = TestDb::new().await;
    monthly(&t, "2026-02-01T00:00:00Z").await;
    let now = time("2026-01-20T00:00:00Z");
    let seen = Seen { id: "sub_t", status: ACTIVE, spec_line_id: None };
    let upgrade = Spec { sku_id: "sku_terms", line_id: "oln_sub_t" };

    // Another expiry, status or specification than the one read: refused.
    assert!(!terms::switch_spec(&t.conn, &seen, time("2026-02-02T00:00:00Z"), upgrade, now).await.unwrap());
    let frozen = Seen { status: SubscriptionStatus::Frozen, ..seen };
    assert!(!terms::switch_spec(&t.conn, &frozen, time("2026-02-01T00:00:00Z"), upgrade, now).await.unwrap());
    let other_spec = Seen { spec_line_id: Some("oln_other"), ..seen };
    assert!(!terms::switch_spec(&t.conn, &other_spec, time("2026-02-01T00:00:00Z"), upgrade, now).await.unwrap());

    // As read: a renewal that also changes the specification moves both...
    let to = time("2026-03-01T00:00:00Z");
    assert!(terms::extend_term(&t.conn, &seen, time("2026-02-01T00:00:00Z"), to, Some(upgrade), now).await.unwrap());
    let sub = orders::find_subscription(&t.conn, "sub_t").await.unwrap().unwrap();
    assert_eq!((sub.expires_at, sub.spec_line_id.as_deref()), (Some(to), Some("oln_sub_t")));

    // ...and an upgrade decided from the old read loses, one from the new read wins.
    assert!(!terms::switch_spec(&t.conn, &seen, to, upgrade, now).await.unwrap(), "the specification read is stale");
    let fresh = Seen { spec_line_id: Some("oln_sub_t"), ..seen };
    assert!(terms::switch_spec(&t.conn, &fresh, to, upgrade, now).await.unwrap());
}

#[tokio::test]
async fn only_a_trial_converts() {
    let t = TestDb::new().await;
    monthly(&t, "2026-02-01T00:00:00Z").await;
    let now = time("2026-01-20T00:00:00Z");
    let seen = Seen { id: "sub_t", status: ACTIVE, spec_line_id: None };
    let to = Conversion {
        period: Period::Month,
        auto_renew: true,
        expires_at: time("2026-02-20T00:00:00Z"),
        spec: Spec { sku_id: "sku_terms", line_id: "oln_conv" },
    };
    assert!(!terms::convert_trial(&t.conn, &seen, to, now).await.unwrap(), "the fixture is no trial");
    let sub = orders::find_subscription(&t.conn, "sub_t").await.unwrap().unwrap();
    assert!(!sub.auto_renew && sub.period.is_none(), "nothing changed: {sub:?}");
}

#[tokio::test]
async fn expiring_lists_the_status_asked_whose_term_ends_by_the_time() {
    let t = TestDb::new().await;
    monthly(&t, "2026-02-01T00:00:00Z").await;
    let by = |s: &str| time(s);
    let ids =
        |subs: Vec<mercato_store::entity::subscription::Model>| subs.into_iter().map(|s| s.id).collect::<Vec<_>>();
    assert_eq!(ids(terms::expiring(&t.conn, ACTIVE, by("2026-02-01T00:00:00Z")).await.unwrap()), ["sub_t"]);
    assert!(terms::expiring(&t.conn, ACTIVE, by("2026-01-31T23:59:59Z")).await.unwrap().is_empty());
    assert!(terms::expiring(&t.conn, SubscriptionStatus::Frozen, by("2026-03-01T00:00:00Z")).await.unwrap().is_empty());
}

//! Notifications and interface failures recorded at most once per key, also
//! by concurrent transactions, without aborting the caller's transaction.

use crate::common::{TestDb, count, time};
use crate::fixtures::{Market, account};
use mercato_domain::account::Role;
use mercato_store::Db;
use mercato_store::entity::{interface_failure, notification};
use mercato_store::repo::notifications;

fn note(id: &str) -> notification::Model {
    notification::Model {
        id: id.into(),
        account_id: "acc_buyer".into(),
        kind: "auto_renew_unpaid".into(),
        title: "t".into(),
        body: "b".into(),
        reference: None,
        created_at: time("2026-03-01T10:00:00Z"),
        read_at: None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_once_notification_is_sent_once_by_concurrent_scans() {
    let t = TestDb::new().await;
    account(&t.conn, "acc_buyer", Role::Buyer).await;
    let mut scans = Vec::new();
    for i in 0..6 {
        let db: Db = (*t).clone();
        scans.push(tokio::spawn(async move {
            let tx = db.write().await.unwrap();
            let sent =
                notifications::insert_once(&tx, "unpaid:sub_1:2026-03-01", note(&format!("ntf_{i}"))).await.unwrap();
            tx.commit().await.unwrap();
            sent
        }));
    }
    let mut sent = 0;
    for s in scans {
        sent += usize::from(s.await.unwrap());
    }
    assert_eq!(sent, 1);
    assert_eq!(count(&t.conn, "notifications").await, 1);
    // Another key is another notification, in the same transaction as a refused one.
    let tx = t.write().await.unwrap();
    assert!(!notifications::insert_once(&tx, "unpaid:sub_1:2026-03-01", note("ntf_x")).await.unwrap());
    assert!(notifications::insert_once(&tx, "unpaid:sub_1:2026-03-02", note("ntf_y")).await.unwrap());
    tx.commit().await.unwrap();
    assert_eq!(count(&t.conn, "notifications").await, 2);
}

#[tokio::test]
async fn an_interface_failure_is_counted_once_per_line() {
    let t = TestDb::new().await;
    let m = Market::new(&t.conn, "a").await;
    let failure = |line: &str, at: &str| interface_failure::Model {
        order_line_id: line.into(),
        product_id: m.product.clone(),
        seller_id: m.seller.clone(),
        failed_at: time(at),
    };
    let tx = t.write().await.unwrap();
    assert!(notifications::insert_interface_failure(&tx, failure("oln_1", "2026-03-01T10:00:00Z")).await.unwrap());
    assert!(!notifications::insert_interface_failure(&tx, failure("oln_1", "2026-03-01T11:00:00Z")).await.unwrap());
    assert!(notifications::insert_interface_failure(&tx, failure("oln_2", "2026-03-01T12:00:00Z")).await.unwrap());
    tx.commit().await.unwrap();
    let (from, to) = (time("2026-03-01T00:00:00Z"), time("2026-03-01T12:00:00Z"));
    assert_eq!(notifications::count_interface_failures(&t.conn, &m.product, from, to).await.unwrap(), 1);
    let to = time("2026-03-02T00:00:00Z");
    assert_eq!(notifications::count_interface_failures(&t.conn, &m.product, from, to).await.unwrap(), 2);
}

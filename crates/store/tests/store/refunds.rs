//! Five-day refunds: a yearly count taken by a conditional increment after
//! an `ON CONFLICT DO NOTHING` insert, never past the limit.

use crate::common::TestDb;
use crate::fixtures::account;
use mercato_domain::account::Role;
use mercato_store::Db;
use mercato_store::repo::refunds;

const BUYER: &str = "acc_buyer";

#[tokio::test]
async fn refunds_are_taken_up_to_the_limit_per_year() {
    let t = TestDb::new().await;
    account(&t.conn, BUYER, Role::Buyer).await;
    assert_eq!(refunds::full_refunds_used(&t.conn, BUYER, 2026).await.unwrap(), 0);
    // In one transaction: the existing row must not abort it.
    let tx = t.write().await.unwrap();
    assert!(refunds::take_full_refund(&tx, BUYER, 2026, 2).await.unwrap());
    assert!(refunds::take_full_refund(&tx, BUYER, 2026, 2).await.unwrap());
    assert!(!refunds::take_full_refund(&tx, BUYER, 2026, 2).await.unwrap(), "limit reached");
    assert!(refunds::take_full_refund(&tx, BUYER, 2027, 2).await.unwrap(), "a new year");
    tx.commit().await.unwrap();
    assert_eq!(refunds::full_refunds_used(&t.conn, BUYER, 2026).await.unwrap(), 2);
    assert_eq!(refunds::full_refunds_used(&t.conn, BUYER, 2027).await.unwrap(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_refunds_never_pass_the_limit() {
    let t = TestDb::new().await;
    account(&t.conn, BUYER, Role::Buyer).await;
    let mut requests = Vec::new();
    for _ in 0..8 {
        let db: Db = (*t).clone();
        requests.push(tokio::spawn(async move {
            let tx = db.write().await.unwrap();
            let taken = refunds::take_full_refund(&tx, BUYER, 2026, 3).await.unwrap();
            tx.commit().await.unwrap();
            taken
        }));
    }
    let mut taken = 0;
    for r in requests {
        taken += usize::from(r.await.unwrap());
    }
    assert_eq!(taken, 3);
    assert_eq!(refunds::full_refunds_used(&t.conn, BUYER, 2026).await.unwrap(), 3);
}

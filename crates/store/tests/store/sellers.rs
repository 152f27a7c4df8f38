//! Seller agreements: the first acceptance of a version stands.

use crate::common::{TestDb, time};
use crate::fixtures::account;
use mercato_domain::account::Role;
use mercato_store::repo::sellers;

#[tokio::test]
async fn the_first_acceptance_of_a_version_stands() {
    let t = TestDb::new().await;
    account(&t.conn, "acc_seller", Role::Seller).await;
    let (first, later) = (time("2026-03-01T10:00:00Z"), time("2026-03-02T10:00:00Z"));
    let tx = t.write().await.unwrap();
    assert_eq!(sellers::accept_agreement(&tx, "acc_seller", "v1", first).await.unwrap().accepted_at, first);
    assert_eq!(sellers::accept_agreement(&tx, "acc_seller", "v1", later).await.unwrap().accepted_at, first);
    assert_eq!(sellers::accept_agreement(&tx, "acc_seller", "v2", later).await.unwrap().accepted_at, later);
    tx.commit().await.unwrap();
    let stored = sellers::find_agreement(&t.conn, "acc_seller", "v1").await.unwrap().unwrap();
    assert_eq!(stored.accepted_at, first);
}

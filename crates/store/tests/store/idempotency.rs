//! Idempotency keys: a key is claimed once per account; a second claim is a
//! `Conflict` on both backends, also while the first is uncommitted.

use crate::common::{TestDb, time};
use mercato_store::repo::idempotency;
use mercato_store::{Db, StoreError};

#[tokio::test]
async fn a_key_is_claimed_once_per_account() {
    let t = TestDb::new().await;
    let at = time("2026-03-01T10:00:00Z");
    idempotency::claim(&t.conn, "acc_1", "key-1", "hash-a", at).await.unwrap();
    let second = idempotency::claim(&t.conn, "acc_1", "key-1", "hash-b", at).await;
    assert!(matches!(second, Err(StoreError::Conflict(_))), "{second:?}");
    idempotency::claim(&t.conn, "acc_2", "key-1", "hash-c", at).await.expect("keys are per account");

    let claimed = idempotency::find(&t.conn, "acc_1", "key-1").await.unwrap().unwrap();
    assert_eq!((claimed.request_hash.as_str(), claimed.status_code, claimed.response_body), ("hash-a", None, None));
    idempotency::complete(&t.conn, "acc_1", "key-1", 201, r#"{"id":1}"#).await.unwrap();
    let done = idempotency::find(&t.conn, "acc_1", "key-1").await.unwrap().unwrap();
    assert_eq!((done.status_code, done.response_body.as_deref()), (Some(201), Some(r#"{"id":1}"#)));
    assert_eq!(idempotency::find(&t.conn, "acc_2", "key-1").await.unwrap().unwrap().status_code, None);

    // An expired key is forgotten, then claimed afresh.
    idempotency::delete(&t.conn, "acc_1", "key-1").await.unwrap();
    assert!(idempotency::find(&t.conn, "acc_1", "key-1").await.unwrap().is_none());
    idempotency::claim(&t.conn, "acc_1", "key-1", "hash-d", at).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_concurrent_claim_waits_for_the_first_and_conflicts() {
    let t = TestDb::new().await;
    let at = time("2026-03-01T10:00:00Z");
    let first = t.write().await.unwrap();
    idempotency::claim(&first, "acc_1", "key-1", "hash-a", at).await.unwrap();
    // The retry arrives while the first request is still running.
    let db: Db = (*t).clone();
    let retry = tokio::spawn(async move {
        let tx = db.write().await.unwrap();
        let claimed = idempotency::claim(&tx, "acc_1", "key-1", "hash-a", at).await;
        tx.rollback().await.unwrap();
        claimed
    });
    idempotency::complete(&first, "acc_1", "key-1", 200, "{}").await.unwrap();
    first.commit().await.unwrap();
    let claimed = retry.await.unwrap();
    assert!(matches!(claimed, Err(StoreError::Conflict(_))), "{claimed:?}");
    let stored = idempotency::find(&t.conn, "acc_1", "key-1").await.unwrap().unwrap();
    assert_eq!(stored.status_code, Some(200), "the first request's answer stands");
}

#[tokio::test]
async fn keys_older_than_the_cutoff_are_purged() {
    let t = TestDb::new().await;
    for (key, at) in [("k1", "2026-03-01T08:00:00Z"), ("k2", "2026-03-01T09:00:00Z"), ("k3", "2026-03-01T10:00:00Z")] {
        idempotency::claim(&t.conn, "acc_1", key, "h", time(at)).await.unwrap();
    }
    assert_eq!(idempotency::purge_before(&t.conn, time("2026-03-01T09:00:00Z")).await.unwrap(), 1);
    assert!(idempotency::find(&t.conn, "acc_1", "k1").await.unwrap().is_none());
    assert!(idempotency::find(&t.conn, "acc_1", "k2").await.unwrap().is_some(), "the cutoff is exclusive");
    assert_eq!(idempotency::purge_before(&t.conn, time("2026-03-02T00:00:00Z")).await.unwrap(), 2);
}

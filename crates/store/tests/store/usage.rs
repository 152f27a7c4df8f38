//! Usage records: the push insert (PostgreSQL `UNNEST`, SQLite `VALUES` in
//! chunks under the bind limit) and the validator's set-based reads and
//! conditional updates (PostgreSQL array joins, SQLite chunks of keys).

use crate::common::{TestDb, advisory_locks_of_others, time};
use crate::fixtures::{Market, Sub, account};
use chrono::{DateTime, Duration, Utc};
use mercato_domain::account::Role;
use mercato_domain::ids::UsageBatchId;
use mercato_domain::usage::UsageRecord;
use mercato_store::Db;
use mercato_store::entity::usage_record;
use mercato_store::repo::usage::{
    self, Outcome, STATUS_DUPLICATE, STATUS_ERROR, STATUS_RECEIVED, STATUS_VALID, Window,
};
use mercato_store::sea_orm::ConnectionTrait;
use std::collections::BTreeSet;

const SELLER: &str = "acc_seller";
const OTHER_SELLER: &str = "acc_other";
/// Rows one SQLite insert carries (32766 binds / 9 per row); batches above
/// it take two statements there.
const SQLITE_ROWS_PER_INSERT: usize = 3640;
/// Keys per SQLite update or lookup statement.
const SQLITE_KEYS_PER_STATEMENT: usize = 1000;

fn sn(n: usize) -> String {
    format!("sn{n:06}")
}

fn hour(n: usize) -> DateTime<Utc> {
    time("2026-03-01T00:00:00Z") + Duration::hours(n as i64)
}

/// Record `n`: its own hour on instance `ins<n % 7>`.
fn record(n: usize) -> UsageRecord {
    UsageRecord {
        instance_id: format!("ins{}", n % 7),
        metering_sn: sn(n),
        record_time: None,
        begin_time: hour(n),
        end_time: hour(n) + Duration::seconds(3599),
        usage_e4: 10_000,
        relate_pkg_instance: None,
        position: n as u32,
    }
}

fn records(range: std::ops::Range<usize>) -> Vec<UsageRecord> {
    range.map(record).collect()
}

/// A test database with the two sellers.
async fn setup() -> TestDb {
    let t = TestDb::new().await;
    account(&t.conn, SELLER, Role::Seller).await;
    account(&t.conn, OTHER_SELLER, Role::Seller).await;
    t
}

async fn push(db: &impl ConnectionTrait, seller: &str, at: DateTime<Utc>, records: &[UsageRecord]) -> u64 {
    usage::insert_received(db, seller, at, UsageBatchId::new().as_str(), records).await.unwrap()
}

/// The seller's stored records by metering_sn.
async fn stored(t: &TestDb, seller: &str) -> Vec<usage_record::Model> {
    usage::list_for_seller(&t.conn, seller).await.unwrap()
}

async fn find(t: &TestDb, seller: &str, metering_sn: &str) -> usage_record::Model {
    stored(t, seller).await.into_iter().find(|r| r.metering_sn == metering_sn).expect("stored record")
}

fn keys(seller: &str, range: std::ops::Range<usize>) -> Vec<(String, String)> {
    range.map(|n| (seller.to_string(), sn(n))).collect()
}

fn error(code: &str) -> Outcome {
    Outcome {
        status: STATUS_ERROR,
        error_code: Some(code.into()),
        error_reason: Some(format!("reason {code}")),
        duplicate_of: None,
        billing: None,
    }
}

fn valid(billing: &'static str) -> Outcome {
    Outcome { status: STATUS_VALID, error_code: None, error_reason: None, duplicate_of: None, billing: Some(billing) }
}

#[tokio::test]
async fn a_push_stores_every_record_once_with_its_values() {
    let t = setup().await;
    let at = time("2026-03-02T10:00:00Z");
    // Above one SQLite statement, with optional values both set and absent
    // (PostgreSQL's array binds encode absent ones specially).
    let n = SQLITE_ROWS_PER_INSERT + 60;
    let batch: Vec<UsageRecord> = (0..n)
        .map(|i| UsageRecord {
            record_time: (i % 2 == 0).then(|| hour(i) + Duration::hours(1)),
            relate_pkg_instance: (i % 3 == 0).then(|| format!("pkg{i}")),
            usage_e4: 1_000_000_000_000 + i as i64,
            ..record(i)
        })
        .collect();
    assert_eq!(push(&t.conn, SELLER, at, &batch).await, n as u64);
    assert_eq!(usage::count_for_seller(&t.conn, SELLER).await.unwrap(), n as u64);
    let rows = stored(&t, SELLER).await;
    assert_eq!(rows.len(), n);
    for (row, r) in rows.iter().zip(&batch) {
        assert_eq!(row.seller_id, SELLER);
        assert_eq!(row.metering_sn, r.metering_sn);
        assert_eq!(row.instance_id, r.instance_id);
        assert_eq!(row.record_time, r.record_time, "{}", r.metering_sn);
        assert_eq!((row.begin_time, row.end_time), (r.begin_time, r.end_time));
        assert_eq!(row.usage_e4, r.usage_e4);
        assert_eq!(row.relate_pkg_instance, r.relate_pkg_instance, "{}", r.metering_sn);
        assert_eq!(row.received_at, at);
        assert_eq!(row.status, STATUS_RECEIVED);
        assert_eq!((&row.error_code, &row.duplicate_of, &row.billing), (&None, &None, &None));
    }

    // A retried push inserts nothing; an overlapping one only the new records.
    assert_eq!(push(&t.conn, SELLER, at, &batch).await, 0);
    assert_eq!(push(&t.conn, SELLER, at, &records(n - 50..n + 50)).await, 50);
    assert_eq!(usage::count_for_seller(&t.conn, SELLER).await.unwrap(), n as u64 + 50);
    // metering_sn is unique per seller only.
    assert_eq!(push(&t.conn, OTHER_SELLER, at, &records(0..10)).await, 10);
    assert_eq!(usage::count_for_seller(&t.conn, OTHER_SELLER).await.unwrap(), 10);
}

#[tokio::test]
async fn a_resent_error_record_is_replaced_and_other_records_stay() {
    let t = setup().await;
    let first = time("2026-03-02T10:00:00Z");
    push(&t.conn, SELLER, first, &records(0..4)).await;
    usage::set_outcome(&t.conn, &error("MKT.9001"), &keys(SELLER, 0..1)).await.unwrap();
    usage::set_outcome(&t.conn, &valid("hourly"), &keys(SELLER, 1..2)).await.unwrap();
    usage::set_duplicates(&t.conn, "MKT.9006", &[(SELLER.into(), sn(2), sn(1))]).await.unwrap();

    // Every record corrected and resent: only the error record is replaced.
    let later = time("2026-03-02T11:00:00Z");
    let corrected: Vec<UsageRecord> = (0..4)
        .map(|i| UsageRecord {
            instance_id: "ins-fixed".into(),
            record_time: Some(hour(i)),
            usage_e4: 77,
            relate_pkg_instance: Some("pkg-fixed".into()),
            ..record(i)
        })
        .collect();
    assert_eq!(push(&t.conn, SELLER, later, &corrected).await, 1);

    let replaced = find(&t, SELLER, &sn(0)).await;
    assert_eq!(replaced.status, STATUS_RECEIVED);
    assert_eq!((replaced.error_code, replaced.error_reason, replaced.duplicate_of), (None, None, None));
    assert_eq!(replaced.instance_id, "ins-fixed");
    assert_eq!(replaced.record_time, Some(hour(0)));
    assert_eq!(replaced.usage_e4, 77);
    assert_eq!(replaced.relate_pkg_instance.as_deref(), Some("pkg-fixed"));
    assert_eq!(replaced.received_at, later);

    let kept_valid = find(&t, SELLER, &sn(1)).await;
    assert_eq!((kept_valid.status.as_str(), kept_valid.billing.as_deref()), (STATUS_VALID, Some("hourly")));
    let kept_duplicate = find(&t, SELLER, &sn(2)).await;
    assert_eq!(kept_duplicate.status, STATUS_DUPLICATE);
    assert_eq!(kept_duplicate.duplicate_of, Some(sn(1)));
    let kept_received = find(&t, SELLER, &sn(3)).await;
    assert_eq!(kept_received.status, STATUS_RECEIVED);
    for kept in [kept_valid, kept_duplicate, kept_received] {
        assert_eq!((kept.usage_e4, kept.received_at), (10_000, first), "{}", kept.metering_sn);
        assert_eq!(kept.relate_pkg_instance, None);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn overlapping_concurrent_pushes_store_each_record_once() {
    let t = setup().await;
    let mut pushes = Vec::new();
    for p in 0..4 {
        let db: Db = (*t).clone();
        // Sorted by metering_sn, as the server sorts every push.
        let batch = records(p * 100..p * 100 + 300);
        pushes.push(tokio::spawn(async move {
            let tx = db.write().await.unwrap();
            let n = push(&tx, SELLER, time("2026-03-02T10:00:00Z"), &batch).await;
            tx.commit().await.unwrap();
            n
        }));
    }
    let mut accepted = 0;
    for p in pushes {
        accepted += p.await.unwrap();
    }
    assert_eq!(accepted, 600, "each of the 600 distinct records counted once");
    assert_eq!(usage::count_for_seller(&t.conn, SELLER).await.unwrap(), 600);
}

#[tokio::test]
async fn received_records_are_taken_oldest_first() {
    let t = setup().await;
    let (t1, t2) = (time("2026-03-02T10:00:00Z"), time("2026-03-02T10:00:01Z"));
    push(&t.conn, SELLER, t2, &records(0..2)).await;
    push(&t.conn, SELLER, t1, &records(2..5)).await;
    push(&t.conn, OTHER_SELLER, t1, &records(0..1)).await;
    usage::set_outcome(&t.conn, &valid("hourly"), &keys(SELLER, 3..4)).await.unwrap();

    let order: Vec<(String, String)> =
        usage::received_chunk(&t.conn, 10).await.unwrap().into_iter().map(|r| (r.seller_id, r.metering_sn)).collect();
    // At t1 the seller's push came before the other seller's.
    let expected = vec![
        (SELLER.to_string(), sn(2)),
        (SELLER.to_string(), sn(4)),
        (OTHER_SELLER.to_string(), sn(0)),
        (SELLER.to_string(), sn(0)),
        (SELLER.to_string(), sn(1)),
    ];
    assert_eq!(order, expected, "by received_at, then push, then place in it; decided records left out");
    let two = usage::received_chunk(&t.conn, 2).await.unwrap();
    assert_eq!(two.len(), 2);
    assert_eq!(two[1].metering_sn, sn(4));
}

#[tokio::test]
async fn an_outcome_is_written_once_on_received_records_only() {
    let t = setup().await;
    let at = time("2026-03-02T10:00:00Z");
    let n = SQLITE_KEYS_PER_STATEMENT + 100;
    push(&t.conn, SELLER, at, &records(0..n)).await;
    push(&t.conn, OTHER_SELLER, at, &records(0..n)).await;

    // More keys than one SQLite statement takes, and one that is not stored.
    let mut errors = keys(SELLER, 0..n - 50);
    errors.push((SELLER.into(), "missing".into()));
    assert_eq!(usage::set_outcome(&t.conn, &error("MKT.9002"), &errors).await.unwrap(), (n - 50) as u64);
    // A racing validator deciding overlapping keys changes only the rest.
    let late = keys(SELLER, n - 100..n);
    assert_eq!(usage::set_outcome(&t.conn, &valid("daily"), &late).await.unwrap(), 50);
    assert_eq!(usage::set_outcome(&t.conn, &valid("daily"), &late).await.unwrap(), 0);

    let rows = stored(&t, SELLER).await;
    for (i, row) in rows.iter().enumerate() {
        if i < n - 50 {
            assert_eq!(row.status, STATUS_ERROR, "{}", row.metering_sn);
            assert_eq!(row.error_code.as_deref(), Some("MKT.9002"));
            assert_eq!(row.error_reason.as_deref(), Some("reason MKT.9002"));
            assert_eq!(row.billing, None);
        } else {
            assert_eq!(row.status, STATUS_VALID, "{}", row.metering_sn);
            assert_eq!((row.error_code.as_deref(), row.billing.as_deref()), (None, Some("daily")));
        }
    }
    let others = stored(&t, OTHER_SELLER).await;
    assert!(others.iter().all(|r| r.status == STATUS_RECEIVED), "another seller's records are untouched");
}

#[tokio::test]
async fn duplicates_name_their_first_record_once() {
    let t = setup().await;
    let n = SQLITE_KEYS_PER_STATEMENT + 100;
    push(&t.conn, SELLER, time("2026-03-02T10:00:00Z"), &records(0..n)).await;
    assert_eq!(usage::set_duplicates(&t.conn, "MKT.9006", &[]).await.unwrap(), 0);
    usage::set_outcome(&t.conn, &error("MKT.9001"), &keys(SELLER, 0..1)).await.unwrap();

    let rows: Vec<(String, String, String)> =
        (0..n).map(|i| (SELLER.into(), sn(i), format!("first{}", i % 3))).collect();
    assert_eq!(usage::set_duplicates(&t.conn, "MKT.9006", &rows).await.unwrap(), n as u64 - 1);
    assert_eq!(usage::set_duplicates(&t.conn, "MKT.9006", &rows).await.unwrap(), 0, "decided once");

    for (i, row) in stored(&t, SELLER).await.iter().enumerate() {
        if i == 0 {
            assert_eq!(row.status, STATUS_ERROR, "a decided record is not a duplicate");
            continue;
        }
        let first = format!("first{}", i % 3);
        assert_eq!(row.status, STATUS_DUPLICATE, "{}", row.metering_sn);
        assert_eq!(row.error_code.as_deref(), Some("MKT.9006"));
        assert_eq!(row.error_reason, Some(format!("duplicate of metering_sn {first}")));
        assert_eq!(row.duplicate_of, Some(first));
    }
}

#[tokio::test]
async fn valid_windows_finds_the_valid_records_of_the_windows_asked() {
    let t = setup().await;
    let at = time("2026-03-02T10:00:00Z");
    let n = SQLITE_KEYS_PER_STATEMENT + 200;
    push(&t.conn, SELLER, at, &records(0..n)).await;
    usage::set_outcome(&t.conn, &valid("hourly"), &keys(SELLER, 0..n)).await.unwrap();
    // Same windows as records 0-2, but not valid: never a duplicate's first.
    let shadows: Vec<UsageRecord> =
        (0..3).map(|i| UsageRecord { metering_sn: format!("shadow{i}"), ..record(i) }).collect();
    push(&t.conn, SELLER, at, &shadows).await;
    usage::set_outcome(&t.conn, &error("MKT.9005"), &[(SELLER.into(), "shadow0".into())]).await.unwrap();

    let window = |r: &UsageRecord| -> Window { (r.instance_id.clone(), r.begin_time, r.end_time) };
    // All but the first 100 windows, plus two that hold nothing.
    let mut asked: Vec<Window> = records(100..n).iter().map(window).collect();
    asked.push(("ins0".into(), hour(n + 1), hour(n + 2)));
    asked.push(("nobody".into(), hour(0), hour(0) + Duration::seconds(3599)));
    let found: BTreeSet<String> =
        usage::valid_windows(&t.conn, &asked).await.unwrap().into_iter().map(|r| r.metering_sn).collect();
    assert_eq!(found, (100..n).map(sn).collect::<BTreeSet<_>>());

    let first_three: Vec<Window> = records(0..3).iter().map(window).collect();
    let found: Vec<String> =
        usage::valid_windows(&t.conn, &first_three).await.unwrap().into_iter().map(|r| r.metering_sn).collect();
    assert_eq!(found.into_iter().collect::<BTreeSet<_>>(), (0..3).map(sn).collect());
    assert!(usage::valid_windows(&t.conn, &[]).await.unwrap().is_empty());
}

#[tokio::test]
async fn the_validator_lock_lasts_until_the_transaction_ends() {
    let t = setup().await;
    let tx = t.write().await.unwrap();
    usage::lock_validator(&tx).await.unwrap();
    // Taking it again in the same transaction does not wait on itself.
    usage::lock_validator(&tx).await.unwrap();
    if t.is_postgres() {
        let observer = t.connect().await;
        assert_eq!(advisory_locks_of_others(&observer).await, 1);
        tx.commit().await.unwrap();
        assert_eq!(advisory_locks_of_others(&observer).await, 0);
    } else {
        // SQLite: nothing to take, the write transaction is already alone.
        tx.commit().await.unwrap();
    }
}

#[tokio::test]
async fn errors_are_listed_by_metering_sn_after_the_cursor() {
    let t = setup().await;
    push(&t.conn, SELLER, time("2026-03-02T10:00:00Z"), &records(0..14)).await;
    push(&t.conn, OTHER_SELLER, time("2026-03-02T10:00:00Z"), &records(0..14)).await;
    usage::set_outcome(&t.conn, &error("MKT.9001"), &keys(SELLER, 0..6)).await.unwrap();
    usage::set_outcome(&t.conn, &error("MKT.9001"), &keys(OTHER_SELLER, 0..14)).await.unwrap();
    let dups: Vec<_> = (6..10).map(|i| (SELLER.to_string(), sn(i), sn(0))).collect();
    usage::set_duplicates(&t.conn, "MKT.9006", &dups).await.unwrap();

    let sns = |rows: Vec<usage_record::Model>| rows.into_iter().map(|r| r.metering_sn).collect::<Vec<_>>();
    let both = [STATUS_ERROR, STATUS_DUPLICATE];
    let all = usage::list_errors(&t.conn, SELLER, None, &both, None, 100).await.unwrap();
    assert_eq!(sns(all), (0..10).map(sn).collect::<Vec<_>>());
    let page = usage::list_errors(&t.conn, SELLER, None, &both, Some(&sn(3)), 3).await.unwrap();
    assert_eq!(sns(page), vec![sn(4), sn(5), sn(6)]);
    let dup_only = usage::list_errors(&t.conn, SELLER, None, &[STATUS_DUPLICATE], None, 100).await.unwrap();
    assert_eq!(sns(dup_only), (6..10).map(sn).collect::<Vec<_>>());
    // Records 0 and 7 are on instance ins0.
    let ins0 = usage::list_errors(&t.conn, SELLER, Some("ins0"), &both, None, 100).await.unwrap();
    assert_eq!(sns(ins0), vec![sn(0), sn(7)]);
}

#[tokio::test]
async fn instances_are_found_in_any_number_of_ids() {
    let t = TestDb::new().await;
    let m = Market::new(&t.conn, "a").await;
    m.subscribe(&t.conn, Sub::on_demand("sub_1", "ins-1")).await;
    m.subscribe(&t.conn, Sub::on_demand("sub_2", "ins-2")).await;
    m.subscribe(&t.conn, Sub { instance: None, ..Sub::on_demand("sub_3", "") }).await;
    // More ids than one lookup takes (5000), the known ones in both parts.
    let mut ids: Vec<String> = (0..6000).map(|i| format!("unknown{i}")).collect();
    ids.insert(10, "ins-1".into());
    ids.push("ins-2".into());
    let mut found: Vec<String> =
        usage::subscriptions_of_instances(&t.conn, &ids).await.unwrap().into_iter().map(|s| s.id).collect();
    found.sort();
    assert_eq!(found, ["sub_1", "sub_2"]);
}

#[tokio::test]
async fn received_records_are_taken_in_push_order_not_by_metering_sn() {
    let t = setup().await;
    let at = time("2026-03-01T10:00:00Z");
    // One push: "z" before "a" (the batch is stored sorted by metering_sn).
    let first = [
        UsageRecord { metering_sn: "z".into(), position: 0, ..record(1) },
        UsageRecord { metering_sn: "a".into(), position: 1, ..record(2) },
    ];
    let mut sorted = first.clone();
    sorted.sort_by(|x, y| x.metering_sn.cmp(&y.metering_sn));
    assert_eq!(usage::insert_received(&t.conn, SELLER, at, UsageBatchId::new().as_str(), &sorted).await.unwrap(), 2);
    // A later push at the same (frozen) time comes after the whole first one.
    let second = [UsageRecord { metering_sn: "0".into(), position: 0, ..record(3) }];
    assert_eq!(usage::insert_received(&t.conn, SELLER, at, UsageBatchId::new().as_str(), &second).await.unwrap(), 1);
    let order: Vec<String> =
        usage::received_chunk(&t.conn, 10).await.unwrap().into_iter().map(|r| r.metering_sn).collect();
    assert_eq!(order, ["z", "a", "0"]);
}

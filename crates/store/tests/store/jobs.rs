//! Jobs and periodic tasks: conditional updates decide which worker or node
//! wins a job, a lease or a slot, with the same statements on both backends.

use crate::common::{TestDb, time};
use chrono::{DateTime, Duration, Utc};
use mercato_store::Db;
use mercato_store::repo::jobs::{
    self, DEAD, DONE, Finish, Moment, NewJob, OUTCOME_DONE, OUTCOME_LEASE_EXPIRED, PENDING, RUNNING,
};

fn t0() -> DateTime<Utc> {
    time("2026-03-01T10:00:00Z")
}

fn secs(n: i64) -> DateTime<Utc> {
    t0() + Duration::seconds(n)
}

fn ids(v: Vec<mercato_store::entity::job::Model>) -> Vec<String> {
    v.into_iter().map(|j| j.id).collect()
}

fn job<'a>(id: &'a str, kind: &'a str, reference: &'a str, run_at: DateTime<Utc>) -> NewJob<'a> {
    NewJob { id, kind, reference, payload_json: "{}", run_at }
}

#[tokio::test]
async fn a_job_is_enqueued_once_per_kind_and_reference() {
    let t = TestDb::new().await;
    // In one transaction: the refused duplicate must not abort it.
    let tx = t.write().await.unwrap();
    assert!(jobs::enqueue(&tx, job("job_1", "notify", "oln_1", t0()), t0()).await.unwrap());
    assert!(!jobs::enqueue(&tx, job("job_2", "notify", "oln_1", t0()), t0()).await.unwrap());
    assert!(jobs::enqueue(&tx, job("job_3", "provision", "oln_1", t0()), t0()).await.unwrap());
    tx.commit().await.unwrap();
    assert!(jobs::find(&t.conn, "job_2").await.unwrap().is_none());
    let j = jobs::find_by_reference(&t.conn, "notify", "oln_1").await.unwrap().unwrap();
    assert_eq!((j.id.as_str(), j.status.as_str(), j.attempts), ("job_1", PENDING, 0));
}

#[tokio::test]
async fn due_lists_what_may_be_claimed_oldest_first() {
    let t = TestDb::new().await;
    let kinds = ["a".to_string(), "b".to_string()];
    jobs::enqueue(&t.conn, job("job_later", "a", "1", secs(60)), t0()).await.unwrap();
    jobs::enqueue(&t.conn, job("job_now", "a", "2", secs(0)), t0()).await.unwrap();
    jobs::enqueue(&t.conn, job("job_old", "b", "3", secs(-60)), t0()).await.unwrap();
    jobs::enqueue(&t.conn, job("job_stalled", "a", "4", secs(-120)), t0()).await.unwrap();
    jobs::enqueue(&t.conn, job("job_busy", "a", "5", secs(-180)), t0()).await.unwrap();
    jobs::enqueue(&t.conn, job("job_newer_node", "c", "6", secs(0)), t0()).await.unwrap();
    jobs::claim(&t.conn, "job_stalled", "w1", secs(-120), secs(-10)).await.unwrap().unwrap();
    jobs::claim(&t.conn, "job_busy", "w1", secs(-180), secs(30)).await.unwrap().unwrap();

    // A running job whose lease expired is due again; one still leased is not.
    assert_eq!(ids(jobs::due(&t.conn, t0(), &kinds, 10).await.unwrap()), ["job_stalled", "job_old", "job_now"]);
    assert_eq!(ids(jobs::due(&t.conn, t0(), &kinds, 2).await.unwrap()), ["job_stalled", "job_old"]);
    assert_eq!(ids(jobs::due(&t.conn, t0(), &kinds[..1], 10).await.unwrap()), ["job_stalled", "job_now"]);
    assert!(jobs::due(&t.conn, t0(), &[], 10).await.unwrap().is_empty());
    assert_eq!(jobs::due_unknown_kinds(&t.conn, t0(), &kinds).await.unwrap(), ["c"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn exactly_one_of_many_workers_claims_a_job() {
    let t = TestDb::new().await;
    jobs::enqueue(&t.conn, job("job_1", "a", "1", t0()), t0()).await.unwrap();
    let mut workers = Vec::new();
    for w in 0..8 {
        let db: Db = (*t).clone();
        workers.push(tokio::spawn(async move {
            let tx = db.write().await.unwrap();
            let claimed = jobs::claim(&tx, "job_1", &format!("w{w}"), t0(), secs(30)).await.unwrap();
            tx.commit().await.unwrap();
            claimed
        }));
    }
    let mut claims = Vec::new();
    for w in workers {
        claims.extend(w.await.unwrap());
    }
    assert_eq!(claims.len(), 1, "one winner");
    let won = &claims[0];
    assert_eq!((won.status.as_str(), won.attempts, won.lease_expires_at), (RUNNING, 1, Some(secs(30))));
    let attempts = jobs::attempts(&t.conn, "job_1").await.unwrap();
    assert_eq!(attempts.len(), 1);
    assert_eq!((attempts[0].attempt, &attempts[0].owner), (1, won.lease_owner.as_ref().unwrap()));
}

/// Due-ness follows the marketplace's time, leases real time: on a test
/// clock standing still a crashed worker's lease still runs out, and a test
/// clock moved far ahead does not end a live lease.
#[tokio::test]
async fn leases_run_out_in_real_time_whatever_the_marketplace_time() {
    let t = TestDb::new().await;
    let kinds = ["a".to_string()];
    jobs::enqueue(&t.conn, job("job_1", "a", "1", t0()), t0()).await.unwrap();
    jobs::enqueue(&t.conn, job("job_later", "a", "2", secs(3_600)), t0()).await.unwrap();
    let frozen = |real: i64| Moment { now: t0(), real: secs(real) };
    jobs::claim(&t.conn, "job_1", "w1", frozen(0), secs(30)).await.unwrap().expect("claimed");
    let ahead = Moment { now: secs(86_400), real: secs(10) };
    assert_eq!(ids(jobs::due(&t.conn, ahead, &kinds, 10).await.unwrap()), ["job_later"], "a live lease");
    assert!(jobs::claim(&t.conn, "job_1", "w2", ahead, secs(40)).await.unwrap().is_none());
    assert_eq!(ids(jobs::due(&t.conn, frozen(30), &kinds, 10).await.unwrap()), ["job_1"], "the lease ran out");
    let again = jobs::claim(&t.conn, "job_1", "w2", frozen(30), secs(60)).await.unwrap().expect("taken over");
    assert_eq!(again.attempts, 2);
    assert!(
        jobs::claim(&t.conn, "job_later", "w2", frozen(100_000), secs(100_030)).await.unwrap().is_none(),
        "not due"
    );
}

#[tokio::test]
async fn a_lease_is_kept_by_renewing_and_lost_by_expiring() {
    let t = TestDb::new().await;
    jobs::enqueue(&t.conn, job("job_1", "a", "1", t0()), t0()).await.unwrap();
    let first = jobs::claim(&t.conn, "job_1", "w1", t0(), secs(30)).await.unwrap().unwrap();
    assert_eq!((first.attempts, first.first_attempt_at), (1, Some(t0())));
    assert!(jobs::claim(&t.conn, "job_1", "w2", secs(10), secs(40)).await.unwrap().is_none(), "leased");
    assert!(jobs::renew_lease(&t.conn, "job_1", "w1", 1, secs(20), secs(60)).await.unwrap());
    assert!(!jobs::renew_lease(&t.conn, "job_1", "w2", 1, secs(20), secs(90)).await.unwrap(), "not w2's");
    assert!(!jobs::renew_lease(&t.conn, "job_1", "w1", 2, secs(20), secs(90)).await.unwrap(), "not that attempt");
    assert!(jobs::claim(&t.conn, "job_1", "w2", secs(45), secs(75)).await.unwrap().is_none(), "renewed");

    // w1 stalls past its lease: w2 takes the job over.
    let second = jobs::claim(&t.conn, "job_1", "w2", secs(60), secs(90)).await.unwrap().unwrap();
    assert_eq!((second.attempts, second.first_attempt_at), (2, Some(t0())));
    assert!(!jobs::renew_lease(&t.conn, "job_1", "w1", 1, secs(61), secs(120)).await.unwrap());
    assert!(!jobs::finish(&t.conn, "job_1", "w1", 1, secs(62), &Finish::Done).await.unwrap(), "w1 lost it");
    assert!(!jobs::finish(&t.conn, "job_1", "w1", 2, secs(62), &Finish::Done).await.unwrap(), "not w1's attempt");
    assert!(jobs::finish(&t.conn, "job_1", "w2", 2, secs(63), &Finish::Done).await.unwrap());
    assert!(!jobs::finish(&t.conn, "job_1", "w2", 2, secs(64), &Finish::Done).await.unwrap(), "finished once");

    let done = jobs::find(&t.conn, "job_1").await.unwrap().unwrap();
    assert_eq!((done.status.as_str(), done.lease_owner, done.lease_expires_at), (DONE, None, None));
    let attempts = jobs::attempts(&t.conn, "job_1").await.unwrap();
    let outcomes: Vec<_> =
        attempts.iter().map(|a| (a.attempt, a.owner.as_str(), a.outcome.as_deref(), a.finished_at)).collect();
    assert_eq!(
        outcomes,
        [(1, "w1", Some(OUTCOME_LEASE_EXPIRED), Some(secs(60))), (2, "w2", Some(OUTCOME_DONE), Some(secs(63)))]
    );
}

#[tokio::test]
async fn an_expired_lease_nobody_took_over_still_finishes() {
    let t = TestDb::new().await;
    jobs::enqueue(&t.conn, job("job_1", "a", "1", t0()), t0()).await.unwrap();
    jobs::claim(&t.conn, "job_1", "w1", t0(), secs(30)).await.unwrap().unwrap();
    assert!(jobs::finish(&t.conn, "job_1", "w1", 1, secs(100), &Finish::Done).await.unwrap());
}

#[tokio::test]
async fn retried_and_dead_jobs_run_again_only_when_due_or_requeued() {
    let t = TestDb::new().await;
    jobs::enqueue(&t.conn, job("job_1", "a", "1", t0()), t0()).await.unwrap();
    jobs::claim(&t.conn, "job_1", "w1", t0(), secs(30)).await.unwrap().unwrap();
    let retry = Finish::Retry { run_at: secs(300), error: "timeout".into() };
    assert!(jobs::finish(&t.conn, "job_1", "w1", 1, secs(5), &retry).await.unwrap());
    let pending = jobs::find(&t.conn, "job_1").await.unwrap().unwrap();
    assert_eq!((pending.status.as_str(), pending.run_at), (PENDING, secs(300)));
    assert_eq!((pending.last_error.as_deref(), pending.lease_owner), (Some("timeout"), None));
    assert!(jobs::claim(&t.conn, "job_1", "w1", secs(299), secs(330)).await.unwrap().is_none(), "not due yet");
    let again = jobs::claim(&t.conn, "job_1", "w2", secs(300), secs(330)).await.unwrap().unwrap();
    assert_eq!((again.attempts, again.first_attempt_at), (2, Some(t0())), "the first attempt's time is kept");
    assert!(!jobs::requeue(&t.conn, "job_1", secs(301)).await.unwrap(), "a running job is not requeued");

    let dead = Finish::Dead { error: "gone".into() };
    assert!(jobs::finish(&t.conn, "job_1", "w2", 2, secs(310), &dead).await.unwrap());
    assert_eq!(jobs::find(&t.conn, "job_1").await.unwrap().unwrap().status, DEAD);
    assert!(jobs::claim(&t.conn, "job_1", "w3", secs(400), secs(430)).await.unwrap().is_none(), "dead stays dead");
    assert!(jobs::requeue(&t.conn, "job_1", secs(500)).await.unwrap());
    let requeued = jobs::find(&t.conn, "job_1").await.unwrap().unwrap();
    assert_eq!((requeued.status.as_str(), requeued.run_at), (PENDING, secs(500)));
    let third = jobs::claim(&t.conn, "job_1", "w3", secs(500), secs(530)).await.unwrap().unwrap();
    assert!(jobs::finish(&t.conn, "job_1", "w3", third.attempts, secs(501), &Finish::Done).await.unwrap());
    assert!(!jobs::requeue(&t.conn, "job_1", secs(600)).await.unwrap(), "a done job is not requeued");
}

#[tokio::test]
async fn jobs_are_found_by_reference_or_literal_prefix() {
    let t = TestDb::new().await;
    for (id, reference) in
        [("job_1", "sub_1:arrears"), ("job_2", "sub_1:renew"), ("job_3", "subx1:renew"), ("job_4", "oln_9")]
    {
        jobs::enqueue(&t.conn, job(id, "a", reference, t0()), t0()).await.unwrap();
    }
    let found = jobs::for_references(&t.conn, &["oln_9".into()], &["sub_1:".into()]).await.unwrap();
    let ids: Vec<_> = found.into_iter().map(|j| j.id).collect();
    assert_eq!(ids, ["job_1", "job_2", "job_4"], "'_' in a prefix is not a wildcard");
    assert!(jobs::for_references(&t.conn, &[], &[]).await.unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn exactly_one_node_takes_a_periodic_slot() {
    let t = TestDb::new().await;
    jobs::ensure_task(&t.conn, "purge", secs(60)).await.unwrap();
    jobs::ensure_task(&t.conn, "purge", secs(999)).await.unwrap();
    assert_eq!(jobs::find_task(&t.conn, "purge").await.unwrap().unwrap().next_run_at, secs(60), "created once");
    assert_eq!(jobs::take_task(&t.conn, "purge", "n0", secs(59), secs(90)).await.unwrap(), None, "not due");

    let mut nodes = Vec::new();
    for n in 0..6 {
        let db: Db = (*t).clone();
        nodes.push(tokio::spawn(async move {
            let tx = db.write().await.unwrap();
            let slot = jobs::take_task(&tx, "purge", &format!("n{n}"), secs(61), secs(91)).await.unwrap();
            tx.commit().await.unwrap();
            slot.map(|s| (n, s))
        }));
    }
    let mut takers = Vec::new();
    for n in nodes {
        takers.extend(n.await.unwrap());
    }
    assert_eq!(takers.len(), 1, "one node runs the slot");
    let (winner, slot) = takers[0];
    assert_eq!(slot, secs(60));
    let owner = format!("n{winner}");
    let other = format!("n{}", (winner + 1) % 6);

    assert!(!jobs::finish_task(&t.conn, "purge", &other, secs(70), secs(120), None).await.unwrap());
    assert!(jobs::finish_task(&t.conn, "purge", &owner, secs(70), secs(120), Some("partial")).await.unwrap());
    let task = jobs::find_task(&t.conn, "purge").await.unwrap().unwrap();
    assert_eq!((task.owner, task.next_run_at, task.runs), (None, secs(120), 1));
    assert_eq!((task.last_owner.as_deref(), task.last_error.as_deref()), (Some(owner.as_str()), Some("partial")));
    assert_eq!(jobs::take_task(&t.conn, "purge", &other, secs(100), secs(130)).await.unwrap(), None, "next slot later");

    // A node that stalls past its lease loses the slot to another.
    assert_eq!(jobs::take_task(&t.conn, "purge", &owner, secs(120), secs(150)).await.unwrap(), Some(secs(120)));
    assert_eq!(jobs::take_task(&t.conn, "purge", &other, secs(149), secs(179)).await.unwrap(), None, "leased");
    assert_eq!(jobs::take_task(&t.conn, "purge", &other, secs(150), secs(180)).await.unwrap(), Some(secs(120)));
    assert!(!jobs::finish_task(&t.conn, "purge", &owner, secs(151), secs(180), None).await.unwrap());
    assert!(jobs::finish_task(&t.conn, "purge", &other, secs(152), secs(180), None).await.unwrap());
    assert_eq!(jobs::find_task(&t.conn, "purge").await.unwrap().unwrap().runs, 2);
}

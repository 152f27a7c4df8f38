//! The job runner, the periodic-task scheduler and the operator test clock,
//! on one node and on two nodes sharing a database.

use crate::helpers::{TestApp, spawn_app, spawn_node, spawn_on_test_clock, spawn_with};
use chrono::{DateTime, Utc};
use mercato_server::app::outbox::{self, JobOutcome, RetryPolicy};
use mercato_server::workers::{self, PeriodicTask, Registry};
use mercato_server::{AppState, runtime};
use mercato_store::repo::jobs::{self as job_repo, NewJob};
use serde_json::json;
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

const KIND: &str = "test.count";

/// Calls per job id, as a registered test handler saw them.
#[derive(Clone, Default)]
struct Calls(Arc<Mutex<HashMap<String, usize>>>);

impl Calls {
    fn record(&self, id: &str) {
        *self.0.lock().unwrap().entry(id.to_string()).or_default() += 1;
    }
    fn of(&self, id: &str) -> usize {
        self.0.lock().unwrap().get(id).copied().unwrap_or(0)
    }
    fn total(&self) -> usize {
        self.0.lock().unwrap().values().sum()
    }
}

/// Registers a handler for `KIND` on `registry` that records its calls and ends
/// each attempt with `outcome(attempt)`.
fn register(registry: &Registry, calls: &Calls, outcome: impl Fn(i64) -> JobOutcome + Send + Sync + 'static) {
    let calls = calls.clone();
    let outcome = Arc::new(outcome);
    registry.register(KIND, move |_state: AppState, job: outbox::JobView| {
        let (calls, outcome) = (calls.clone(), outcome.clone());
        async move {
            calls.record(&job.id);
            // Long enough for racing workers to overlap.
            tokio::time::sleep(Duration::from_millis(5)).await;
            outcome(job.attempt)
        }
    });
}

async fn enqueue(app: &TestApp, reference: &str, run_at: DateTime<Utc>) -> String {
    enqueue_kind(app, KIND, reference, run_at).await
}

async fn enqueue_kind(app: &TestApp, kind: &str, reference: &str, run_at: DateTime<Utc>) -> String {
    let id = String::from(mercato_domain::ids::JobId::new());
    let added = job_repo::enqueue(
        &app.state.db.conn,
        NewJob { id: &id, kind, reference, payload_json: r#"{"n":1}"#, run_at },
        app.state.now(),
    )
    .await
    .unwrap();
    assert!(added);
    id
}

async fn job(app: &TestApp, id: &str) -> mercato_store::entity::job::Model {
    job_repo::find(&app.state.db.conn, id).await.unwrap().expect("job exists")
}

/// Moves the test clock forward through the HTTP API; returns the new time.
async fn advance(app: &TestApp, op: &str, secs: i64) -> DateTime<Utc> {
    let body = app.post("/api/v1/operator/test-clock", Some(op), json!({"advance_secs": secs})).await.expect(200);
    body["now"].as_str().unwrap().parse().unwrap()
}

/// Waits until `app`'s clock shows at least `t` (another node moved it).
async fn wait_for_time(app: &TestApp, t: DateTime<Utc>) {
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while app.state.now() < t {
        assert!(std::time::Instant::now() < deadline, "the node's clock never reached {t}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn a_due_job_runs_exactly_once_and_its_attempt_is_recorded() {
    let app = spawn_on_test_clock().await;
    let calls = Calls::default();
    register(&app.registry, &calls, |_| JobOutcome::Done);
    let id = enqueue(&app, "ref-1", app.state.now()).await;

    let worker = app.worker("worker-a");
    assert_eq!(worker.run_due(10).await.unwrap(), 1);
    assert_eq!(worker.run_due(10).await.unwrap(), 0);
    assert_eq!(calls.of(&id), 1);

    let row = job(&app, &id).await;
    assert_eq!(row.status, job_repo::DONE);
    assert_eq!(row.attempts, 1);
    assert_eq!(row.lease_owner, None);
    let attempts = job_repo::attempts(&app.state.db.conn, &id).await.unwrap();
    assert_eq!(attempts.len(), 1);
    assert_eq!(attempts[0].attempt, 1);
    assert_eq!(attempts[0].owner, "worker-a");
    assert_eq!(attempts[0].outcome.as_deref(), Some(job_repo::OUTCOME_DONE));
    assert!(attempts[0].finished_at.is_some());
}

#[tokio::test]
async fn a_future_job_runs_only_once_the_test_clock_passes_it() {
    let app = spawn_on_test_clock().await;
    let op = app.operator().await;
    let calls = Calls::default();
    register(&app.registry, &calls, |_| JobOutcome::Done);
    let id = enqueue(&app, "ref-future", app.state.now() + chrono::Duration::hours(1)).await;

    let worker = app.worker("worker-a");
    assert_eq!(worker.run_due(10).await.unwrap(), 0);
    advance(&app, &op, 3599).await;
    assert_eq!(worker.run_due(10).await.unwrap(), 0);
    assert_eq!(calls.of(&id), 0);
    advance(&app, &op, 1).await;
    assert_eq!(worker.run_due(10).await.unwrap(), 1);
    assert_eq!(calls.of(&id), 1);
    assert_eq!(job(&app, &id).await.status, job_repo::DONE);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_workers_never_run_a_job_twice() {
    let app = spawn_on_test_clock().await;
    let calls = Calls::default();
    register(&app.registry, &calls, |_| JobOutcome::Done);
    let now = app.state.now();
    let mut ids = Vec::new();
    for i in 0..24 {
        ids.push(enqueue(&app, &format!("ref-{i}"), now).await);
    }
    let mut racing = tokio::task::JoinSet::new();
    for w in 0..4 {
        let worker = app.worker(format!("worker-{w}"));
        racing.spawn(async move {
            let mut ran = 0;
            for _ in 0..3 {
                ran += worker.run_due(24).await.unwrap();
            }
            ran
        });
    }
    let mut ran = 0;
    while let Some(n) = racing.join_next().await {
        ran += n.unwrap();
    }
    assert_eq!(ran, 24, "every job ran once in total");
    for id in &ids {
        assert_eq!(calls.of(id), 1, "job {id} ran once");
        assert_eq!(job(&app, id).await.attempts, 1);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_nodes_racing_on_one_database_run_each_job_once() {
    let a = spawn_on_test_clock().await;
    let b = spawn_node(&a, |_| {}).await;
    let calls = Calls::default();
    register(&a.registry, &calls, |_| JobOutcome::Done);
    register(&b.registry, &calls, |_| JobOutcome::Done);
    let now = a.state.now();
    for i in 0..16 {
        enqueue(&a, &format!("ref-{i}"), now).await;
    }
    let (wa, wb) = (a.worker("node-a"), b.worker("node-b"));
    let (ra, rb) = tokio::join!(
        async {
            let mut n = 0;
            for _ in 0..3 {
                n += wa.run_due(16).await.unwrap();
            }
            n
        },
        async {
            let mut n = 0;
            for _ in 0..3 {
                n += wb.run_due(16).await.unwrap();
            }
            n
        }
    );
    assert_eq!(ra + rb, 16);
    assert_eq!(calls.total(), 16);
}

#[tokio::test]
async fn an_abandoned_lease_is_taken_over_and_the_late_finish_is_refused() {
    // On the test clock, with a one-second lease: leases run in real time.
    let app = spawn_with(|c| {
        c.test_clock = true;
        c.worker_enabled = false;
        c.job_lease_secs = 1;
    })
    .await;
    let op = app.operator().await;
    let calls = Calls::default();
    register(&app.registry, &calls, |_| JobOutcome::Done);
    let id = enqueue(&app, "ref-abandoned", app.state.now()).await;

    // Worker A claims the job and then "dies" (never finishes).
    let claimed = workers::claim(&app.state, &id, "worker-a").await.unwrap().expect("A claims");
    assert_eq!(claimed.attempt, 1);
    assert!(workers::claim(&app.state, &id, "worker-x").await.unwrap().is_none(), "a held lease cannot be claimed");
    let b = app.worker("worker-b");
    assert_eq!(b.run_due(10).await.unwrap(), 0, "the lease has not expired");
    // Marketplace time does not end a lease: a day on the test clock later,
    // A still holds it.
    advance(&app, &op, 86_400).await;
    assert_eq!(b.run_due(10).await.unwrap(), 0, "the test clock does not expire leases");

    // A second of real time does, with the test clock standing still; B
    // takes over and finishes.
    let frozen = app.state.now();
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    assert_eq!(b.run_due(10).await.unwrap(), 1);
    assert_eq!(app.state.now(), frozen);
    assert_eq!(calls.of(&id), 1);

    // A comes back: its result is refused and changes nothing.
    let late = workers::finish(&app.state, &claimed, "worker-a", &JobOutcome::Dead { error: "late".into() }).await;
    assert!(!late.unwrap(), "A no longer holds the lease");
    let row = job(&app, &id).await;
    assert_eq!(row.status, job_repo::DONE);
    assert_eq!(row.attempts, 2);
    assert_eq!(row.last_error, None);

    let attempts = job_repo::attempts(&app.state.db.conn, &id).await.unwrap();
    let summary: Vec<_> = attempts.iter().map(|a| (a.attempt, a.owner.as_str(), a.outcome.as_deref())).collect();
    assert_eq!(
        summary,
        [(1, "worker-a", Some(job_repo::OUTCOME_LEASE_EXPIRED)), (2, "worker-b", Some(job_repo::OUTCOME_DONE))]
    );
}

#[tokio::test]
async fn retry_reschedules_with_the_delay_and_dead_stops() {
    let app = spawn_on_test_clock().await;
    let op = app.operator().await;
    let calls = Calls::default();
    register(&app.registry, &calls, |attempt| match attempt {
        1 => JobOutcome::Retry { after: Duration::from_secs(120), error: "seller down".into() },
        _ => JobOutcome::Dead { error: "seller refused".into() },
    });
    let start = app.state.now();
    let id = enqueue(&app, "ref-retry", start).await;
    let worker = app.worker("worker-a");

    assert_eq!(worker.run_due(10).await.unwrap(), 1);
    let row = job(&app, &id).await;
    assert_eq!(row.status, job_repo::PENDING);
    assert_eq!(row.run_at, start + chrono::Duration::seconds(120));
    assert_eq!(row.last_error.as_deref(), Some("seller down"));
    assert_eq!(row.lease_owner, None);

    assert_eq!(worker.run_due(10).await.unwrap(), 0);
    advance(&app, &op, 119).await;
    assert_eq!(worker.run_due(10).await.unwrap(), 0);
    advance(&app, &op, 1).await;
    assert_eq!(worker.run_due(10).await.unwrap(), 1);
    let row = job(&app, &id).await;
    assert_eq!(row.status, job_repo::DEAD);
    assert_eq!(row.last_error.as_deref(), Some("seller refused"));

    advance(&app, &op, 86_400).await;
    assert_eq!(worker.run_due(10).await.unwrap(), 0, "a dead job never runs again");
    assert_eq!(calls.of(&id), 2);
    let attempts = job_repo::attempts(&app.state.db.conn, &id).await.unwrap();
    let summary: Vec<_> = attempts.iter().map(|a| (a.outcome.as_deref(), a.error.as_deref())).collect();
    assert_eq!(summary, [(Some("retry"), Some("seller down")), (Some("dead"), Some("seller refused"))]);
}

#[tokio::test]
async fn a_retry_policy_backs_off_until_its_deadline_then_gives_up() {
    let app = spawn_on_test_clock().await;
    let op = app.operator().await;
    let calls = Calls::default();
    // 1 min, 2, 4, ... without jitter, for at most 10 minutes.
    let policy = RetryPolicy { jitter: 0.0, ..RetryPolicy::standard(Duration::from_secs(600)) };
    let seen: Arc<Mutex<Vec<DateTime<Utc>>>> = Arc::default();
    {
        let (calls, seen) = (calls.clone(), seen.clone());
        app.registry.register(KIND, move |state: AppState, job: outbox::JobView| {
            let (calls, seen) = (calls.clone(), seen.clone());
            async move {
                calls.record(&job.id);
                seen.lock().unwrap().push(state.now());
                policy.outcome(&job, state.now(), "seller unreachable")
            }
        });
    }
    let start = app.state.now();
    let id = enqueue(&app, "ref-policy", start).await;
    let worker = app.worker("worker-a");
    for _ in 0..20 {
        worker.run_due(10).await.unwrap();
        let row = job(&app, &id).await;
        if row.status != job_repo::PENDING {
            break;
        }
        let wait = (row.run_at - app.state.now()).num_seconds();
        advance(&app, &op, wait.max(1)).await;
    }
    assert_eq!(job(&app, &id).await.status, job_repo::DEAD);
    let offsets: Vec<i64> = seen.lock().unwrap().iter().map(|t| (*t - start).num_seconds()).collect();
    // 0, +1 min, +2, +4, then cut to the deadline at 10 min; that failure gives up.
    assert_eq!(offsets, [0, 60, 180, 420, 600]);
}

#[tokio::test]
async fn jobs_of_an_unknown_kind_stay_pending_for_a_newer_node() {
    let app = spawn_on_test_clock().await;
    let id = enqueue_kind(&app, "from.the.future", "ref-x", app.state.now()).await;
    let worker = app.worker("worker-a");
    assert_eq!(worker.run_due(10).await.unwrap(), 0);
    assert_eq!(worker.tick().await, 0);
    let row = job(&app, &id).await;
    assert_eq!(row.status, job_repo::PENDING);
    assert_eq!(row.attempts, 0);

    // A node that knows the kind runs it.
    let calls = Calls::default();
    let handled = calls.clone();
    app.registry.register("from.the.future", move |_s: AppState, job: outbox::JobView| {
        let calls = handled.clone();
        async move {
            calls.record(&job.id);
            assert_eq!(job.payload::<serde_json::Value>().unwrap(), json!({"n": 1}));
            JobOutcome::Done
        }
    });
    assert_eq!(worker.run_due(10).await.unwrap(), 1);
    assert_eq!(calls.of(&id), 1);
}

#[tokio::test]
async fn a_panicking_handler_is_retried_after_a_lease_period() {
    let app = spawn_on_test_clock().await;
    let op = app.operator().await;
    let calls = Calls::default();
    register(&app.registry, &calls, |attempt| {
        if attempt == 1 {
            panic!("handler bug");
        }
        JobOutcome::Done
    });
    let id = enqueue(&app, "ref-panic", app.state.now()).await;
    let worker = app.worker("worker-a");
    assert_eq!(worker.run_due(10).await.unwrap(), 1);
    let row = job(&app, &id).await;
    assert_eq!(row.status, job_repo::PENDING);
    assert_eq!(row.last_error.as_deref(), Some("the handler panicked"));
    advance(&app, &op, 60).await;
    assert_eq!(worker.run_due(10).await.unwrap(), 1);
    assert_eq!(job(&app, &id).await.status, job_repo::DONE);
}

#[tokio::test]
async fn the_background_worker_runs_jobs_when_the_test_clock_moves() {
    let app = spawn_with(|c| c.test_clock = true).await;
    let op = app.operator().await;
    let calls = Calls::default();
    register(&app.registry, &calls, |_| JobOutcome::Done);
    let id = enqueue(&app, "ref-loop", app.state.now() + chrono::Duration::days(30)).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(calls.of(&id), 0);
    advance(&app, &op, 30 * 86_400).await;
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while calls.of(&id) == 0 {
        assert!(std::time::Instant::now() < deadline, "the worker loop never ran the job");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while job(&app, &id).await.status != job_repo::DONE {
        assert!(std::time::Instant::now() < deadline, "the job never finished");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(calls.of(&id), 1);
}

#[tokio::test]
async fn the_test_clock_endpoints_move_time_forward_only() {
    let app = spawn_on_test_clock().await;
    let op = app.operator().await;
    let (_, buyer) = app.signup("buyer").await;

    let got = app.get("/api/v1/operator/test-clock", Some(&op)).await.expect(200);
    assert_eq!(got["enabled"], true);
    let t0: DateTime<Utc> = got["now"].as_str().unwrap().parse().unwrap();
    assert_eq!(t0, app.state.now());
    let ready = app.get("/readyz", None).await.expect(200);
    assert_eq!(ready["test_clock"], true);
    assert_eq!(ready["now"].as_str().unwrap().parse::<DateTime<Utc>>().unwrap(), t0);

    // Frozen: real time passing does not move it.
    tokio::time::sleep(Duration::from_millis(20)).await;
    assert_eq!(app.state.now(), t0);

    let t1 = advance(&app, &op, 3600).await;
    assert_eq!(t1, t0 + chrono::Duration::hours(1));
    assert_eq!(app.state.now(), t1);

    let target = t1 + chrono::Duration::days(40);
    let set = app.post("/api/v1/operator/test-clock", Some(&op), json!({"now": target.to_rfc3339()})).await.expect(200);
    assert_eq!(set["now"].as_str().unwrap().parse::<DateTime<Utc>>().unwrap(), target);
    // Setting the same time again is allowed (a no-op).
    app.post("/api/v1/operator/test-clock", Some(&op), json!({"now": target.to_rfc3339()})).await.expect(200);

    let back = (target - chrono::Duration::seconds(1)).to_rfc3339();
    // The clock's current time decides: a conflict that names it.
    let refused =
        app.post("/api/v1/operator/test-clock", Some(&op), json!({"now": back})).await.problem(409, "clock_backwards");
    assert!(refused["detail"].as_str().unwrap().contains(&target.format("%Y-%m-%dT%H:%M:%S").to_string()), "{refused}");
    let far = (target + chrono::Duration::days(3654)).to_rfc3339();
    app.post("/api/v1/operator/test-clock", Some(&op), json!({"now": far})).await.problem(409, "clock_jump_too_large");
    for bad in [
        json!({}),
        json!({"advance_secs": 60, "now": target.to_rfc3339()}),
        json!({"advance_secs": 0}),
        json!({"advance_secs": -5}),
        json!({"advance_secs": 3653 * 86_400 + 1}),
        json!({"now": "yesterday"}),
        json!({"advance_secs": null, "now": null}),
        json!({"advance_secs": 60, "extra": true}),
    ] {
        app.post("/api/v1/operator/test-clock", Some(&op), bad.clone()).await.problem(422, "validation_failed");
    }
    assert_eq!(app.state.now(), target, "refused changes left the clock alone");
    let ten_years =
        app.post("/api/v1/operator/test-clock", Some(&op), json!({"advance_secs": 3653 * 86_400})).await.expect(200);
    assert_eq!(
        ten_years["now"].as_str().unwrap().parse::<DateTime<Utc>>().unwrap(),
        target + chrono::Duration::days(3653)
    );

    // Operators only.
    app.get("/api/v1/operator/test-clock", Some(&buyer)).await.problem(403, "forbidden");
    app.post("/api/v1/operator/test-clock", None, json!({"advance_secs": 1})).await.problem(401, "unauthorized");
}

#[tokio::test]
async fn without_the_test_clock_the_endpoints_are_404_and_time_is_real() {
    let app = spawn_app().await;
    let op = app.operator().await;
    app.get("/api/v1/operator/test-clock", Some(&op)).await.problem(404, "test_clock_disabled");
    app.post("/api/v1/operator/test-clock", Some(&op), json!({"advance_secs": 60}))
        .await
        .problem(404, "test_clock_disabled");
    let ready = app.get("/readyz", None).await.expect(200);
    assert_eq!(ready["test_clock"], false);
    let now: DateTime<Utc> = ready["now"].as_str().unwrap().parse().unwrap();
    assert!((Utc::now() - now).num_seconds().abs() < 60);
}

#[tokio::test]
async fn a_database_on_the_test_clock_refuses_a_node_without_it() {
    let app = spawn_on_test_clock().await;
    let mut config = app.state.config.clone();
    config.test_clock = false;
    let refused = runtime::build_state(config, Arc::new(mercato_server::clock::SystemClock)).await;
    let message = format!("{:#}", refused.err().expect("refused"));
    assert!(message.contains("--test-clock"), "{message}");
}

#[tokio::test]
async fn two_nodes_share_the_test_clock() {
    let a = spawn_on_test_clock().await;
    let b = spawn_node(&a, |_| {}).await;
    let op = a.operator().await;
    assert_eq!(a.state.now(), b.state.now(), "the second node starts at the shared instant");

    let t = advance(&a, &op, 86_400).await;
    // B's cached clock catches up within the refresh bound (250 ms), by itself.
    wait_for_time(&b, t).await;
    assert_eq!(b.state.now(), t);
    let on_b = b.get("/api/v1/operator/test-clock", Some(&op)).await.expect(200);
    assert_eq!(on_b["now"].as_str().unwrap().parse::<DateTime<Utc>>().unwrap(), t);
    let ready = b.get("/readyz", None).await.expect(200);
    assert_eq!(ready["now"].as_str().unwrap().parse::<DateTime<Utc>>().unwrap(), t);

    // And the other way round.
    let t2 = b.post("/api/v1/operator/test-clock", Some(&op), json!({"advance_secs": 60})).await.expect(200);
    let t2: DateTime<Utc> = t2["now"].as_str().unwrap().parse().unwrap();
    assert_eq!(t2, t + chrono::Duration::seconds(60));
    wait_for_time(&a, t2).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_advances_on_two_nodes_all_apply() {
    let a = spawn_on_test_clock().await;
    let b = spawn_node(&a, |_| {}).await;
    let op = a.operator().await;
    let t0 = a.state.now();
    let mut moves = tokio::task::JoinSet::new();
    for i in 0..10 {
        let url = if i % 2 == 0 { a.url("/api/v1/operator/test-clock") } else { b.url("/api/v1/operator/test-clock") };
        let (client, op) = (a.client.clone(), op.clone());
        moves.spawn(async move {
            client.post(url).bearer_auth(op).json(&json!({"advance_secs": 60})).send().await.unwrap().status()
        });
    }
    while let Some(status) = moves.join_next().await {
        assert_eq!(status.unwrap(), 200);
    }
    let now = a.get("/api/v1/operator/test-clock", Some(&op)).await.expect(200);
    assert_eq!(now["now"].as_str().unwrap().parse::<DateTime<Utc>>().unwrap(), t0 + chrono::Duration::minutes(10));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_scheduler_runs_a_task_once_per_slot_across_two_nodes() {
    let a = spawn_on_test_clock().await;
    let b = spawn_node(&a, |c| c.worker_enabled = false).await;
    let op = a.operator().await;
    let runs = Arc::new(AtomicUsize::new(0));
    for node in [&a, &b] {
        let runs = runs.clone();
        node.registry.add_task(PeriodicTask::new("test.tick", Duration::from_secs(3600), move |_s: AppState| {
            let runs = runs.clone();
            async move {
                runs.fetch_add(1, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(5)).await;
                Ok(())
            }
        }));
    }
    let (wa, wb) = (a.worker("node-a"), b.worker("node-b"));
    let both = || async {
        let (x, y) = tokio::join!(wa.run_scheduled(), wb.run_scheduled());
        (x.unwrap(), y.unwrap())
    };

    // The first slot is due at once: exactly one node runs it.
    for _ in 0..3 {
        both().await;
    }
    assert_eq!(runs.load(Ordering::SeqCst), 1);

    // Half an hour later: not yet.
    let t = advance(&a, &op, 1800).await;
    wait_for_time(&b, t).await;
    both().await;
    assert_eq!(runs.load(Ordering::SeqCst), 1);

    // The next slot: once more.
    let t = advance(&a, &op, 1800).await;
    wait_for_time(&b, t).await;
    for _ in 0..3 {
        both().await;
    }
    assert_eq!(runs.load(Ordering::SeqCst), 2);

    // Five hours later: missed slots are not caught up, the task runs once.
    let t = advance(&a, &op, 5 * 3600).await;
    wait_for_time(&b, t).await;
    for _ in 0..3 {
        both().await;
    }
    assert_eq!(runs.load(Ordering::SeqCst), 3);

    let lease = job_repo::find_task(&a.state.db.conn, "test.tick").await.unwrap().unwrap();
    assert_eq!(lease.runs, 3);
    assert_eq!(lease.owner, None);
    assert!(lease.next_run_at > a.state.now());
    // The built-in task went through the same leases: once per slot too.
    let purge = job_repo::find_task(&a.state.db.conn, workers::PURGE_IDEMPOTENCY_KEYS).await.unwrap().unwrap();
    assert_eq!(purge.runs, 3);
}

#[tokio::test]
async fn the_purge_task_forgets_idempotency_keys_after_a_day() {
    let app = spawn_on_test_clock().await;
    let op = app.operator().await;
    let (buyer, _) = app.signup("buyer").await;
    let conn = &app.state.db.conn;
    mercato_store::repo::idempotency::claim(conn, &buyer, "key-1", "hash", app.state.now()).await.unwrap();
    let worker = app.worker("worker-a");
    worker.run_scheduled().await.unwrap();
    assert!(mercato_store::repo::idempotency::find(conn, &buyer, "key-1").await.unwrap().is_some());
    advance(&app, &op, 25 * 3600).await;
    assert!(worker.run_scheduled().await.unwrap() >= 1);
    assert!(mercato_store::repo::idempotency::find(conn, &buyer, "key-1").await.unwrap().is_none());
}

/// A use case's job handler that fails on the database leaves the database's
/// own words in the job's last error, not a generic "internal error".
#[tokio::test]
async fn a_handler_failing_on_the_database_keeps_the_cause_in_the_last_error() {
    use mercato_store::sea_orm::ConnectionTrait;
    let app = spawn_on_test_clock().await;
    let id = String::from(mercato_domain::ids::JobId::new());
    let payload = json!({ "order_line_id": "oln_0193" }).to_string();
    let kind = mercato_server::app::orders::FULFIL_NEW_INSTANCE;
    let job_row = NewJob { id: &id, kind, reference: "oln_0193", payload_json: &payload, run_at: app.state.now() };
    assert!(job_repo::enqueue(&app.state.db.conn, job_row, app.state.now()).await.unwrap());
    // The table the handler reads first is gone.
    app.state.db.conn.execute_unprepared("ALTER TABLE order_lines RENAME TO order_lines_moved").await.unwrap();

    assert_eq!(app.worker("worker-a").run_due(10).await.unwrap(), 1);

    let row = job(&app, &id).await;
    assert_eq!((row.status.as_str(), row.attempts), ("pending", 1), "a database error is retried: {row:?}");
    let error = row.last_error.unwrap_or_default();
    assert!(error.starts_with("fulfilment error: store: "), "{error}");
    assert!(error.contains("order_lines"), "the database's message names the table: {error}");
    assert!(!error.contains("an internal error occurred"), "{error}");
}

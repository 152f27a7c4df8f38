//! Background work: the job runner and the periodic-task scheduler, safe
//! with any number of nodes on one database.
//!
//! **Jobs.** A change that needs work done enqueues a job
//! (`repo::jobs::enqueue`) in its own transaction. Handlers are registered by
//! kind on `state.jobs` ([`Registry::register`]); a node only claims kinds it
//! has a handler for, so jobs of a kind unknown here stay pending (logged
//! once per kind) for a newer node. [`run_due`] / [`Worker::run_due`]:
//!
//! 1. list due candidates (pending with `run_at <= now`, or running with an
//!    expired lease);
//! 2. claim each with a conditional UPDATE (running, `lease_owner = me`,
//!    `lease_expires_at = now + job_lease_secs`, `attempts + 1`) that only
//!    succeeds while the row is still claimable, plus a `job_attempts` row;
//! 3. run the handlers of the claimed jobs concurrently;
//! 4. finish each with an UPDATE guarded by `lease_owner = me` and the
//!    attempt number. If the lease expired and another worker took the job
//!    over, the late finish changes nothing (and is logged).
//!
//! While a handler runs, its worker renews the lease every third of
//! `job_lease_secs` (a heartbeat guarded by owner and attempt, like the
//! finish), so a handler may run longer than the lease (many slow seller
//! calls) without another worker taking the job over. Delivery is still at
//! least once: a worker that stalls (or loses its database) for a whole
//! lease may run a job a second time alongside the taker-over, so handlers
//! must be idempotent (the seller protocol dedups by order id). A handler
//! that panics is retried after one lease period.
//!
//! **Retries.** A handler answers [`JobOutcome::Retry`] with a delay, usually
//! from a [`RetryPolicy`]: exponential backoff with ±20 % jitter, capped, and
//! a deadline counted from the job's first attempt after which it gives up.
//!
//! **Scheduler.** [`PeriodicTask`]s (e.g. purging idempotency keys hourly)
//! run once per slot on whichever node takes the task's lease in
//! `scheduler_leases` (see [`run_scheduled`]). Missed slots are not caught up:
//! after a long pause (or a test clock jump) a task runs once, then every
//! `every` from its original phase.
//!
//! All of it reads time from `state.now()`, so with `--test-clock` jobs,
//! retries and tasks follow the operator's clock.

use crate::state::AppState;
use chrono::{DateTime, Utc};
use mercato_store::StoreError;
use mercato_store::entity::job;
use mercato_store::repo::jobs as repo;
use mercato_store::repo::jobs::Finish;
use mercato_store::sea_orm as sea_orm_conn;
use rand::Rng;
use serde::de::DeserializeOwned;
use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// A claimed job, as its handler sees it.
#[derive(Debug, Clone)]
pub struct JobView {
    pub id: String,
    pub kind: String,
    pub reference: String,
    pub payload_json: String,
    /// This attempt's number, from 1.
    pub attempt: i64,
    /// When this attempt was due.
    pub run_at: DateTime<Utc>,
    /// When the first attempt started (retry deadlines count from here).
    pub first_attempt_at: DateTime<Utc>,
    pub lease_expires_at: DateTime<Utc>,
    /// The previous attempt's error, if it failed.
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
}

impl JobView {
    fn from_row(row: job::Model) -> JobView {
        let first = row.first_attempt_at.unwrap_or(row.updated_at);
        JobView {
            id: row.id,
            kind: row.kind,
            reference: row.reference,
            payload_json: row.payload_json,
            attempt: row.attempts,
            run_at: row.run_at,
            first_attempt_at: first,
            lease_expires_at: row.lease_expires_at.unwrap_or(row.updated_at),
            last_error: row.last_error,
            created_at: row.created_at,
        }
    }

    /// The payload, parsed.
    pub fn payload<T: DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        serde_json::from_str(&self.payload_json)
    }
}

/// How an attempt ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobOutcome {
    /// Done; never runs again.
    Done,
    /// Failed for now: run again `after` from now.
    Retry { after: Duration, error: String },
    /// Failed for good; never runs again.
    Dead { error: String },
}

/// The work for one job kind. Closures `Fn(AppState, JobView) -> impl
/// Future<Output = JobOutcome>` are handlers too.
pub trait JobHandler: Send + Sync + 'static {
    fn run<'a>(&'a self, state: &'a AppState, job: &'a JobView) -> BoxFuture<'a, JobOutcome>;
}

impl<F, Fut> JobHandler for F
where
    F: Fn(AppState, JobView) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = JobOutcome> + Send + 'static,
{
    fn run<'a>(&'a self, state: &'a AppState, job: &'a JobView) -> BoxFuture<'a, JobOutcome> {
        Box::pin(self(state.clone(), job.clone()))
    }
}

/// A task the scheduler runs every `every` on one node per slot.
#[derive(Clone)]
pub struct PeriodicTask {
    pub name: String,
    pub every: Duration,
    #[allow(clippy::type_complexity)]
    run: Arc<dyn Fn(AppState) -> BoxFuture<'static, anyhow::Result<()>> + Send + Sync>,
}

impl PeriodicTask {
    pub fn new<F, Fut>(name: impl Into<String>, every: Duration, run: F) -> PeriodicTask
    where
        F: Fn(AppState) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = anyhow::Result<()>> + Send + 'static,
    {
        PeriodicTask { name: name.into(), every, run: Arc::new(move |s| Box::pin(run(s))) }
    }
}

impl std::fmt::Debug for PeriodicTask {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PeriodicTask").field("name", &self.name).field("every", &self.every).finish()
    }
}

/// The job handlers and periodic tasks a node runs (`state.jobs`).
#[derive(Default)]
pub struct Registry {
    handlers: RwLock<HashMap<String, Arc<dyn JobHandler>>>,
    tasks: RwLock<Vec<PeriodicTask>>,
}

impl Registry {
    /// Registers (or replaces) the handler of `kind`.
    pub fn register(&self, kind: &str, handler: impl JobHandler) {
        self.handlers.write().unwrap_or_else(|p| p.into_inner()).insert(kind.to_string(), Arc::new(handler));
    }

    /// Adds a periodic task, replacing one of the same name.
    pub fn add_task(&self, task: PeriodicTask) {
        let mut tasks = self.tasks.write().unwrap_or_else(|p| p.into_inner());
        tasks.retain(|t| t.name != task.name);
        tasks.push(task);
    }

    /// The kinds with a handler, sorted.
    pub fn kinds(&self) -> Vec<String> {
        let mut kinds: Vec<String> = self.handlers.read().unwrap_or_else(|p| p.into_inner()).keys().cloned().collect();
        kinds.sort();
        kinds
    }

    pub fn tasks(&self) -> Vec<PeriodicTask> {
        self.tasks.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    fn handler(&self, kind: &str) -> Option<Arc<dyn JobHandler>> {
        self.handlers.read().unwrap_or_else(|p| p.into_inner()).get(kind).cloned()
    }
}

/// The name of the built-in task that forgets idempotency keys past their TTL.
pub const PURGE_IDEMPOTENCY_KEYS: &str = "purge_idempotency_keys";

/// What every node runs. Features add their job kinds and tasks here.
pub fn register_builtins(registry: &Registry) {
    registry.register(crate::app::orders::FULFIL_NEW_INSTANCE, crate::app::fulfilment::fulfil_new_instance);
    registry.register(
        crate::app::fulfilment::RELEASE_ABANDONED_INSTANCE,
        crate::app::fulfilment::release_abandoned_instance,
    );
    crate::app::lifecycle::register(registry);
    crate::app::unsubscribe::register(registry);
    crate::app::plan_changes::register(registry);
    crate::app::usage::register(registry);
    crate::app::usage_rating::register(registry);
    registry.add_task(PeriodicTask::new(
        PURGE_IDEMPOTENCY_KEYS,
        Duration::from_secs(3600),
        |state: AppState| async move {
            let cutoff = state.now() - crate::app::idempotency::TTL;
            let purged = mercato_store::repo::idempotency::purge_before(&state.db.conn, cutoff).await?;
            if purged > 0 {
                tracing::info!(purged, "purged expired idempotency keys");
            }
            Ok(())
        },
    ));
}

/// Enqueues a job of `kind` due at `run_at`, in the caller's transaction
/// (the outbox row commits with the business change that caused it).
/// `reference` is unique per kind: a second enqueue with the same reference
/// adds nothing and answers false.
pub async fn enqueue(
    tx: &impl sea_orm_conn::ConnectionTrait,
    kind: &str,
    reference: &str,
    payload: &impl serde::Serialize,
    run_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let id = format!("job_{}", uuid::Uuid::now_v7().simple());
    let payload_json = serde_json::to_string(payload).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    repo::enqueue(tx, repo::NewJob { id: &id, kind, reference, payload_json: &payload_json, run_at }, now).await
}

/// Wakes this node's worker loop now (e.g. after committing a job that is
/// due at once) instead of at its next poll.
pub fn wake(state: &AppState) {
    state.worker_wake.notify_one();
}

// ---- retries --------------------------------------------------------------

/// When to try again: exponential backoff from `first`, doubling per
/// attempt up to `max`, each delay jittered by ±`jitter` (a fraction), and
/// no attempt later than `deadline` after the first one.
///
/// After attempt `n` (1-based) fails, the next runs `min(first·2^(n-1), max)`
/// ±jitter later, but never after `first_attempt_at + deadline`: the delay is
/// cut so that one last attempt runs at the deadline, and a failure at or
/// after the deadline gives up ([`RetryPolicy::outcome`] answers `Dead`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RetryPolicy {
    pub first: Duration,
    pub max: Duration,
    pub jitter: f64,
    pub deadline: Duration,
}

impl RetryPolicy {
    /// 1 min, 2, 4, 8, 16, then every 30 min (±20 %), for up to `deadline`.
    pub const fn standard(deadline: Duration) -> RetryPolicy {
        RetryPolicy { first: Duration::from_secs(60), max: Duration::from_secs(30 * 60), jitter: 0.2, deadline }
    }

    /// New purchases and upgrades: retried for up to 3 hours.
    pub const PURCHASE: RetryPolicy = RetryPolicy::standard(Duration::from_secs(3 * 3600));
    /// Renewal, expiry, release: retried for up to 1 hour.
    pub const LIFECYCLE: RetryPolicy = RetryPolicy::standard(Duration::from_secs(3600));

    /// The delay after failed attempt `attempt` (1-based), before jitter.
    pub fn base_delay(&self, attempt: i64) -> Duration {
        let exp = u32::try_from(attempt.saturating_sub(1).clamp(0, 30)).unwrap_or(30);
        self.first.saturating_mul(2u32.saturating_pow(exp)).min(self.max)
    }

    /// `base_delay` with jitter applied.
    pub fn delay(&self, attempt: i64) -> Duration {
        let base = self.base_delay(attempt).as_secs_f64();
        let j = self.jitter.clamp(0.0, 1.0);
        let factor = if j > 0.0 { rand::thread_rng().gen_range(1.0 - j..=1.0 + j) } else { 1.0 };
        Duration::from_secs_f64((base * factor).max(0.0))
    }

    /// How long to wait before the next attempt after `job`'s current
    /// attempt failed at `now`; `None` once the deadline is reached.
    pub fn next(&self, job: &JobView, now: DateTime<Utc>) -> Option<Duration> {
        let deadline_at = job.first_attempt_at + to_chrono(self.deadline);
        if now >= deadline_at {
            return None;
        }
        let left = (deadline_at - now).to_std().unwrap_or_default();
        Some(self.delay(job.attempt).min(left))
    }

    /// `Retry` with the next delay, or `Dead` once the deadline is reached.
    pub fn outcome(&self, job: &JobView, now: DateTime<Utc>, error: impl Into<String>) -> JobOutcome {
        let error = error.into();
        match self.next(job, now) {
            Some(after) => JobOutcome::Retry { after, error },
            None => JobOutcome::Dead { error },
        }
    }
}

fn to_chrono(d: Duration) -> chrono::Duration {
    chrono::Duration::from_std(d).unwrap_or(chrono::Duration::MAX)
}

// ---- running jobs ---------------------------------------------------------

fn lease_until(state: &AppState, now: DateTime<Utc>) -> DateTime<Utc> {
    now + chrono::Duration::seconds(i64::try_from(state.config.job_lease_secs).unwrap_or(i64::MAX / 2_000_000).max(1))
}

/// Claims job `id` for `owner` if it is still claimable now. Most code wants
/// [`run_due`]; this and [`finish`] exist for tests and tools.
pub async fn claim(state: &AppState, id: &str, owner: &str) -> Result<Option<JobView>, StoreError> {
    let now = state.now();
    let tx = state.db.write().await?;
    let row = repo::claim(&tx, id, owner, now, lease_until(state, now)).await?;
    tx.commit().await?;
    Ok(row.map(JobView::from_row))
}

/// Records how `owner`'s attempt at `job` ended. Returns false (changing
/// nothing) when `owner` lost the job's lease to another worker.
pub async fn finish(state: &AppState, job: &JobView, owner: &str, outcome: &JobOutcome) -> Result<bool, StoreError> {
    let now = state.now();
    let how = match outcome {
        JobOutcome::Done => Finish::Done,
        JobOutcome::Retry { after, error } => Finish::Retry { run_at: now + to_chrono(*after), error: error.clone() },
        JobOutcome::Dead { error } => Finish::Dead { error: error.clone() },
    };
    let tx = state.db.write().await?;
    let finished = repo::finish(&tx, &job.id, owner, job.attempt, now, &how).await?;
    tx.commit().await?;
    if !finished {
        tracing::warn!(job = %job.id, kind = %job.kind, attempt = job.attempt, owner, "lease lost: another worker took the job over; result dropped");
    }
    Ok(finished)
}

/// How often a running handler's lease is renewed: a third of the lease, so
/// two renewals can fail (a slow database) before the lease runs out.
fn heartbeat_every(state: &AppState) -> Duration {
    Duration::from_millis(state.config.job_lease_secs.max(1).saturating_mul(1000) / 3)
}

/// Renews `owner`'s lease on `job` every [`heartbeat_every`] while its
/// handler runs, so a handler running longer than the lease (many slow
/// seller calls) is not taken over and run a second time. Stops once the
/// lease is lost (the guard: same owner, same attempt, still running).
async fn heartbeat(state: &AppState, job: &JobView, owner: &str) {
    let every = heartbeat_every(state);
    loop {
        tokio::time::sleep(every).await;
        let now = state.now();
        let renewed = async {
            let tx = state.db.write().await?;
            let renewed = repo::renew_lease(&tx, &job.id, owner, job.attempt, now, lease_until(state, now)).await?;
            tx.commit().await?;
            Ok::<bool, StoreError>(renewed)
        }
        .await;
        match renewed {
            Ok(true) => {}
            Ok(false) => {
                tracing::warn!(job = %job.id, kind = %job.kind, attempt = job.attempt, owner, "lease lost while the handler runs");
                return;
            }
            // A passing database error: try again at the next beat.
            Err(e) => tracing::error!(job = %job.id, error = %e, "could not renew a job's lease"),
        }
    }
}

/// Runs one claimed job's handler (catching a panic), renewing its lease
/// meanwhile, and finishes it.
async fn run_claimed(state: AppState, handler: Arc<dyn JobHandler>, job: JobView, owner: String) -> bool {
    let mut running = {
        let (state, job) = (state.clone(), job.clone());
        tokio::spawn(async move { handler.run(&state, &job).await })
    };
    let joined = tokio::select! {
        joined = &mut running => joined,
        // The heartbeat only returns once the lease is lost; the handler
        // still runs to its end (its finish will then be refused).
        () = heartbeat(&state, &job, &owner) => running.await,
    };
    let outcome = match joined {
        Ok(outcome) => outcome,
        Err(e) => {
            tracing::error!(job = %job.id, kind = %job.kind, error = %e, "job handler panicked");
            JobOutcome::Retry {
                after: Duration::from_secs(state.config.job_lease_secs.max(1)),
                error: "the handler panicked".into(),
            }
        }
    };
    match &outcome {
        JobOutcome::Done => tracing::debug!(job = %job.id, kind = %job.kind, attempt = job.attempt, "job done"),
        JobOutcome::Retry { after, error } => {
            tracing::info!(job = %job.id, kind = %job.kind, attempt = job.attempt, after_s = after.as_secs(), %error, "job will be retried")
        }
        JobOutcome::Dead { error } => {
            tracing::warn!(job = %job.id, kind = %job.kind, attempt = job.attempt, %error, "job failed for good")
        }
    }
    match finish(&state, &job, &owner, &outcome).await {
        Ok(finished) => finished,
        Err(e) => {
            // The lease will expire and another attempt will run.
            tracing::error!(job = %job.id, error = %e, "could not record a job's outcome");
            false
        }
    }
}

/// One pass of the runner as `owner`: claims up to `max` due jobs of the
/// kinds registered on `state.jobs`, runs them concurrently and records the
/// outcomes. Returns how many handlers ran.
pub async fn run_due(state: &AppState, owner: &str, max: usize) -> Result<usize, StoreError> {
    let (claimed, failed) = claim_due(state, owner, max).await;
    let mut running = tokio::task::JoinSet::new();
    for (handler, job) in claimed {
        running.spawn(run_claimed(state.clone(), handler, job, owner.to_string()));
    }
    let mut ran = 0;
    while let Some(done) = running.join_next().await {
        if done.is_ok() {
            ran += 1;
        }
    }
    match failed {
        Some(e) if ran == 0 => Err(e),
        Some(e) => {
            tracing::error!(error = %e, "could not claim a job");
            Ok(ran)
        }
        None => Ok(ran),
    }
}

/// Claims up to `max` due jobs this node has handlers for. A store error
/// stops claiming; what was claimed before it is still returned (to run).
async fn claim_due(
    state: &AppState,
    owner: &str,
    max: usize,
) -> (Vec<(Arc<dyn JobHandler>, JobView)>, Option<StoreError>) {
    let now = state.now();
    let kinds = state.jobs.kinds();
    let candidates = match repo::due(&state.db.conn, now, &kinds, max as u64).await {
        Ok(c) => c,
        Err(e) => return (Vec::new(), Some(e)),
    };
    let mut claimed = Vec::new();
    for row in candidates {
        let Some(handler) = state.jobs.handler(&row.kind) else { continue };
        match claim(state, &row.id, owner).await {
            Ok(Some(job)) => claimed.push((handler, job)),
            Ok(None) => {}
            Err(e) => return (claimed, Some(e)),
        }
    }
    (claimed, None)
}

/// Periodic tasks: for each task registered on `state.jobs` whose slot is
/// due, take its lease (a conditional UPDATE that one node wins), run it,
/// and move it to the first slot after now. Returns how many tasks ran.
pub async fn run_scheduled(state: &AppState, owner: &str) -> Result<usize, StoreError> {
    let mut ran = 0;
    for task in state.jobs.tasks() {
        let now = state.now();
        let row = match repo::find_task(&state.db.conn, &task.name).await? {
            Some(row) => row,
            None => {
                repo::ensure_task(&state.db.conn, &task.name, now).await?;
                match repo::find_task(&state.db.conn, &task.name).await? {
                    Some(row) => row,
                    None => continue,
                }
            }
        };
        let held = row.owner.is_some() && row.lease_expires_at.is_some_and(|t| t > now);
        if row.next_run_at > now || held {
            continue;
        }
        let slot = {
            let tx = state.db.write().await?;
            let slot = repo::take_task(&tx, &task.name, owner, now, lease_until(state, now)).await?;
            tx.commit().await?;
            match slot {
                Some(slot) => slot,
                None => continue,
            }
        };
        let result = {
            let (run, state) = (task.run.clone(), state.clone());
            tokio::spawn(async move { run(state).await }).await
        };
        let error = match result {
            Ok(Ok(())) => None,
            Ok(Err(e)) => Some(format!("{e:#}")),
            Err(e) => Some(format!("the task panicked: {e}")),
        };
        if let Some(e) = &error {
            tracing::error!(task = %task.name, error = %e, "periodic task failed");
        }
        let finished_at = state.now();
        let next = next_slot(slot, task.every, finished_at);
        if !repo::finish_task(&state.db.conn, &task.name, owner, finished_at, next, error.as_deref()).await? {
            tracing::warn!(task = %task.name, owner, "lost a periodic task's lease while running it");
        }
        ran += 1;
    }
    Ok(ran)
}

/// The first slot `slot + k·every` (k >= 1) after `now`: missed slots are
/// skipped, the phase is kept.
pub fn next_slot(slot: DateTime<Utc>, every: Duration, now: DateTime<Utc>) -> DateTime<Utc> {
    let step = to_chrono(every).max(chrono::Duration::seconds(1));
    if now < slot {
        return slot + step;
    }
    let behind = (now - slot).num_microseconds().unwrap_or(i64::MAX);
    let step_us = step.num_microseconds().unwrap_or(i64::MAX).max(1);
    let k = behind / step_us + 1;
    slot + chrono::Duration::microseconds(step_us.saturating_mul(k))
}

/// A named worker on one node: what the background loop runs, and what tests
/// drive by hand.
pub struct Worker {
    state: AppState,
    owner: String,
    warned: Mutex<HashSet<String>>,
}

impl Worker {
    pub fn new(state: AppState, owner: impl Into<String>) -> Worker {
        Worker { state, owner: owner.into(), warned: Mutex::new(HashSet::new()) }
    }

    pub fn owner(&self) -> &str {
        &self.owner
    }

    /// Claims and runs up to `max` due jobs; returns how many ran.
    pub async fn run_due(&self, max: usize) -> Result<usize, StoreError> {
        run_due(&self.state, &self.owner, max).await
    }

    /// Runs the periodic tasks whose slot is due; returns how many ran.
    pub async fn run_scheduled(&self) -> Result<usize, StoreError> {
        run_scheduled(&self.state, &self.owner).await
    }

    /// One poll of the loop: due jobs, then periodic tasks; errors are logged.
    /// Returns how many jobs ran.
    pub async fn tick(&self) -> usize {
        self.warn_unknown_kinds().await;
        let ran = match self.run_due(self.state.config.worker_batch.max(1)).await {
            Ok(n) => n,
            Err(e) => {
                tracing::error!(error = %e, "job runner pass failed");
                0
            }
        };
        if let Err(e) = self.run_scheduled().await {
            tracing::error!(error = %e, "scheduler pass failed");
        }
        ran
    }

    /// Logs (once per kind) due jobs no handler here knows: they wait for a
    /// node that does.
    async fn warn_unknown_kinds(&self) {
        let kinds = self.state.jobs.kinds();
        let Ok(unknown) = repo::due_unknown_kinds(&self.state.db.conn, self.state.now(), &kinds).await else { return };
        let mut warned = self.warned.lock().unwrap_or_else(|p| p.into_inner());
        for kind in unknown {
            if warned.insert(kind.clone()) {
                tracing::warn!(%kind, "due jobs of a kind this node has no handler for: left for a node that has one");
            }
        }
    }

    /// Runs until `shutdown` turns true: keeps up to `worker_batch` jobs
    /// in flight, claiming more as soon as one finishes (not only when a
    /// whole batch is done), and runs the periodic tasks every
    /// `worker_poll_ms`. Between jobs it sleeps until woken, a job finishes
    /// or the poll interval passes. Jobs in flight finish before it returns.
    pub async fn run_loop(self, mut shutdown: tokio::sync::watch::Receiver<bool>) {
        let poll = Duration::from_millis(self.state.config.worker_poll_ms.max(10));
        let batch = self.state.config.worker_batch.max(1);
        tracing::info!(owner = %self.owner, poll_ms = poll.as_millis() as u64, "background worker started");
        let mut running = tokio::task::JoinSet::new();
        let mut housekeeping_at = tokio::time::Instant::now();
        loop {
            if *shutdown.borrow() {
                break;
            }
            if tokio::time::Instant::now() >= housekeeping_at {
                self.warn_unknown_kinds().await;
                if let Err(e) = self.run_scheduled().await {
                    tracing::error!(error = %e, "scheduler pass failed");
                }
                housekeeping_at = tokio::time::Instant::now() + poll;
            }
            let free = batch.saturating_sub(running.len());
            if free > 0 {
                let (claimed, failed) = claim_due(&self.state, &self.owner, free).await;
                if let Some(e) = failed {
                    tracing::error!(error = %e, "job runner pass failed");
                }
                let full = claimed.len() == free;
                for (handler, job) in claimed {
                    running.spawn(run_claimed(self.state.clone(), handler, job, self.owner.clone()));
                }
                if full {
                    // Every free place taken: there may be more due right away.
                    continue;
                }
            }
            tokio::select! {
                Some(_) = running.join_next(), if !running.is_empty() => {}
                _ = tokio::time::sleep_until(housekeeping_at) => {}
                _ = self.state.worker_wake.notified() => {}
                changed = shutdown.changed() => {
                    if changed.is_err() {
                        break;
                    }
                }
            }
        }
        while running.join_next().await.is_some() {}
        tracing::info!(owner = %self.owner, "background worker stopped");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(attempt: i64, first: DateTime<Utc>) -> JobView {
        JobView {
            id: "job_1".into(),
            kind: "k".into(),
            reference: "r".into(),
            payload_json: "{}".into(),
            attempt,
            run_at: first,
            first_attempt_at: first,
            lease_expires_at: first,
            last_error: None,
            created_at: first,
        }
    }

    #[test]
    fn backoff_doubles_from_one_minute_and_caps() {
        let p = RetryPolicy::standard(Duration::from_secs(3 * 3600));
        let mins: Vec<u64> = (1..=8).map(|a| p.base_delay(a).as_secs() / 60).collect();
        assert_eq!(mins, [1, 2, 4, 8, 16, 30, 30, 30]);
        assert_eq!(p.base_delay(1_000_000), Duration::from_secs(1800));
        assert_eq!(p.base_delay(0), Duration::from_secs(60));
    }

    #[test]
    fn jitter_stays_within_twenty_percent() {
        let p = RetryPolicy::standard(Duration::from_secs(3600));
        for attempt in 1..=6 {
            let base = p.base_delay(attempt).as_secs_f64();
            for _ in 0..200 {
                let d = p.delay(attempt).as_secs_f64();
                assert!(d >= base * 0.8 - 1e-6 && d <= base * 1.2 + 1e-6, "{d} vs {base}");
            }
        }
    }

    #[test]
    fn deadline_cuts_the_last_delay_and_then_gives_up() {
        let p = RetryPolicy { jitter: 0.0, ..RetryPolicy::standard(Duration::from_secs(3600)) };
        let first = Utc::now();
        // Early: the plain backoff.
        assert_eq!(p.next(&job(1, first), first), Some(Duration::from_secs(60)));
        // 50 minutes in, after attempt 6 (30 min backoff): cut to the 10 minutes left.
        let now = first + chrono::Duration::minutes(50);
        assert_eq!(p.next(&job(6, first), now), Some(Duration::from_secs(600)));
        // At the deadline: give up.
        let now = first + chrono::Duration::hours(1);
        assert_eq!(p.next(&job(7, first), now), None);
        assert_eq!(p.outcome(&job(7, first), now, "down"), JobOutcome::Dead { error: "down".into() });
        assert!(matches!(p.outcome(&job(1, first), first, "down"), JobOutcome::Retry { .. }));
    }

    #[test]
    fn next_slot_keeps_the_phase_and_skips_missed_slots() {
        let slot = DateTime::parse_from_rfc3339("2026-01-01T00:00:00Z").unwrap().with_timezone(&Utc);
        let hour = Duration::from_secs(3600);
        assert_eq!(next_slot(slot, hour, slot), slot + chrono::Duration::hours(1));
        assert_eq!(next_slot(slot, hour, slot + chrono::Duration::minutes(10)), slot + chrono::Duration::hours(1));
        assert_eq!(
            next_slot(slot, hour, slot + chrono::Duration::hours(5) + chrono::Duration::minutes(1)),
            slot + chrono::Duration::hours(6)
        );
        assert_eq!(next_slot(slot, hour, slot + chrono::Duration::hours(2)), slot + chrono::Duration::hours(3));
    }
}

//! The job runner: claims due jobs under a lease, runs their handlers with a
//! heartbeat, records how each attempt ended, and the [`Worker`] loop that
//! keeps a node's batch full (see the module documentation of `workers`).

use super::registry::{JobHandler, Registry};
use super::scheduler;
use crate::app::outbox::{JobOutcome, JobView, to_chrono};
use crate::state::AppState;
use chrono::{DateTime, Utc};
use mercato_store::StoreError;
use mercato_store::repo::jobs as repo;
use mercato_store::repo::jobs::Finish;
use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The end of a lease taken or renewed at real time `real`.
pub(super) fn lease_until(state: &AppState, real: DateTime<Utc>) -> DateTime<Utc> {
    real + chrono::Duration::seconds(i64::try_from(state.config.job_lease_secs).unwrap_or(i64::MAX / 2_000_000).max(1))
}

/// Claims job `id` for `owner` if it is still claimable now. Most code wants
/// [`run_due`]; this and [`finish`] exist for tests and tools.
pub async fn claim(state: &AppState, id: &str, owner: &str) -> Result<Option<JobView>, StoreError> {
    let at = state.moment();
    let tx = state.db.write().await?;
    let row = repo::claim(&tx, id, owner, at, lease_until(state, at.real)).await?;
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
        let at = state.moment();
        let renewed = async {
            let tx = state.db.write().await?;
            let renewed =
                repo::renew_lease(&tx, &job.id, owner, job.attempt, at.now, lease_until(state, at.real)).await?;
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
/// kinds registered on `registry`, runs them concurrently and records the
/// outcomes. Returns how many handlers ran.
pub async fn run_due(state: &AppState, registry: &Registry, owner: &str, max: usize) -> Result<usize, StoreError> {
    let (claimed, failed) = claim_due(state, registry, owner, max).await;
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
    registry: &Registry,
    owner: &str,
    max: usize,
) -> (Vec<(Arc<dyn JobHandler>, JobView)>, Option<StoreError>) {
    let kinds = registry.kinds();
    let candidates = match repo::due(&state.db.conn, state.moment(), &kinds, max as u64).await {
        Ok(c) => c,
        Err(e) => return (Vec::new(), Some(e)),
    };
    let mut claimed = Vec::new();
    for row in candidates {
        let Some(handler) = registry.handler(&row.kind) else { continue };
        match claim(state, &row.id, owner).await {
            Ok(Some(job)) => claimed.push((handler, job)),
            Ok(None) => {}
            Err(e) => return (claimed, Some(e)),
        }
    }
    (claimed, None)
}

/// A named worker on one node: what the background loop runs, and what tests
/// drive by hand.
pub struct Worker {
    state: AppState,
    registry: Arc<Registry>,
    owner: String,
    warned: Mutex<HashSet<String>>,
}

impl Worker {
    pub fn new(state: AppState, registry: Arc<Registry>, owner: impl Into<String>) -> Worker {
        Worker { state, registry, owner: owner.into(), warned: Mutex::new(HashSet::new()) }
    }

    pub fn owner(&self) -> &str {
        &self.owner
    }

    /// Claims and runs up to `max` due jobs; returns how many ran.
    pub async fn run_due(&self, max: usize) -> Result<usize, StoreError> {
        run_due(&self.state, &self.registry, &self.owner, max).await
    }

    /// Runs the periodic tasks whose slot is due; returns how many ran.
    pub async fn run_scheduled(&self) -> Result<usize, StoreError> {
        scheduler::run_scheduled(&self.state, &self.registry, &self.owner).await
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
        let kinds = self.registry.kinds();
        let Ok(unknown) = repo::due_unknown_kinds(&self.state.db.conn, self.state.moment(), &kinds).await else {
            return;
        };
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
                let (claimed, failed) = claim_due(&self.state, &self.registry, &self.owner, free).await;
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

//! Background work: the job runner and the periodic-task scheduler, safe
//! with any number of nodes on one database.
//!
//! **Jobs.** A change that needs work done enqueues a job
//! (`app::outbox::enqueue`) in its own transaction. Handlers are registered by
//! kind in [`registry`], the one place that wires job kinds and periodic tasks
//! to use cases; a node only claims kinds it has a handler for, so jobs of a
//! kind unknown here stay pending (logged once per kind) for a newer node.
//! [`run_due`] / [`Worker::run_due`]:
//!
//! 1. list due candidates (pending with `run_at <= now`, or running with an
//!    expired lease);
//! 2. claim each with a conditional UPDATE (running, `lease_owner = me`,
//!    `lease_expires_at = real now + job_lease_secs`, `attempts + 1`) that
//!    only succeeds while the row is still claimable, plus a `job_attempts`
//!    row. Leases are kept in real time, also on the test clock, so a
//!    crashed node's jobs resume within a lease while the clock stands still;
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
//! **Retries.** A handler answers [`JobOutcome::Retry`](crate::app::outbox::JobOutcome::Retry) with a delay, usually
//! from a [`RetryPolicy`](crate::app::outbox::RetryPolicy): exponential backoff with ±20 % jitter, capped, and
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
//!
//! Layering: use cases know only `app::outbox` (enqueue, wake, outcomes,
//! retry policies); this module knows the use cases. Nothing under `app/`
//! nor `state.rs` imports `workers`.

mod registry;
mod runner;
mod scheduler;

pub use registry::{BoxFuture, JobHandler, PeriodicTask, Registry};
pub use runner::{Worker, claim, finish, run_due};
pub use scheduler::{next_slot, run_scheduled};

use crate::app::subscriptions::{fulfilment, lifecycle, plan_changes, unsubscribe};
use crate::app::usage::{intake, rating};
use crate::app::{accounts, licenses, orders, settlement, supervision};
use crate::http::idempotency;
use crate::state::AppState;
use std::sync::Arc;
use std::time::Duration;

/// The name of the built-in task that forgets idempotency keys past their TTL.
pub const PURGE_IDEMPOTENCY_KEYS: &str = "purge_idempotency_keys";

/// Every job kind and periodic task a node runs, each wired to its use case.
/// A new job kind or task is added here and nowhere else.
pub fn registry() -> Arc<Registry> {
    let r = Registry::default();
    r.register(orders::FULFIL_NEW_INSTANCE, fulfilment::fulfil_new_instance);
    r.register(fulfilment::RELEASE_ABANDONED_INSTANCE, fulfilment::release_abandoned_instance);
    r.register(lifecycle::RENEW_INSTANCE, lifecycle::renew_instance);
    r.register(lifecycle::FREEZE_INSTANCE, lifecycle::freeze_instance);
    r.register(lifecycle::RELEASE_INSTANCE, lifecycle::release_instance);
    r.register(lifecycle::UNFREEZE_INSTANCE, lifecycle::unfreeze_instance);
    r.register(unsubscribe::UNSUBSCRIBE_RELEASE, unsubscribe::release_job);
    r.register(unsubscribe::UNSUBSCRIBE_REFRESH, unsubscribe::refresh_job);
    r.register(plan_changes::UPGRADE_INSTANCE, plan_changes::upgrade_instance);
    r.register(supervision::notify::ORDER_NOTIFY, supervision::notify::order_notify);
    r.register(licenses::ISSUE_LICENSE, licenses::issue_license);

    r.add_task(PeriodicTask::new(
        settlement::SETTLEMENT_TASK,
        Duration::from_secs(3600),
        |state: AppState| async move {
            for run in settlement::scheduled(&state).await? {
                tracing::info!(period = %run.period, statements = run.statements, "settled");
            }
            Ok(())
        },
    ));
    r.add_task(PeriodicTask::new(
        settlement::lifecycle::AUTO_CONFIRM_TASK,
        Duration::from_secs(3600),
        |state: AppState| async move {
            let done = settlement::lifecycle::auto_confirm(&state).await?;
            if done > 0 {
                tracing::info!(statements = done, "statements confirmed for their sellers");
            }
            Ok(())
        },
    ));
    r.add_task(PeriodicTask::new(lifecycle::EXPIRY_TASK, Duration::from_secs(300), |state: AppState| async move {
        let done = lifecycle::expiry_scan(&state).await?;
        if done.frozen + done.released > 0 {
            tracing::info!(frozen = done.frozen, released = done.released, "expiry scan");
        }
        Ok(())
    }));
    r.add_task(PeriodicTask::new(
        lifecycle::AUTO_RENEW_TASK,
        Duration::from_secs(86_400),
        |state: AppState| async move {
            let done = lifecycle::auto_renew_scan(&state).await?;
            if done.renewed + done.unpaid > 0 {
                tracing::info!(renewed = done.renewed, unpaid = done.unpaid, "auto-renew scan");
            }
            Ok(())
        },
    ));
    r.add_task(PeriodicTask::new(intake::VALIDATE_TASK, Duration::from_secs(5), |state: AppState| async move {
        let n = intake::validate_all(&state).await?;
        if n.total() > 0 {
            tracing::info!(valid = n.valid, error = n.error, duplicate = n.duplicate, "validated usage records");
        }
        Ok(())
    }));
    r.add_task(PeriodicTask::new(rating::RATE_TASK, Duration::from_secs(60), |state: AppState| async move {
        let done = rating::rate_due(&state).await?;
        if done.lines > 0 {
            tracing::info!(
                periods = done.periods,
                records = done.records,
                lines = done.lines,
                paid = done.paid,
                arrears = done.arrears,
                "rated usage"
            );
        }
        Ok(())
    }));
    r.add_task(PeriodicTask::new(PURGE_IDEMPOTENCY_KEYS, Duration::from_secs(3600), |state: AppState| async move {
        let purged = idempotency::purge_expired(&state).await?;
        if purged > 0 {
            tracing::info!(purged, "purged expired idempotency keys");
        }
        Ok(())
    }));
    r.add_task(PeriodicTask::new(
        accounts::PURGE_LOGIN_FAILURES,
        Duration::from_secs(3600),
        |state: AppState| async move {
            let purged = accounts::purge_login_failures(&state).await?;
            if purged > 0 {
                tracing::info!(purged, "forgot old failed-login counts");
            }
            Ok(())
        },
    ));
    Arc::new(r)
}

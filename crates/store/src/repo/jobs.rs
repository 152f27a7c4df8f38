//! Durable jobs (the outbox) and the leases that coordinate the nodes.
//!
//! `enqueue` is called inside the transaction of the change that needs the
//! work done. Workers on any node then:
//!
//! 1. list candidate ids with [`due`] (pending and `run_at <= now`, or running
//!    with an expired lease), for the kinds they can handle;
//! 2. [`claim`] each with a conditional UPDATE that only succeeds while the
//!    row is still claimable; no `SELECT ... FOR UPDATE SKIP LOCKED`, so the
//!    same statements run on SQLite and PostgreSQL. On PostgreSQL a racing
//!    UPDATE waits for the first to commit and then re-checks the condition
//!    (READ COMMITTED), on SQLite writers are serialised: either way exactly
//!    one claimer gets the row;
//! 3. [`finish`] it with an UPDATE guarded by `lease_owner = me` and the
//!    attempt number: a worker whose lease expired and was taken over by
//!    another cannot overwrite the new owner's result.
//!
//! Every claim writes a row in `job_attempts`, unique per (job, attempt).
//! Periodic tasks (the scheduler) coordinate through `scheduler_leases` the
//! same way: see [`take_task`] and [`finish_task`].

use crate::entity::{job, job_attempt, scheduler_lease};
use crate::error::StoreResult;
use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait, LikeExpr, OnConflict};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};

/// Job states, as stored.
pub const PENDING: &str = "pending";
pub const RUNNING: &str = "running";
pub const DONE: &str = "done";
pub const DEAD: &str = "dead";

/// Attempt outcomes, as stored in `job_attempts.outcome`.
pub const OUTCOME_DONE: &str = "done";
pub const OUTCOME_RETRY: &str = "retry";
pub const OUTCOME_DEAD: &str = "dead";
/// The attempt's lease expired and another worker took the job over.
pub const OUTCOME_LEASE_EXPIRED: &str = "lease_expired";

pub struct NewJob<'a> {
    pub id: &'a str,
    pub kind: &'a str,
    /// What the job is about, e.g. an order line id; unique per kind.
    pub reference: &'a str,
    pub payload_json: &'a str,
    pub run_at: DateTime<Utc>,
}

/// Enqueues a job unless one of the same kind and reference exists; returns
/// whether it was added. Call it in the transaction of the causing change.
pub async fn enqueue(db: &impl ConnectionTrait, j: NewJob<'_>, now: DateTime<Utc>) -> StoreResult<bool> {
    let row = job::ActiveModel {
        id: Set(j.id.to_string()),
        kind: Set(j.kind.to_string()),
        reference: Set(j.reference.to_string()),
        payload_json: Set(j.payload_json.to_string()),
        status: Set(PENDING.to_string()),
        run_at: Set(j.run_at),
        attempts: Set(0),
        lease_owner: Set(None),
        lease_expires_at: Set(None),
        last_error: Set(None),
        first_attempt_at: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
    };
    let added = job::Entity::insert(row)
        .on_conflict(OnConflict::columns([job::Column::Kind, job::Column::Reference]).do_nothing().to_owned())
        .exec_without_returning(db)
        .await?;
    Ok(added > 0)
}

pub async fn find(db: &impl ConnectionTrait, id: &str) -> StoreResult<Option<job::Model>> {
    Ok(job::Entity::find_by_id(id.to_string()).one(db).await?)
}

/// The job of `kind` about `reference`, if one was enqueued.
pub async fn find_by_reference(
    db: &impl ConnectionTrait,
    kind: &str,
    reference: &str,
) -> StoreResult<Option<job::Model>> {
    Ok(job::Entity::find()
        .filter(job::Column::Kind.eq(kind))
        .filter(job::Column::Reference.eq(reference))
        .one(db)
        .await?)
}

/// Rows a worker may claim at `now`: pending and due, or running with an
/// expired lease (its worker died or stalled).
fn claimable(at: Moment) -> Condition {
    Condition::any()
        .add(Condition::all().add(job::Column::Status.eq(PENDING)).add(job::Column::RunAt.lte(at.now)))
        .add(Condition::all().add(job::Column::Status.eq(RUNNING)).add(job::Column::LeaseExpiresAt.lte(at.real)))
}

/// The two times a claim is decided on: the marketplace's `now`, which says
/// when work is due (the operator test clock, when one runs), and the `real`
/// time leases are kept in, so a crashed worker's lease runs out while the
/// test clock stands still. Without a test clock they are the same instant
/// (`From<DateTime>`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Moment {
    pub now: DateTime<Utc>,
    pub real: DateTime<Utc>,
}

impl From<DateTime<Utc>> for Moment {
    fn from(now: DateTime<Utc>) -> Moment {
        Moment { now, real: now }
    }
}

/// Up to `limit` claimable jobs of the given kinds, oldest `run_at` first.
/// Only candidates: another worker may claim any of them first.
pub async fn due(
    db: &impl ConnectionTrait,
    at: impl Into<Moment>,
    kinds: &[String],
    limit: u64,
) -> StoreResult<Vec<job::Model>> {
    let at = at.into();
    if kinds.is_empty() || limit == 0 {
        return Ok(Vec::new());
    }
    Ok(job::Entity::find()
        .filter(claimable(at))
        .filter(job::Column::Kind.is_in(kinds.iter().cloned()))
        .order_by_asc(job::Column::RunAt)
        .order_by_asc(job::Column::Id)
        .limit(limit)
        .all(db)
        .await?)
}

/// The kinds of claimable jobs that are not in `known` (a newer node's work).
pub async fn due_unknown_kinds(
    db: &impl ConnectionTrait,
    at: impl Into<Moment>,
    known: &[String],
) -> StoreResult<Vec<String>> {
    let mut query = job::Entity::find().select_only().column(job::Column::Kind).distinct().filter(claimable(at.into()));
    if !known.is_empty() {
        query = query.filter(job::Column::Kind.is_not_in(known.iter().cloned()));
    }
    Ok(query.limit(20).into_tuple::<String>().all(db).await?)
}

/// Claims job `id` for `owner` until `lease_until` (real time) if it is
/// still claimable at `at`: sets it running, counts the attempt and records it in
/// `job_attempts`. Returns the claimed row (its `attempts` is this attempt's
/// number), or `None` when another worker got it first or it is not due.
/// Run it in a write transaction so the claim and its attempt row commit
/// together.
pub async fn claim(
    db: &impl ConnectionTrait,
    id: &str,
    owner: &str,
    at: impl Into<Moment>,
    lease_until: DateTime<Utc>,
) -> StoreResult<Option<job::Model>> {
    let at = at.into();
    let now = at.now;
    let claimed = job::Entity::update_many()
        .col_expr(job::Column::Status, Expr::value(RUNNING))
        .col_expr(job::Column::LeaseOwner, Expr::value(owner))
        .col_expr(job::Column::LeaseExpiresAt, Expr::value(lease_until))
        .col_expr(job::Column::Attempts, Expr::col(job::Column::Attempts).add(1))
        .col_expr(
            job::Column::FirstAttemptAt,
            sea_orm::sea_query::Func::coalesce([Expr::col(job::Column::FirstAttemptAt), Expr::value(now)]).into(),
        )
        .col_expr(job::Column::UpdatedAt, Expr::value(now))
        .filter(job::Column::Id.eq(id))
        .filter(claimable(at))
        .exec(db)
        .await?
        .rows_affected;
    if claimed == 0 {
        return Ok(None);
    }
    let Some(row) = find(db, id).await? else { return Ok(None) };
    // An earlier attempt still open lost its lease to this one.
    job_attempt::Entity::update_many()
        .col_expr(job_attempt::Column::Outcome, Expr::value(OUTCOME_LEASE_EXPIRED))
        .col_expr(job_attempt::Column::FinishedAt, Expr::value(now))
        .filter(job_attempt::Column::JobId.eq(id))
        .filter(job_attempt::Column::FinishedAt.is_null())
        .exec(db)
        .await?;
    job_attempt::Entity::insert(job_attempt::ActiveModel {
        job_id: Set(id.to_string()),
        attempt: Set(row.attempts),
        owner: Set(owner.to_string()),
        started_at: Set(now),
        finished_at: Set(None),
        outcome: Set(None),
        error: Set(None),
    })
    .exec_without_returning(db)
    .await?;
    Ok(Some(row))
}

/// Extends `owner`'s lease on attempt `attempt` of job `id` to `lease_until`
/// (the runner's heartbeat while a handler runs). Guarded like [`finish`]:
/// false, changing nothing, when another worker took the job over or the
/// attempt already finished.
pub async fn renew_lease(
    db: &impl ConnectionTrait,
    id: &str,
    owner: &str,
    attempt: i64,
    now: DateTime<Utc>,
    lease_until: DateTime<Utc>,
) -> StoreResult<bool> {
    let renewed = job::Entity::update_many()
        .col_expr(job::Column::LeaseExpiresAt, Expr::value(lease_until))
        .col_expr(job::Column::UpdatedAt, Expr::value(now))
        .filter(job::Column::Id.eq(id))
        .filter(job::Column::Status.eq(RUNNING))
        .filter(job::Column::LeaseOwner.eq(owner))
        .filter(job::Column::Attempts.eq(attempt))
        .exec(db)
        .await?
        .rows_affected;
    Ok(renewed > 0)
}

/// The jobs about the given references (exactly), or whose reference starts
/// with one of `prefixes` (e.g. `<subscription id>:` for lifecycle steps),
/// oldest first. For the operator's order view.
pub async fn for_references(
    db: &impl ConnectionTrait,
    references: &[String],
    prefixes: &[String],
) -> StoreResult<Vec<job::Model>> {
    if references.is_empty() && prefixes.is_empty() {
        return Ok(Vec::new());
    }
    let mut any = Condition::any();
    if !references.is_empty() {
        any = any.add(job::Column::Reference.is_in(references.iter().cloned()));
    }
    for p in prefixes {
        let pattern = LikeExpr::new(format!("{}%", crate::repo::like_escape(p))).escape('\\');
        any = any.add(Expr::col(job::Column::Reference).like(pattern));
    }
    Ok(job::Entity::find()
        .filter(any)
        .order_by_asc(job::Column::CreatedAt)
        .order_by_asc(job::Column::Id)
        .all(db)
        .await?)
}

/// How an attempt ended, as the store records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Finish {
    /// The work is done; the job will not run again.
    Done,
    /// Try again at `run_at` (the job goes back to pending).
    Retry { run_at: DateTime<Utc>, error: String },
    /// Give up: the job will not run again.
    Dead { error: String },
}

/// Records the end of attempt `attempt` of job `id` by `owner`. Returns false
/// (and changes nothing) unless `owner` still holds the job's lease for that
/// attempt, i.e. no other worker took it over meanwhile. An expired lease
/// that nobody took over is still honoured: the work was done.
pub async fn finish(
    db: &impl ConnectionTrait,
    id: &str,
    owner: &str,
    attempt: i64,
    now: DateTime<Utc>,
    how: &Finish,
) -> StoreResult<bool> {
    let (status, run_at, error, outcome) = match how {
        Finish::Done => (DONE, None, None, OUTCOME_DONE),
        Finish::Retry { run_at, error } => (PENDING, Some(*run_at), Some(error.as_str()), OUTCOME_RETRY),
        Finish::Dead { error } => (DEAD, None, Some(error.as_str()), OUTCOME_DEAD),
    };
    let mut update = job::Entity::update_many()
        .col_expr(job::Column::Status, Expr::value(status))
        .col_expr(job::Column::LeaseOwner, Expr::value(Option::<String>::None))
        .col_expr(job::Column::LeaseExpiresAt, Expr::value(Option::<DateTime<Utc>>::None))
        .col_expr(job::Column::LastError, Expr::value(error.map(str::to_string)))
        .col_expr(job::Column::UpdatedAt, Expr::value(now));
    if let Some(run_at) = run_at {
        update = update.col_expr(job::Column::RunAt, Expr::value(run_at));
    }
    let finished = update
        .filter(job::Column::Id.eq(id))
        .filter(job::Column::Status.eq(RUNNING))
        .filter(job::Column::LeaseOwner.eq(owner))
        .filter(job::Column::Attempts.eq(attempt))
        .exec(db)
        .await?
        .rows_affected;
    if finished == 0 {
        return Ok(false);
    }
    job_attempt::Entity::update_many()
        .col_expr(job_attempt::Column::Outcome, Expr::value(outcome))
        .col_expr(job_attempt::Column::FinishedAt, Expr::value(now))
        .col_expr(job_attempt::Column::Error, Expr::value(error.map(str::to_string)))
        .filter(job_attempt::Column::JobId.eq(id))
        .filter(job_attempt::Column::Attempt.eq(attempt))
        .exec(db)
        .await?;
    Ok(true)
}

/// The attempts at job `id`, first first.
pub async fn attempts(db: &impl ConnectionTrait, id: &str) -> StoreResult<Vec<job_attempt::Model>> {
    Ok(job_attempt::Entity::find()
        .filter(job_attempt::Column::JobId.eq(id))
        .order_by_asc(job_attempt::Column::Attempt)
        .all(db)
        .await?)
}

// ---- periodic tasks ------------------------------------------------------

/// Creates the lease row of periodic task `name` (first slot at
/// `first_run_at`) unless it exists.
pub async fn ensure_task(db: &impl ConnectionTrait, name: &str, first_run_at: DateTime<Utc>) -> StoreResult<()> {
    scheduler_lease::Entity::insert(scheduler_lease::ActiveModel {
        name: Set(name.to_string()),
        owner: Set(None),
        lease_expires_at: Set(None),
        next_run_at: Set(first_run_at),
        last_run_at: Set(None),
        last_owner: Set(None),
        last_error: Set(None),
        runs: Set(0),
    })
    .on_conflict(OnConflict::column(scheduler_lease::Column::Name).do_nothing().to_owned())
    .exec_without_returning(db)
    .await?;
    Ok(())
}

pub async fn find_task(db: &impl ConnectionTrait, name: &str) -> StoreResult<Option<scheduler_lease::Model>> {
    Ok(scheduler_lease::Entity::find_by_id(name.to_string()).one(db).await?)
}

/// Takes the lease of task `name` for its due slot: succeeds only if the
/// slot is due (`next_run_at <= now`) and no other node holds an unexpired
/// lease. Returns the slot (`next_run_at`) taken.
pub async fn take_task(
    db: &impl ConnectionTrait,
    name: &str,
    owner: &str,
    at: impl Into<Moment>,
    lease_until: DateTime<Utc>,
) -> StoreResult<Option<DateTime<Utc>>> {
    let Moment { now, real } = at.into();
    let free = Condition::any()
        .add(scheduler_lease::Column::Owner.is_null())
        .add(scheduler_lease::Column::LeaseExpiresAt.lte(real));
    let taken = scheduler_lease::Entity::update_many()
        .col_expr(scheduler_lease::Column::Owner, Expr::value(owner))
        .col_expr(scheduler_lease::Column::LeaseExpiresAt, Expr::value(lease_until))
        .filter(scheduler_lease::Column::Name.eq(name))
        .filter(scheduler_lease::Column::NextRunAt.lte(now))
        .filter(free)
        .exec(db)
        .await?
        .rows_affected;
    if taken == 0 {
        return Ok(None);
    }
    Ok(find_task(db, name).await?.map(|t| t.next_run_at))
}

/// Ends `owner`'s run of task `name`: releases the lease and moves the task
/// to `next_run_at`. Returns false if `owner` no longer held the lease (it
/// expired and another node took the slot).
pub async fn finish_task(
    db: &impl ConnectionTrait,
    name: &str,
    owner: &str,
    now: DateTime<Utc>,
    next_run_at: DateTime<Utc>,
    error: Option<&str>,
) -> StoreResult<bool> {
    let done = scheduler_lease::Entity::update_many()
        .col_expr(scheduler_lease::Column::Owner, Expr::value(Option::<String>::None))
        .col_expr(scheduler_lease::Column::LeaseExpiresAt, Expr::value(Option::<DateTime<Utc>>::None))
        .col_expr(scheduler_lease::Column::NextRunAt, Expr::value(next_run_at))
        .col_expr(scheduler_lease::Column::LastRunAt, Expr::value(now))
        .col_expr(scheduler_lease::Column::LastOwner, Expr::value(owner))
        .col_expr(scheduler_lease::Column::LastError, Expr::value(error.map(str::to_string)))
        .col_expr(scheduler_lease::Column::Runs, Expr::col(scheduler_lease::Column::Runs).add(1))
        .filter(scheduler_lease::Column::Name.eq(name))
        .filter(scheduler_lease::Column::Owner.eq(owner))
        .exec(db)
        .await?
        .rows_affected;
    Ok(done > 0)
}

/// Makes a pending or dead job due at `now` again (a manual re-send); the
/// retry deadline still counts from its first attempt. False when the job
/// is running or done.
pub async fn requeue(db: &impl ConnectionTrait, id: &str, now: DateTime<Utc>) -> StoreResult<bool> {
    let res = job::Entity::update_many()
        .col_expr(job::Column::Status, Expr::value(PENDING))
        .col_expr(job::Column::RunAt, Expr::value(now))
        .col_expr(job::Column::UpdatedAt, Expr::value(now))
        .filter(job::Column::Id.eq(id))
        .filter(job::Column::Status.is_in([PENDING, DEAD]))
        .exec(db)
        .await?;
    Ok(res.rows_affected > 0)
}

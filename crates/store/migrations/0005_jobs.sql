-- Durable background work. A job is written in the same transaction as the
-- change that caused it (the outbox); any node's worker leases due jobs.
-- (kind, reference) is unique so a change can never enqueue its work twice.
-- A worker claims a job with a conditional UPDATE (no SKIP LOCKED, so the
-- same code runs on SQLite and PostgreSQL) and finishes it with an UPDATE
-- guarded by lease_owner and attempts: a worker whose lease expired and was
-- taken over cannot overwrite the new owner's result.
CREATE TABLE jobs (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    reference TEXT NOT NULL,
    payload_json TEXT NOT NULL,
    status TEXT NOT NULL,
    run_at %TS% NOT NULL,
    attempts BIGINT NOT NULL,
    lease_owner TEXT,
    lease_expires_at %TS%,
    last_error TEXT,
    first_attempt_at %TS%,
    created_at %TS% NOT NULL,
    updated_at %TS% NOT NULL,
    UNIQUE (kind, reference)
);
CREATE INDEX jobs_due ON jobs(status, run_at);
CREATE INDEX jobs_leases ON jobs(status, lease_expires_at);

-- One row per attempt at a job, unique per (job, attempt): when it started,
-- who ran it, how it ended (done, retry, dead, lease_expired) and why.
CREATE TABLE job_attempts (
    job_id TEXT NOT NULL REFERENCES jobs(id),
    attempt BIGINT NOT NULL,
    owner TEXT NOT NULL,
    started_at %TS% NOT NULL,
    finished_at %TS%,
    outcome TEXT,
    error TEXT,
    PRIMARY KEY (job_id, attempt)
);

-- Periodic tasks: the node holding a task's lease runs the slot that is due
-- (next_run_at <= now), then moves next_run_at to the next slot after now.
CREATE TABLE scheduler_leases (
    name TEXT PRIMARY KEY,
    owner TEXT,
    lease_expires_at %TS%,
    next_run_at %TS% NOT NULL,
    last_run_at %TS%,
    last_owner TEXT,
    last_error TEXT,
    runs BIGINT NOT NULL
);

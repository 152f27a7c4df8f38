-- Durable background work. A job is written in the same transaction as the
-- change that caused it (the outbox); any node's worker leases due jobs.
-- (kind, reference) is unique so a change can never enqueue its work twice.
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
    created_at %TS% NOT NULL,
    updated_at %TS% NOT NULL,
    UNIQUE (kind, reference)
);
CREATE INDEX jobs_due ON jobs(status, run_at);

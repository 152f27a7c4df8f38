-- Statement lifecycle (domain::settlement::StatementStatus): who issued it
-- (None: the scheduler), a version guarding every step, when the current
-- status began, the payout's reference and ledger entry; and the steps.
ALTER TABLE statements ADD COLUMN issued_by TEXT;
ALTER TABLE statements ADD COLUMN steps BIGINT NOT NULL DEFAULT 1;
ALTER TABLE statements ADD COLUMN status_since %TS%;
ALTER TABLE statements ADD COLUMN payout_reference TEXT;
ALTER TABLE statements ADD COLUMN payout_entry_id TEXT;
CREATE INDEX statements_status ON statements (status, id);

CREATE TABLE statement_events (
    statement_id TEXT NOT NULL REFERENCES statements(id),
    seq BIGINT NOT NULL,
    action TEXT NOT NULL,
    actor TEXT NOT NULL,
    actor_id TEXT,
    status TEXT NOT NULL,
    note TEXT NOT NULL,
    at %TS% NOT NULL,
    PRIMARY KEY (statement_id, seq)
);

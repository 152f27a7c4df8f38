-- Settlement (domain::settlement): one run per billing period ('YYYY-MM' in
-- the settlement time zone); the first run's row makes every later or
-- concurrent run of the period a no-op.
CREATE TABLE settlement_runs (
    period TEXT PRIMARY KEY,
    period_start %TS% NOT NULL,
    period_end %TS% NOT NULL,
    statements BIGINT NOT NULL,
    lines BIGINT NOT NULL,
    started_by TEXT,
    created_at %TS% NOT NULL
);

-- One statement per seller, period and currency.
CREATE TABLE statements (
    id TEXT PRIMARY KEY,
    seller_id TEXT NOT NULL REFERENCES accounts(id),
    period TEXT NOT NULL REFERENCES settlement_runs(period),
    currency TEXT NOT NULL,
    status TEXT NOT NULL,
    gross_minor BIGINT NOT NULL,
    commission_minor BIGINT NOT NULL,
    net_minor BIGINT NOT NULL,
    tax_rate_bp BIGINT NOT NULL,
    tax_minor BIGINT NOT NULL,
    lines BIGINT NOT NULL,
    issued_at %TS% NOT NULL,
    UNIQUE (seller_id, period, currency)
);
CREATE INDEX statements_period ON statements (period, id);

-- What a statement adds up: delivered order lines, paid usage, clawbacks of
-- refunds. Each source is settled once, ever.
CREATE TABLE statement_lines (
    statement_id TEXT NOT NULL REFERENCES statements(id),
    seq BIGINT NOT NULL,
    kind TEXT NOT NULL,
    source_id TEXT NOT NULL,
    order_id TEXT,
    buyer_id TEXT NOT NULL,
    product_id TEXT NOT NULL,
    settled_at %TS% NOT NULL,
    gross_minor BIGINT NOT NULL,
    commission_minor BIGINT NOT NULL,
    PRIMARY KEY (statement_id, seq)
);
CREATE UNIQUE INDEX statement_lines_source ON statement_lines (kind, source_id);

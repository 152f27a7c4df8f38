-- Invoices (开票) and their return (退票), domain::invoicing. One row per
-- request: who issues it (the platform for joint-operation products,
-- issuer_id 'platform'; the seller for general-cooperation ones, its
-- account id), what the buyer asked to be invoiced as, the amounts taken
-- from the ledger, the number once issued and the credit note's once
-- returned. `steps` guards every step (a conditional update on it).
CREATE TABLE invoices (
    id TEXT PRIMARY KEY,
    order_id TEXT NOT NULL REFERENCES orders(id),
    buyer_id TEXT NOT NULL REFERENCES accounts(id),
    issuer TEXT NOT NULL,
    issuer_id TEXT NOT NULL,
    status TEXT NOT NULL,
    steps BIGINT NOT NULL,
    title TEXT NOT NULL,
    tax_id TEXT NOT NULL,
    address TEXT NOT NULL,
    currency TEXT NOT NULL,
    paid_minor BIGINT NOT NULL,
    refunded_minor BIGINT NOT NULL,
    total_minor BIGINT NOT NULL,
    tax_rate_bp BIGINT NOT NULL,
    tax_minor BIGINT NOT NULL,
    number TEXT,
    issued_at %TS%,
    credit_note_number TEXT,
    credited_at %TS%,
    requested_at %TS% NOT NULL,
    status_since %TS% NOT NULL
);
-- An order has at most one invoice that is not returned or rejected, also
-- when two requests race.
CREATE UNIQUE INDEX invoices_open_per_order ON invoices (order_id) WHERE status IN ('requested', 'issued');
-- Numbers are unique per issuer (NULL until issued / returned).
CREATE UNIQUE INDEX invoices_number ON invoices (issuer_id, number);
CREATE UNIQUE INDEX invoices_credit_note_number ON invoices (issuer_id, credit_note_number);
CREATE INDEX invoices_buyer ON invoices (buyer_id, id);
CREATE INDEX invoices_issuer ON invoices (issuer_id, status, id);

-- What an invoice lists, as of its request and again as of its issue: the
-- order's lines and, when some of it was refunded, a negative line.
CREATE TABLE invoice_lines (
    invoice_id TEXT NOT NULL REFERENCES invoices(id),
    line_no BIGINT NOT NULL,
    description TEXT NOT NULL,
    sku_code TEXT NOT NULL,
    amount_minor BIGINT NOT NULL,
    PRIMARY KEY (invoice_id, line_no)
);

-- Each issuer's numbering, per document series ('INV', 'CN') and year:
-- the last number given. Taken by an increment in the issuing
-- transaction, so numbers are gapless and never given twice.
CREATE TABLE invoice_sequences (
    issuer_id TEXT NOT NULL,
    series TEXT NOT NULL,
    year BIGINT NOT NULL,
    last_number BIGINT NOT NULL,
    PRIMARY KEY (issuer_id, series, year)
);

-- An invoice's steps (request, issue, reject, return) with actor and time.
CREATE TABLE invoice_events (
    invoice_id TEXT NOT NULL REFERENCES invoices(id),
    seq BIGINT NOT NULL,
    action TEXT NOT NULL,
    actor TEXT NOT NULL,
    actor_id TEXT,
    status TEXT NOT NULL,
    note TEXT NOT NULL,
    at %TS% NOT NULL,
    PRIMARY KEY (invoice_id, seq)
);

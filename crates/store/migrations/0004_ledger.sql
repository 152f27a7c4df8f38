-- Money: the double-entry ledger (entries, lines, derived balances), payments
-- through payment providers, commission rates and idempotency keys.
-- Amounts are integer minor units (BIGINT), never floats.

-- One journal entry per money movement; `reference` names what caused it
-- (payment, order, refund id).
CREATE TABLE ledger_entries (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    reference TEXT NOT NULL,
    memo TEXT NOT NULL,
    created_at %TS% NOT NULL
);
CREATE INDEX ledger_entries_by_reference ON ledger_entries(reference, id);

-- Each line debits or credits one account in one currency (exactly one side
-- positive). Per entry and currency, debits equal credits.
CREATE TABLE ledger_lines (
    entry_id TEXT NOT NULL REFERENCES ledger_entries(id),
    line_no BIGINT NOT NULL,
    account TEXT NOT NULL,
    currency TEXT NOT NULL,
    debit_minor BIGINT NOT NULL,
    credit_minor BIGINT NOT NULL,
    PRIMARY KEY (entry_id, line_no),
    CHECK ((debit_minor > 0 AND credit_minor = 0) OR (debit_minor = 0 AND credit_minor > 0))
);
CREATE INDEX ledger_lines_by_account ON ledger_lines(account, entry_id);

-- Running sums per account and currency, updated in the same transaction as
-- the lines; `mercato ledger check` proves they equal the lines' sums.
CREATE TABLE ledger_balances (
    account TEXT NOT NULL,
    currency TEXT NOT NULL,
    debit_minor BIGINT NOT NULL,
    credit_minor BIGINT NOT NULL,
    PRIMARY KEY (account, currency)
);

-- Money collected (or to be collected) through a payment provider.
CREATE TABLE payments (
    id TEXT PRIMARY KEY,
    provider TEXT NOT NULL,
    buyer_id TEXT NOT NULL REFERENCES accounts(id),
    amount_minor BIGINT NOT NULL,
    currency TEXT NOT NULL,
    status TEXT NOT NULL,
    provider_ref TEXT NOT NULL,
    reason TEXT NOT NULL,
    created_by TEXT NOT NULL REFERENCES accounts(id),
    created_at %TS% NOT NULL
);
CREATE INDEX payments_by_buyer ON payments(buyer_id, id);

-- Commission in basis points per product type and cooperation model.
CREATE TABLE commission_rates (
    product_type TEXT NOT NULL,
    cooperation TEXT NOT NULL,
    rate_bp BIGINT NOT NULL,
    updated_at %TS% NOT NULL,
    PRIMARY KEY (product_type, cooperation)
);
-- Defaults: joint operation 20%, general cooperation 10%, for every type.
INSERT INTO commission_rates (product_type, cooperation, rate_bp, updated_at) VALUES
    ('saas', 'joint', 2000, %NOW%), ('saas', 'general', 1000, %NOW%),
    ('license', 'joint', 2000, %NOW%), ('license', 'general', 1000, %NOW%),
    ('manual_service', 'joint', 2000, %NOW%), ('manual_service', 'general', 1000, %NOW%),
    ('api', 'joint', 2000, %NOW%), ('api', 'general', 1000, %NOW%),
    ('image', 'joint', 2000, %NOW%), ('image', 'general', 1000, %NOW%),
    ('hardware', 'joint', 2000, %NOW%), ('hardware', 'general', 1000, %NOW%),
    ('ai_asset', 'joint', 2000, %NOW%), ('ai_asset', 'general', 1000, %NOW%),
    ('container', 'joint', 2000, %NOW%), ('container', 'general', 1000, %NOW%),
    ('data_asset', 'joint', 2000, %NOW%), ('data_asset', 'general', 1000, %NOW%),
    ('app_orchestration', 'joint', 2000, %NOW%), ('app_orchestration', 'general', 1000, %NOW%);

-- Idempotency-Key: the first response to a request, replayed on retries.
-- Stored in the same transaction as the request's effects.
CREATE TABLE idempotency_keys (
    account_id TEXT NOT NULL,
    idem_key TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    status_code BIGINT,
    response_body TEXT,
    created_at %TS% NOT NULL,
    PRIMARY KEY (account_id, idem_key)
);
CREATE INDEX idempotency_keys_by_age ON idempotency_keys(created_at);

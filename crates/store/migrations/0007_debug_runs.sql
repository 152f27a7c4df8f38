-- A SaaS product's debug runs: the conformance cases (testFlag 1) run
-- against its seller endpoint before it may be submitted (seller interface
-- spec §8). The endpoint is recorded as its URL and a keyed fingerprint of
-- URL + access key at run time, so a later change of endpoint makes the run
-- stale without storing the key again. At most one run per product is
-- `running` at a time; status is running | passed | failed | abandoned.
CREATE TABLE debug_runs (
    id TEXT PRIMARY KEY,
    product_id TEXT NOT NULL REFERENCES products(id),
    seller_id TEXT NOT NULL REFERENCES accounts(id),
    endpoint_url TEXT NOT NULL,
    endpoint_fingerprint TEXT NOT NULL,
    case_set TEXT NOT NULL,
    status TEXT NOT NULL,
    cases_json TEXT NOT NULL,
    started_at %TS% NOT NULL,
    finished_at %TS%
);
CREATE INDEX debug_runs_by_product ON debug_runs(product_id, id);
CREATE UNIQUE INDEX debug_runs_one_running ON debug_runs(product_id) WHERE status = 'running';

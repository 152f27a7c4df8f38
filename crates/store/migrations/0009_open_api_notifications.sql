-- In-app notifications (any account reads its own), and the record of
-- purchases that failed because of the seller's interface (a refusal, or
-- giving up after the purchase deadline), one row per order line, counted
-- per product and calendar month for auto-delisting (more than 5 in a month
-- delists the product).
CREATE TABLE notifications (
    id TEXT PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES accounts(id),
    kind TEXT NOT NULL,
    title TEXT NOT NULL,
    body TEXT NOT NULL,
    reference TEXT,
    created_at %TS% NOT NULL,
    read_at %TS%
);
CREATE INDEX notifications_by_account ON notifications(account_id, id);
CREATE TABLE interface_failures (
    order_line_id TEXT PRIMARY KEY,
    product_id TEXT NOT NULL REFERENCES products(id),
    seller_id TEXT NOT NULL REFERENCES accounts(id),
    failed_at %TS% NOT NULL
);
CREATE INDEX interface_failures_by_product ON interface_failures(product_id, failed_at);

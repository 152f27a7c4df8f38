-- Operations: what the operator's order view reads, and notifications sent
-- at most once per key.
--
-- notification_once: one row per notification that must not repeat, keyed
-- by what it is about and when (e.g. `auto_renew_unpaid:<subscription>:
-- <UTC date>`: a buyer whose auto-renewal cannot be paid is told at most
-- once per subscription per day). The key is inserted in the notification's
-- transaction with ON CONFLICT DO NOTHING, so two scans (or two nodes)
-- notify once.
CREATE TABLE notification_once (
    once_key TEXT PRIMARY KEY,
    notification_id TEXT NOT NULL,
    created_at %TS% NOT NULL
);

-- The operator's order view: orders by status (the list's status filter),
-- order lines by product (its product filter), and jobs by reference (the
-- jobs of an order's lines: fulfilment and renewal jobs are referenced by
-- the line id, lifecycle steps by `<subscription id>:...`).
CREATE INDEX orders_by_status ON orders(status, created_at, id);
CREATE INDEX order_lines_by_product ON order_lines(product_id, order_id);
CREATE INDEX jobs_by_reference ON jobs(reference);

-- Buying: orders with their lines (one line per SKU bought; the line id is
-- the seller protocol's orderLineId), the subscriptions (purchased services)
-- created when an order is paid, and the record of free trials used.
-- Amounts are integer minor units; enumerations are stored as their wire names.

CREATE TABLE orders (
    id TEXT PRIMARY KEY,
    buyer_id TEXT NOT NULL REFERENCES accounts(id),
    status TEXT NOT NULL,
    amount_minor BIGINT NOT NULL,
    currency TEXT NOT NULL,
    -- The journal entry of the payment (none for free orders).
    payment_entry_id TEXT,
    created_at %TS% NOT NULL,
    updated_at %TS% NOT NULL,
    paid_at %TS%,
    cancelled_at %TS%
);
CREATE INDEX orders_by_buyer ON orders(buyer_id, created_at, id);
CREATE INDEX orders_by_created ON orders(created_at, id);

CREATE TABLE order_lines (
    id TEXT PRIMARY KEY,
    order_id TEXT NOT NULL REFERENCES orders(id),
    line_no BIGINT NOT NULL,
    product_id TEXT NOT NULL REFERENCES products(id),
    seller_id TEXT NOT NULL REFERENCES accounts(id),
    product_name TEXT NOT NULL,
    product_type TEXT NOT NULL,
    cooperation TEXT NOT NULL,
    sku_id TEXT NOT NULL REFERENCES skus(id),
    sku_code TEXT NOT NULL,
    charging_mode TEXT NOT NULL,
    period TEXT,
    period_count BIGINT,
    quantity BIGINT NOT NULL,
    trial BOOLEAN NOT NULL,
    trial_days BIGINT,
    auto_renew BOOLEAN NOT NULL,
    amount_minor BIGINT NOT NULL,
    currency TEXT NOT NULL,
    -- The SKU as it was sold (the listed snapshot's spec).
    sku_spec_json TEXT NOT NULL,
    created_at %TS% NOT NULL,
    UNIQUE (order_id, line_no)
);
CREATE INDEX order_lines_by_seller ON order_lines(seller_id, order_id);

CREATE TABLE subscriptions (
    id TEXT PRIMARY KEY,
    buyer_id TEXT NOT NULL REFERENCES accounts(id),
    order_id TEXT NOT NULL REFERENCES orders(id),
    order_line_id TEXT NOT NULL UNIQUE REFERENCES order_lines(id),
    product_id TEXT NOT NULL REFERENCES products(id),
    seller_id TEXT NOT NULL REFERENCES accounts(id),
    product_name TEXT NOT NULL,
    sku_id TEXT NOT NULL,
    status TEXT NOT NULL,
    instance_id TEXT,
    charging_mode TEXT NOT NULL,
    period TEXT,
    trial BOOLEAN NOT NULL,
    auto_renew BOOLEAN NOT NULL,
    starts_at %TS% NOT NULL,
    expires_at %TS%,
    created_at %TS% NOT NULL,
    updated_at %TS% NOT NULL
);
CREATE INDEX subscriptions_by_buyer ON subscriptions(buyer_id, id);
CREATE INDEX subscriptions_by_expiry ON subscriptions(status, expires_at);

-- A buyer's free trial of a product, taken when the trial order is placed
-- (so two trial orders cannot race). Cancelling the unpaid trial order frees
-- it again; once the trial order is paid it stays used for good.
CREATE TABLE trial_uses (
    buyer_id TEXT NOT NULL REFERENCES accounts(id),
    product_id TEXT NOT NULL REFERENCES products(id),
    order_id TEXT NOT NULL,
    created_at %TS% NOT NULL,
    PRIMARY KEY (buyer_id, product_id)
);

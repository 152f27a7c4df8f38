-- Delivery of every product type (domain::delivery). The mode a purchase is
-- delivered in, decided when it is paid; old rows are SaaS instances.
ALTER TABLE subscriptions ADD COLUMN delivery_mode TEXT NOT NULL DEFAULT 'saas';

-- Service supervision (服务监管): one per supervised order line. `steps`
-- counts the timeline rows and guards every change (a step applies only to
-- the version it was decided from); `status_since` is when the current status
-- began (the appeal wait counts from it).
CREATE TABLE supervisions (
    id TEXT PRIMARY KEY,
    order_id TEXT NOT NULL REFERENCES orders(id),
    order_line_id TEXT NOT NULL UNIQUE REFERENCES order_lines(id),
    subscription_id TEXT NOT NULL REFERENCES subscriptions(id),
    buyer_id TEXT NOT NULL REFERENCES accounts(id),
    seller_id TEXT NOT NULL REFERENCES accounts(id),
    product_id TEXT NOT NULL REFERENCES products(id),
    product_name TEXT NOT NULL,
    mode TEXT NOT NULL,
    status TEXT NOT NULL,
    status_since %TS% NOT NULL,
    steps BIGINT NOT NULL,
    created_at %TS% NOT NULL,
    updated_at %TS% NOT NULL,
    completed_at %TS%
);
CREATE INDEX supervisions_buyer ON supervisions (buyer_id, id);
CREATE INDEX supervisions_seller ON supervisions (seller_id, id);
CREATE INDEX supervisions_status ON supervisions (status, id);

-- The timeline: who did what, when, with which note and attachments.
CREATE TABLE supervision_steps (
    supervision_id TEXT NOT NULL REFERENCES supervisions(id),
    seq BIGINT NOT NULL,
    action TEXT NOT NULL,
    actor TEXT NOT NULL,
    actor_id TEXT,
    status TEXT NOT NULL,
    note TEXT NOT NULL,
    attachments_json TEXT NOT NULL,
    at %TS% NOT NULL,
    PRIMARY KEY (supervision_id, seq)
);

-- Files attached to supervision steps are private to the supervision's
-- parties (never served under the public /media path).
ALTER TABLE media ADD COLUMN supervision_id TEXT REFERENCES supervisions(id);

-- When each order line's delivery completed, and how: the settleable time.
-- The first completion counts.
CREATE TABLE line_deliveries (
    order_line_id TEXT PRIMARY KEY REFERENCES order_lines(id),
    order_id TEXT NOT NULL REFERENCES orders(id),
    seller_id TEXT NOT NULL REFERENCES accounts(id),
    delivered_by TEXT NOT NULL,
    delivered_at %TS% NOT NULL
);
CREATE INDEX line_deliveries_seller ON line_deliveries (seller_id, delivered_at);

-- License codes (delivery mode license_code): one per order line, as the
-- seller's getLicenseAsync answered it; its activation and last heartbeat.
CREATE TABLE licenses (
    order_line_id TEXT PRIMARY KEY REFERENCES order_lines(id),
    subscription_id TEXT NOT NULL UNIQUE REFERENCES subscriptions(id),
    seller_id TEXT NOT NULL REFERENCES accounts(id),
    instance_id TEXT NOT NULL,
    license_code TEXT NOT NULL,
    issued_at %TS% NOT NULL,
    activated_at %TS%,
    effective_at %TS%,
    last_heartbeat_at %TS%,
    heartbeat_account TEXT,
    heartbeat_ip TEXT
);
CREATE UNIQUE INDEX licenses_code ON licenses (seller_id, license_code);

-- Unsubscribe with refunds (server app/unsubscribe.rs, domain refunds.rs).
--
-- refunds: one row per refund order (an order whose one line is of kind
-- `unsubscribe`): the scope asked for, the rule applied, and how the
-- refunded amount split between the seller's payable and the platform's
-- commission (what later refunds of the same subscription build on).
CREATE TABLE refunds (
    order_id TEXT PRIMARY KEY REFERENCES orders(id),
    order_line_id TEXT NOT NULL REFERENCES order_lines(id),
    subscription_id TEXT NOT NULL REFERENCES subscriptions(id),
    buyer_id TEXT NOT NULL REFERENCES accounts(id),
    scope TEXT NOT NULL,
    rule TEXT NOT NULL,
    amount_minor BIGINT NOT NULL,
    seller_minor BIGINT NOT NULL,
    commission_minor BIGINT NOT NULL,
    currency TEXT NOT NULL,
    reason TEXT,
    created_at %TS% NOT NULL
);
CREATE INDEX refunds_by_subscription ON refunds(subscription_id);
CREATE INDEX refunds_by_buyer ON refunds(buyer_id, rule, created_at);

-- Five-day full refunds taken per buyer and UTC calendar year. Taken by a
-- conditional increment (used < limit), so concurrent unsubscribes of one
-- buyer cannot exceed the yearly limit on either backend.
CREATE TABLE full_refund_counts (
    buyer_id TEXT NOT NULL REFERENCES accounts(id),
    year BIGINT NOT NULL,
    used BIGINT NOT NULL,
    PRIMARY KEY (buyer_id, year)
);

-- The term each renewal bought (from the expiry it extended to the new
-- expiry), written with the renewal; refund_order_id is set once the term
-- was refunded by an unsubscribe of renewal periods.
CREATE TABLE renewal_terms (
    order_line_id TEXT PRIMARY KEY REFERENCES order_lines(id),
    subscription_id TEXT NOT NULL REFERENCES subscriptions(id),
    starts_at %TS% NOT NULL,
    ends_at %TS% NOT NULL,
    amount_minor BIGINT NOT NULL,
    refund_order_id TEXT REFERENCES orders(id)
);
CREATE INDEX renewal_terms_by_subscription ON renewal_terms(subscription_id, starts_at);

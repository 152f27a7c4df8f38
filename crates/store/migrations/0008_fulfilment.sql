-- Fulfilment through the seller's server (seller interface spec §2, §8).
--
-- interface_messages: every production-interface call the marketplace made,
-- one row per attempt, with what was sent and what came back (the answer
-- truncated to 8 KiB). outcome is success | in_progress | refused |
-- retryable | rejected. Sellers read their own ("production interface
-- messages") and may re-send a failed purchase.
CREATE TABLE interface_messages (
    id TEXT PRIMARY KEY,
    seller_id TEXT NOT NULL REFERENCES accounts(id),
    product_id TEXT NOT NULL REFERENCES products(id),
    order_id TEXT NOT NULL,
    order_line_id TEXT NOT NULL,
    activity TEXT NOT NULL,
    url TEXT NOT NULL,
    request_body TEXT NOT NULL,
    response_status BIGINT,
    response_body TEXT,
    result_code TEXT,
    outcome TEXT NOT NULL,
    duration_ms BIGINT NOT NULL,
    attempt BIGINT NOT NULL,
    created_at %TS% NOT NULL
);
CREATE INDEX interface_messages_by_seller ON interface_messages(seller_id, id);
CREATE INDEX interface_messages_by_line ON interface_messages(order_line_id, id);

-- The seller's appInfo of a provisioned subscription (queryInstance); the
-- password is encrypted with the master key.
CREATE TABLE subscription_app_info (
    subscription_id TEXT PRIMARY KEY REFERENCES subscriptions(id),
    front_end_url TEXT NOT NULL,
    admin_url TEXT,
    user_name TEXT,
    password_enc TEXT,
    memo TEXT,
    updated_at %TS% NOT NULL
);

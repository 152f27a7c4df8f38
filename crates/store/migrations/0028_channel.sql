-- The channel (domain::channel): partners (客户服务商) and the customers they
-- bind, exclusive discounts (专属优惠), customer demands, private offers,
-- coupons (满减代金券), and what each order line was granted.

-- A partner's binding to a customer: invited by the partner, accepted (or
-- declined) by the buyer, ended by either side with an end time. A buyer
-- has at most one active partner, and a partner one open invitation per
-- buyer, also when two requests race.
CREATE TABLE partner_bindings (
    id TEXT PRIMARY KEY,
    partner_id TEXT NOT NULL REFERENCES accounts(id),
    buyer_id TEXT NOT NULL REFERENCES accounts(id),
    status TEXT NOT NULL,
    message TEXT,
    invited_at %TS% NOT NULL,
    accepted_at %TS%,
    ended_at %TS%,
    end_reason TEXT
);
CREATE UNIQUE INDEX partner_bindings_one_active ON partner_bindings (buyer_id) WHERE status = 'active';
CREATE UNIQUE INDEX partner_bindings_one_invitation ON partner_bindings (partner_id, buyer_id) WHERE status = 'invited';
CREATE INDEX partner_bindings_partner ON partner_bindings (partner_id, status, id);

-- An exclusive discount a partner asked for one bound customer on one
-- joint-operation product; the operator decides. `share_bp` is the
-- partner's share of the sales it is used on, fixed when approved.
CREATE TABLE exclusive_discounts (
    id TEXT PRIMARY KEY,
    partner_id TEXT NOT NULL REFERENCES accounts(id),
    buyer_id TEXT NOT NULL REFERENCES accounts(id),
    product_id TEXT NOT NULL REFERENCES products(id),
    percent_off_bp BIGINT NOT NULL,
    share_bp BIGINT,
    status TEXT NOT NULL,
    reason TEXT NOT NULL,
    valid_from %TS% NOT NULL,
    valid_until %TS% NOT NULL,
    requested_at %TS% NOT NULL,
    decided_at %TS%,
    decided_by TEXT,
    decision_note TEXT
);
CREATE INDEX exclusive_discounts_buyer ON exclusive_discounts (buyer_id, product_id, status);
CREATE INDEX exclusive_discounts_partner ON exclusive_discounts (partner_id, id);
CREATE INDEX exclusive_discounts_status ON exclusive_discounts (status, id);

-- A customer's demand a partner passes to a seller; the seller answers
-- with a private offer (offer_id) or declines.
CREATE TABLE customer_demands (
    id TEXT PRIMARY KEY,
    partner_id TEXT NOT NULL REFERENCES accounts(id),
    buyer_id TEXT NOT NULL REFERENCES accounts(id),
    seller_id TEXT NOT NULL REFERENCES accounts(id),
    product_id TEXT NOT NULL REFERENCES products(id),
    needs TEXT NOT NULL,
    target_price_minor BIGINT,
    currency TEXT NOT NULL,
    status TEXT NOT NULL,
    seller_note TEXT,
    offer_id TEXT,
    created_at %TS% NOT NULL,
    decided_at %TS%
);
CREATE INDEX customer_demands_partner ON customer_demands (partner_id, id);
CREATE INDEX customer_demands_seller ON customer_demands (seller_id, status, id);

-- A seller's private offer to one buyer on one joint-operation product:
-- its prices per SKU and the terms it holds for (terms_json), valid in
-- [valid_from, valid_until), used by at most one order (order_id, taken
-- when the order is placed and given back if it is cancelled unpaid).
-- Made from a partner's demand, the partner earns share_bp of the sale.
CREATE TABLE private_offers (
    id TEXT PRIMARY KEY,
    seller_id TEXT NOT NULL REFERENCES accounts(id),
    buyer_id TEXT NOT NULL REFERENCES accounts(id),
    product_id TEXT NOT NULL REFERENCES products(id),
    demand_id TEXT,
    partner_id TEXT,
    share_bp BIGINT,
    terms_json TEXT NOT NULL,
    message TEXT,
    status TEXT NOT NULL,
    valid_from %TS% NOT NULL,
    valid_until %TS% NOT NULL,
    order_id TEXT,
    created_at %TS% NOT NULL,
    status_since %TS% NOT NULL
);
CREATE UNIQUE INDEX private_offers_demand ON private_offers (demand_id);
CREATE INDEX private_offers_buyer ON private_offers (buyer_id, id);
CREATE INDEX private_offers_seller ON private_offers (seller_id, id);

-- A seller's batch of threshold coupons (满减): amount_off off an order of
-- at least threshold, for the products / SKUs named in scope_json.
-- claimed counts the coupons given out (never above total_count).
CREATE TABLE coupon_batches (
    id TEXT PRIMARY KEY,
    seller_id TEXT NOT NULL REFERENCES accounts(id),
    name TEXT NOT NULL,
    threshold_minor BIGINT NOT NULL,
    amount_off_minor BIGINT NOT NULL,
    currency TEXT NOT NULL,
    scope_json TEXT NOT NULL,
    valid_from %TS% NOT NULL,
    valid_until %TS% NOT NULL,
    total_count BIGINT NOT NULL,
    claimed BIGINT NOT NULL,
    per_buyer_limit BIGINT NOT NULL,
    status TEXT NOT NULL,
    created_at %TS% NOT NULL
);
CREATE INDEX coupon_batches_seller ON coupon_batches (seller_id, id);

-- One claimed coupon. claim_no numbers a buyer's claims of a batch, so the
-- per-buyer limit holds when claims race (the unique index refuses the
-- second). A coupon is used by one order (conditional update on status).
CREATE TABLE coupons (
    id TEXT PRIMARY KEY,
    batch_id TEXT NOT NULL REFERENCES coupon_batches(id),
    buyer_id TEXT NOT NULL REFERENCES accounts(id),
    claim_no BIGINT NOT NULL,
    status TEXT NOT NULL,
    order_id TEXT,
    claimed_at %TS% NOT NULL,
    used_at %TS%
);
CREATE UNIQUE INDEX coupons_claim ON coupons (batch_id, buyer_id, claim_no);
CREATE INDEX coupons_buyer ON coupons (buyer_id, status, id);
CREATE INDEX coupons_order ON coupons (order_id);

-- What each order line was granted (domain::channel::pricing): the list
-- price, every discount step (who granted it, who bears it, how much), the
-- sale the seller and the platform split (the amount due plus what a
-- partner funded), and the partner the sale is attributed to.
ALTER TABLE order_lines ADD COLUMN list_minor BIGINT NOT NULL DEFAULT 0;
ALTER TABLE order_lines ADD COLUMN gross_minor BIGINT NOT NULL DEFAULT 0;
ALTER TABLE order_lines ADD COLUMN discounts_json TEXT NOT NULL DEFAULT '[]';
ALTER TABLE order_lines ADD COLUMN partner_id TEXT;
ALTER TABLE order_lines ADD COLUMN partner_share_bp BIGINT;
UPDATE order_lines SET list_minor = amount_minor, gross_minor = amount_minor;
CREATE INDEX order_lines_partner ON order_lines (partner_id, created_at);

-- What an unsubscribe refund took back from the partner's share.
ALTER TABLE refunds ADD COLUMN partner_minor BIGINT NOT NULL DEFAULT 0;

-- A partner's statement of shares for a period and currency (hooked into
-- the settlement run): issued, then the partner's invoice is received by
-- an operator, then paid out.
CREATE TABLE partner_statements (
    id TEXT PRIMARY KEY,
    partner_id TEXT NOT NULL REFERENCES accounts(id),
    period TEXT NOT NULL,
    currency TEXT NOT NULL,
    sales_minor BIGINT NOT NULL,
    share_minor BIGINT NOT NULL,
    lines BIGINT NOT NULL,
    status TEXT NOT NULL,
    invoice_number TEXT,
    invoice_received_at %TS%,
    invoice_received_by TEXT,
    payout_entry_id TEXT,
    paid_at %TS%,
    created_at %TS% NOT NULL
);
CREATE UNIQUE INDEX partner_statements_period ON partner_statements (partner_id, period, currency);
CREATE INDEX partner_statements_status ON partner_statements (status, id);

CREATE TABLE partner_statement_lines (
    statement_id TEXT NOT NULL REFERENCES partner_statements(id),
    seq BIGINT NOT NULL,
    kind TEXT NOT NULL,
    order_id TEXT NOT NULL,
    order_line_id TEXT NOT NULL,
    buyer_id TEXT NOT NULL,
    product_id TEXT NOT NULL,
    settled_at %TS% NOT NULL,
    sales_minor BIGINT NOT NULL,
    share_minor BIGINT NOT NULL,
    entry_id TEXT,
    PRIMARY KEY (statement_id, seq)
);

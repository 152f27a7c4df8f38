-- Rating and charging pay-per-use usage (rules: mercato_domain::rating).
--
-- The validator stamps each valid record with its instance's billing
-- ('hourly' or 'daily'), so rating reads one period's records through the
-- (status, received_at) index without joining the instance.
ALTER TABLE usage_records ADD COLUMN billing TEXT;
UPDATE usage_records SET billing = 'hourly' WHERE status = 'valid';

-- How far each billing's periods are rated and charged: every period that
-- starts before rated_until is final. One row per billing.
CREATE TABLE usage_rating_marks (
    billing TEXT PRIMARY KEY,
    rated_until %TS% NOT NULL
);

-- One instance's valid usage in one closed period, what packages covered,
-- and the overage's amount (rounded once per line). charge_id: the buyer's
-- charge for the period (NULL when nothing is charged).
CREATE TABLE usage_lines (
    instance_id TEXT NOT NULL,
    period_start %TS% NOT NULL,
    billing TEXT NOT NULL,
    subscription_id TEXT NOT NULL,
    buyer_id TEXT NOT NULL,
    seller_id TEXT NOT NULL,
    product_id TEXT NOT NULL,
    records BIGINT NOT NULL,
    quantity_e4 BIGINT NOT NULL,
    package_e4 BIGINT NOT NULL,
    overage_e4 BIGINT NOT NULL,
    unit_price TEXT,
    amount_minor BIGINT NOT NULL,
    commission_minor BIGINT NOT NULL,
    currency TEXT NOT NULL,
    charge_id TEXT,
    rated_at %TS% NOT NULL,
    PRIMARY KEY (instance_id, period_start)
);
CREATE INDEX usage_lines_by_subscription ON usage_lines(subscription_id, period_start);
CREATE INDEX usage_lines_by_seller ON usage_lines(seller_id, period_start);
CREATE INDEX usage_lines_by_charge ON usage_lines(charge_id);

-- Quota packages (on_demand_pkg subscriptions) and how much of each is used.
CREATE TABLE usage_packages (
    subscription_id TEXT PRIMARY KEY,
    buyer_id TEXT NOT NULL,
    product_id TEXT NOT NULL,
    instance_id TEXT,
    quota_e4 BIGINT NOT NULL,
    used_e4 BIGINT NOT NULL,
    starts_at %TS% NOT NULL,
    expires_at %TS% NOT NULL
);
CREATE INDEX usage_packages_by_buyer ON usage_packages(buyer_id, product_id);

-- What each package covered of each line.
CREATE TABLE usage_package_draws (
    package_id TEXT NOT NULL,
    instance_id TEXT NOT NULL,
    period_start %TS% NOT NULL,
    quantity_e4 BIGINT NOT NULL,
    PRIMARY KEY (package_id, instance_id, period_start)
);

-- One charge per buyer, closed period and currency: the sum of the buyer's
-- lines, paid from the wallet by one ledger entry ('paid', entry_id), or
-- 'arrears' until a top-up pays it. The unique key makes a second charging
-- run for the same period impossible, whatever the node.
CREATE TABLE usage_charges (
    id TEXT PRIMARY KEY,
    buyer_id TEXT NOT NULL,
    billing TEXT NOT NULL,
    period_start %TS% NOT NULL,
    currency TEXT NOT NULL,
    amount_minor BIGINT NOT NULL,
    status TEXT NOT NULL,
    entry_id TEXT,
    created_at %TS% NOT NULL,
    paid_at %TS%,
    UNIQUE (buyer_id, billing, period_start, currency)
);
CREATE INDEX usage_charges_by_buyer ON usage_charges(buyer_id, status, period_start);

-- Why a subscription is frozen when usage froze it: 'arrears' (its buyer
-- owes usage charges; a top-up that clears them unfreezes it) or
-- 'package_used_up' (a package that stops when used up). NULL otherwise.
ALTER TABLE subscriptions ADD COLUMN frozen_for TEXT;

-- Plan changes (upgrade, downgrade at renewal, trial -> formal): the
-- subscription's current specification. spec_line_id names the order line
-- whose SKU, sku_spec_json, quantity and period terms are current (an
-- upgrade, a renewal that changed the specification, or a trial
-- conversion); null means the purchase line (order_line_id). sku_id on the
-- subscription follows it. Renewals and auto-renewals price from it.
ALTER TABLE subscriptions ADD COLUMN spec_line_id TEXT REFERENCES order_lines(id);

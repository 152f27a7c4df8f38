-- Subscription lifecycle: a renewal order's line names the subscription it
-- extends (null for purchases, whose line owns the subscription instead).
ALTER TABLE order_lines ADD COLUMN renews_subscription_id TEXT REFERENCES subscriptions(id);
CREATE INDEX order_lines_by_renewed_subscription ON order_lines(renews_subscription_id);

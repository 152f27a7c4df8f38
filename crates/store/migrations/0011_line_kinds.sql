-- Why each order line exists: purchase (owns a new subscription), renewal,
-- upgrade, trial_conversion, unsubscribe (the refund order of KooGallery).
-- Lines other than purchases name the subscription they act on in
-- renews_subscription_id.
ALTER TABLE order_lines ADD COLUMN kind TEXT NOT NULL DEFAULT 'purchase';
UPDATE order_lines SET kind = 'renewal' WHERE renews_subscription_id IS NOT NULL;

-- Settlement at scale: a run reads what became settleable in a closed period
-- by time, so each source is found by its settling time.
CREATE INDEX line_deliveries_delivered ON line_deliveries (delivered_at);
CREATE INDEX usage_charges_paid ON usage_charges (paid_at);
CREATE INDEX refunds_created ON refunds (created_at);

-- Each settled line keeps the ledger entry its money moved in (the order's
-- payment, the usage charge's, the unsubscribe refund's): the reconciliation
-- check sums the seller's payable in those entries against the statement.
-- And its product type, for the transaction details' filter.
ALTER TABLE statement_lines ADD COLUMN entry_id TEXT;
ALTER TABLE statement_lines ADD COLUMN product_type TEXT NOT NULL DEFAULT 'saas';

UPDATE statement_lines SET product_type = COALESCE(
    (SELECT p.product_type FROM products p WHERE p.id = statement_lines.product_id), 'saas');
UPDATE statement_lines SET entry_id = (
    SELECT o.payment_entry_id FROM orders o WHERE o.id = statement_lines.order_id)
WHERE kind = 'sale';
UPDATE statement_lines SET entry_id = (
    SELECT MIN(e.id) FROM ledger_entries e WHERE e.reference = statement_lines.source_id AND e.kind = 'refund')
WHERE kind = 'clawback';
-- A usage line's source is `instance@period start`; its charge was paid at
-- the line's settling time, and an instance has one line per charge.
UPDATE statement_lines SET entry_id = (
    SELECT MIN(c.entry_id) FROM usage_lines u JOIN usage_charges c ON c.id = u.charge_id
    WHERE statement_lines.source_id LIKE u.instance_id || '@%' AND c.paid_at = statement_lines.settled_at)
WHERE kind = 'usage';

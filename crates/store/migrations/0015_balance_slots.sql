-- Running balances split into slots. Every payment credits the same seller
-- payable and platform commission balances; with one row each, concurrent
-- payments queue on those row locks until each commits. Non-wallet accounts
-- now spread their postings over a few slots (picked at random per posting)
-- and readers sum the slots. Buyer wallets stay in slot 0 alone: the
-- overdraft guard needs the whole balance in one row.
CREATE TABLE ledger_balance_slots (
    account TEXT NOT NULL,
    currency TEXT NOT NULL,
    slot BIGINT NOT NULL,
    debit_minor BIGINT NOT NULL,
    credit_minor BIGINT NOT NULL,
    PRIMARY KEY (account, currency, slot)
);
INSERT INTO ledger_balance_slots (account, currency, slot, debit_minor, credit_minor)
    SELECT account, currency, 0, debit_minor, credit_minor FROM ledger_balances;
DROP TABLE ledger_balances;

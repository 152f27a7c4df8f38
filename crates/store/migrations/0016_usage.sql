-- Usage records (话单) pushed by sellers for pay-per-use instances. The key is
-- the seller's own record id, so a retried push inserts nothing new
-- (INSERT ... ON CONFLICT DO NOTHING). Rows arrive as 'received'; the
-- asynchronous validator moves them to 'rated', 'error' (error_code and
-- error_reason set) or 'duplicate'. No foreign key on instance_id: the
-- instance is checked asynchronously, and a record for an unknown instance
-- must still be kept as an error record.
CREATE TABLE usage_records (
    seller_id TEXT NOT NULL REFERENCES accounts(id),
    metering_sn TEXT NOT NULL,
    instance_id TEXT NOT NULL,
    record_time %TS%,
    begin_time %TS% NOT NULL,
    end_time %TS% NOT NULL,
    usage_e4 BIGINT NOT NULL,
    relate_pkg_instance TEXT,
    received_at %TS% NOT NULL,
    status TEXT NOT NULL,
    error_code TEXT,
    error_reason TEXT,
    PRIMARY KEY (seller_id, metering_sn)
);
-- The validator takes 'received' rows oldest first.
CREATE INDEX usage_records_by_status ON usage_records(status, received_at);
-- Duplicate detection by (instance, begin, end), and per-instance windows.
CREATE INDEX usage_records_by_window ON usage_records(instance_id, begin_time, end_time);

-- Asynchronous validation of usage records: a 'duplicate' row names the
-- metering_sn of the earlier valid record with the same (instance, begin,
-- end). Error rows keep error_code / error_reason (0016).
ALTER TABLE usage_records ADD COLUMN duplicate_of TEXT;

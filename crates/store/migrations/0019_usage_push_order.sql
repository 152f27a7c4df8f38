-- Push order of usage records: of two copies of one usage window, the one
-- pushed first counts. A push is a batch (its id is time-ordered) and each
-- record keeps its index in the batch; the validator takes 'received' rows
-- by (received_at, batch_id, batch_position). Rows stored before this
-- migration keep '' and 0 (metering_sn breaks the remaining ties).
ALTER TABLE usage_records ADD COLUMN batch_id TEXT NOT NULL DEFAULT '';
ALTER TABLE usage_records ADD COLUMN batch_position BIGINT NOT NULL DEFAULT 0;
DROP INDEX usage_records_by_status;
CREATE INDEX usage_records_by_status ON usage_records(status, received_at, batch_id, batch_position);

-- Which requests of a fast-path batch the staging view skipped (nested values, repeated keys,
-- invalid ids), so the writer sends exactly those through the Python rows path without reading
-- the batch a second time. A batch is a random id the writer appends to each of its requests;
-- requests without one (other writers) are not recorded. Rows are only needed for a moment.
ALTER TABLE clew_ingest_otlp_traces
    ADD COLUMN IF NOT EXISTS clew_batch UInt64,
    ADD COLUMN IF NOT EXISTS clew_position UInt32;

CREATE TABLE IF NOT EXISTS clew_ingest_otlp_skipped (
    Batch UInt64,
    Position UInt32,
    Inserted DateTime DEFAULT now()
) ENGINE = MergeTree
ORDER BY (Batch, Position)
TTL Inserted + toIntervalHour(1);

CREATE MATERIALIZED VIEW IF NOT EXISTS clew_ingest_otlp_skipped_mv
TO clew_ingest_otlp_skipped
AS SELECT clew_batch AS Batch, clew_position AS Position
FROM clew_ingest_otlp_traces
WHERE clew_batch != 0 AND NOT clew_fast;

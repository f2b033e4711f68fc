-- A bloom filter on the trace id of the failed-span index. A trace read that does not load its
-- logs (trace by id over the API, statistics, comparison, flame graph) takes the spans that
-- wrote an ERROR log from this table's error_log rows, by trace id alone; before, it asked the
-- trace-id lookup table for the trace's time and then read otel_logs in it, two queries
-- (trace by id 41.6 -> 34.0 ms p50 on the 10M-span bench store, docs/adr/0007-performance.md).
-- The sorting key starts with the hour, so without the index such a read opens a granule of
-- every hour's rows; with it, the granules that hold the trace.
-- New parts get it at insert; parts written before it are read whole (the same answer)
-- until: ALTER TABLE clew_failed_spans MATERIALIZE INDEX idx_trace_id.
ALTER TABLE clew_failed_spans ADD INDEX IF NOT EXISTS idx_trace_id TraceId
    TYPE bloom_filter(0.01) GRANULARITY 1;

-- Failed-span index: one row per failed span of otel_traces and one per ERROR log of
-- otel_logs, after the explainer's definition of a failed span (query_ui's
-- explain/failed.py), written at insert time so search's status filter and error counts read
-- this small table instead of every span's attribute maps and the logs of the range.
-- A span with several signals (an Error status and an ERROR log) has several rows: readers
-- count distinct (TraceId, SpanId). Timestamp is the span's start for span rows and the log's
-- time for log rows (inside its span, give or take the clocks of different hosts).
-- Data stored before this file existed: see docs/adr/0004-failed-spans-index.md (backfill).
CREATE TABLE IF NOT EXISTS clew_failed_spans (
    Timestamp DateTime64(9) CODEC(Delta(8), ZSTD(1)),
    TraceId String CODEC(ZSTD(1)),
    SpanId String CODEC(ZSTD(1)),
    ServiceName LowCardinality(String) CODEC(ZSTD(1)),
    Reason LowCardinality(String) CODEC(ZSTD(1))
) ENGINE = MergeTree
PARTITION BY toDate(Timestamp)
ORDER BY (toStartOfHour(Timestamp), TraceId, SpanId)
TTL toDateTime(Timestamp) + toIntervalDay({retention_days})
SETTINGS index_granularity = 8192, ttl_only_drop_parts = 1;

-- Signals 1-3 of the definition: status Error, an exception event, HTTP status >= 500
-- (the current attribute or the older one). Reason names the first that holds.
CREATE MATERIALIZED VIEW IF NOT EXISTS clew_failed_spans_spans_mv
TO clew_failed_spans
AS SELECT
    Timestamp,
    TraceId,
    SpanId,
    ServiceName,
    multiIf(
        StatusCode IN ('Error', 'STATUS_CODE_ERROR'), 'status',
        has(Events.Name, 'exception'), 'exception',
        'http'
    ) AS Reason
FROM otel_traces
WHERE TraceId != '' AND SpanId != ''
  AND (StatusCode IN ('Error', 'STATUS_CODE_ERROR')
       OR has(Events.Name, 'exception')
       OR toUInt16OrZero(SpanAttributes['http.response.status_code']) >= 500
       OR toUInt16OrZero(SpanAttributes['http.status_code']) >= 500);

-- Signal 4: a log record at ERROR or above written while the span was current.
CREATE MATERIALIZED VIEW IF NOT EXISTS clew_failed_spans_logs_mv
TO clew_failed_spans
AS SELECT
    Timestamp,
    TraceId,
    SpanId,
    ServiceName,
    'error_log' AS Reason
FROM otel_logs
WHERE SeverityNumber >= 17 AND TraceId != '' AND SpanId != '';

-- A service page's figures per minute: the same counts and sketch per operation (SpanName)
-- of its server and consumer spans, and its log records per severity.
-- An error is a span that failed by signals 1-3 of query_ui's explain/failed.py (status
-- Error, an exception event, HTTP status >= 500), the same test as clew_failed_spans_spans_mv.
CREATE TABLE IF NOT EXISTS clew_operation_minutes (
    ServiceName LowCardinality(String) CODEC(ZSTD(1)),
    Minute DateTime CODEC(Delta(4), ZSTD(1)),
    SpanName LowCardinality(String) CODEC(ZSTD(1)),
    Requests SimpleAggregateFunction(sum, UInt64),
    Errors SimpleAggregateFunction(sum, UInt64),
    Latency AggregateFunction(quantilesDD(0.01, 0.5, 0.95, 0.99), UInt64)
) ENGINE = AggregatingMergeTree
PARTITION BY toDate(Minute)
ORDER BY (ServiceName, Minute, SpanName)
TTL Minute + toIntervalDay({retention_days})
SETTINGS ttl_only_drop_parts = 1;

CREATE MATERIALIZED VIEW IF NOT EXISTS clew_operation_minutes_mv
TO clew_operation_minutes
AS SELECT
    ServiceName,
    toStartOfMinute(Timestamp) AS Minute,
    SpanName,
    toUInt64(count()) AS Requests,
    toUInt64(countIf(
        StatusCode IN ('Error', 'STATUS_CODE_ERROR')
        OR has(Events.Name, 'exception')
        OR toUInt16OrZero(SpanAttributes['http.response.status_code']) >= 500
        OR toUInt16OrZero(SpanAttributes['http.status_code']) >= 500
    )) AS Errors,
    quantilesDDState(0.01, 0.5, 0.95, 0.99)(Duration) AS Latency
FROM otel_traces
WHERE SpanKind IN ('Server', 'SPAN_KIND_SERVER', 'Consumer', 'SPAN_KIND_CONSUMER')
GROUP BY ServiceName, Minute, SpanName;

-- The services' minutes from the operations' rows of each insert (merged states).
CREATE MATERIALIZED VIEW IF NOT EXISTS clew_service_minutes_mv
TO clew_service_minutes
AS SELECT
    Minute,
    ServiceName,
    sum(Requests) AS Requests,
    sum(Errors) AS Errors,
    quantilesDDMergeState(0.01, 0.5, 0.95, 0.99)(Latency) AS Latency
FROM clew_operation_minutes
GROUP BY Minute, ServiceName;

-- Log records per service, minute and severity (the OTel severity ranges' names).
CREATE TABLE IF NOT EXISTS clew_log_minutes (
    ServiceName LowCardinality(String) CODEC(ZSTD(1)),
    Minute DateTime CODEC(Delta(4), ZSTD(1)),
    Severity LowCardinality(String) CODEC(ZSTD(1)),
    Records SimpleAggregateFunction(sum, UInt64)
) ENGINE = AggregatingMergeTree
PARTITION BY toDate(Minute)
ORDER BY (ServiceName, Minute, Severity)
TTL Minute + toIntervalDay({retention_days})
SETTINGS ttl_only_drop_parts = 1;

CREATE MATERIALIZED VIEW IF NOT EXISTS clew_log_minutes_mv
TO clew_log_minutes
AS SELECT
    ServiceName,
    toStartOfMinute(Timestamp) AS Minute,
    multiIf(
        SeverityNumber >= 21, 'FATAL', SeverityNumber >= 17, 'ERROR',
        SeverityNumber >= 13, 'WARN', SeverityNumber >= 9, 'INFO',
        SeverityNumber >= 5, 'DEBUG', SeverityNumber >= 1, 'TRACE', 'UNSPECIFIED'
    ) AS Severity,
    toUInt64(count()) AS Records
FROM otel_logs
GROUP BY ServiceName, Minute, Severity;

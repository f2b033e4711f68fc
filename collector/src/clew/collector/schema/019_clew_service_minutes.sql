-- Service health per minute (docs/adr/0006-overview.md): request count, error count and a
-- latency sketch of every service's server and consumer spans, filled at insert so the home
-- page reads at most 1440 rows a day a service, whatever the span rate.
-- An error is a span that failed by signals 1-3 of query_ui's explain/failed.py (status
-- Error, an exception event, HTTP status >= 500), the same test as clew_failed_spans_spans_mv.
-- Latency is a DDSketch (quantilesDD, 1 % relative accuracy) of Duration in nanoseconds.
CREATE TABLE IF NOT EXISTS clew_service_minutes (
    Minute DateTime CODEC(Delta(4), ZSTD(1)),
    ServiceName LowCardinality(String) CODEC(ZSTD(1)),
    Requests SimpleAggregateFunction(sum, UInt64),
    Errors SimpleAggregateFunction(sum, UInt64),
    Latency AggregateFunction(quantilesDD(0.01, 0.5, 0.95, 0.99), UInt64)
) ENGINE = AggregatingMergeTree
PARTITION BY toDate(Minute)
ORDER BY (Minute, ServiceName)
TTL Minute + toIntervalDay({retention_days})
SETTINGS ttl_only_drop_parts = 1;

CREATE MATERIALIZED VIEW IF NOT EXISTS clew_service_minutes_mv
TO clew_service_minutes
AS SELECT
    toStartOfMinute(Timestamp) AS Minute,
    ServiceName,
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
GROUP BY Minute, ServiceName;

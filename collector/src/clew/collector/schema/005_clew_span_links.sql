-- Span-link edges ordered by the linked trace, so both directions of a hop are one lookup:
-- forward through otel_traces.Links, backward through LinkedTraceId here.
CREATE TABLE IF NOT EXISTS clew_span_links (
    LinkedTraceId String CODEC(ZSTD(1)),
    LinkedSpanId String CODEC(ZSTD(1)),
    TraceId String CODEC(ZSTD(1)),
    SpanId String CODEC(ZSTD(1)),
    ServiceName LowCardinality(String) CODEC(ZSTD(1)),
    SpanName LowCardinality(String) CODEC(ZSTD(1)),
    Timestamp DateTime64(9) CODEC(Delta(8), ZSTD(1)),
    Attributes Map(LowCardinality(String), String) CODEC(ZSTD(1))
) ENGINE = MergeTree
PARTITION BY toDate(Timestamp)
ORDER BY (LinkedTraceId, LinkedSpanId, TraceId)
TTL toDateTime(Timestamp) + toIntervalDay({retention_days})
SETTINGS index_granularity = 8192, ttl_only_drop_parts = 1;

CREATE MATERIALIZED VIEW IF NOT EXISTS clew_span_links_mv
TO clew_span_links
AS SELECT
    LinkedTraceId,
    LinkedSpanId,
    TraceId,
    SpanId,
    ServiceName,
    SpanName,
    Timestamp,
    LinkAttributes AS Attributes
FROM otel_traces
ARRAY JOIN
    Links.TraceId AS LinkedTraceId,
    Links.SpanId AS LinkedSpanId,
    Links.Attributes AS LinkAttributes
WHERE LinkedTraceId != '';

-- Kafka hops of the service map per minute: producer and consumer spans by topic
-- (messaging.destination.name, or the older messaging.destination). A producer service and
-- a consumer service of the same topic make the map's edge producer -> topic -> consumer;
-- no join is needed at insert, so a hop whose two ends arrive in different batches (always)
-- still counts. Latency is the span's duration (publish, or handle).
CREATE TABLE IF NOT EXISTS clew_topic_minutes (
    Minute DateTime CODEC(Delta(4), ZSTD(1)),
    Topic LowCardinality(String) CODEC(ZSTD(1)),
    Side LowCardinality(String) CODEC(ZSTD(1)),
    ServiceName LowCardinality(String) CODEC(ZSTD(1)),
    Messages SimpleAggregateFunction(sum, UInt64),
    Errors SimpleAggregateFunction(sum, UInt64),
    Latency AggregateFunction(quantilesDD(0.01, 0.5, 0.95, 0.99), UInt64)
) ENGINE = AggregatingMergeTree
PARTITION BY toDate(Minute)
ORDER BY (Minute, Topic, Side, ServiceName)
TTL Minute + toIntervalDay({retention_days})
SETTINGS ttl_only_drop_parts = 1;

CREATE MATERIALIZED VIEW IF NOT EXISTS clew_topic_minutes_mv
TO clew_topic_minutes
AS SELECT
    toStartOfMinute(Timestamp) AS Minute,
    if(SpanAttributes['messaging.destination.name'] != '',
       SpanAttributes['messaging.destination.name'],
       SpanAttributes['messaging.destination']) AS Topic,
    if(SpanKind IN ('Producer', 'SPAN_KIND_PRODUCER'), 'producer', 'consumer') AS Side,
    ServiceName,
    toUInt64(count()) AS Messages,
    toUInt64(countIf(
        StatusCode IN ('Error', 'STATUS_CODE_ERROR')
        OR has(Events.Name, 'exception')
    )) AS Errors,
    quantilesDDState(0.01, 0.5, 0.95, 0.99)(Duration) AS Latency
FROM otel_traces
WHERE SpanKind IN ('Producer', 'SPAN_KIND_PRODUCER', 'Consumer', 'SPAN_KIND_CONSUMER')
  AND (SpanAttributes['messaging.destination.name'] != ''
       OR SpanAttributes['messaging.destination'] != '')
GROUP BY Minute, Topic, Side, ServiceName;

-- Service health per minute (docs/adr/0006-overview.md): request count, error count and a
-- latency sketch of every service's server and consumer spans, filled at insert so the home
-- page reads at most 1440 rows a day a service, whatever the span rate. Its view (in 020)
-- reads what clew_operation_minutes' view wrote, a few rows an insert, not the spans again.
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

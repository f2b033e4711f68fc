-- Business-key index: (key, value) -> trace ids, fed from span and log attributes.
-- The keys to index live in clew_business_key_names, rewritten at start-up from settings.
CREATE TABLE IF NOT EXISTS clew_business_key_names (
    Key String
) ENGINE = MergeTree
ORDER BY Key;

CREATE TABLE IF NOT EXISTS clew_business_keys (
    Key LowCardinality(String) CODEC(ZSTD(1)),
    Value String CODEC(ZSTD(1)),
    TraceId String CODEC(ZSTD(1)),
    FirstSeen SimpleAggregateFunction(min, DateTime64(9)) CODEC(ZSTD(1)),
    LastSeen SimpleAggregateFunction(max, DateTime64(9)) CODEC(ZSTD(1)),
    HasError SimpleAggregateFunction(max, UInt8),
    Services SimpleAggregateFunction(groupUniqArrayArray, Array(String)) CODEC(ZSTD(1))
) ENGINE = AggregatingMergeTree
ORDER BY (Key, Value, TraceId)
TTL toDateTime(LastSeen) + toIntervalDay({retention_days})
SETTINGS index_granularity = 8192;

CREATE MATERIALIZED VIEW IF NOT EXISTS clew_business_keys_spans_mv
TO clew_business_keys
AS SELECT
    Key,
    SpanAttributes[Key] AS Value,
    TraceId,
    Timestamp AS FirstSeen,
    Timestamp AS LastSeen,
    toUInt8(StatusCode IN ('Error', 'STATUS_CODE_ERROR')) AS HasError,
    [ServiceName] AS Services
FROM otel_traces
ARRAY JOIN arrayIntersect(
    mapKeys(SpanAttributes), (SELECT groupArray(Key) FROM clew_business_key_names)
) AS Key
WHERE TraceId != '' AND Value != '';

CREATE MATERIALIZED VIEW IF NOT EXISTS clew_business_keys_logs_mv
TO clew_business_keys
AS SELECT
    Key,
    LogAttributes[Key] AS Value,
    TraceId,
    Timestamp AS FirstSeen,
    Timestamp AS LastSeen,
    toUInt8(SeverityNumber >= 17) AS HasError,
    [ServiceName] AS Services
FROM otel_logs
ARRAY JOIN arrayIntersect(
    mapKeys(LogAttributes), (SELECT groupArray(Key) FROM clew_business_key_names)
) AS Key
WHERE TraceId != '' AND Value != '';

-- Failure groups (docs/adr/0006-overview.md): one row per failed business key value (an
-- order) or failed trace without one (Key = '', Value = its trace id), written by the overview
-- job once its data has stopped arriving: the explainer's first root cause, its signature
-- (a hash of service, operation, error type and the message with ids and numbers masked),
-- whether it is a business failure, and the service.version it ran on. A later row for the
-- same (Key, Value), written when more of its data arrived, replaces the earlier one.
CREATE TABLE IF NOT EXISTS clew_failures (
    Key LowCardinality(String) CODEC(ZSTD(1)),
    Value String CODEC(ZSTD(1)),
    TraceId String CODEC(ZSTD(1)),
    Time DateTime64(9) CODEC(Delta(8), ZSTD(1)),
    LastSeen DateTime64(9) CODEC(Delta(8), ZSTD(1)),
    Signature String CODEC(ZSTD(1)),
    ServiceName LowCardinality(String) CODEC(ZSTD(1)),
    Operation String CODEC(ZSTD(1)),
    ErrorType String CODEC(ZSTD(1)),
    Message String CODEC(ZSTD(1)),
    Business UInt8,
    Version LowCardinality(String) CODEC(ZSTD(1)),
    Diagnosed DateTime64(3)
) ENGINE = ReplacingMergeTree(Diagnosed)
ORDER BY (Key, Value)
TTL toDateTime(Time) + toIntervalDay({retention_days});

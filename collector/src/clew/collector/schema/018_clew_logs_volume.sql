-- Log volume per minute, service and severity, filled at insert by a materialized view
-- (docs/adr/0005-log-search.md): the logs explorer's histogram reads it instead of every
-- record's time and severity when it filters on nothing but time, service and severity, so a
-- 24 h histogram costs the same as a 1 h one. Records stored before this file: backfill once
-- with the view's SELECT (INSERT INTO clew_logs_volume SELECT ... FROM otel_logs, in the ADR).
CREATE TABLE IF NOT EXISTS clew_logs_volume (
    Minute DateTime CODEC(Delta(4), ZSTD(1)),
    ServiceName LowCardinality(String) CODEC(ZSTD(1)),
    SeverityText LowCardinality(String) CODEC(ZSTD(1)),
    SeverityNumber UInt8,
    Count UInt64
) ENGINE = SummingMergeTree
PARTITION BY toDate(Minute)
ORDER BY (Minute, ServiceName, SeverityNumber, SeverityText)
TTL Minute + toIntervalDay({retention_days})
SETTINGS ttl_only_drop_parts = 1;

CREATE MATERIALIZED VIEW IF NOT EXISTS clew_logs_volume_mv
TO clew_logs_volume
AS SELECT
    toStartOfMinute(Timestamp) AS Minute,
    ServiceName,
    SeverityText,
    SeverityNumber,
    count() AS Count
FROM otel_logs
GROUP BY Minute, ServiceName, SeverityText, SeverityNumber;

-- Write path: the collector inserts into these Null tables with times as integer nanoseconds
-- (what OTLP carries), and these views convert them into the exporter's tables. Nothing is
-- stored here; the views also cascade into the side tables' views above.
CREATE TABLE IF NOT EXISTS clew_ingest_spans (
    TimestampNs UInt64,
    EndNs UInt64,
    TraceId String,
    SpanId String,
    ParentSpanId String,
    TraceState String,
    SpanName String,
    SpanKind String,
    ServiceName String,
    ResourceAttributes Map(String, String),
    ScopeName String,
    ScopeVersion String,
    SpanAttributes Map(String, String),
    StatusCode String,
    StatusMessage String,
    EventsTimestampNs Array(UInt64),
    EventsName Array(String),
    EventsAttributes Array(Map(String, String)),
    LinksTraceId Array(String),
    LinksSpanId Array(String),
    LinksTraceState Array(String),
    LinksAttributes Array(Map(String, String))
) ENGINE = Null;

CREATE MATERIALIZED VIEW IF NOT EXISTS clew_ingest_spans_mv
TO otel_traces
AS SELECT
    fromUnixTimestamp64Nano(toInt64(TimestampNs)) AS Timestamp,
    TraceId,
    SpanId,
    ParentSpanId,
    TraceState,
    SpanName,
    SpanKind,
    ServiceName,
    ResourceAttributes,
    ScopeName,
    ScopeVersion,
    SpanAttributes,
    if(EndNs > TimestampNs, EndNs - TimestampNs, 0) AS Duration,
    StatusCode,
    StatusMessage,
    arrayMap(t -> fromUnixTimestamp64Nano(toInt64(t)), EventsTimestampNs) AS `Events.Timestamp`,
    EventsName AS `Events.Name`,
    EventsAttributes AS `Events.Attributes`,
    LinksTraceId AS `Links.TraceId`,
    LinksSpanId AS `Links.SpanId`,
    LinksTraceState AS `Links.TraceState`,
    LinksAttributes AS `Links.Attributes`
FROM clew_ingest_spans;

CREATE TABLE IF NOT EXISTS clew_ingest_logs (
    TimestampNs UInt64,
    TraceId String,
    SpanId String,
    TraceFlags UInt8,
    SeverityText String,
    SeverityNumber UInt8,
    ServiceName String,
    Body String,
    ResourceSchemaUrl String,
    ResourceAttributes Map(String, String),
    ScopeSchemaUrl String,
    ScopeName String,
    ScopeVersion String,
    ScopeAttributes Map(String, String),
    LogAttributes Map(String, String),
    EventName String
) ENGINE = Null;

CREATE MATERIALIZED VIEW IF NOT EXISTS clew_ingest_logs_mv
TO otel_logs
AS SELECT
    fromUnixTimestamp64Nano(toInt64(TimestampNs)) AS Timestamp,
    TraceId,
    SpanId,
    TraceFlags,
    SeverityText,
    SeverityNumber,
    ServiceName,
    Body,
    ResourceSchemaUrl,
    ResourceAttributes,
    ScopeSchemaUrl,
    ScopeName,
    ScopeVersion,
    ScopeAttributes,
    LogAttributes,
    EventName
FROM clew_ingest_logs;

-- Fast write path for spans: raw OTLP ExportTraceServiceRequest messages (length-delimited,
-- read with otlp_trace.proto and input_format_protobuf_oneof_presence = 1) go into this Null
-- table; its view flattens them into otel_traces exactly as clew.collector.rows does in Python.
-- Requests with invalid ids or nested AnyValue arrays/maps are skipped here; the writer sends
-- those through the Python path.
CREATE OR REPLACE FUNCTION clew_any_value AS (v) -> multiIf(
    tupleElement(v, 'value') = 'string_value', tupleElement(v, 'string_value'),
    tupleElement(v, 'value') = 'int_value', toString(tupleElement(v, 'int_value')),
    tupleElement(v, 'value') = 'bool_value', if(tupleElement(v, 'bool_value'), 'true', 'false'),
    tupleElement(v, 'value') = 'double_value', clew_go_float(tupleElement(v, 'double_value')),
    tupleElement(v, 'value') = 'bytes_value', base64Encode(tupleElement(v, 'bytes_value')),
    ''
);

CREATE OR REPLACE FUNCTION clew_go_float AS (d) -> multiIf(
    isNaN(d), 'json: unsupported value: NaN',
    isInfinite(d), if(d > 0, 'json: unsupported value: +Inf', 'json: unsupported value: -Inf'),
    position(toString(d), 'e') > 0 AND position(toString(d), 'e-') = 0,
    replaceOne(toString(d), 'e', 'e+'),
    toString(d)
);

CREATE OR REPLACE FUNCTION clew_attributes AS (kvs) -> CAST(
    (arrayMap(kv -> tupleElement(kv, 'key'), kvs),
     arrayMap(kv -> clew_any_value(tupleElement(kv, 'value')), kvs)),
    'Map(String, String)');

-- Attribute lists the view leaves to the Python rows path: nested values (ClickHouse cannot
-- read them) or a repeated key (the exporter keeps the last; a Map here would keep both).
CREATE OR REPLACE FUNCTION clew_nested_values AS (kvs) ->
    arrayExists(kv -> tupleElement(tupleElement(kv, 'value'), 'value') IN ('array_value', 'kvlist_value'), kvs)
    OR arrayUniq(arrayMap(kv -> tupleElement(kv, 'key'), kvs)) != length(kvs);

CREATE OR REPLACE FUNCTION clew_span_is_fast AS (sp) ->
    length(tupleElement(sp, 'trace_id')) = 16 AND length(tupleElement(sp, 'span_id')) = 8 AND length(tupleElement(sp, 'parent_span_id')) IN (0, 8)
    AND arrayAll(l -> length(tupleElement(l, 'trace_id')) = 16 AND length(tupleElement(l, 'span_id')) = 8, tupleElement(sp, 'links'))
    AND NOT clew_nested_values(tupleElement(sp, 'attributes'))
    AND NOT arrayExists(e -> clew_nested_values(tupleElement(e, 'attributes')), tupleElement(sp, 'events'))
    AND NOT arrayExists(l -> clew_nested_values(tupleElement(l, 'attributes')), tupleElement(sp, 'links'));

CREATE OR REPLACE FUNCTION clew_request_is_fast AS (resource_spans) -> arrayAll(
    rs -> NOT clew_nested_values(tupleElement(tupleElement(rs, 'resource'), 'attributes'))
        AND arrayAll(ss -> arrayAll(sp -> clew_span_is_fast(sp), tupleElement(ss, 'spans')), tupleElement(rs, 'scope_spans')),
    resource_spans
);

CREATE TABLE IF NOT EXISTS clew_ingest_otlp_traces (
    resource_spans Array(Tuple(
        resource Tuple(attributes Array(Tuple(key String, value Tuple(
            string_value String, bool_value Bool, int_value Int64, double_value Float64,
            array_value String, kvlist_value String, bytes_value String,
            value Enum8('' = 0, 'string_value' = 1, 'bool_value' = 2, 'int_value' = 3,
                        'double_value' = 4, 'array_value' = 5, 'kvlist_value' = 6,
                        'bytes_value' = 7))))),
        scope_spans Array(Tuple(
            scope Tuple(name String, version String),
            spans Array(Tuple(
                trace_id String, span_id String, trace_state String, parent_span_id String,
                name String, kind Int32, start_time_unix_nano UInt64, end_time_unix_nano UInt64,
                attributes Array(Tuple(key String, value Tuple(
                    string_value String, bool_value Bool, int_value Int64, double_value Float64,
                    array_value String, kvlist_value String, bytes_value String,
                    value Enum8('' = 0, 'string_value' = 1, 'bool_value' = 2, 'int_value' = 3,
                                'double_value' = 4, 'array_value' = 5, 'kvlist_value' = 6,
                                'bytes_value' = 7)))),
                events Array(Tuple(time_unix_nano UInt64, name String,
                    attributes Array(Tuple(key String, value Tuple(
                        string_value String, bool_value Bool, int_value Int64,
                        double_value Float64, array_value String, kvlist_value String,
                        bytes_value String,
                        value Enum8('' = 0, 'string_value' = 1, 'bool_value' = 2,
                                    'int_value' = 3, 'double_value' = 4, 'array_value' = 5,
                                    'kvlist_value' = 6, 'bytes_value' = 7)))))),
                links Array(Tuple(trace_id String, span_id String, trace_state String,
                    attributes Array(Tuple(key String, value Tuple(
                        string_value String, bool_value Bool, int_value Int64,
                        double_value Float64, array_value String, kvlist_value String,
                        bytes_value String,
                        value Enum8('' = 0, 'string_value' = 1, 'bool_value' = 2,
                                    'int_value' = 3, 'double_value' = 4, 'array_value' = 5,
                                    'kvlist_value' = 6, 'bytes_value' = 7)))))),
                status Tuple(message String, code Int32)))))))
) ENGINE = Null;

-- Whether the request can take this path, worked out once per INSERT: this view and the one
-- recording skipped requests (schema/008) both read it. As a check in each view's WHERE it was
-- analysed and planned twice per INSERT, about 26 ms of CPU each (docs/adr/0007, session 7).
ALTER TABLE clew_ingest_otlp_traces
    ADD COLUMN IF NOT EXISTS clew_fast Bool MATERIALIZED clew_request_is_fast(resource_spans);

CREATE MATERIALIZED VIEW IF NOT EXISTS clew_ingest_otlp_traces_mv
TO otel_traces
AS SELECT
    fromUnixTimestamp64Nano(toInt64(sp.start_time_unix_nano)) AS Timestamp,
    lower(hex(sp.trace_id)) AS TraceId,
    lower(hex(sp.span_id)) AS SpanId,
    lower(hex(sp.parent_span_id)) AS ParentSpanId,
    sp.trace_state AS TraceState,
    sp.name AS SpanName,
    transform(sp.kind, [0, 1, 2, 3, 4, 5],
        ['Unspecified', 'Internal', 'Server', 'Client', 'Producer', 'Consumer'], '') AS SpanKind,
    resource_attributes['service.name'] AS ServiceName,
    resource_attributes AS ResourceAttributes,
    ss.scope.name AS ScopeName,
    ss.scope.version AS ScopeVersion,
    clew_attributes(sp.attributes) AS SpanAttributes,
    if(sp.end_time_unix_nano > sp.start_time_unix_nano,
        sp.end_time_unix_nano - sp.start_time_unix_nano, 0) AS Duration,
    transform(sp.status.code, [0, 1, 2], ['Unset', 'Ok', 'Error'], '') AS StatusCode,
    sp.status.message AS StatusMessage,
    arrayMap(e -> fromUnixTimestamp64Nano(toInt64(e.time_unix_nano)), sp.events) AS `Events.Timestamp`,
    arrayMap(e -> e.name, sp.events) AS `Events.Name`,
    arrayMap(e -> clew_attributes(e.attributes), sp.events) AS `Events.Attributes`,
    arrayMap(l -> lower(hex(l.trace_id)), sp.links) AS `Links.TraceId`,
    arrayMap(l -> lower(hex(l.span_id)), sp.links) AS `Links.SpanId`,
    arrayMap(l -> l.trace_state, sp.links) AS `Links.TraceState`,
    arrayMap(l -> clew_attributes(l.attributes), sp.links) AS `Links.Attributes`
FROM clew_ingest_otlp_traces
ARRAY JOIN resource_spans AS rs
ARRAY JOIN rs.scope_spans AS ss
ARRAY JOIN ss.spans AS sp
LEFT ARRAY JOIN [clew_attributes(rs.resource.attributes)] AS resource_attributes
WHERE clew_fast;

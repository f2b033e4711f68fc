-- The two halves of synchronous calls (HTTP, gRPC, other RPC), for the service map's
-- client -> server edges. A client span and the server span it caused come from different
-- services, so from different export batches: an insert-time view never sees both. Each half
-- is kept here, keyed by the client span's id (the server span's ParentSpanId), and the
-- overview job (query_ui's overview/job.py, docs/adr/0006-overview.md) pairs them once the
-- minute is closed and adds the pairs to clew_edge_minutes. Kept one day: only the job reads it.
CREATE TABLE IF NOT EXISTS clew_call_halves (
    Timestamp DateTime64(9) CODEC(Delta(8), ZSTD(1)),
    TraceId String CODEC(ZSTD(1)),
    SpanId String CODEC(ZSTD(1)),
    Side LowCardinality(String) CODEC(ZSTD(1)),
    ServiceName LowCardinality(String) CODEC(ZSTD(1)),
    Kind LowCardinality(String) CODEC(ZSTD(1)),
    Peer LowCardinality(String) CODEC(ZSTD(1)),
    Duration UInt64 CODEC(T64, ZSTD(1)),
    Error UInt8
) ENGINE = MergeTree
PARTITION BY toDate(Timestamp)
ORDER BY (toStartOfMinute(Timestamp), TraceId, SpanId)
TTL toDateTime(Timestamp) + toIntervalDay(1)
SETTINGS ttl_only_drop_parts = 1;

-- Client spans (not messaging) by their own id; server spans by their parent's id.
CREATE MATERIALIZED VIEW IF NOT EXISTS clew_call_halves_mv
TO clew_call_halves
AS SELECT
    Timestamp,
    TraceId,
    if(IsClient, SpanId, ParentSpanId) AS SpanId,
    if(IsClient, 'client', 'server') AS Side,
    ServiceName,
    multiIf(
        SpanAttributes['rpc.system'] = 'grpc', 'grpc',
        SpanAttributes['http.request.method'] != '' OR SpanAttributes['http.method'] != '', 'http',
        'other'
    ) AS Kind,
    multiIf(
        SpanAttributes['peer.service'] != '', SpanAttributes['peer.service'],
        SpanAttributes['server.address'] != '', SpanAttributes['server.address'],
        SpanAttributes['net.peer.name'] != '', SpanAttributes['net.peer.name'],
        concat(domain(Url), if(port(Url) != 0, concat(':', toString(port(Url))), ''))
    ) AS Peer,
    Duration,
    toUInt8(
        StatusCode IN ('Error', 'STATUS_CODE_ERROR')
        OR toUInt16OrZero(SpanAttributes['http.response.status_code']) >= 500
        OR toUInt16OrZero(SpanAttributes['http.status_code']) >= 500
    ) AS Error
FROM (
    SELECT Timestamp, TraceId, SpanId, ParentSpanId, ServiceName, SpanAttributes, Duration,
        StatusCode, IsClient,
        if(SpanAttributes['url.full'] != '', SpanAttributes['url.full'], SpanAttributes['http.url'])
            AS Url
    -- The kinds are filtered first, on their own: the attribute lookups then run on client
    -- and server spans only, not on every span of the insert (the view's query took about
    -- half the time on bench/ingest_payload.py's spans).
    FROM (
        SELECT Timestamp, TraceId, SpanId, ParentSpanId, ServiceName, SpanAttributes, Duration,
            StatusCode, SpanKind IN ('Client', 'SPAN_KIND_CLIENT') AS IsClient
        FROM otel_traces
        WHERE SpanKind IN ('Client', 'SPAN_KIND_CLIENT')
           OR (SpanKind IN ('Server', 'SPAN_KIND_SERVER') AND ParentSpanId != '')
    )
    WHERE NOT IsClient
       OR (SpanAttributes['messaging.system'] = '' AND SpanAttributes['db.system'] = ''
           AND SpanAttributes['db.system.name'] = '')
);

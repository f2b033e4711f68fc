"""Synthetic shop traffic generated inside ClickHouse (INSERT ... SELECT FROM numbers()).

Each order is 10 spans: a checkout trace of 9 spans over frontend, checkout, payments and
inventory (HTTP servers and clients, two PostgreSQL calls, a Kafka producer) and a
notifications consumer that starts its own trace linked to the producer, plus 3 logs.
Order n fails when n % 100 == 42 (1%): a deadlock in payments' UPDATE, cascading up to a 500.
"""

from __future__ import annotations

from typing import Final

SPANS_PER_ORDER: Final = 10
LOGS_PER_ORDER: Final = 3

# The orders of one chunk: number, whether it fails, start time, and its two trace ids.
ORDERS: Final = """FROM (
    SELECT number + {first:UInt64} AS o,
           o % 100 = 42 AS failed,
           {start_ns:Int64} + toInt64(o) * {step_ns:Int64} AS start,
           lower(hex(MD5(concat('t', toString(o))))) AS trace,
           lower(hex(MD5(concat('c', toString(o))))) AS consumer_trace
    FROM numbers({count:UInt64})
)
"""

# Per span index i (1-based): service, name, kind, parent index, offset and duration in ms.
SPANS: Final = """
INSERT INTO otel_traces (Timestamp, TraceId, SpanId, ParentSpanId, TraceState, SpanName, SpanKind,
    ServiceName, ResourceAttributes, ScopeName, ScopeVersion, SpanAttributes, Duration, StatusCode,
    StatusMessage, `Events.Timestamp`, `Events.Name`, `Events.Attributes`, `Links.TraceId`,
    `Links.SpanId`, `Links.TraceState`, `Links.Attributes`)
WITH
    ['frontend', 'checkout', 'checkout', 'payments', 'payments', 'checkout', 'inventory',
     'inventory', 'checkout', 'notifications'] AS services,
    ['POST /checkout', 'POST /orders', 'POST', 'POST /payments', 'UPDATE accounts', 'POST',
     'POST /reserve', 'UPDATE stock', 'orders publish', 'orders process'] AS names,
    ['Server', 'Server', 'Client', 'Server', 'Client', 'Client', 'Server', 'Client', 'Producer',
     'Consumer'] AS kinds,
    [0, 1, 2, 3, 4, 2, 6, 7, 2, 0] AS parents,
    [0, 2, 10, 12, 14, 200, 202, 204, 260, 600] AS offsets,
    [300, 290, 180, 175, 150, 50, 45, 30, 3, 40] AS durations,
    (n, k) -> lower(substring(hex(MD5(concat(toString(n), '-', toString(k)))), 1, 16)) AS span_id,
    failed AND i <= 5 AS in_failure
SELECT
    fromUnixTimestamp64Nano(toInt64(start + (offsets[i] + jitter) * 1000000)) AS Timestamp,
    if(i = 10, consumer_trace, trace) AS TraceId,
    span_id(o, i) AS SpanId,
    if(parents[i] = 0, '', span_id(o, parents[i])) AS ParentSpanId,
    '' AS TraceState,
    names[i] AS SpanName,
    kinds[i] AS SpanKind,
    services[i] AS ServiceName,
    map('service.name', services[i], 'host.name', concat(services[i], '-', toString(o % 4)),
        'service.version', '1.4.2', 'deployment.environment', 'prod') AS ResourceAttributes,
    'opentelemetry.instrumentation' AS ScopeName,
    '0.66b1' AS ScopeVersion,
    mapFromArrays(
        arrayConcat(['order.id', 'customer.id'], multiIf(
            kinds[i] IN ('Server', 'Client') AND i NOT IN (5, 8),
            ['http.request.method', 'http.route', 'http.response.status_code'],
            i IN (5, 8), ['db.system', 'db.statement'],
            ['messaging.system', 'messaging.destination.name'])),
        arrayConcat([concat('ord-', toString(o)), concat('cust-', toString(o % 50000))], multiIf(
            kinds[i] IN ('Server', 'Client') AND i NOT IN (5, 8),
            ['POST', names[i], if(in_failure, '500', '200')],
            i IN (5, 8), ['postgresql', concat(names[i], ' SET n = n - $1 WHERE id = $2')],
            ['kafka', 'orders']))) AS SpanAttributes,
    toUInt64((durations[i] + jitter) * 1000000) AS Duration,
    if(in_failure, 'Error', 'Unset') AS StatusCode,
    if(in_failure AND i = 5, 'deadlock detected', '') AS StatusMessage,
    if(in_failure AND i = 5, [Timestamp + toIntervalMillisecond(durations[i])], [])
        AS `Events.Timestamp`,
    if(in_failure AND i = 5, ['exception'], []) AS `Events.Name`,
    if(in_failure AND i = 5, [map('exception.type', 'psycopg.errors.DeadlockDetected',
        'exception.message', 'deadlock detected',
        'exception.stacktrace',
        'Traceback (most recent call last):\n  File "payments/db.py", line 42')],
        []) AS `Events.Attributes`,
    if(i = 10, [trace], []) AS `Links.TraceId`,
    if(i = 10, [span_id(o, 9)], []) AS `Links.SpanId`,
    if(i = 10, [''], []) AS `Links.TraceState`,
    if(i = 10, [map('messaging.kafka.offset', toString(o))], []) AS `Links.Attributes`
{orders}ARRAY JOIN range(1, 11) AS i,
    arrayMap(k -> toInt64(cityHash64(o, k) % 20), range(1, 11)) AS jitter
""".replace("{orders}", ORDERS)

LOGS: Final = """
INSERT INTO otel_logs (Timestamp, TraceId, SpanId, TraceFlags, SeverityText, SeverityNumber,
    ServiceName, Body, ResourceAttributes, ScopeName, LogAttributes)
WITH
    (n, k) -> lower(substring(hex(MD5(concat(toString(n), '-', toString(k)))), 1, 16)) AS span_id
SELECT
    fromUnixTimestamp64Nano(toInt64(start + [5, 100, 610][j] * 1000000)) AS Timestamp,
    if(j = 3, consumer_trace, trace) AS TraceId,
    span_id(o, [2, 5, 10][j]) AS SpanId,
    1 AS TraceFlags,
    if(failed AND j = 2, 'ERROR', 'INFO') AS SeverityText,
    if(failed AND j = 2, 17, 9) AS SeverityNumber,
    ['checkout', 'payments', 'notifications'][j] AS ServiceName,
    if(failed AND j = 2, 'deadlock detected on accounts',
       ['order received', 'payment authorised', 'confirmation email queued'][j]) AS Body,
    map('service.name', ['checkout', 'payments', 'notifications'][j]) AS ResourceAttributes,
    'app' AS ScopeName,
    map('order.id', concat('ord-', toString(o))) AS LogAttributes
{orders}ARRAY JOIN range(1, 4) AS j
""".replace("{orders}", ORDERS)


def trace_id(order: int) -> str:
    """The checkout trace id of order n, as the generator makes it."""
    import hashlib

    return hashlib.md5(f"t{order}".encode()).hexdigest()


def failing_orders(picks: list[int], orders: int) -> list[int]:
    """For each picked order, the failing order of its hundred (n % 100 == 42), if stored."""
    return [o - o % 100 + 42 for o in picks if o - o % 100 + 42 < orders]

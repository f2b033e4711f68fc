"""Synthetic logs generated inside ClickHouse (INSERT ... SELECT FROM numbers()), and OTLP log
requests for the ingest figure.

Record n belongs to order n // 8 (its trace id is the order's, as in a checkout that logs in
eight services); service n % 8; 1 % ERROR, 9 % WARN, 20 % DEBUG, the rest INFO. The
cleanup worker is not traced (one record in eight has no trace id). Bodies carry ids (orders,
customers, SKUs, payments) between ordinary words.
"""

from __future__ import annotations

import os
import random
import time
from typing import Final

from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest

from ingest_payload import _kv

SERVICES: Final = ("frontend", "checkout", "payments", "inventory", "notifications",
                   "shipping", "search", "cleanup-worker")  # fmt: skip

LOGS: Final = """
INSERT INTO otel_logs (Timestamp, TraceId, SpanId, TraceFlags, SeverityText, SeverityNumber,
    ServiceName, Body, ResourceAttributes, ScopeName, LogAttributes)
WITH
    ['frontend', 'checkout', 'payments', 'inventory', 'notifications', 'shipping', 'search',
     'cleanup-worker'] AS services,
    [concat('deadlock detected on accounts while charging order ord-', toString(o),
            ', transaction tx-', toString(n), ' rolled back'),
     concat('payment call failed for order ord-', toString(o), ': upstream timeout after 3000 ms'),
     concat('out of stock for sku SKU-', toString(n % 5000), ' order ord-', toString(o)),
     concat('unhandled exception in handler: KeyError customer_', toString(n % 100000))] AS errors,
    [concat('GET /products/SKU-', toString(n % 5000), ' 200 in ', toString(n % 97), ' ms'),
     concat('order ord-', toString(o), ' placed by customer cust-', toString(n % 50000),
            ' total ', toString(n % 300), '.99 EUR'),
     concat('card authorised for order ord-', toString(o), ' amount ', toString(n % 300),
            ' EUR ref pay-', lower(hex(cityHash64(n)))),
     concat('reserved ', toString(n % 5 + 1), ' items of SKU-', toString(n % 5000),
            ' for order ord-', toString(o)),
     concat('email queued to customer cust-', toString(n % 50000), ' message msg-',
            lower(hex(cityHash64(n, 2)))),
     concat('label created for order ord-', toString(o), ' carrier dhl tracking TRK',
            toString(n)),
     concat('query for ', ['shoes', 'lamp', 'coffee', 'desk', 'cable'][n % 5 + 1],
            ' returned ', toString(n % 40), ' results'),
     concat('cleanup job removed ', toString(n % 30), ' expired carts')] AS infos
SELECT
    fromUnixTimestamp64Nano({start_ns:Int64} + toInt64(n) * {step_ns:Int64}) AS Timestamp,
    if(s = 8, '', lower(hex(MD5(concat('t', toString(o)))))) AS TraceId,
    if(s = 8, '', lower(substring(hex(MD5(concat('s', toString(n)))), 1, 16))) AS SpanId,
    if(s = 8, 0, 1) AS TraceFlags,
    multiIf(r < 10, 'ERROR', r < 100, 'WARN', r < 300, 'DEBUG', 'INFO') AS SeverityText,
    multiIf(r < 10, 17, r < 100, 13, r < 300, 5, 9) AS SeverityNumber,
    services[s] AS ServiceName,
    multiIf(r < 10, errors[least(s, 4)],
            r < 100, if(s = 2, concat('retrying request to payments attempt 2 for order ord-',
                                      toString(o)),
                        concat('slow query on orders took ', toString(200 + n % 800), ' ms')),
            r < 300, concat('cache hit for key product:SKU-', toString(n % 5000)),
            infos[s]) AS Body,
    map('service.name', services[s], 'host.name', concat(services[s], '-', toString(n % 3)),
        'deployment.environment', 'prod') AS ResourceAttributes,
    'app' AS ScopeName,
    if(s = 8, map('job', 'cleanup'),
       map('order.id', concat('ord-', toString(o)), 'customer.id',
           concat('cust-', toString(n % 50000)))) AS LogAttributes
FROM (
    SELECT number + {first:UInt64} AS n, intDiv(n, 8) AS o, toUInt8(n % 8 + 1) AS s,
           cityHash64(n, 1) % 1000 AS r
    FROM numbers({count:UInt64})
)
"""


def logs_request(records: int, seed: int) -> ExportLogsServiceRequest:
    """One request as a service's SDK sends it: `records` log records over the services."""
    rng = random.Random(seed)
    request = ExportLogsServiceRequest()
    now = time.time_ns()
    per_service = max(1, records // len(SERVICES))
    for service in SERVICES:
        resource_logs = request.resource_logs.add()
        resource_logs.resource.attributes.extend(
            [_kv("service.name", service), _kv("host.name", f"{service}-1")]
        )
        scope_logs = resource_logs.scope_logs.add()
        scope_logs.scope.name = "app"
        for index in range(per_service):
            record = scope_logs.log_records.add()
            record.time_unix_nano = now + index * 1000
            record.observed_time_unix_nano = record.time_unix_nano
            error = rng.random() < 0.01
            record.severity_number = 17 if error else 9
            record.severity_text = "ERROR" if error else "INFO"
            order = rng.randint(1, 10**7)
            record.body.string_value = (
                f"deadlock detected while charging order ord-{order}"
                if error
                else f"order ord-{order} placed by customer cust-{rng.randint(1, 50000)}"
            )
            record.attributes.extend([_kv("order.id", f"ord-{order}")])
            if service != "cleanup-worker":
                record.trace_id, record.span_id = os.urandom(16), os.urandom(8)
    return request

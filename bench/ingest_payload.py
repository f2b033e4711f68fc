"""Realistic OTLP trace requests for the ingest benchmark: a few hundred spans, ~10 attributes."""

from __future__ import annotations

import itertools
import os
import random
import time
from typing import Any

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.trace.v1.trace_pb2 import Span, Status

SERVICES = ("checkout", "payments", "inventory", "shipping", "email")
ROUTES = ("GET /orders/{id}", "POST /orders", "GET /cart", "POST /pay", "kafka publish")


def _kv(key: str, value: str | int | float | bool) -> KeyValue:
    if isinstance(value, bool):
        return KeyValue(key=key, value=AnyValue(bool_value=value))
    if isinstance(value, int):
        return KeyValue(key=key, value=AnyValue(int_value=value))
    if isinstance(value, float):
        return KeyValue(key=key, value=AnyValue(double_value=value))
    return KeyValue(key=key, value=AnyValue(string_value=value))


def _span(rng: random.Random, trace_id: bytes, start: int, index: int) -> Span:
    duration = rng.randint(50_000, 90_000_000)
    return Span(
        trace_id=trace_id,
        span_id=os.urandom(8),
        parent_span_id=os.urandom(8) if index else b"",
        name=rng.choice(ROUTES),
        kind=rng.choice((1, 2, 3, 4, 5)),
        start_time_unix_nano=start,
        end_time_unix_nano=start + duration,
        attributes=[
            _kv("http.request.method", "GET"),
            _kv("http.route", "/orders/{id}"),
            _kv("url.full", f"http://shop.local/orders/{rng.randint(1, 10**6)}"),
            _kv("http.response.status_code", rng.choice((200, 200, 201, 404, 500))),
            _kv("server.address", "shop.local"),
            _kv("server.port", 8080),
            _kv("order.id", f"ord-{rng.randint(1, 10**7)}"),
            _kv("user_agent.original", "python-requests/2.34"),
            _kv("network.protocol.version", "1.1"),
            _kv("app.retry", rng.random() < 0.1),
        ],
        status=Status(code=rng.choice((0, 0, 0, 1, 2))),
    )


def trace_request(spans: int, seed: int = 0) -> ExportTraceServiceRequest:
    """One request of `spans` spans over five services, as an instrumented service sends them."""
    rng = random.Random(seed)
    request = ExportTraceServiceRequest()
    now = time.time_ns()
    per_service = max(1, spans // len(SERVICES))
    for service in SERVICES:
        resource_spans = request.resource_spans.add()
        resource_spans.resource.attributes.extend(
            [_kv("service.name", service), _kv("telemetry.sdk.language", "python")]
        )
        scope_spans = resource_spans.scope_spans.add()
        scope_spans.scope.name = "opentelemetry.instrumentation.fastapi"
        trace_id = os.urandom(16)
        for index in range(per_service):
            scope_spans.spans.append(_span(rng, trace_id, now + index * 1000, index))
    return request


class UniqueBodies(list[bytes]):
    """Bodies whose every use gets a fresh first span id.

    A writer's insert token is the digest of its batch's requests: batches cut from a few
    repeating bodies repeat too, and ClickHouse would skip them as duplicates (a flattering
    figure). So every request sent is made distinct, for the price of one copy.
    """

    def __init__(self, bodies: list[bytes]) -> None:
        super().__init__(bodies)
        self.counter = itertools.count(1)
        firsts = [ExportTraceServiceRequest.FromString(body) for body in bodies]
        ids = [r.resource_spans[0].scope_spans[0].spans[0].span_id for r in firsts]
        self.at = [body.find(span_id) for body, span_id in zip(bodies, ids, strict=True)]

    def __getitem__(self, index: Any) -> Any:
        body, at = super().__getitem__(index), self.at[index]
        return body[:at] + next(self.counter).to_bytes(8, "big") + body[at + 8 :]

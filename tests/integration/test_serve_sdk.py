"""The official OTel SDK exporters (HTTP and gRPC) → a real `clew serve` → the chDB folder."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass

import grpc
import pytest
from opentelemetry.exporter.otlp.proto.grpc._log_exporter import OTLPLogExporter as GrpcLogs
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter as GrpcSpans
from opentelemetry.exporter.otlp.proto.http import Compression
from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter as HttpLogs
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter as HttpSpans
from opentelemetry.instrumentation.logging.handler import LoggingHandler
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import SimpleLogRecordProcessor
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.trace import Link, SpanContext, SpanKind, Status, StatusCode, TraceFlags

from tests.support.clew_server import ClewServer

LINKED = SpanContext(
    trace_id=0x0AF7651916CD43DD8448EB211C80319C,
    span_id=0xB7AD6B7169203331,
    is_remote=True,
    trace_flags=TraceFlags(1),
)


@dataclass
class Sent:
    trace_id: str
    server_span_id: str
    client_span_id: str
    service: str


def _providers(
    server: ClewServer, transport: str, service: str
) -> tuple[TracerProvider, LoggerProvider]:
    resource = Resource.create({"service.name": service, "deployment.environment": "test"})
    tracer_provider = TracerProvider(resource=resource)
    logger_provider = LoggerProvider(resource=resource)
    # Gzip on both transports: plain bodies are test_serve.py's.
    if transport == "http":
        spans, logs = (
            HttpSpans(endpoint=f"{server.http_url}/v1/traces", compression=Compression.Gzip),
            HttpLogs(endpoint=f"{server.http_url}/v1/logs", compression=Compression.Gzip),
        )
    else:
        zipped = grpc.Compression.Gzip
        spans = GrpcSpans(endpoint=server.grpc_target, insecure=True, compression=zipped)
        logs = GrpcLogs(endpoint=server.grpc_target, insecure=True, compression=zipped)
    tracer_provider.add_span_processor(SimpleSpanProcessor(spans))
    logger_provider.add_log_record_processor(SimpleLogRecordProcessor(logs))
    return tracer_provider, logger_provider


def _send(server: ClewServer, transport: str) -> Sent:
    service = f"sdk-{transport}"
    tracer_provider, logger_provider = _providers(server, transport, service)
    tracer = tracer_provider.get_tracer("clew.tests", "9.9.9")
    logger = logging.getLogger(f"clew.tests.{transport}")
    handler = LoggingHandler(logger_provider=logger_provider)
    logger.addHandler(handler)
    logger.propagate = False
    try:
        with tracer.start_as_current_span("POST /orders", kind=SpanKind.SERVER) as server_span:
            server_span.set_attributes(
                {
                    "order.id": f"ord-{transport}",
                    "http.response.status_code": 502,
                    "retry": True,
                    "ratio": 0.25,
                    "tags": ["a", "b"],
                }
            )
            with tracer.start_as_current_span(
                "charge",
                kind=SpanKind.PRODUCER,
                links=[Link(LINKED, {"messaging.system": "kafka"})],
            ) as client_span:
                client_span.add_event("retrying", {"attempt": 2})
                client_span.set_status(Status(StatusCode.ERROR, "card declined"))
                logger.error("payment failed", extra={"order.id": f"ord-{transport}"})
    finally:
        logger.removeHandler(handler)
        tracer_provider.shutdown()
        logger_provider.shutdown()
    context = server_span.get_span_context()
    return Sent(
        trace_id=f"{context.trace_id:032x}",
        server_span_id=f"{context.span_id:016x}",
        client_span_id=f"{client_span.get_span_context().span_id:016x}",
        service=service,
    )


@pytest.fixture(params=["http", "grpc"])
def sent(
    request: pytest.FixtureRequest, clew_server: ClewServer
) -> Iterator[tuple[ClewServer, Sent]]:
    yield clew_server, _send(clew_server, request.param)


def test_spans_arrive_field_by_field(sent: tuple[ClewServer, Sent]) -> None:
    server, info = sent
    assert server.stop() == 0
    rows = {
        row["SpanName"]: row
        for row in server.query(
            "SELECT * FROM otel_traces WHERE TraceId = {t:String}", {"t": info.trace_id}
        )
    }
    parent, child = rows["POST /orders"], rows["charge"]
    assert (parent["SpanId"], parent["ParentSpanId"]) == (info.server_span_id, "")
    assert (child["SpanId"], child["ParentSpanId"]) == (info.client_span_id, info.server_span_id)
    assert (parent["SpanKind"], child["SpanKind"]) == ("Server", "Producer")
    assert (parent["StatusCode"], child["StatusCode"], child["StatusMessage"]) == (
        "Unset",
        "Error",
        "card declined",
    )
    assert parent["ServiceName"] == info.service
    assert parent["ResourceAttributes"]["service.name"] == info.service
    assert parent["ResourceAttributes"]["deployment.environment"] == "test"
    assert parent["ResourceAttributes"]["telemetry.sdk.language"] == "python"
    assert (parent["ScopeName"], parent["ScopeVersion"]) == ("clew.tests", "9.9.9")
    assert parent["SpanAttributes"] == {
        "order.id": f"ord-{info.service[4:]}",
        "http.response.status_code": "502",
        "retry": "true",
        "ratio": "0.25",
        "tags": '["a","b"]',
    }
    assert parent["Duration"] > 0 and parent["Timestamp"] <= child["Timestamp"]
    assert child["Events.Name"] == ["retrying"] and child["Events.Attributes"] == [{"attempt": "2"}]
    assert child["Links.TraceId"] == ["0af7651916cd43dd8448eb211c80319c"]
    assert child["Links.SpanId"] == ["b7ad6b7169203331"]
    assert child["Links.Attributes"] == [{"messaging.system": "kafka"}]


def test_logs_and_side_tables_arrive(sent: tuple[ClewServer, Sent]) -> None:
    server, info = sent
    server.stop()
    [log] = server.query(
        "SELECT * FROM otel_logs WHERE ServiceName = {s:String}", {"s": info.service}
    )
    assert (log["TraceId"], log["SpanId"]) == (info.trace_id, info.client_span_id)
    assert (log["SeverityText"], log["SeverityNumber"], log["Body"]) == (
        "ERROR",
        17,
        "payment failed",
    )
    assert log["TraceFlags"] & 1 == 1  # sampled (the SDK may also set W3C's random bit)
    assert log["LogAttributes"]["order.id"] == f"ord-{info.service[4:]}"
    assert log["ResourceAttributes"]["service.name"] == info.service
    assert log["ScopeName"] == f"clew.tests.{info.service[4:]}"
    keys = server.query(
        "SELECT TraceId, max(HasError) AS err, groupUniqArrayArray(Services) AS services"
        " FROM clew_business_keys WHERE Key = 'order.id' AND Value = {v:String} GROUP BY TraceId",
        {"v": f"ord-{info.service[4:]}"},
    )
    assert keys == [{"TraceId": info.trace_id, "err": 1, "services": [info.service]}]
    links = server.query(
        "SELECT TraceId, SpanId FROM clew_span_links WHERE LinkedTraceId = {t:String}",
        {"t": "0af7651916cd43dd8448eb211c80319c"},
    )
    assert links == [{"TraceId": info.trace_id, "SpanId": info.client_span_id}]
    lookup = server.query(
        "SELECT count() AS n FROM otel_traces_trace_id_ts WHERE TraceId = {t:String}",
        {"t": info.trace_id},
    )
    assert lookup[0]["n"] >= 1

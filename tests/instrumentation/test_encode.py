"""clew's OTLP span and log encoders write the same messages as the SDK's encoders."""

from __future__ import annotations

import logging
import uuid
from datetime import datetime
from typing import Any

import pytest
from opentelemetry._logs import SeverityNumber
from opentelemetry.exporter.otlp.proto.common._log_encoder import encode_logs as sdk_encode_logs
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans as sdk_encode
from opentelemetry.instrumentation.logging.handler import LoggingHandler
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.sdk._logs import LoggerProvider, ReadableLogRecord
from opentelemetry.sdk._logs.export import InMemoryLogRecordExporter, SimpleLogRecordProcessor
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import Link, SpanContext, SpanKind, Status, StatusCode, TraceFlags
from opentelemetry.trace.span import TraceState
from opentelemetry.util.types import AnyValue

from clew.instrumentation._encode import encode_logs, encode_spans

VALUES: dict[str, AnyValue] = {
    "text": "é ✓",
    "empty": "",
    "yes": True,
    "no": False,
    "zero": 0,
    "big": 2**62,
    "negative": -5,
    "ratio": 0.25,
    "floats": [1.5, -2.0],
    "words": ["a", ""],
    "flags": [True],
    "numbers": [1, -1, 2**40],
}


def spans() -> list[ReadableSpan]:
    """Spans of every shape: kinds, parents local and remote, events, links, statuses, scopes."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider(resource=Resource.create({"service.name": "enc", "n": 3}))
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    other = TracerProvider(resource=Resource({"service.name": "other"}, schema_url="https://s"))
    other.add_span_processor(SimpleSpanProcessor(exporter))
    a = provider.get_tracer("a", "1.0", schema_url="https://a", attributes={"scope.attr": "x"})
    b = provider.get_tracer("b")
    remote = SpanContext(
        0xABC,
        0xDEF,
        is_remote=True,
        trace_flags=TraceFlags(1),
        trace_state=TraceState([("k", "v"), ("z", "1")]),
    )
    with a.start_as_current_span("root", kind=SpanKind.SERVER, attributes=VALUES) as root:
        root.add_event("evt", {"n": 1})
        root.add_event("bare")
        root.set_status(Status(StatusCode.ERROR, "broken"))
        with b.start_as_current_span(
            "child",
            kind=SpanKind.CLIENT,
            links=[Link(remote, {"l": "1"}), Link(root.get_span_context())],
        ):
            pass
    from opentelemetry import trace

    with a.start_span(
        "remote child",
        context=trace.set_span_in_context(trace.NonRecordingSpan(remote)),
        kind=SpanKind.CONSUMER,
    ) as span:
        span.set_status(Status(StatusCode.OK))
        try:
            raise ValueError("boom")
        except ValueError as error:
            span.record_exception(error)
    for kind in (SpanKind.INTERNAL, SpanKind.PRODUCER):
        other.get_tracer("c").start_span("k", kind=kind).end()
    return list(exporter.get_finished_spans())


def test_same_message_as_the_sdk_encoder() -> None:
    batch = spans()
    ours = ExportTraceServiceRequest.FromString(encode_spans(batch))
    theirs = sdk_encode(batch)
    assert ours == theirs
    assert ExportTraceServiceRequest.FromString(encode_spans(batch[1:])) != theirs
    assert len(ours.resource_spans) == 2
    assert encode_spans(batch) == encode_spans(batch)  # caches change nothing


def test_unencodable_value_is_a_clear_error() -> None:
    from clew.instrumentation._encode import _value

    with pytest.raises(TypeError, match="cannot encode object"):
        _value(object())


def log_records() -> list[ReadableLogRecord]:
    """Records of every shape: inside a span or not, bodies of each type, exceptions."""
    exporter = InMemoryLogRecordExporter()  # type: ignore[no-untyped-call]
    provider = LoggerProvider(resource=Resource.create({"service.name": "enc"}))
    provider.add_log_record_processor(SimpleLogRecordProcessor(exporter))
    logger = provider.get_logger("logs", "2.0", schema_url="https://l")
    tracer = TracerProvider().get_tracer("t")
    with tracer.start_as_current_span("s"):
        logger.emit(
            body="in span",
            severity_number=SeverityNumber.WARN,
            severity_text="WARN",
            attributes=VALUES,
        )
    logger.emit(body={"structured": [1, "x"]}, event_name="order.placed")
    logger.emit(body=None, severity_number=SeverityNumber.ERROR, exception=ValueError("bad"))
    provider.get_logger("other").emit(body=b"raw", attributes={"n": 1})
    return list(exporter.get_finished_logs())


def test_same_logs_message_as_the_sdk_encoder() -> None:
    batch = log_records()
    ours = ExportLogsServiceRequest.FromString(encode_logs(batch))
    assert ours == sdk_encode_logs(batch)
    assert ExportLogsServiceRequest.FromString(encode_logs(batch[1:])) != sdk_encode_logs(batch)
    assert len(ours.resource_logs[0].scope_logs) == 2


# Every AnyValue kind (string, bool, int, double, bytes, array, kvlist, empty) and nestings.
BODIES = [
    "text",
    "",
    True,
    False,
    0,
    -1,
    2**63 - 1,
    -(2**63),
    1.5,
    -0.0,
    float("inf"),
    b"",
    b"\x00\xff",
    [],
    (),
    [1, "a", None, [2.5, False], {"k": b"x"}],
    {},
    {"a": None, "b": {"c": [True, -7]}, 3: "int key", "d": ()},
    None,
]


def emitted(**fields: Any) -> list[ReadableLogRecord]:
    """One record emitted with these fields, as the batch processor would hand it over."""
    exporter = InMemoryLogRecordExporter()  # type: ignore[no-untyped-call]
    provider = LoggerProvider(resource=Resource.create({"service.name": "enc"}))
    provider.add_log_record_processor(SimpleLogRecordProcessor(exporter))
    provider.get_logger("bodies").emit(severity_number=SeverityNumber.INFO, **fields)
    return list(exporter.get_finished_logs())


@pytest.mark.parametrize("body", BODIES, ids=repr)
def test_every_body_kind_as_the_sdk_encodes_it(body: Any) -> None:
    batch = emitted(body=body, attributes={"none": None, "list": [None, 1], "map": {"x": b"z"}})
    ours = ExportLogsServiceRequest.FromString(encode_logs(batch))
    assert ours == sdk_encode_logs(batch)
    assert ours.SerializeToString() == sdk_encode_logs(batch).SerializeToString()


@pytest.mark.parametrize("big", [2**63, -(2**63) - 1, 2**64 + 5])
def test_integer_out_of_int64_is_refused_like_the_sdk(big: int) -> None:
    batch = emitted(body=big)
    with pytest.raises(ValueError):
        sdk_encode_logs(batch)
    with pytest.raises(ValueError, match="int64"):
        encode_logs(batch)  # not silently wrapped around to another number


def test_attribute_the_sdk_cannot_encode_is_left_out_alone(
    caplog: pytest.LogCaptureFixture,
) -> None:
    batch = emitted(body="b", attributes={"ok": 1, "huge": 2**64, "also": "kept"})
    ours = ExportLogsServiceRequest.FromString(encode_logs(batch))
    assert ours == sdk_encode_logs(batch)
    [record] = ours.resource_logs[0].scope_logs[0].log_records
    assert [kv.key for kv in record.attributes] == ["ok", "also"]
    assert "Failed to encode key huge" in caplog.text


def test_stdlib_logging_records_as_the_sdk_encodes_them() -> None:
    """Records made by the real stdlib handler: extra fields of odd types, exceptions, spans."""
    exporter = InMemoryLogRecordExporter()  # type: ignore[no-untyped-call]
    provider = LoggerProvider(resource=Resource.create({"service.name": "enc"}))
    provider.add_log_record_processor(SimpleLogRecordProcessor(exporter))
    handler = LoggingHandler(logger_provider=provider)
    tracer = TracerProvider().get_tracer("t")
    for name in ("shop", "stock", "shop"):
        logger = logging.getLogger(f"encode.{name}")
        logger.addHandler(handler)
        logger.propagate = False
        extra = {"when": datetime(2026, 1, 2), "id": uuid.UUID(int=7), "parts": (1, None)}
        with tracer.start_as_current_span(name):
            logger.warning("%s low", name, extra=extra)
        try:
            raise KeyError(name)
        except KeyError:
            logger.exception({"structured": name})
        logger.removeHandler(handler)
    batch = list(exporter.get_finished_logs())
    assert len(batch) == 6
    ours = ExportLogsServiceRequest.FromString(encode_logs(batch))
    assert ours == sdk_encode_logs(batch)
    assert len(ours.resource_logs[0].scope_logs) == 2  # one per logger name

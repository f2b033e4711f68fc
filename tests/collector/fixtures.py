"""The OTLP payloads of tests/fixtures/otlp/, built again as protobuf messages by hand.

The JSON files and these builders describe the same requests independently, so decoding either
must give the same rows.
"""

from __future__ import annotations

from pathlib import Path

from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, ArrayValue, KeyValue, KeyValueList
from opentelemetry.proto.logs.v1.logs_pb2 import LogRecord
from opentelemetry.proto.trace.v1.trace_pb2 import Span, Status

FIXTURES = Path(__file__).parent.parent / "fixtures" / "otlp"
TRACE = bytes.fromhex("5b8efff798038103d269b633813fc60c")
T0 = 1_700_000_000_000_000_000


def kv(key: str, value: AnyValue) -> KeyValue:
    return KeyValue(key=key, value=value)


def s(text: str) -> AnyValue:
    return AnyValue(string_value=text)


def _main_span() -> Span:
    return Span(
        trace_id=TRACE,
        span_id=bytes.fromhex("eee19b7ec3c1b174"),
        parent_span_id=bytes.fromhex("eee19b7ec3c1b173"),
        trace_state="k=v",
        name="GET /orders/{id}",
        kind=Span.SPAN_KIND_SERVER,
        start_time_unix_nano=T0,
        end_time_unix_nano=T0 + 1_500_000,
        attributes=[
            kv("str", s("s")),
            kv("flag", AnyValue(bool_value=True)),
            kv("count", AnyValue(int_value=42)),
            kv("negative", AnyValue(int_value=-7)),
            kv("ratio", AnyValue(double_value=3.5)),
            kv("whole", AnyValue(double_value=2.0)),
            kv("tiny", AnyValue(double_value=1.5e-7)),
            kv("blob", AnyValue(bytes_value=b"hello")),
            kv(
                "list",
                AnyValue(
                    array_value=ArrayValue(
                        values=[
                            s("a"),
                            AnyValue(int_value=1),
                            AnyValue(double_value=1.5),
                            AnyValue(bool_value=False),
                        ]
                    )
                ),
            ),
            kv(
                "map",
                AnyValue(
                    kvlist_value=KeyValueList(
                        values=[
                            kv("b", s("x<y")),
                            kv("a", AnyValue(int_value=2)),
                            kv("c", AnyValue(array_value=ArrayValue(values=[s("n")]))),
                        ]
                    )
                ),
            ),
            kv("none", AnyValue()),
            kv("order.id", s("A-1")),
        ],
        events=[
            Span.Event(
                time_unix_nano=T0 + 500_000,
                name="exception",
                attributes=[kv("exception.message", s("boom"))],
            ),
            Span.Event(time_unix_nano=T0 + 600_000, name="retry"),
        ],
        links=[
            Span.Link(
                trace_id=bytes.fromhex("0af7651916cd43dd8448eb211c80319c"),
                span_id=bytes.fromhex("b7ad6b7169203331"),
                trace_state="a=b",
                attributes=[kv("messaging.system", s("kafka"))],
            )
        ],
        status=Status(code=Status.STATUS_CODE_ERROR, message="payment declined"),
    )


def _small(number: int, name: str, kind: int, status: int = 0) -> Span:
    return Span(
        trace_id=TRACE,
        span_id=number.to_bytes(8, "big"),
        name=name,
        kind=kind,  # type: ignore[arg-type]
        start_time_unix_nano=T0 + number,
        end_time_unix_nano=T0 + number + (0 if number == 1 else 1),
        status=Status(code=status),  # type: ignore[arg-type]
    )


def trace_request() -> ExportTraceServiceRequest:
    request = ExportTraceServiceRequest()
    first = request.resource_spans.add()
    first.resource.attributes.extend(
        [
            kv("service.name", s("checkout")),
            kv("host.name", s("h1")),
            kv("replica", AnyValue(int_value=3)),
        ]
    )
    scope = first.scope_spans.add()
    scope.scope.name, scope.scope.version = "my.lib", "1.2.3"
    scope.spans.append(_main_span())
    for number, (name, kind) in enumerate(
        [("internal", 1), ("client", 3), ("producer", 4), ("consumer", 5), ("unspecified", 0)], 1
    ):
        scope.spans.append(_small(number, name, kind, 1 if number == 1 else 0))
    scope.spans.extend(
        [
            Span(trace_id=b"", span_id=(6).to_bytes(8, "big"), name="empty trace id"),
            Span(trace_id=b"\xff", span_id=(7).to_bytes(8, "big"), name="bad trace id"),
            Span(trace_id=TRACE, span_id=b"\x00\x00\x00\x01", name="short span id"),
        ]
    )
    second = request.resource_spans.add()
    second.scope_spans.add().spans.append(
        Span(
            trace_id=bytes.fromhex("11" * 16),
            span_id=bytes.fromhex("22" * 8),
            name="no service",
            kind=Span.SPAN_KIND_SERVER,
            start_time_unix_nano=T0,
            end_time_unix_nano=T0,
        )
    )
    return request


def logs_request() -> ExportLogsServiceRequest:
    request = ExportLogsServiceRequest()
    resource_logs = request.resource_logs.add()
    resource_logs.resource.attributes.append(kv("service.name", s("payments")))
    resource_logs.schema_url = "https://opentelemetry.io/schemas/1.26.0"
    scope_logs = resource_logs.scope_logs.add()
    scope_logs.scope.name, scope_logs.scope.version = "app.logger", "0.1"
    scope_logs.scope.attributes.append(kv("scope.attr", AnyValue(bool_value=True)))
    scope_logs.schema_url = "https://opentelemetry.io/schemas/1.25.0"
    scope_logs.log_records.extend(
        [
            LogRecord(
                time_unix_nano=T0,
                observed_time_unix_nano=T0 + 9,
                severity_number=17,  # type: ignore[arg-type]
                severity_text="ERROR",
                body=s("card declined"),
                attributes=[kv("order.id", s("A-1")), kv("attempt", AnyValue(int_value=2))],
                flags=1,
                trace_id=TRACE,
                span_id=bytes.fromhex("eee19b7ec3c1b174"),
                event_name="payment.failed",
            ),
            LogRecord(
                observed_time_unix_nano=T0 + 7,
                severity_number=9,  # type: ignore[arg-type]
                body=AnyValue(kvlist_value=KeyValueList(values=[kv("msg", s("hi"))])),
            ),
            LogRecord(time_unix_nano=T0, trace_id=bytes.fromhex("abcd"), body=s("bad id")),
        ]
    )
    return request


def scalar_trace_request() -> ExportTraceServiceRequest:
    """The trace fixture without invalid spans and without nested (array/map) values."""
    request = trace_request()
    spans = request.resource_spans[0].scope_spans[0].spans
    del spans[6:]
    keep = [kv for kv in spans[0].attributes if kv.key not in ("list", "map")]
    del spans[0].attributes[:]
    spans[0].attributes.extend(keep)
    spans[0].attributes.extend(
        [
            KeyValue(key="big", value=AnyValue(double_value=1.5e21)),
            KeyValue(key="nan", value=AnyValue(double_value=float("nan"))),
            KeyValue(key="zero", value=AnyValue(int_value=0)),
            KeyValue(key="empty", value=AnyValue(string_value="")),
            KeyValue(key="false", value=AnyValue(bool_value=False)),
        ]
    )
    spans[0].flags = 0x301  # a field otel_traces does not store must not disturb the reader
    return request

"""What travels through Kafka: the OTLP protobuf of each request's accepted part."""

from __future__ import annotations

import pytest
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from clew.collector import decode
from clew.collector.decode import RawSpans
from clew.collector.kafka import messages
from clew.collector.kafka.messages import KafkaSettings
from clew.collector.limits import UNBOUNDED, Limits
from clew.collector.write import RawLogs
from tests.collector.fixtures import kv, logs_request, s, scalar_trace_request, trace_request


def test_a_whole_trace_request_travels_as_it_came() -> None:
    body = scalar_trace_request().SerializeToString()
    decoded = decode.spans(body, decode.PROTOBUF)
    value, headers = messages.encode("spans", decoded)
    assert value == body
    assert dict(headers) == {messages.KIND: messages.OTLP, messages.ITEMS: b"7"}
    assert messages.item("spans", value, headers) == RawSpans(body, 7)


def test_a_partly_rejected_trace_request_travels_as_otlp_without_the_rejected_spans() -> None:
    decoded = decode.spans(trace_request().SerializeToString(), decode.PROTOBUF)
    assert decoded.rejected == 3
    value, _ = messages.encode("spans", decoded)
    request = ExportTraceServiceRequest.FromString(value)  # plain OTLP: any consumer reads it
    names = [sp.name for rs in request.resource_spans for ss in rs.scope_spans for sp in ss.spans]
    assert "bad trace id" not in names and len(names) == decoded.accepted == 7
    again = decode.spans(value, decode.PROTOBUF, UNBOUNDED)
    assert again.rejected == 0
    assert again.rows == [] or again.rows[0].spans == 7  # whole now: the fast path takes it
    assert decode.spans_as_rows(value) == decoded.rows  # stored exactly as without Kafka


def test_logs_travel_as_otlp_and_decode_to_the_same_rows() -> None:
    decoded = decode.logs(logs_request().SerializeToString(), decode.PROTOBUF)
    assert decoded.rejected == 1
    value, headers = messages.encode("logs", decoded)
    request = ExportLogsServiceRequest.FromString(value)
    assert request.resource_logs[0].resource.attributes[0].key == "service.name"
    assert messages.items(headers) == 2
    assert messages.item("logs", value, headers) == RawLogs(value, 2)
    assert decode.logs(value, decode.PROTOBUF, UNBOUNDED).rows == decoded.rows


def test_values_travel_as_the_receiver_fitted_them() -> None:
    request = logs_request()
    record = request.resource_logs[0].scope_logs[0].log_records[0]
    record.attributes.append(kv("huge", s("x" * 5000)))
    limits = Limits(max_value_bytes=1000)
    decoded = decode.logs(request.SerializeToString(), decode.PROTOBUF, limits)
    assert decoded.adjusted
    value, _ = messages.encode("logs", decoded)
    rows = decode.logs(value, decode.PROTOBUF, UNBOUNDED).rows
    assert rows == decoded.rows
    assert len(rows[0]["LogAttributes"]["huge"].encode()) <= 1000


def test_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLEW_KAFKA_SPANS_TOPIC", "my.spans")
    monkeypatch.setenv("CLEW_KAFKA_GROUP", "my-writers")
    monkeypatch.setenv("CLEW_KAFKA_MAX_POLL_INTERVAL", "12.5")
    settings = KafkaSettings()
    assert settings.topics() == {"spans": "my.spans", "logs": "clew.otlp.logs"}
    assert settings.group == "my-writers"
    assert settings.max_poll_interval == 12.5

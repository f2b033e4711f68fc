"""What travels through Kafka: whole OTLP protobuf trace requests, or validated rows."""

from __future__ import annotations

import pytest

from clew.collector import decode
from clew.collector.decode import RawSpans
from clew.collector.kafka import messages
from clew.collector.kafka.messages import KafkaSettings
from tests.collector.fixtures import logs_request, scalar_trace_request


def test_a_whole_trace_request_travels_as_it_came() -> None:
    body = scalar_trace_request().SerializeToString()
    decoded = decode.spans(body, decode.PROTOBUF)
    value, headers = messages.encode(decoded)
    assert value == body
    assert messages.decode(value, headers) == [RawSpans(body, 0)]


def test_rows_travel_as_json_and_come_back_equal() -> None:
    decoded = decode.logs(logs_request().SerializeToString(), decode.PROTOBUF)
    value, headers = messages.encode(decoded)
    assert dict(headers)[messages.KIND] == messages.ROWS
    assert messages.decode(value, headers) == decoded.rows


def test_topics_and_group_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLEW_KAFKA_SPANS_TOPIC", "my.spans")
    monkeypatch.setenv("CLEW_KAFKA_GROUP", "my-writers")
    settings = KafkaSettings()
    assert settings.topics() == {"spans": "my.spans", "logs": "clew.otlp.logs"}
    assert settings.group == "my-writers"

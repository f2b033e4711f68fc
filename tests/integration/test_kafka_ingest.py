"""Receivers → Kafka → writers → store, through real `clew collect` / `clew write` processes."""

from __future__ import annotations

import os
import time
from pathlib import Path

import httpx
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from tests.collector.kafka.processes import Receiver, Writer, wait_consumed
from tests.support.kafka import KafkaBroker, unique_topic_name


def trace_request(span_ids: list[bytes]) -> bytes:
    """One ExportTraceServiceRequest holding a span for each id."""
    request = ExportTraceServiceRequest()
    scope = request.resource_spans.add().scope_spans.add()
    for span_id in span_ids:
        span = scope.spans.add(trace_id=os.urandom(16), span_id=span_id, name="kafka-test")
        now = time.time_ns()  # recent: the tables' TTL drops old spans
        span.start_time_unix_nano, span.end_time_unix_nano = now, now + 1_000_000
    return request.SerializeToString()


def send(receiver: Receiver, requests: int, per_request: int = 5) -> set[str]:
    """POST `requests` protobuf trace requests; the hex span ids the receiver accepted."""
    sent: set[str] = set()
    with httpx.Client(base_url=receiver.url, timeout=30) as client:
        for _ in range(requests):
            ids = [os.urandom(8) for _ in range(per_request)]
            response = client.post(
                "/v1/traces",
                content=trace_request(ids),
                headers={"content-type": "application/x-protobuf"},
            )
            assert response.status_code == 200, response.text
            sent |= {span_id.hex() for span_id in ids}
    return sent


def kafka_env(broker: KafkaBroker, partitions: int) -> dict[str, str]:
    """Fresh topics and a fresh group for one test."""
    env = {
        "CLEW_KAFKA_SPANS_TOPIC": unique_topic_name("spans"),
        "CLEW_KAFKA_LOGS_TOPIC": unique_topic_name("logs"),
        "CLEW_KAFKA_GROUP": unique_topic_name("writers"),
        "CLEW_BATCH_MAX_ROWS": "200",
    }
    broker.create_topic(env["CLEW_KAFKA_SPANS_TOPIC"], partitions)
    broker.create_topic(env["CLEW_KAFKA_LOGS_TOPIC"], partitions)
    return env


def test_one_receiver_one_writer_store_every_span_sent(
    kafka_broker: KafkaBroker, tmp_path: Path
) -> None:
    env = kafka_env(kafka_broker, 1)
    receiver = Receiver(kafka_broker.bootstrap, env, tmp_path / "collect.log")
    writer = Writer(kafka_broker.bootstrap, tmp_path / "data", env, tmp_path / "write.log")
    receiver.start()
    writer.start()
    try:
        sent = send(receiver, 20)
        wait_consumed(
            kafka_broker.bootstrap,
            env["CLEW_KAFKA_GROUP"],
            env["CLEW_KAFKA_SPANS_TOPIC"],
            1,
            [writer],
        )
    finally:
        assert receiver.stop() == 0, receiver.log()
        assert writer.stop() == 0, writer.log()
    stored = writer.span_ids()
    assert sorted(stored) == sorted(sent), writer.log()

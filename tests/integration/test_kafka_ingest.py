"""Receivers → Kafka → writers → store, through real `clew collect` / `clew write` processes."""

from __future__ import annotations

import os
import signal
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import grpc
import httpx
import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from clew.collector.store.server import open_server_store
from tests.collector.kafka.processes import (
    Receiver,
    Writer,
    kafka_env,
    wait_balanced,
    wait_consumed,
)
from tests.reliability.load import metric
from tests.support.kafka import KafkaBroker
from tests.support.ports import free_port

EXPORT = "/opentelemetry.proto.collector.trace.v1.TraceService/Export"


def trace_request(span_ids: list[bytes]) -> bytes:
    """One ExportTraceServiceRequest holding a span for each id."""
    request = ExportTraceServiceRequest()
    scope = request.resource_spans.add().scope_spans.add()
    for span_id in span_ids:
        span = scope.spans.add(trace_id=os.urandom(16), span_id=span_id, name="kafka-test")
        now = time.time_ns()  # recent: the tables' TTL drops old spans
        span.start_time_unix_nano, span.end_time_unix_nano = now, now + 1_000_000
    body: bytes = request.SerializeToString()
    return body


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


def grpc_export(receiver: Receiver, span_ids: list[bytes]) -> None:
    """One trace request over OTLP/gRPC; raises grpc.RpcError when refused."""
    with grpc.insecure_channel(f"127.0.0.1:{receiver.grpc_port}") as channel:
        export = channel.unary_unary(EXPORT, request_serializer=None, response_deserializer=None)
        export(trace_request(span_ids), timeout=30)


def wait_spans_consumed(
    broker: KafkaBroker, env: dict[str, str], partitions: int, writers: list[Writer]
) -> None:
    """Wait until the writers' group has committed every message of the spans topic."""
    group, topic = env["CLEW_KAFKA_GROUP"], env["CLEW_KAFKA_SPANS_TOPIC"]
    wait_consumed(broker.bootstrap, group, topic, partitions, writers)


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
        grpc_ids = [os.urandom(8) for _ in range(3)]
        grpc_export(receiver, grpc_ids)
        sent |= {span_id.hex() for span_id in grpc_ids}
        wait_spans_consumed(kafka_broker, env, 1, [writer])
    finally:
        assert receiver.stop() == 0, receiver.log()
        assert writer.stop() == 0, writer.log()
    stored = writer.span_ids()
    assert sorted(stored) == sorted(sent), writer.log()


def metric_names(text: str) -> set[str]:
    """The metric families a Prometheus text exposes (not the creation times of its series)."""
    types = [line.split()[2] for line in text.splitlines() if line.startswith("# TYPE ")]
    return {name for name in types if not name.endswith("_created")}


def test_clew_write_serves_the_metrics_of_clew_serve(
    kafka_broker: KafkaBroker, tmp_path: Path
) -> None:
    env = kafka_env(kafka_broker, 1)
    receiver = Receiver(kafka_broker.bootstrap, env, tmp_path / "collect.log")
    writer = Writer(
        kafka_broker.bootstrap,
        tmp_path / "data",
        {**env, "CLEW_INGEST_TOKEN": "writer-secret"},
        tmp_path / "write.log",
        metrics_port=free_port(),
    )
    receiver.start()
    writer.start()
    try:
        assert writer.metrics()[0] == 401  # behind the ingest token, as clew serve's
        sent = send(receiver, 10)
        wait_spans_consumed(kafka_broker, env, 1, [writer])
        status, text = writer.metrics("writer-secret")
        served = httpx.get(f"{receiver.url}/metrics", timeout=30).text
    finally:
        assert receiver.stop() == 0, receiver.log()
        assert writer.stop() == 0, writer.log()
    assert status == 200
    assert metric_names(text) == metric_names(served)  # the same names as the receivers'
    assert metric(text, "clew_written_total") == len(sent) == 10 * 5
    assert metric(text, "clew_batch_rows_sum") == len(sent)
    assert metric(text, "clew_buffer_rows") == 0  # nothing fetched is waiting any more
    assert metric(text, "clew_dropped_total", 'signal="spans",reason="store_rejected"') == 0
    assert metric(text, "clew_received_total") == 0  # the receivers count what they receive
    assert metric(served, "clew_accepted_total") == len(sent)


def start_group(
    broker: KafkaBroker, tmp_path: Path, receivers: int, writers: int, **more: str
) -> tuple[dict[str, str], list[Receiver], list[Writer]]:
    """Fresh two-partition topics, started receivers and writers (one data folder each)."""
    env = {**kafka_env(broker, 2), **more}
    started_receivers = [
        Receiver(broker.bootstrap, env, tmp_path / f"collect-{n}.log") for n in range(receivers)
    ]
    started_writers = [
        Writer(broker.bootstrap, tmp_path / f"data-{n}", env, tmp_path / f"write-{n}.log")
        for n in range(writers)
    ]
    for process in [*started_receivers, *started_writers]:
        process.start()
    return env, started_receivers, started_writers


def send_from_all(receivers: list[Receiver], requests: int) -> set[str]:
    """Send from every receiver at once; every span id accepted."""
    with ThreadPoolExecutor(len(receivers)) as pool:
        sent = list(pool.map(lambda receiver: send(receiver, requests), receivers))
    return set().union(*sent)


def stored_after_stop(receivers: list[Receiver], writers: list[Writer]) -> list[str]:
    """Stop everything (each exits 0) and read every writer's folder."""
    for process in [*receivers, *writers]:
        assert process.stop() == 0, process.log()
    return [span_id for writer in writers for span_id in writer.span_ids()]


def test_two_receivers_two_writers_store_each_span_once(
    kafka_broker: KafkaBroker, tmp_path: Path
) -> None:
    env, receivers, writers = start_group(kafka_broker, tmp_path, 2, 2)
    try:
        wait_balanced(writers, 2)
        sent = send_from_all(receivers, 30)
        wait_spans_consumed(kafka_broker, env, 2, writers)
    finally:
        stored = stored_after_stop(receivers, writers)
    assert sorted(stored) == sorted(sent)
    assert all(writer.span_ids() for writer in writers), "each writer took a partition"


def test_a_writer_killed_mid_batch_loses_nothing_after_restart(
    kafka_broker: KafkaBroker, tmp_path: Path
) -> None:
    env, receivers, writers = start_group(kafka_broker, tmp_path, 1, 2)
    try:
        with ThreadPoolExecutor(1) as pool:
            sending = pool.submit(send, receivers[0], 200)
            time.sleep(1.0)  # not a timing assertion: only lets the writers get busy
            assert writers[0].stop(signal.SIGKILL) == -signal.SIGKILL
            writers[0].start()
            sent = sending.result()
        wait_balanced(writers, 2)  # the restarted writer is back in the group
        wait_spans_consumed(kafka_broker, env, 2, writers)
    finally:
        stored = stored_after_stop(receivers, writers)
    # At least once: a batch stored but not committed before the kill is redelivered, and the
    # restarted writer may cut it differently (another token), so it can be stored twice.
    assert set(stored) == sent


def post_spans(receiver: Receiver, span_ids: list[bytes]) -> httpx.Response:
    """One protobuf trace request to the receiver."""
    return httpx.post(
        f"{receiver.url}/v1/traces",
        content=trace_request(span_ids),
        headers={"content-type": "application/x-protobuf"},
        timeout=60,
    )


def received(receiver: Receiver) -> float:
    """The receiver's clew_received_total for spans."""
    text = httpx.get(f"{receiver.url}/metrics", timeout=30).text
    return metric(text, "clew_received_total")


def test_broker_down_answers_retryable_then_stores_all_accepted(
    kafka_broker: KafkaBroker, tmp_path: Path
) -> None:
    env = {**kafka_env(kafka_broker, 1), "CLEW_KAFKA_SEND_TIMEOUT": "5"}
    receiver = Receiver(kafka_broker.bootstrap, env, tmp_path / "collect.log")
    writer = Writer(kafka_broker.bootstrap, tmp_path / "data", env, tmp_path / "write.log")
    receiver.start()
    writer.start()
    try:
        sent = send(receiver, 5)
        kafka_broker.stop()
        maybe = os.urandom(8)
        with ThreadPoolExecutor(1) as pool:
            waiting = pool.submit(post_spans, receiver, [maybe])
            # The request waits for Kafka's ack without holding the receiver's event loop:
            # /metrics shows it received while it is still unanswered.
            while received(receiver) < 5 * 5 + 1:
                assert not waiting.done(), waiting.result().text
            assert not waiting.done(), "the export was answered before /metrics"
            refused = waiting.result()
        assert refused.status_code == 503, refused.text
        assert refused.headers["retry-after"] == "1"
        with pytest.raises(grpc.RpcError) as unavailable:
            grpc_export(receiver, [maybe])
        assert unavailable.value.code() == grpc.StatusCode.UNAVAILABLE
        kafka_broker.start()
        sent |= send(receiver, 5)
        wait_spans_consumed(kafka_broker, env, 1, [writer])
    finally:
        stored = stored_after_stop([receiver], [writer])
    # A refused request may still reach the broker later (its send timed out, it was not
    # withdrawn): at least once, like the client's own retry of it.
    assert sent <= set(stored) <= sent | {maybe.hex()}


def test_two_writers_on_a_server_backend_store_each_span_once(
    kafka_broker: KafkaBroker, tmp_path: Path, clickhouse_url: str
) -> None:
    env, receivers, writers = start_group(
        kafka_broker, tmp_path, 1, 2, CLEW_CLICKHOUSE_URL=clickhouse_url
    )
    try:
        wait_balanced(writers, 2)
        sent = send(receivers[0], 30)
        wait_spans_consumed(kafka_broker, env, 2, writers)
    finally:
        for process in [*receivers, *writers]:
            assert process.stop() == 0, process.log()
    store = open_server_store(clickhouse_url)
    try:
        rows = store.query("SELECT SpanId FROM otel_traces").named()
    finally:
        store.close()
    assert sorted(str(row["SpanId"]) for row in rows) == sorted(sent)

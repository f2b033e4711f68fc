"""`clew serve` as a real process: encodings, error statuses, bad input, drain, restart."""

from __future__ import annotations

import gzip
import json
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path

import grpc
import httpx
import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceResponse

from tests.collector.fixtures import FIXTURES, logs_request, scalar_trace_request, trace_request
from tests.support.clew_server import ClewServer

PB = {"Content-Type": "application/x-protobuf"}
JS = {"Content-Type": "application/json"}
SPANS_PER_REQUEST = 7  # valid spans in the trace fixture (3 more are rejected)
# The fixtures are dated 2023: keep them past the default 7-day TTL.
LONG_RETENTION = {"CLEW_RETENTION_DAYS": "3650"}
METRICS_EXPORT = "/opentelemetry.proto.collector.metrics.v1.MetricsService/Export"


def _post(server: ClewServer, path: str, body: bytes, headers: dict[str, str]) -> httpx.Response:
    return httpx.post(f"{server.http_url}{path}", content=body, headers=headers, timeout=30)


def test_encodings_and_statuses(clew_server_factory: Callable[..., ClewServer]) -> None:
    server = clew_server_factory({**LONG_RETENTION, "CLEW_MAX_BODY_BYTES": str(256 * 1024)})
    server.start()
    traces = trace_request().SerializeToString()
    plain = _post(server, "/v1/traces", traces, PB)
    assert plain.status_code == 200
    assert ExportTraceServiceResponse.FromString(plain.content).partial_success.rejected_spans == 3
    zipped = _post(server, "/v1/traces", gzip.compress(traces), {**PB, "Content-Encoding": "gzip"})
    assert zipped.status_code == 200
    as_json = _post(server, "/v1/logs", (FIXTURES / "logs.json").read_bytes(), JS)
    assert as_json.status_code == 200
    assert as_json.json()["partialSuccess"]["rejectedLogRecords"] == "1"
    assert _post(server, "/v1/traces", b"\xff\xff", PB).status_code == 400
    assert _post(server, "/v1/traces", b"{", JS).json()["code"] == 3
    assert _post(server, "/v1/traces", traces, {"Content-Type": "text/csv"}).status_code == 415
    bomb = gzip.compress(b"\x00" * (256 * 1024 + 1))
    assert _post(server, "/v1/traces", bomb, {**PB, "Content-Encoding": "gzip"}).status_code == 413
    assert _post(server, "/v1/metrics", b"", PB).status_code == 404
    assert httpx.get(f"{server.http_url}/v1/traces", timeout=10).status_code == 405
    with grpc.insecure_channel(server.grpc_target) as channel:
        metrics_export = channel.unary_unary(METRICS_EXPORT)
        with pytest.raises(grpc.RpcError) as refused:
            metrics_export(b"", timeout=30)
    assert refused.value.code() == grpc.StatusCode.UNIMPLEMENTED
    metrics = _metrics_when_written(server, spans=2 * SPANS_PER_REQUEST, logs=2)
    assert 'clew_rejected_total{reason="invalid_id",signal="spans"} 6.0' in metrics
    assert 'clew_refused_requests_total{reason="undecodable",signal="spans"} 2.0' in metrics
    assert 'clew_refused_requests_total{reason="body_too_large",signal="spans"} 1.0' in metrics
    assert 'clew_received_total{signal="spans"} 20.0' in metrics
    assert 'clew_received_total{signal="logs"} 3.0' in metrics
    assert 'clew_written_total{signal="logs"} 2.0' in metrics
    assert 'clew_refused_total{reason="buffer_full",signal="spans"} 0.0' in metrics
    assert 'clew_batch_rows_count{signal="spans"}' in metrics
    assert 'clew_buffer_rows{signal="logs"} 0.0' in metrics
    assert server.stop() == 0
    assert server.query("SELECT count() AS n FROM otel_traces") == [{"n": 2 * SPANS_PER_REQUEST}]
    assert server.query("SELECT count() AS n FROM otel_logs") == [{"n": 2}]


def _metrics_when_written(server: ClewServer, spans: int, logs: int = 0) -> str:
    """/metrics once the spans and logs have been written.

    Spans and logs have a writer each, working in the background, so waiting for one
    says nothing about the other.
    """
    wanted = [f'clew_written_total{{signal="spans"}} {spans:.1f}']
    if logs:
        wanted.append(f'clew_written_total{{signal="logs"}} {logs:.1f}')
    for _ in range(600):
        text = httpx.get(f"{server.http_url}/metrics", timeout=10).text
        if all(line in text for line in wanted):
            return text
        time.sleep(0.1)
    raise AssertionError(f"never written ({wanted}):\n{text}")


def test_bad_input_never_loses_good_data(clew_server_factory: Callable[..., ClewServer]) -> None:
    server = clew_server_factory(LONG_RETENTION)
    server.start()
    good = trace_request().SerializeToString()
    bad = [
        (b"\x0a\x05\xff", PB),
        (b"\x00" * 1000, PB),
        (b'{"resourceSpans": 7}', JS),
        (b"\x1f\x8b garbage", {**PB, "Content-Encoding": "gzip"}),
        (json.dumps([1]).encode(), JS),
        (b"[" * 100_000, JS),  # deeper than Python's recursion limit
    ]
    statuses: list[int] = []

    def client(worker: int) -> None:
        with httpx.Client(base_url=server.http_url, timeout=30) as http:
            for round_ in range(10):
                body, headers = bad[(worker + round_) % len(bad)]
                statuses.append(http.post("/v1/traces", content=body, headers=headers).status_code)
                statuses.append(http.post("/v1/traces", content=good, headers=PB).status_code)

    codes: list[grpc.StatusCode] = []

    def grpc_client() -> None:
        with grpc.insecure_channel(server.grpc_target) as channel:
            export = channel.unary_unary(
                "/opentelemetry.proto.collector.trace.v1.TraceService/Export",
                request_serializer=lambda raw: raw,
                response_deserializer=ExportTraceServiceResponse.FromString,
            )
            for body in (b"\x0a\x05\xff", good, b"\x00" * 100, good):
                try:
                    answer = export(body, timeout=30)
                    assert answer.partial_success.rejected_spans == 3  # the fixture's bad ids
                    codes.append(grpc.StatusCode.OK)
                except grpc.RpcError as failure:
                    codes.append(failure.code())

    threads = [threading.Thread(target=client, args=(n,)) for n in range(4)]
    threads.append(threading.Thread(target=grpc_client))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses.count(200) == 40 and statuses.count(400) == 40
    assert codes.count(grpc.StatusCode.OK) == 2
    assert codes.count(grpc.StatusCode.INVALID_ARGUMENT) == 2
    assert httpx.get(f"{server.http_url}/healthz", timeout=10).status_code == 200
    assert server.stop() == 0
    assert server.query("SELECT count() AS n FROM otel_traces") == [{"n": 42 * SPANS_PER_REQUEST}]


def test_stop_drains_the_buffer_and_restart_keeps_data(
    clew_server_factory: Callable[..., ClewServer],
) -> None:
    # Nothing flushes by age or size during the test: only the drain on shutdown can write.
    # The buffer holds 10 rows: a second request of 7 spans is refused, retryable.
    bounded = {"CLEW_BATCH_MAX_AGE": "3600", "CLEW_BUFFER_MAX_ROWS": "10"}
    server = clew_server_factory({**LONG_RETENTION, **bounded})
    server.start()
    assert _post(server, "/v1/traces", trace_request().SerializeToString(), PB).status_code == 200
    full = _post(server, "/v1/traces", trace_request().SerializeToString(), PB)
    assert (full.status_code, full.headers["Retry-After"]) == (503, "1")
    metrics = httpx.get(f"{server.http_url}/metrics", timeout=10).text
    assert 'clew_buffer_rows{signal="spans"} 7.0' in metrics
    assert 'clew_refused_total{reason="buffer_full",signal="spans"} 7.0' in metrics
    assert 'clew_refused_requests_total{reason="buffer_full",signal="spans"} 1.0' in metrics
    assert server.stop(signal.SIGINT) == 0
    assert server.query("SELECT count() AS n FROM otel_traces") == [{"n": SPANS_PER_REQUEST}]
    server.start()
    assert _post(server, "/v1/logs", logs_request().SerializeToString(), PB).status_code == 200
    assert server.stop(signal.SIGTERM) == 0
    assert server.query("SELECT count() AS n FROM otel_traces") == [{"n": SPANS_PER_REQUEST}]
    assert server.query("SELECT count() AS n FROM otel_logs") == [{"n": 2}]
    assert "buffer drained" in server.log()


def test_serve_leaves_the_working_directory_alone(
    clew_server_factory: Callable[..., ClewServer], tmp_path: Path
) -> None:
    # chDB writes some files relative to the cwd (./__cache__ for inline format schemas):
    # nothing of clew's may land in the folder the user started it from.
    server = clew_server_factory(LONG_RETENTION)
    server.cwd = tmp_path / "cwd"
    server.cwd.mkdir()
    server.start()
    fast = scalar_trace_request().SerializeToString()  # every span through the Protobuf path
    assert _post(server, "/v1/traces", fast, PB).status_code == 200
    assert _post(server, "/v1/traces", trace_request().SerializeToString(), PB).status_code == 200
    assert _post(server, "/v1/logs", logs_request().SerializeToString(), PB).status_code == 200
    assert server.stop() == 0
    assert sorted(path.name for path in server.cwd.iterdir()) == []
    assert server.query("SELECT count() AS n FROM otel_traces") == [{"n": 2 * SPANS_PER_REQUEST}]


def test_settings_from_environment(clew_server_factory: Callable[..., ClewServer]) -> None:
    server = clew_server_factory(
        {"CLEW_BUSINESS_KEYS": "tenant.id, order.id", "CLEW_RETENTION_DAYS": "30"}
    )
    server.start()
    # The query UI (the `clew.ui` entry point of clew-query-ui) runs in the same process.
    assert httpx.get(f"{server.ui_url}/", timeout=30, follow_redirects=True).status_code == 200
    assert server.stop() == 0
    keys = server.query("SELECT Key FROM clew_business_key_names ORDER BY Key")
    assert keys == [{"Key": "order.id"}, {"Key": "tenant.id"}]
    engine = server.query("SELECT engine_full FROM system.tables WHERE name = 'otel_traces'")
    assert "toIntervalDay(30)" in engine[0]["engine_full"]
    assert Path(server.data_dir).is_dir()


def test_a_busy_port_fails_the_start(clew_server_factory: Callable[..., ClewServer]) -> None:
    server = clew_server_factory()
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", server.http_port))
        taken.listen()
        process = subprocess.run(server.command(), capture_output=True, timeout=120, check=False)
    assert process.returncode != 0
    assert b"clew stopped" in process.stderr  # the store was closed on the way out

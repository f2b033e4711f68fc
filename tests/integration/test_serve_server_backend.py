"""`clew serve` processes on a ClickHouse server (CLEW_CLICKHOUSE_URL) instead of chDB.

Two real `clew serve` processes share one stand-in server (tests/support/clickhouse_http.py):
spans and logs sent to either are stored once, and either one's UI finds them.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import httpx
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from clew.collector.store.server import open_server_store
from tests.collector.fixtures import TRACE, logs_request, scalar_trace_request, trace_request
from tests.support.clew_server import ClewServer
from tests.support.clickhouse_http import FakeClickHouse

PB = {"Content-Type": "application/x-protobuf"}
SPANS_PER_REQUEST = 7  # valid spans in the trace fixture
LOGS_PER_REQUEST = 2


def test_two_serve_processes_share_one_server(
    clew_server_factory: Callable[..., ClewServer],
    clickhouse_url: str,
    clickhouse_http: FakeClickHouse,
    tmp_path: Path,
) -> None:
    env = {"CLEW_CLICKHOUSE_URL": clickhouse_url, "CLEW_RETENTION_DAYS": "3650"}
    first, second = clew_server_factory(env, "first"), clew_server_factory(env, "second")
    for server in (first, second):
        server.cwd = tmp_path / f"cwd-{server.data_dir.name}"
        server.cwd.mkdir()
        server.start()
    # The scalar request goes through the fast path (raw OTLP, the schema inline), the other
    # through rows. Each server gets its own trace ids: identical fast-path batches carry the
    # same deduplication token (a digest of the batch), and ClickHouse rightly keeps one.
    logs = logs_request().SerializeToString()
    for number, server in enumerate((first, second)):
        for request in (trace_request(), scalar_trace_request()):
            traces = _renumbered(request, number).SerializeToString()
            sent = httpx.post(
                f"{server.http_url}/v1/traces", content=traces, headers=PB, timeout=30
            )
            assert sent.status_code == 200
    for server in (first, second):
        sent = httpx.post(f"{server.http_url}/v1/logs", content=logs, headers=PB, timeout=30)
        assert sent.status_code == 200
    assert first.stop() == 0 and second.stop() == 0  # drained: every accepted row is written
    store = open_server_store(clickhouse_url)
    try:
        spans = store.query("SELECT count() FROM otel_traces").rows
        assert spans == [(4 * SPANS_PER_REQUEST,)]
        records = store.query("SELECT count() FROM otel_logs").rows
        assert records == [(2 * LOGS_PER_REQUEST,)]
        # No embedded store beside the server: the data folder holds the spool alone.
        for server in (first, second):
            assert {path.name for path in server.data_dir.iterdir()} <= {"spool"}
    finally:
        store.close()
    # The inline schema is cached in the server's folder, never in a working directory.
    assert list((clickhouse_http.data_dir / "format_schemas" / "__cache__").glob("*.proto"))
    assert not any(any(server.cwd.iterdir()) for server in (first, second) if server.cwd)
    first.start()  # a UI over the server sees what both wrote
    try:
        page = httpx.get(f"{first.ui_url}/traces/{TRACE.hex()}", timeout=30)
        assert page.status_code == 200 and TRACE.hex() in page.text
    finally:
        first.stop()


def _renumbered(request: ExportTraceServiceRequest, number: int) -> ExportTraceServiceRequest:
    """`request` with the last byte of every 16-byte trace id XORed with `number` (0: as is)."""
    for resource_spans in request.resource_spans:
        for scope_spans in resource_spans.scope_spans:
            for span in scope_spans.spans:
                if len(span.trace_id) == 16:
                    span.trace_id = span.trace_id[:15] + bytes([span.trace_id[15] ^ number])
    return request

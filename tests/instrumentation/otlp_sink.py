"""A real OTLP/HTTP receiver on a loopback port: keeps what it decodes, or misbehaves."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest


@dataclass
class Sink:
    """What arrived: spans and log records as flat dicts; mode "ok", "503" or "hang"."""

    url: str = ""
    mode: str = "ok"
    spans: list[dict[str, Any]] = field(default_factory=list)
    logs: list[dict[str, Any]] = field(default_factory=list)
    attempts: int = 0
    release: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def wait_for(self, predicate: Callable[[Sink], bool], timeout: float = 30) -> None:
        """Poll until predicate holds; a readable failure otherwise."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if predicate(self):
                    return
            time.sleep(0.05)
        raise AssertionError(f"sink never satisfied the condition: {len(self.spans)} spans")


def _attributes(pairs: Any) -> dict[str, Any]:
    return {
        kv.key: getattr(kv.value, kv.value.WhichOneof("value") or "string_value") for kv in pairs
    }


def _spans(body: bytes) -> list[dict[str, Any]]:
    request = ExportTraceServiceRequest.FromString(body)
    return [
        {
            "name": span.name,
            "kind": span.kind,
            "trace_id": span.trace_id.hex(),
            "span_id": span.span_id.hex(),
            "parent_span_id": span.parent_span_id.hex(),
            "attributes": _attributes(span.attributes),
            "resource": _attributes(rs.resource.attributes),
            "scope": ss.scope.name,
            "status": span.status.code,
            "events": [{"name": e.name, **_attributes(e.attributes)} for e in span.events],
        }
        for rs in request.resource_spans
        for ss in rs.scope_spans
        for span in ss.spans
    ]


def _logs(body: bytes) -> list[dict[str, Any]]:
    request = ExportLogsServiceRequest.FromString(body)
    return [
        {
            "body": record.body.string_value,
            "trace_id": record.trace_id.hex(),
            "span_id": record.span_id.hex(),
            "attributes": _attributes(record.attributes),
            "resource": _attributes(rl.resource.attributes),
        }
        for rl in request.resource_logs
        for sl in rl.scope_logs
        for record in sl.log_records
    ]


def _handler(sink: Sink) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            with sink.lock:
                sink.attempts += 1
            if sink.mode == "hang":
                sink.release.wait()
            if sink.mode in ("503", "hang"):
                self.send_response(503)
                self.end_headers()
                return
            decoded = _spans(body) if self.path.endswith("/v1/traces") else _logs(body)
            with sink.lock:
                (sink.spans if self.path.endswith("/v1/traces") else sink.logs).extend(decoded)
            self.send_response(200)
            self.send_header("Content-Type", "application/x-protobuf")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    return Handler


@contextmanager
def otlp_sink(mode: str = "ok") -> Iterator[Sink]:
    """Serve a Sink on a free 127.0.0.1 port until the block ends."""
    sink = Sink(mode=mode)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(sink))
    server.daemon_threads = True
    sink.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield sink
    finally:
        sink.release.set()
        server.shutdown()
        server.server_close()

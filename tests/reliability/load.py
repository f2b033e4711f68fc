"""Load for the reliability tests and bench/soak.py: OTLP/HTTP senders that retry like exporters.

Each span id is a counter (sender number in the high bytes), so the set of ids acknowledged can
be compared with the set stored. A sender retries a request on 429/503 (after Retry-After,
capped) and on connection errors, as OTLP exporters do, and remembers a request's ids only
once it was answered 200.
"""

from __future__ import annotations

import http.client
import re
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path

import grpc
import httpx
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.trace.v1.trace_pb2 import Span

from tests.support.clew_server import ClewServer
from tests.support.clickhouse_http import FakeClickHouse

RETRY_STATUSES = frozenset({429, 502, 503, 504})
MAX_RETRY_WAIT = 1.0
EXPORT = "/opentelemetry.proto.collector.trace.v1.TraceService/Export"
DRAIN_TIMEOUT = 300.0  # seconds; exporters honour Retry-After, tests keep it short


def span_id(sender: int, n: int) -> str:
    """The hex span id of span `n` of `sender` (what otel_traces.SpanId holds)."""
    return f"{(sender << 40) | n:016x}"


def trace_request(sender: int, first: int, count: int, now_ns: int) -> bytes:
    """An ExportTraceServiceRequest of `count` small spans numbered from `first`."""
    request = ExportTraceServiceRequest()
    resource_spans = request.resource_spans.add()
    resource_spans.resource.attributes.append(
        KeyValue(key="service.name", value=AnyValue(string_value=f"load-{sender}"))
    )
    spans = resource_spans.scope_spans.add().spans
    for n in range(first, first + count):
        spans.append(
            Span(
                trace_id=((sender << 40) | n // 8).to_bytes(16, "big"),
                span_id=bytes.fromhex(span_id(sender, n)),
                name="load",
                kind=Span.SPAN_KIND_SERVER,
                start_time_unix_nano=now_ns,
                end_time_unix_nano=now_ns + 1000,
                attributes=[KeyValue(key="n", value=AnyValue(int_value=n))],
            )
        )
    body: bytes = request.SerializeToString()
    return body


@dataclass
class Sender:
    """One client thread: sends requests of `spans` spans until stopped; retries refusals."""

    number: int
    server: ClewServer  # its ports stay the same across restarts
    spans: int = 100
    rate: float = 0.0  # spans/s this sender offers; 0: as fast as answered
    grpc: bool = False  # OTLP/gRPC instead of OTLP/HTTP
    acked: list[str] = field(default_factory=list)
    refused: int = 0  # answers asking for a retry (HTTP 429/503, gRPC UNAVAILABLE)
    failed: int = 0  # connection errors (collector down), retried
    error: str = ""  # why the sender gave up (a non-retryable answer)
    stop: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        """Send until `stop` is set; the request in hand is finished (acknowledged) first."""
        n, started = 0, time.monotonic()
        try:
            while not self.stop.is_set():
                ahead = n / self.rate - (time.monotonic() - started) if self.rate else 0.0
                if ahead > 0:
                    time.sleep(min(0.05, ahead))
                    continue
                self._deliver(trace_request(self.number, n, self.spans, time.time_ns()))
                self.acked.extend(span_id(self.number, m) for m in range(n, n + self.spans))
                n += self.spans
        except AssertionError as exc:
            self.error = str(exc)

    def _deliver(self, body: bytes) -> None:
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline:
            outcome, wait = self._grpc(body) if self.grpc else self._http(body)
            if outcome == "ok":
                return
            if outcome == "refused":
                self.refused += 1
            else:
                self.failed += 1
            time.sleep(min(MAX_RETRY_WAIT, wait))
        raise AssertionError("a request was refused for 10 minutes")

    def _http(self, body: bytes) -> tuple[str, float]:
        try:
            status, retry_after = _post(self.server.http_port, body)
        except (OSError, http.client.HTTPException):
            return "failed", 0.2
        if status == 200:
            return "ok", 0.0
        if status not in RETRY_STATUSES:
            raise AssertionError(f"collector answered HTTP {status}: not retryable")
        return "refused", retry_after

    def _grpc(self, body: bytes) -> tuple[str, float]:
        with grpc.insecure_channel(self.server.grpc_target) as channel:
            export = channel.unary_unary(EXPORT)
            try:
                export(body, timeout=60)
            except grpc.RpcError as exc:
                code = exc.code()
                if code not in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.RESOURCE_EXHAUSTED):
                    raise AssertionError(f"collector answered {code}: not retryable") from exc
                refused = "full" in (exc.details() or "")
                return ("refused" if refused else "failed"), 0.5
        return "ok", 0.0


def _post(port: int, body: bytes) -> tuple[int, float]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        headers = {"Content-Type": "application/x-protobuf"}
        connection.request("POST", "/v1/traces", body=body, headers=headers)
        response = connection.getresponse()
        response.read()
        return response.status, float(response.getheader("Retry-After") or 1)
    finally:
        connection.close()


class Load:
    """Several senders in threads; start(), stop() (waits for their last request), figures."""

    def __init__(
        self, server: ClewServer, senders: int, spans: int, rate: float = 0.0, grpc: int = 0
    ) -> None:
        per = rate / (senders + grpc) if rate else 0.0
        self.senders = [
            Sender(n + 1, server, spans, per, grpc=n >= senders) for n in range(senders + grpc)
        ]
        self.threads = [threading.Thread(target=s.run, daemon=True) for s in self.senders]
        self.started = self.stopped = 0.0

    def start(self) -> None:
        self.started = time.monotonic()
        for thread in self.threads:
            thread.start()

    def stop(self) -> None:
        for sender in self.senders:
            sender.stop.set()
        for thread in self.threads:
            thread.join(900)
        self.stopped = time.monotonic()

    @property
    def acked(self) -> set[str]:
        return {span for sender in self.senders for span in sender.acked}

    @property
    def refused(self) -> int:
        return sum(sender.refused for sender in self.senders)

    @property
    def failed(self) -> int:
        return sum(sender.failed for sender in self.senders)

    @property
    def errors(self) -> list[str]:
        return [sender.error for sender in self.senders if sender.error]

    @property
    def seconds(self) -> float:
        return self.stopped - self.started


@dataclass
class Figures:
    """Spans acknowledged vs stored, and the load that was held."""

    name: str
    acked: int
    stored: int
    lost: int
    duplicated: int
    seconds: float
    refused: int
    failed: int
    errors: list[str]
    extra: dict[str, float] = field(default_factory=dict)
    log: str = ""  # the collector's log, for assertions on its events

    def line(self) -> str:
        """One printable line of figures."""
        rate = self.acked / self.seconds if self.seconds else 0.0
        extra = "".join(f" {key}={value:.10g}" for key, value in self.extra.items())
        return (
            f"[{self.name}] load held: {rate:,.0f} spans/s for {self.seconds:.0f} s; "
            f"acknowledged={self.acked} stored={self.stored} lost={self.lost} "
            f"duplicated={self.duplicated} retried_answers={self.refused} "
            f"connection_errors={self.failed}{extra}"
            + (f" SENDER ERRORS: {self.errors}" if self.errors else "")
        )


def compare(name: str, load: Load, stored: dict[str, int], **extra: float) -> Figures:
    """Figures of a run: `stored` maps each stored span id to how many rows it has."""
    acked = load.acked
    figures = Figures(
        name=name,
        acked=len(acked),
        stored=len(stored),
        lost=len(acked - stored.keys()),
        duplicated=sum(count - 1 for count in stored.values() if count > 1),
        seconds=load.seconds,
        refused=load.refused,
        failed=load.failed,
        errors=load.errors,
        extra=dict(extra),
    )
    print(figures.line())
    return figures


STORED_IDS = "SELECT SpanId, count() AS n FROM otel_traces GROUP BY SpanId"


def peak_rss_mb(pid: int) -> float:
    """VmHWM (peak resident set) of a process, in MiB."""
    status = Path(f"/proc/{pid}/status").read_text()
    found = re.search(r"^VmHWM:\s+(\d+) kB", status, re.MULTILINE)
    return int(found.group(1)) / 1024 if found else 0.0


def metric(text: str, name: str, labels: str = 'signal="spans"') -> float:
    """A sample of the Prometheus text `text`, 0 when absent."""
    found = re.search(rf"^{re.escape(name)}\{{{re.escape(labels)}\}} (\S+)$", text, re.MULTILINE)
    return float(found.group(1)) if found else 0.0


def metrics_text(server: ClewServer) -> str:
    return httpx.get(f"{server.http_url}/metrics", timeout=30).text


def wait_drained(server: ClewServer, timeout: float = DRAIN_TIMEOUT) -> str:
    """Wait until nothing accepted is waiting to be written; the metrics text then."""
    deadline = time.monotonic() + timeout
    while True:
        text = metrics_text(server)
        if metric(text, "clew_buffer_rows") == 0:
            return text
        if time.monotonic() > deadline:
            raise AssertionError(f"backlog not written in {timeout} s:\n{server.log()[-3000:]}")
        time.sleep(0.2)


def stored_embedded(server: ClewServer) -> dict[str, int]:
    return {row["SpanId"]: int(row["n"]) for row in server.query(STORED_IDS)}


def stored_on(clickhouse: FakeClickHouse, url: str) -> dict[str, int]:
    database = urllib.parse.urlsplit(url).path.strip("/")
    text = clickhouse.post(STORED_IDS + " FORMAT TSV", database=database).decode()
    return {span: int(n) for span, n in (line.split("\t") for line in text.splitlines())}

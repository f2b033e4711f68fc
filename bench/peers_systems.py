"""The systems bench/peers.py compares, each started fresh on loopback: `clew serve` with a new
data folder, and Jaeger v2 all-in-one with its Badger store (a new folder) or its memory store.

Each gives the same few things: OTLP ports, spans accepted and stored so far (from its own
metrics), trace ids found by searching its HTTP API, its process id and data folder.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

SERVICE = "telemetrygen"  # telemetrygen's service.name
SEARCH_PAGE = 20


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def get(url: str, timeout: float = 30) -> bytes:
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return bytes(response.read())


def metric_sum(text: str, name: str, *must: str) -> float:
    """Sum of a Prometheus metric's samples whose line contains every `must` string."""
    total = 0.0
    for line in text.splitlines():
        named = line.startswith(name) and line[len(name) : len(name) + 1] in ("{", " ")
        if named and all(part in line for part in must):
            total += float(line.split()[-1])
    return total


class System:
    """A server under test; subclasses say how to start it and read its counters."""

    name = ""
    data: Path | None = None

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.grpc, self.http, self.query = free_port(), free_port(), free_port()
        self.log = (folder / "server.log").open("wb")
        self.process = subprocess.Popen(self.command(), env=self.env(), stdout=self.log,
                                        stderr=subprocess.STDOUT)  # fmt: skip
        self.wait_ready()

    def command(self) -> list[str]:
        raise NotImplementedError

    def env(self) -> dict[str, str]:
        return dict(os.environ)

    def ready_url(self) -> str:
        raise NotImplementedError

    def wait_ready(self, seconds: float = 120) -> None:
        deadline = time.time() + seconds
        while time.time() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"{self.name} exited at start; see {self.folder}/server.log")
            try:
                get(self.ready_url(), timeout=2)
                return
            except OSError:
                time.sleep(0.2)
        self.stop()
        raise SystemExit(f"{self.name} did not start in {seconds:.0f}s")

    def counters(self) -> tuple[float, float]:
        """(spans accepted, spans stored) so far."""
        raise NotImplementedError

    def trace_ids(self, start_ns: int, end_ns: int, slices: int) -> list[str]:
        """Up to SEARCH_PAGE ids from each of `slices` equal windows of [start, end]."""
        step = (end_ns - start_ns) // slices
        found: list[str] = []
        for i in range(slices):
            found += self.search(start_ns + i * step, start_ns + (i + 1) * step)
        return list(dict.fromkeys(found))

    def search(self, start_ns: int, end_ns: int) -> list[str]:
        raise NotImplementedError

    def trace_path(self, trace_id: str) -> str:
        return f"/api/traces/{trace_id}"

    def stop(self) -> None:
        """SIGTERM, as a user stops it (clew drains and closes its store), then wait."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(300)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()


class Clew(System):
    name = "clew"

    def command(self) -> list[str]:
        self.data = self.folder / "data"
        return [sys.executable, "-m", "clew.collector", "serve", "--data-dir", str(self.data),
                "--http-port", str(self.http), "--grpc-port", str(self.grpc),
                "--ui-port", str(self.query)]  # fmt: skip

    def ready_url(self) -> str:
        return f"http://127.0.0.1:{self.http}/healthz"

    def counters(self) -> tuple[float, float]:
        text = get(f"http://127.0.0.1:{self.http}/metrics").decode()
        spans = 'signal="spans"'
        return (
            metric_sum(text, "clew_accepted_total", spans),
            metric_sum(text, "clew_written_total", spans),
        )

    def search(self, start_ns: int, end_ns: int) -> list[str]:
        query = {"service": SERVICE, "start": rfc3339(start_ns), "end": rfc3339(end_ns)}
        query |= {"limit": str(SEARCH_PAGE)}
        url = f"http://127.0.0.1:{self.query}/api/traces?{urllib.parse.urlencode(query)}"
        return [t["trace_id"] for t in json.loads(get(url))["traces"]]


class Jaeger(System):
    """Jaeger v2 all-in-one; `store` is its jaeger_storage backend's config."""

    name = "Jaeger"
    binary = Path()

    def command(self) -> list[str]:
        config = self.folder / "jaeger.json"  # JSON is YAML: no YAML writer needed
        self.metrics = free_port()
        config.write_text(json.dumps(jaeger_config(self, self.store())))
        return [str(self.binary), "--config", str(config)]

    def store(self) -> dict[str, Any]:
        raise NotImplementedError

    def ready_url(self) -> str:
        return f"http://127.0.0.1:{self.query}/api/services"

    def counters(self) -> tuple[float, float]:
        text = get(f"http://127.0.0.1:{self.metrics}/metrics").decode()
        accepted = metric_sum(text, "otelcol_receiver_accepted_spans_total", 'receiver="otlp"')
        exporter = 'exporter="jaeger_storage_exporter"'
        return accepted, metric_sum(text, "otelcol_exporter_sent_spans_total", exporter)

    def search(self, start_ns: int, end_ns: int) -> list[str]:
        query = {"service": SERVICE, "start": start_ns // 1000, "end": end_ns // 1000}
        query |= {"limit": SEARCH_PAGE}
        url = f"http://127.0.0.1:{self.query}/api/traces?{urllib.parse.urlencode(query)}"
        return [t["traceID"] for t in json.loads(get(url, timeout=120))["data"]]


class JaegerBadger(Jaeger):
    name = "Jaeger + Badger"

    def store(self) -> dict[str, Any]:
        self.data = self.folder / "badger"
        folders = {"keys": str(self.data / "keys"), "values": str(self.data / "values")}
        return {"badger": {"directories": folders, "ephemeral": False, "ttl": {"spans": "48h"}}}


class JaegerMemory(Jaeger):
    name = "Jaeger in memory"
    max_traces = 2_000_000  # above what a run stores, so nothing is evicted

    def store(self) -> dict[str, Any]:
        return {"memory": {"max_traces": self.max_traces}}


def jaeger_config(jaeger: Jaeger, store: dict[str, Any]) -> dict[str, Any]:
    """The all-in-one's own config (cmd/jaeger/internal/all-in-one.yaml) with one store, only
    the OTLP receiver, and every port on loopback."""
    loopback = "127.0.0.1:{}".format
    prometheus = {"host": "127.0.0.1", "port": jaeger.metrics}
    return {
        "service": {
            "extensions": ["jaeger_storage", "jaeger_query"],
            "pipelines": {
                "traces": {
                    "receivers": ["otlp"],
                    "processors": ["batch"],
                    "exporters": ["jaeger_storage_exporter"],
                }
            },
            "telemetry": {
                "metrics": {
                    "level": "detailed",
                    "readers": [{"pull": {"exporter": {"prometheus": prometheus}}}],
                },
                "logs": {"level": "warn"},
            },
        },
        "extensions": {
            "jaeger_query": {
                "storage": {"traces": "store"},
                "http": {"endpoint": loopback(jaeger.query)},
                "grpc": {"endpoint": loopback(free_port())},
            },
            "jaeger_storage": {"backends": {"store": store}},
        },
        "receivers": {
            "otlp": {
                "protocols": {
                    "grpc": {"endpoint": loopback(jaeger.grpc)},
                    "http": {"endpoint": loopback(jaeger.http)},
                }
            }
        },
        "processors": {"batch": {}},
        "exporters": {"jaeger_storage_exporter": {"trace_storage": "store"}},
    }


def rfc3339(ns: int) -> str:
    return datetime.fromtimestamp(ns / 1e9, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")

"""Ingest benchmark: a real `clew serve`, a load generator in its own process, fixed duration.

    uv run python bench/ingest.py --seconds 20 --spans-per-request 300 --connections 4

Prints spans/s accepted (200 responses), spans/s written (the server's clew_written_total over
the same window), and send→visible latency p50/p99: a request is visible once the server's
written counter covers every span accepted up to and including it (rows are written in arrival
order; the counter is sampled every 20 ms, which bounds the error).
"""

from __future__ import annotations

import argparse
import http.client
import multiprocessing
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from clew.collector.settings import Settings
from ingest_payload import UniqueBodies, trace_request

# The materialized views behind the overview's figures (schema 019-023), for
# --without-overview-views: what issue 13 asks to keep under 10 % of spans/s.
OVERVIEW_VIEWS = (
    "clew_operation_minutes_mv",
    "clew_service_minutes_mv",
    "clew_topic_minutes_mv",
    "clew_call_halves_mv",
)

WRITTEN = re.compile(r'^clew_written_total\{signal="spans"\} (\S+)$', re.MULTILINE)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(data_dir: Path, env: dict[str, str]) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "clew.collector",
        "serve",
        "--data-dir",
        str(data_dir),
        "--http-port",
        str(port),
        "--grpc-port",
        str(free_port()),
        "--ui-port",
        str(free_port()),
    ]
    process = subprocess.Popen(command, env={**os.environ, **env}, stderr=subprocess.DEVNULL)
    for _ in range(600):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1).close()
            return process, port
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise SystemExit("clew serve did not start")


def without_overview_views(data_dir: Path) -> None:
    """A store whose overview views are Null tables of the same names: `clew serve` applies
    the schema at start, and its CREATE ... IF NOT EXISTS then leaves each name as it is."""
    from clew.collector.schema.apply import apply_schema
    from clew.collector.store import ChdbStore

    settings = Settings(data_dir=data_dir)
    store = ChdbStore(data_dir)
    try:
        apply_schema(store, settings)
        for view in OVERVIEW_VIEWS:
            store.command(f"DROP VIEW {view}")
            store.command(f"CREATE TABLE {view} (Placeholder UInt8) ENGINE = Null")
    finally:
        store.close()


def cpu_seconds(pid: int) -> float:
    """User + system CPU the process has used (all its threads, chDB's included)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def written(port: int) -> float:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
        match = WRITTEN.search(response.read().decode())
    return float(match.group(1)) if match else 0.0


def sender(
    port: int, bodies: list[bytes], interval: float, until: float, out: multiprocessing.Queue
) -> None:  # type: ignore[type-arg]
    """One keep-alive connection posting a body every `interval` s (0: back to back)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    sent: list[tuple[float, float, bool]] = []
    index = 0
    next_send = time.time()
    while time.time() < until:
        if interval:
            time.sleep(max(0.0, next_send - time.time()))
            next_send += interval
        began = time.time()
        connection.request(
            "POST",
            "/v1/traces",
            bodies[index % len(bodies)],
            {"Content-Type": "application/x-protobuf"},
        )
        response = connection.getresponse()
        response.read()
        sent.append((began, time.time(), response.status == 200))
        if response.status == 200:
            index += 1
        else:  # 503 + Retry-After: back off briefly, then resend the same body, as SDKs do
            time.sleep(0.05)
    out.put(sent)


def generator(
    port: int, args: argparse.Namespace, until: float, out: multiprocessing.Queue
) -> None:  # type: ignore[type-arg]
    """The load-generator process: builds distinct bodies, then runs one thread per connection."""
    # Distinct requests: identical batches share a dedup token and would be skipped.
    spans = args.spans_per_request
    bodies = UniqueBodies([trace_request(spans, seed).SerializeToString() for seed in range(40)])
    # --rate spans/s over all connections; each connection sends one request per interval.
    interval = args.connections * args.spans_per_request / args.rate if args.rate else 0.0
    threads = [
        threading.Thread(target=sender, args=(port, bodies, interval, until, out))
        for _ in range(args.connections)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def sample_written(port: int, stop: threading.Event, samples: list[tuple[float, float]]) -> None:
    while not stop.is_set():
        samples.append((time.time(), written(port)))
        time.sleep(0.02)


def latencies(
    requests: list[tuple[float, float, bool]], spans: int, samples: list[tuple[float, float]]
) -> list[float]:
    """send→visible per accepted request, from the written-counter samples."""
    out, cumulative, cursor = [], 0, 0
    for began, answered, ok in sorted(requests, key=lambda item: item[1]):
        if not ok:
            continue
        cumulative += spans
        while cursor < len(samples) and samples[cursor][1] < cumulative:
            cursor += 1
        if cursor == len(samples):
            break
        out.append(max(samples[cursor][0], answered) - began)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--spans-per-request", type=int, default=300)
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument(
        "--rate", type=float, default=0, help="offered spans/s (0: as fast as possible)"
    )
    defaults = Settings()  # the collector's own, so the figures are what a user runs
    parser.add_argument("--batch-max-rows", default=str(defaults.batch_max_rows))
    parser.add_argument("--batch-max-age", default=str(defaults.batch_max_age))
    parser.add_argument(
        "--receive-only",
        action="store_true",
        help="hold every write back: measures the receivers alone (server CPU per accepted span)",
    )
    parser.add_argument(
        "--spool-fsync", default="always", choices=("always", "never"), help="CLEW_SPOOL_FSYNC"
    )
    parser.add_argument(
        "--without-overview-views",
        action="store_true",
        help="the same server with the overview's views (schema 019-023) left out: their cost",
    )
    args = parser.parse_args()
    env = {
        "CLEW_BATCH_MAX_ROWS": args.batch_max_rows,
        "CLEW_BATCH_MAX_AGE": args.batch_max_age,
        "CLEW_SPOOL_FSYNC": args.spool_fsync,
    }
    if args.receive_only:
        held = str(10**9)
        env = {
            **env,
            "CLEW_BATCH_MAX_ROWS": held,
            "CLEW_BATCH_MAX_AGE": "3600",
            "CLEW_BUFFER_MAX_ROWS": held,
            # Everything held goes to the spool on disk: room for a long run.
            "CLEW_SPOOL_MAX_BYTES": str(16 * 2**30),
        }
    with tempfile.TemporaryDirectory(prefix="clew-bench-") as tmp:
        if args.without_overview_views:
            without_overview_views(Path(tmp) / "data")
        server, port = start_server(Path(tmp) / "data", env)
        try:
            cpu_before = cpu_seconds(server.pid)
            accepted, written = run(port, args)
            cpu = cpu_seconds(server.pid) - cpu_before
            total = accepted if args.receive_only else written
            print(
                f"server CPU: {cpu:.1f} s for {total:,.0f} spans = {total / cpu:,.0f} spans per "
                f"CPU-second; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"
            )
        finally:
            # Held-back rows are not worth draining; otherwise SIGTERM drains as a user's would.
            server.send_signal(signal.SIGKILL if args.receive_only else signal.SIGTERM)
            server.wait(300)


def run(port: int, args: argparse.Namespace) -> tuple[float, float]:
    out: multiprocessing.Queue = multiprocessing.Queue()  # type: ignore[type-arg]
    samples: list[tuple[float, float]] = []
    stop = threading.Event()
    monitor = threading.Thread(target=sample_written, args=(port, stop, samples))
    start = time.time() + 2.0  # the generator builds its bodies first
    until = start + args.seconds
    process = multiprocessing.Process(target=generator, args=(port, args, until, out))
    process.start()
    monitor.start()
    requests = [item for _ in range(args.connections) for item in out.get()]
    process.join()
    accepted = sum(args.spans_per_request for _, _, ok in requests if ok)
    # The spool takes more than the store can absorb: wait until the backlog is written,
    # so "written" and the CPU per span cover every accepted span.
    deadline = time.time() + (0 if args.receive_only else 600)
    while time.time() < deadline and (not samples or samples[-1][1] < accepted):
        time.sleep(0.2)
    stop.set()
    monitor.join()
    report(requests, samples, start, until, args)
    return accepted, samples[-1][1]


def report(
    requests: list[tuple[float, float, bool]],
    samples: list[tuple[float, float]],
    start: float,
    until: float,
    args: argparse.Namespace,
) -> None:
    spans = args.spans_per_request
    accepted = sum(spans for _, _, ok in requests if ok)
    first = min(began for began, _, _ in requests)
    window = until - first
    before = max((w for t, w in samples if t <= first), default=0.0)
    at_end = max((w for t, w in samples if t <= until), default=0.0)
    lat = sorted(latencies(requests, spans, samples))
    print(
        f"requests {len(requests)} ({sum(not ok for *_, ok in requests)} refused), "
        f"{spans} spans each, {args.connections} connections, {window:.1f}s window"
    )
    print(f"accepted: {accepted / window:,.0f} spans/s")
    last_time, last_written = samples[-1]
    print(
        f"written:  {(at_end - before) / window:,.0f} spans/s in the window; "
        f"{last_written:,.0f} of {accepted:,.0f} accepted written by {last_time - first:.1f}s "
        f"= {last_written / (last_time - first):,.0f} spans/s sustained"
    )
    if lat:
        p99 = lat[min(len(lat) - 1, int(len(lat) * 0.99))]
        print(f"send→visible: p50 {statistics.median(lat) * 1000:.0f} ms, p99 {p99 * 1000:.0f} ms")


if __name__ == "__main__":
    main()

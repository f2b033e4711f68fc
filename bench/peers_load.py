"""The load and the measures of bench/peers.py: telemetrygen paced (10-span traces over
OTLP/gRPC), clew's own generator (bench/ingest.py, OTLP/HTTP as fast as it goes), the server's
CPU and peak RSS from /proc, and trace by id over HTTP.
"""

from __future__ import annotations

import http.client
import math
import multiprocessing
import os
import random
import re
import statistics
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ingest import sender
from ingest_payload import UniqueBodies, trace_request
from peers_systems import System

SPANS_PER_TRACE = 10
GENERATED = re.compile(r'"traces": (\d+)')
# spans/s per telemetrygen worker: each worker paces itself span by span (a rate limiter with a
# burst of 1), so at short intervals a busy machine's late wake-ups lose rate; 2 ms holds.
WORKER_RATE = 500
GENERATOR_CONNECTIONS, GENERATOR_SPANS = 4, 300
FELL_BEHIND = 0.95  # below this share of the offered spans stored, a system fell behind


@dataclass
class Step:
    """One load on one system: what it was offered, took and stored, and what that cost."""

    label: str
    offered: float
    accepted: float
    stored: float
    seconds: float  # from the first span sent until the last span stored
    cpu: float  # server CPU-seconds over the same time
    rss: int  # peak resident bytes during the step
    load: float  # 1-minute load average at the end of the step

    @property
    def rate(self) -> float:
        return self.stored / self.seconds if self.seconds else 0.0

    @property
    def per_cpu(self) -> float:
        return self.stored / self.cpu if self.cpu else 0.0

    @property
    def behind(self) -> bool:
        return self.stored < FELL_BEHIND * self.offered


def stat_fields(pid: int) -> list[str]:
    """The fields of /proc/PID/stat after the command name (the first is the state; CPU times
    are in clock ticks)."""
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def cpu_seconds(pid: int) -> float:
    """User + system CPU of the process (all its threads) and its reaped children."""
    return sum(int(f) for f in stat_fields(pid)[11:15]) / os.sysconf("SC_CLK_TCK")


def peak_rss(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    return 0


def reset_peak_rss(pid: int) -> None:
    """Writing 5 to clear_refs starts VmHWM over at the current RSS (Linux ≥ 4.0)."""
    Path(f"/proc/{pid}/clear_refs").write_text("5")


def telemetrygen(binary: Path, system: System, rate: float, **run: int) -> subprocess.Popen[str]:
    """telemetrygen sending 10-span traces at `rate` spans/s; run: seconds=… or traces=…."""
    workers = max(1, math.ceil(rate / WORKER_RATE))
    command = [str(binary), "traces", "--otlp-endpoint", f"127.0.0.1:{system.grpc}",
               "--otlp-insecure", "--child-spans", str(SPANS_PER_TRACE - 1),
               "--workers", str(workers), "--rate", f"{rate / workers:.3f}",
               "--batch-size", "512", "--allow-export-failures"]  # fmt: skip
    if "seconds" in run:
        command += ["--duration", f"{run['seconds']}s"]
    else:
        command += ["--traces", str(math.ceil(run["traces"] / workers))]
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def generated(process: subprocess.Popen[str]) -> float:
    """Spans telemetrygen made (what it offered), from its workers' closing log lines."""
    _, err = process.communicate(timeout=600)
    return SPANS_PER_TRACE * sum(int(n) for n in GENERATED.findall(err))


def measured(label: str, system: System, send: Callable[[], float], drain: float) -> Step:
    """Run `send()` (returns spans offered), then wait until the stored count stops growing:
    all accepted stored, or no progress for `drain` seconds."""
    pid = system.process.pid
    reset_peak_rss(pid)
    accepted0, stored0 = system.counters()
    cpu0, began = cpu_seconds(pid), time.time()
    offered = send()
    last, last_change = stored0, time.time()
    while True:
        accepted, stored = system.counters()
        if stored > last:
            last, last_change = stored, time.time()
        if stored >= accepted or time.time() - last_change > drain:
            break
        time.sleep(0.25)
    cpu = cpu_seconds(pid) - cpu0
    return Step(label, offered, accepted - accepted0, last - stored0, last_change - began,
                cpu, peak_rss(pid), os.getloadavg()[0])  # fmt: skip


def paced(binary: Path, system: System, rate: float, seconds: int, drain: float) -> Step:
    def send() -> float:
        return generated(telemetrygen(binary, system, rate, seconds=seconds))

    return measured(f"telemetrygen paced {rate:,.0f} spans/s, {seconds}s", system, send, drain)


def own_generator(system: System, seconds: int, drain: float) -> Step:
    """bench/ingest.py's load: 4 connections posting 300-span OTLP/HTTP protobuf bodies back
    to back (a refused body is sent again after 50 ms, as SDKs do). The bodies are built
    before the measure starts."""
    ctx = multiprocessing.get_context()
    ready, go, out = ctx.Event(), ctx.Event(), ctx.Queue()
    process = ctx.Process(target=generate, args=(system.http, seconds, ready, go, out))
    process.start()
    if not ready.wait(300):
        process.kill()
        raise SystemExit("clew's generator did not build its bodies in 300 s")

    def send() -> float:
        go.set()
        requests = [item for _ in range(GENERATOR_CONNECTIONS) for item in out.get()]
        process.join()
        return float(sum(GENERATOR_SPANS for *_, ok in requests if ok))

    label = f"clew's generator (bench/ingest.py: 4 connections, 300-span OTLP/HTTP), {seconds}s"
    return measured(label, system, send, drain)


def generate(port: int, seconds: int, ready: Any, go: Any, out: Any) -> None:
    """The generator process: distinct bodies first, then one thread per connection."""
    requests = [trace_request(GENERATOR_SPANS, seed).SerializeToString() for seed in range(40)]
    bodies = UniqueBodies(requests)
    ready.set()
    go.wait()
    until = time.time() + seconds
    threads = [threading.Thread(target=sender, args=(port, bodies, 0.0, until, out))
               for _ in range(GENERATOR_CONNECTIONS)]  # fmt: skip
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def trace_by_id(system: System, ids: list[str], runs: int) -> tuple[float, float, float]:
    """p50, p99 (ms) of GET trace by id over one keep-alive connection; the load average."""
    connection = http.client.HTTPConnection("127.0.0.1", system.query, timeout=60)
    picks = random.Random(5).choices(ids, k=runs + 2)
    samples = []
    for i, trace_id in enumerate(picks):
        began = time.perf_counter()
        connection.request("GET", system.trace_path(trace_id))
        response = connection.getresponse()
        body = response.read()
        if response.status != 200 or len(body) < 100:
            raise SystemExit(f"{system.name}: trace {trace_id}: {response.status} {body[:200]!r}")
        if i >= 2:  # two warm-up calls
            samples.append((time.perf_counter() - began) * 1000)
    cuts = statistics.quantiles(samples, n=100, method="inclusive")
    return cuts[49], cuts[98], os.getloadavg()[0]


def disk_bytes(path: Path) -> int:
    """Bytes the folder really takes on disk (allocated blocks, as du counts them)."""
    total = 0
    for folder, _, files in os.walk(path):
        for name in files:
            try:
                total += os.lstat(os.path.join(folder, name)).st_blocks * 512
            except FileNotFoundError:
                continue
    return total

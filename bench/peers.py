"""clew beside the tools a user would pick instead: Jaeger v2 all-in-one with Badger and in memory.

    uv run python bench/peers.py [--rates 5000,10000,20000,40000,80000] [--seconds 20]
                                 [--lookup-spans 500000] [--lookups 300] [--only clew,...]

Builds telemetrygen and Jaeger from the Go module proxy into ~/.cache/clew/peers (pinned,
bench/peers_build.py; never committed), then runs each system fresh, alone, on loopback:
  1. telemetrygen (10-span traces over OTLP/gRPC) at paced rates stepping up, on one server,
     until the system stores under 95 % of what was offered; then clew's own generator
     (bench/ingest.py's, OTLP/HTTP as fast as it goes);
  2. on a new server: --lookup-spans spans at --lookup-rate, then trace by id over HTTP
     (/api/traces/{id} on both) for ids found by searching the whole load window, then the
     server is stopped and its data folder measured.
Prints one Markdown table; every figure carries the 1-minute load average taken with it.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import peers_build
import peers_load as load
from peers_systems import Clew, JaegerBadger, JaegerMemory, System
from peers_table import table

KINDS: dict[str, type[System]] = {
    "clew": Clew,
    "badger": JaegerBadger,
    "memory": JaegerMemory,
}
DRAIN = 30.0  # seconds without a stored span before a system counts as done


@dataclass
class Result:
    """Everything measured for one system."""

    name: str
    steps: list[load.Step] = field(default_factory=list)
    lookup_load: load.Step | None = None
    lookup: tuple[float, float, float] | None = None  # p50 ms, p99 ms, load average
    disk: dict[str, float] = field(default_factory=dict)  # figure → bytes per span


def started(kind: type[System], tmp: Path, tag: str) -> System:
    folder = tmp / f"{kind.__name__.lower()}-{tag}"
    folder.mkdir()
    return kind(folder)


def stepped(kind: type[System], tmp: Path, args: argparse.Namespace, result: Result) -> None:
    """Paced rates stepping up on one fresh server until it falls behind; then the generator."""
    system = started(kind, tmp, "rates")
    try:
        for rate in args.rates:
            step = load.paced(args.telemetrygen, system, rate, args.seconds, DRAIN)
            progress(result, step)
            if step.behind:
                break
        progress(result, load.own_generator(system, args.seconds, DRAIN))
    finally:
        system.stop()


def looked_up(kind: type[System], tmp: Path, args: argparse.Namespace, result: Result) -> None:
    """A fixed data size, trace by id over HTTP on it, then the data folder after a stop."""
    system = started(kind, tmp, "lookup")
    try:
        began = time.time_ns()
        traces = args.lookup_spans // load.SPANS_PER_TRACE

        def send() -> float:
            sender = load.telemetrygen(args.telemetrygen, system, args.lookup_rate, traces=traces)
            return float(load.generated(sender))

        label = f"load for trace by id: {args.lookup_spans:,} spans"
        result.lookup_load = load.measured(label, system, send, DRAIN)
        progress(result, result.lookup_load, keep=False)
        ids = system.trace_ids(began - 10**9, time.time_ns(), slices=20)
        result.lookup = load.trace_by_id(system, ids, args.lookups)
        print(f"  {result.name}: trace by id p50/p99 {result.lookup[0]:.1f}/"
              f"{result.lookup[1]:.1f} ms over {len(ids)} ids", flush=True)  # fmt: skip
    finally:
        system.stop()
    if system.data is not None:
        result.disk = disk(system, result.lookup_load.stored)


def disk(system: System, stored: float) -> dict[str, float]:
    """Bytes per stored span: the folder right after the stop, and what stays an hour later
    while the server runs: ClickHouse deletes merged-away parts after 8 minutes, so the store
    folder shrinks to its active parts (counted, not guessed from system.parts' inactive rows,
    which a fresh session lists only once it has loaded them); the spool keeps its last
    segment. Badger keeps what it wrote until its value-log GC rewrites it."""
    assert system.data is not None
    right_after = load.disk_bytes(system.data)
    figures = {"right after": right_after / stored}
    if isinstance(system, Clew):
        command = [sys.executable, str(Path(__file__).parent / "peers_disk.py"), str(system.data)]
        parts = json.loads(subprocess.run(command, capture_output=True, check=True).stdout)
        spool = load.disk_bytes(system.data / "spool")
        merged_away = load.disk_bytes(system.data / "store") - parts["active_blocks"]
        figures["an hour after"] = (right_after - max(0, merged_away)) / stored
        figures["active parts"] = parts["active_blocks"] / stored
        figures["spool"] = spool / stored
    else:
        figures["an hour after"] = right_after / stored
    return figures


def progress(result: Result, step: load.Step, *, keep: bool = True) -> None:
    if keep:
        result.steps.append(step)
    print(f"  {result.name}: {step.label}: offered {step.offered:,.0f}, accepted "
          f"{step.accepted:,.0f}, stored {step.stored:,.0f} = {step.rate:,.0f}/s, "
          f"{step.per_cpu:,.0f} spans/CPU-s, RSS {step.rss / 2**20:,.0f} MiB, "
          f"load {step.load:.1f}", flush=True)  # fmt: skip


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    rates = "5000,10000,20000,40000,80000"
    parser.add_argument("--rates", default=rates, help=f"paced spans/s, in order [{rates}]")
    parser.add_argument("--seconds", type=int, default=20, help="length of each paced step")
    parser.add_argument("--lookup-spans", type=int, default=500_000)
    parser.add_argument("--lookup-rate", type=float, default=20_000, help="spans/s while loading")
    parser.add_argument("--lookups", type=int, default=300, help="timed trace-by-id requests")
    parser.add_argument("--only", default=",".join(KINDS), help="systems: clew,badger,memory")
    args = parser.parse_args()
    args.rates = [float(r) for r in args.rates.split(",")]
    unknown = set(args.only.split(",")) - set(KINDS)
    if unknown:
        parser.error(f"--only takes {','.join(KINDS)}, not {','.join(sorted(unknown))}")
    args.kinds = [KINDS[name] for name in args.only.split(",")]
    if not 0 < args.lookup_spans <= 20_000_000 or not 0 < args.lookups <= 100_000:
        parser.error("--lookup-spans must be 1..20,000,000 and --lookups 1..100,000")
    if not 0 < args.seconds <= 600 or not all(0 < r <= 1_000_000 for r in args.rates):
        parser.error("--seconds must be 1..600 and every rate 1..1,000,000 spans/s")
    if not 0 < args.lookup_rate <= 1_000_000:
        parser.error("--lookup-rate must be 1..1,000,000 spans/s")
    return args


def main() -> None:
    args = arguments()
    peers = peers_build.build()
    args.telemetrygen = peers.telemetrygen
    JaegerBadger.binary = JaegerMemory.binary = peers.jaeger
    results = []
    load_before = Path("/proc/loadavg").read_text().strip()
    with tempfile.TemporaryDirectory(prefix="clew-peers-") as tmp:
        for kind in args.kinds:
            result = Result(kind.name)
            phases: list[Callable[..., None]] = [stepped, looked_up]
            for phase in phases:
                phase(kind, Path(tmp), args, result)
            results.append(result)
    print()
    print(f"versions: {peers.versions()}; {os.cpu_count()} cores")
    print(f"/proc/loadavg before: {load_before}; after: {Path('/proc/loadavg').read_text()}")
    print(table(results, args.lookup_spans))


if __name__ == "__main__":
    main()

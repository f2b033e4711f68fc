"""Where a running server's CPU goes, by thread name, over a window (docs/adr/0007).

    uv run python bench/peers_threads.py --rate 10000 --seconds 20

Starts a fresh `clew serve`, sends it telemetrygen's paced load (bench/peers_load.py; the
binary from bench/peers_build.py), and reads every thread's CPU from /proc before and after.
Python names its threads (the event loop is the process's own name; ThreadPoolExecutor-…),
ClickHouse names its own (QueryPipelineEx, MergeMutate, BgSchPool, …): the split between
Python's work and the store's, which py-spy cannot see.
"""

from __future__ import annotations

import argparse
import collections
import os
import re
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import peers_build
import peers_load as load
from peers_systems import Clew

NUMBERED = re.compile(r"[-_:]?\d+$")


def thread_cpu(pid: int) -> dict[int, tuple[str, float]]:
    """Thread id → (name without its number, CPU-seconds so far)."""
    out = {}
    tick = os.sysconf("SC_CLK_TCK")
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            name = (task / "comm").read_text().strip()
            fields = (task / "stat").read_text().rsplit(")", 1)[1].split()
        except FileNotFoundError:  # the thread ended meanwhile
            continue
        out[int(task.name)] = (NUMBERED.sub("", name), (int(fields[11]) + int(fields[12])) / tick)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=10_000)
    parser.add_argument("--seconds", type=int, default=20)
    args = parser.parse_args()
    peers = peers_build.build()
    with tempfile.TemporaryDirectory(prefix="clew-threads-") as tmp:
        system = Clew(Path(tmp))
        try:
            before = thread_cpu(system.process.pid)
            step = load.paced(peers.telemetrygen, system, args.rate, args.seconds, 30.0)
            after = thread_cpu(system.process.pid)
        finally:
            system.stop()
    used: dict[str, float] = collections.defaultdict(float)
    for tid, (name, cpu) in after.items():
        used[name] += cpu - before.get(tid, (name, 0.0))[1]
    total = sum(used.values())
    print(f"{step.label}: stored {step.stored:,.0f}, server CPU {step.cpu:.1f} s "
          f"(threads alive at the end: {total:.1f} s); load {step.load:.1f}")  # fmt: skip
    for name, cpu in sorted(used.items(), key=lambda item: -item[1])[:15]:
        print(
            f"  {name:24} {cpu:7.2f} s {cpu / total * 100:5.1f} %"
            f" {cpu / step.stored * 1e6:6.1f} µs/span"
        )


if __name__ == "__main__":
    main()

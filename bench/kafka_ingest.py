"""Kafka ingest benchmark: receiver → Kafka → writer(s) → embedded store, with 1 and 2 writers.

    uv run python bench/kafka_ingest.py --seconds 20 --spans-per-request 300 --connections 4

Real processes: scripts/kafka-broker, `clew collect --kafka`, `clew write --kafka` (each writer
on its own data folder), and bench/ingest.py's bodies and senders in a process of their own
(the direct path's load, every request made distinct). Prints spans/s accepted (200 answers),
spans/s stored (the group's committed offsets over the same window: a message is committed
only once stored), when the last span was stored, and each process's CPU seconds.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from aiokafka import AIOKafkaConsumer, TopicPartition
from tests.collector.kafka.processes import (
    ClewProcess,
    Receiver,
    Writer,
    kafka_env,
    wait_balanced,
)
from tests.support.kafka import KafkaBroker

from ingest import sender
from ingest_payload import UniqueBodies, trace_request

PARTITIONS = 2


def tree_cpu(pid: int) -> float:
    """User + system CPU seconds of a process and its descendants (the broker's JVM)."""
    total = 0.0
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        for task in Path(f"/proc/{pid}/task").iterdir():
            for child in (task / "children").read_text().split():
                total += tree_cpu(int(child))
    except (FileNotFoundError, ProcessLookupError):
        pass
    return total


class Committed:
    """Samples the group's committed offsets (messages stored) in a thread of its own."""

    def __init__(self, bootstrap: str, group: str, topic: str) -> None:
        self.bootstrap, self.group = bootstrap, group
        self.parts = [TopicPartition(topic, p) for p in range(PARTITIONS)]
        self.samples: list[tuple[float, int]] = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=lambda: asyncio.run(self._sample()))

    async def _sample(self) -> None:
        consumer = AIOKafkaConsumer(bootstrap_servers=self.bootstrap, group_id=self.group)
        await consumer.start()
        try:
            while not self.stop.is_set():
                done = [await consumer.committed(tp) or 0 for tp in self.parts]
                self.samples.append((time.time(), sum(done)))
                await asyncio.sleep(0.1)
        finally:
            await consumer.stop()

    def at(self, moment: float) -> int:
        """Messages committed by `moment`."""
        return max((n for t, n in self.samples if t <= moment), default=0)


def run(broker: KafkaBroker, root: Path, writers: int, args: argparse.Namespace) -> None:
    """One run with `writers` writers on a two-partition topic; prints its figures."""
    # The collector's own batch size (CLEW_BATCH_MAX_ROWS 20000), not the tests' small one.
    env = kafka_env(broker, PARTITIONS, CLEW_BATCH_MAX_ROWS="20000")
    receiver = Receiver(broker.bootstrap, env, root / f"collect-{writers}.log")
    group = [
        Writer(broker.bootstrap, root / f"data-{writers}-{n}", env, root / f"w-{writers}-{n}.log")
        for n in range(writers)
    ]
    processes: list[ClewProcess] = [receiver, *group]
    for process in processes:
        process.start()
    committed = Committed(broker.bootstrap, env["CLEW_KAFKA_GROUP"], env["CLEW_KAFKA_SPANS_TOPIC"])
    try:
        wait_balanced(group, 2 * PARTITIONS // writers)  # two topics
        committed.thread.start()
        pids = {"broker": broker.process.pid if broker.process else 0}
        pids |= {"receiver": _pid(receiver)} | {f"writer {n}": _pid(w) for n, w in enumerate(group)}
        cpu = {name: tree_cpu(pid) for name, pid in pids.items()}
        requests = _load(receiver.http_port, args)
        _wait_stored(committed, requests, group)
        cpu = {name: tree_cpu(pid) - cpu[name] for name, pid in pids.items()}
    finally:
        committed.stop.set()
        for process in processes:
            process.stop()
    if committed.thread.is_alive():
        committed.thread.join()
    _report(writers, requests, committed, cpu, args)


def _pid(process: ClewProcess) -> int:
    assert process.process is not None
    return process.process.pid


def unique_generator(port: int, args: argparse.Namespace, until: float, out: Any) -> None:
    """bench/ingest.py's load (its bodies and senders), every request distinct."""
    spans = args.spans_per_request
    bodies = UniqueBodies([trace_request(spans, seed).SerializeToString() for seed in range(40)])
    threads = [
        threading.Thread(target=sender, args=(port, bodies, 0.0, until, out))
        for _ in range(args.connections)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def _load(port: int, args: argparse.Namespace) -> list[tuple[float, float, bool]]:
    """Run the generator process for --seconds; every request it sent."""
    out: multiprocessing.Queue = multiprocessing.Queue()  # type: ignore[type-arg]
    until = time.time() + 2.0 + args.seconds  # the generator builds its bodies first
    process = multiprocessing.Process(target=unique_generator, args=(port, args, until, out))
    process.start()
    requests = [item for _ in range(args.connections) for item in out.get()]
    process.join()
    return requests


def _wait_stored(
    committed: Committed, requests: list[tuple[float, float, bool]], group: list[Writer]
) -> None:
    accepted = sum(ok for *_, ok in requests)
    deadline = time.monotonic() + 120
    while committed.at(time.time()) < accepted:
        assert time.monotonic() < deadline, "the writers did not store everything in 120 s"
        assert all(w.process is not None and w.process.poll() is None for w in group)
        time.sleep(0.1)


def _report(
    writers: int,
    requests: list[tuple[float, float, bool]],
    committed: Committed,
    cpu: dict[str, float],
    args: argparse.Namespace,
) -> None:
    spans = args.spans_per_request
    first = min(began for began, _, _ in requests)
    until = max(answered for _, answered, _ in requests)
    window = until - first
    accepted = sum(spans for *_, ok in requests if ok)
    stored = (committed.at(until) - committed.at(first)) * spans
    last = min(t for t, n in committed.samples if n * spans >= accepted) - first
    print(
        f"{writers} writer(s): {len(requests)} requests ({sum(not ok for *_, ok in requests)} "
        f"refused) x {spans} spans, {args.connections} connections, {window:.1f} s window"
    )
    print(f"  accepted: {accepted / window:,.0f} spans/s")
    print(f"  stored:   {stored / window:,.0f} spans/s in the window; all stored by {last:.1f} s")
    print("  CPU s: " + ", ".join(f"{name} {seconds:.1f}" for name, seconds in cpu.items()))
    print(f"  load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--spans-per-request", type=int, default=300)
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--writers", type=int, nargs="+", default=[1, 2])
    args = parser.parse_args()
    print(f"load average {os.getloadavg()[0]:.2f} before the runs")
    with tempfile.TemporaryDirectory(prefix="clew-bench-kafka-") as tmp:
        root = Path(tmp)
        broker = KafkaBroker(root / "kafka")
        broker.start()
        try:
            for writers in args.writers:
                run(broker, root, writers, args)
        finally:
            broker.stop()


if __name__ == "__main__":
    main()

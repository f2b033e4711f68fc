"""`clew collect --kafka` and `clew write --kafka` as real processes, plus what tests ask Kafka."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from pathlib import Path

from aiokafka import AIOKafkaConsumer, TopicPartition

from clew.collector.store import ChdbStore
from tests.support.kafka import KafkaBroker, unique_topic_name
from tests.support.ports import free_port

START_TIMEOUT = 180.0  # a receiver starting at load 20+ on 2 cores
# How long a writer may take to join its group or to catch up. Generous: on a loaded machine
# (2 cores, load 20) `clew write` alone takes 50-75 s to start and apply the schema.
GROUP_TIMEOUT = 240.0


def kafka_env(broker: KafkaBroker, partitions: int, **more: str) -> dict[str, str]:
    """Fresh topics with `partitions` partitions and a fresh group, as CLEW_* variables."""
    env = {
        "CLEW_KAFKA_SPANS_TOPIC": unique_topic_name("spans"),
        "CLEW_KAFKA_LOGS_TOPIC": unique_topic_name("logs"),
        "CLEW_KAFKA_GROUP": unique_topic_name("writers"),
        "CLEW_BATCH_MAX_ROWS": "200",
        **more,
    }
    broker.create_topic(env["CLEW_KAFKA_SPANS_TOPIC"], partitions)
    broker.create_topic(env["CLEW_KAFKA_LOGS_TOPIC"], partitions)
    return env


def clew_command() -> list[str]:
    """The installed `clew`, or the module when the script is missing."""
    script = Path(sys.executable).with_name("clew")
    return [str(script)] if script.exists() else [sys.executable, "-m", "clew.collector"]


class ClewProcess:
    """One clew command as a child process, its output in a log file."""

    def __init__(self, args: list[str], env: dict[str, str], log_path: Path) -> None:
        self.args, self.env, self.log_path = args, env, log_path
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [*clew_command(), *self.args],
                env={**os.environ, **self.env},
                stdout=log,
                stderr=log,
            )

    def stop(self, sig: int = signal.SIGTERM) -> int:
        """Signal it and wait for the exit code."""
        if self.process is None:
            return 0
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        code, self.process = self.process.returncode, None
        return code

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


class Receiver(ClewProcess):
    """`clew collect --kafka` on free loopback ports."""

    def __init__(self, bootstrap: str, env: dict[str, str], log_path: Path) -> None:
        self.http_port, self.grpc_port = free_port(), free_port()
        args = ["collect", "--kafka", bootstrap, "--host", "127.0.0.1"]
        args += ["--http-port", str(self.http_port), "--grpc-port", str(self.grpc_port)]
        super().__init__(args, env, log_path)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    @property
    def grpc_target(self) -> str:
        return f"127.0.0.1:{self.grpc_port}"

    def start(self) -> None:
        """Launch and wait until /healthz answers."""
        super().start()
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            assert self.process is not None and self.process.poll() is None, self.log()
            try:
                with urllib.request.urlopen(f"{self.url}/healthz", timeout=1):
                    return
            except (urllib.error.URLError, OSError):
                assert time.monotonic() < deadline, self.log()
                time.sleep(0.1)


class Writer(ClewProcess):
    """`clew write --kafka` over an embedded data folder; /metrics on `metrics_port` if given."""

    def __init__(
        self,
        bootstrap: str,
        data_dir: Path,
        env: dict[str, str],
        log: Path,
        metrics_port: int | None = None,
    ) -> None:
        self.data_dir, self.metrics_port = data_dir, metrics_port
        args = ["write", "--kafka", bootstrap, "--data-dir", str(data_dir)]
        if metrics_port is not None:
            args += ["--metrics-port", str(metrics_port)]
        super().__init__(args, env, log)

    def metrics(self, token: str | None = None) -> tuple[int, str]:
        """GET /metrics, waiting for the server to answer; (status, text)."""
        headers = {"authorization": f"Bearer {token}"} if token else {}
        url = f"http://127.0.0.1:{self.metrics_port}/metrics"
        deadline = time.monotonic() + GROUP_TIMEOUT  # served once the schema is applied
        while True:
            assert self.process is not None and self.process.poll() is None, self.log()
            try:
                with urllib.request.urlopen(urllib.request.Request(url, headers=headers)) as got:
                    return int(got.status), got.read().decode()
            except urllib.error.HTTPError as refused:
                return int(refused.code), refused.read().decode()
            except (urllib.error.URLError, OSError):
                assert time.monotonic() < deadline, self.log()
                time.sleep(0.1)

    def span_ids(self) -> list[str]:
        """Every stored span id (hex), read once the writer is stopped."""
        assert self.process is None, "stop the writer first: a chDB folder is one process's"
        store = ChdbStore(self.data_dir)
        try:
            rows = store.query("SELECT SpanId FROM otel_traces").named()
        finally:
            store.close()
        return [str(row["SpanId"]) for row in rows]


async def lag(bootstrap: str, group: str, topic: str, partitions: int) -> int:
    """Messages of the topic's first `partitions` partitions the group has not committed."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=group)
    await consumer.start()
    try:
        parts = [TopicPartition(topic, p) for p in range(partitions)]
        ends = await consumer.end_offsets(parts)
        committed = [await consumer.committed(tp) or 0 for tp in parts]
        return sum(ends[tp] - done for tp, done in zip(parts, committed, strict=True))
    finally:
        await consumer.stop()


def wait_consumed(
    bootstrap: str, group: str, topic: str, partitions: int, writers: Sequence[ClewProcess]
) -> None:
    """Wait until the group has committed every message of the topic."""
    deadline = time.monotonic() + GROUP_TIMEOUT
    while (behind := asyncio.run(lag(bootstrap, group, topic, partitions))) > 0:
        assert time.monotonic() < deadline, f"the writers still lag {behind} messages"
        for writer in writers:
            assert writer.process is not None and writer.process.poll() is None, writer.log()
        time.sleep(0.3)


def wait_balanced(writers: Sequence[ClewProcess], each: int) -> None:
    """Wait until every writer was last assigned `each` partitions (the group has rebalanced)."""
    deadline = time.monotonic() + GROUP_TIMEOUT
    while not all(_last_assignment(writer.log()) == each for writer in writers):
        assert time.monotonic() < deadline, "\n".join(writer.log() for writer in writers)
        time.sleep(0.2)


def _last_assignment(log: str) -> int:
    lines = [line for line in log.splitlines() if "Setting newly assigned partitions" in line]
    return lines[-1].count("TopicPartition(") if lines else -1

"""A real Kafka broker (scripts/kafka-broker) as a session fixture, plus unique topic names.

Tests that use `kafka_broker` (or `kafka_topic`) get the `kafka` marker automatically.
The broker keeps its port and data dir across `stop()`/`start()`, so reliability tests can
take it down and bring it back with the messages it held.
"""

from __future__ import annotations

import asyncio
import os
import re
import selectors
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "kafka-broker"
# The first start may download the jars (about a minute); later starts take seconds.
START_TIMEOUT = float(os.environ.get("CLEW_KAFKA_START_TIMEOUT", "300"))
READY = re.compile(r"ready 127\.0\.0\.1:(\d+)")
_SESSION_BROKERS: list[KafkaBroker] = []  # started by the kafka_broker fixture


class KafkaBroker:
    """One scripts/kafka-broker process; its port and data dir survive a restart."""

    def __init__(self, data_dir: Path, port: int | None = None) -> None:
        self.data_dir = data_dir
        self.port = port
        self.process: subprocess.Popen[str] | None = None
        self.stderr_path = data_dir.with_name(data_dir.name + ".stderr")

    @property
    def bootstrap(self) -> str:
        """The bootstrap_servers string clients connect to."""
        if self.port is None:
            raise RuntimeError("the Kafka broker has not been started yet")
        return f"127.0.0.1:{self.port}"

    @property
    def running(self) -> bool:
        """Whether the script (and so the broker) is up."""
        return self.process is not None and self.process.poll() is None

    def start(self, timeout: float = START_TIMEOUT) -> None:
        """Start the broker and wait for its ready line."""
        if self.running:
            raise RuntimeError(f"the Kafka broker at {self.bootstrap} is already running")
        command = [sys.executable, str(SCRIPT), "--data-dir", str(self.data_dir)]
        if self.port is not None:
            command += ["--port", str(self.port)]
        with open(self.stderr_path, "a") as stderr:
            self.process = subprocess.Popen(
                command, stdout=subprocess.PIPE, stderr=stderr, stdin=subprocess.DEVNULL, text=True
            )
        self.port = self._wait_ready(self.process, timeout)

    def _wait_ready(self, process: subprocess.Popen[str], timeout: float) -> int:
        """The port from the ready line; stops the script and explains if it never comes."""
        assert process.stdout is not None
        deadline = time.monotonic() + timeout
        with selectors.DefaultSelector() as selector:
            selector.register(process.stdout, selectors.EVENT_READ)
            while (left := deadline - time.monotonic()) > 0 and selector.select(left):
                line = process.stdout.readline()
                if match := READY.fullmatch(line.strip()):
                    return int(match.group(1))
                if not line:  # the script exited
                    break
        self.stop()
        raise RuntimeError(self._failure(f"no ready line within {timeout:.0f} s"))

    def _failure(self, reason: str) -> str:
        """A message with the script's stderr and the broker log's tail."""
        parts = [f"scripts/kafka-broker failed: {reason}"]
        for log in (self.stderr_path, self.data_dir / "broker.log"):
            if tail := log.read_text(errors="replace").splitlines()[-30:] if log.exists() else []:
                parts += [f"--- end of {log}:", *tail]
        return "\n".join(parts)

    def stop(self, timeout: float = 60) -> int | None:
        """SIGTERM the script (which stops the JVM cleanly); its exit code, 0 when clean."""
        process, self.process = self.process, None
        if process is None:
            return None
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if process.stdout is not None:
            process.stdout.close()
        return process.returncode

    def create_topic(self, name: str, partitions: int = 1) -> None:
        """Create a topic and wait until every partition has a leader; callable from async tests."""
        errors: list[BaseException] = []

        def run() -> None:
            try:
                asyncio.run(_create_topic(self.bootstrap, name, partitions))
            except BaseException as error:
                errors.append(error)

        # A thread with its own event loop, so sync and async tests can both call this.
        thread = threading.Thread(target=run, name=f"create-topic-{name}")
        thread.start()
        thread.join()
        if errors:
            raise errors[0]


async def _create_topic(bootstrap: str, name: str, partitions: int) -> None:
    """Create the topic with the admin client and poll its metadata until it is led."""
    # Imported here: this plugin loads for every test, and some check what is imported.
    from aiokafka.admin import AIOKafkaAdminClient, NewTopic

    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        response = await admin.create_topics([NewTopic(name, partitions, 1)])
        for topic, code, *message in response.topic_errors:
            if code != 0:
                raise RuntimeError(f"creating topic {topic} failed: error {code} {message}")
        for _ in range(100):
            if _led(await admin.describe_topics([name]), partitions):
                return
            await asyncio.sleep(0.1)
        raise RuntimeError(f"topic {name} has no leader for all {partitions} partitions")
    finally:
        await admin.close()


def _led(topics: list[Any], partitions: int) -> bool:
    """Whether the described topic has all its partitions and each has a leader."""
    found = [p for t in topics if t["error_code"] == 0 for p in t["partitions"]]
    return len(found) == partitions and all(p["leader"] >= 0 for p in found)


def unique_topic_name(hint: str = "t") -> str:
    """A topic name no other test uses (Kafka allows [a-zA-Z0-9._-], up to 249 chars)."""
    return f"{re.sub(r'[^a-zA-Z0-9._-]', '-', hint)[:80]}-{uuid.uuid4().hex[:10]}"


@pytest.fixture(scope="session")
def kafka_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KafkaBroker]:
    """The session's broker on a free loopback port; stopped at the end of the session."""
    broker = KafkaBroker(tmp_path_factory.mktemp("kafka") / "data")
    broker.start()
    _SESSION_BROKERS.append(broker)
    try:
        yield broker
    finally:
        _SESSION_BROKERS.remove(broker)
        broker.stop()


@pytest.fixture(autouse=True)
def _kafka_broker_restarted() -> Iterator[None]:
    """A test that stopped the session broker (and failed before restarting it) spoils no other."""
    yield
    for broker in _SESSION_BROKERS:
        if not broker.running:
            broker.stop()  # reaps a crashed script
            broker.start()


@pytest.fixture
def kafka_topic(kafka_broker: KafkaBroker, request: pytest.FixtureRequest) -> str:
    """A fresh one-partition topic, named after the test."""
    name = unique_topic_name(request.node.name)
    kafka_broker.create_topic(name)
    return name


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test that needs the broker, so `-m "not kafka"` can leave them out."""
    for item in items:
        if "kafka_broker" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.kafka)

"""scripts/kafka-broker and its fixture, against the real broker they start."""

from __future__ import annotations

import asyncio
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from tests.support.kafka import SCRIPT, KafkaBroker, unique_topic_name


def launch(*args: str, stderr: Path) -> subprocess.Popen[str]:
    """scripts/kafka-broker as a child, stdout piped, stderr to a file."""
    with open(stderr, "w") as err:
        return subprocess.Popen(
            [sys.executable, str(SCRIPT), *args], stdout=subprocess.PIPE, stderr=err, text=True
        )


async def produce(bootstrap: str, topic: str, values: list[bytes], partition: int = 0) -> None:
    """Send the values and wait until the broker has acknowledged each."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    try:
        for value in values:
            await producer.send_and_wait(topic, value, partition=partition)
    finally:
        await producer.stop()


async def consume(bootstrap: str, topic: str, count: int) -> list[bytes]:
    """Read `count` messages of the topic from its beginning."""
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest", group_id=None
    )
    await consumer.start()
    try:
        values: list[bytes] = []
        while len(values) < count:
            batches = await consumer.getmany(timeout_ms=10_000)
            assert batches, f"no message within 10 s; got {values}"
            values += [m.value for ms in batches.values() for m in ms if m.value is not None]
        return values
    finally:
        await consumer.stop()


def java_children(pid: int) -> list[int]:
    """The java processes started by the given process."""
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return [int(c) for c in children if Path(f"/proc/{c}/comm").read_text().strip() == "java"]


def alive(pid: int) -> bool:
    """Whether the pid still names a process (a reaped child no longer does)."""
    return Path(f"/proc/{pid}").exists()


async def test_round_trip(kafka_broker: KafkaBroker, kafka_topic: str) -> None:
    assert re.fullmatch(r"127\.0\.0\.1:\d+", kafka_broker.bootstrap)
    await produce(kafka_broker.bootstrap, kafka_topic, [b"one", b"two", b"three"])
    assert await consume(kafka_broker.bootstrap, kafka_topic, 3) == [b"one", b"two", b"three"]


async def test_topics_are_auto_created(kafka_broker: KafkaBroker) -> None:
    topic = unique_topic_name("auto")
    await produce(kafka_broker.bootstrap, topic, [b"created on first send"])
    assert await consume(kafka_broker.bootstrap, topic, 1) == [b"created on first send"]


async def test_create_topic_with_partitions(kafka_broker: KafkaBroker) -> None:
    topic = unique_topic_name("parts")
    kafka_broker.create_topic(topic, partitions=3)
    await produce(kafka_broker.bootstrap, topic, [b"last partition"], partition=2)
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=kafka_broker.bootstrap)
    await consumer.start()
    try:
        assert consumer.partitions_for_topic(topic) == {0, 1, 2}
    finally:
        await consumer.stop()
    assert await consume(kafka_broker.bootstrap, topic, 1) == [b"last partition"]


async def test_restart_keeps_messages(kafka_broker: KafkaBroker, kafka_topic: str) -> None:
    bootstrap = kafka_broker.bootstrap
    await produce(bootstrap, kafka_topic, [b"before restart"])
    assert kafka_broker.stop() == 0
    with socket.socket() as probe:
        assert probe.connect_ex(("127.0.0.1", kafka_broker.port or 0)) != 0, "still listening"
    kafka_broker.start()
    assert kafka_broker.bootstrap == bootstrap
    await produce(bootstrap, kafka_topic, [b"after restart"])
    assert await consume(bootstrap, kafka_topic, 2) == [b"before restart", b"after restart"]


def test_sigterm_stops_the_jvm_and_removes_the_temp_dir(tmp_path: Path) -> None:
    stderr = tmp_path / "stderr"
    script = launch(stderr=stderr)
    assert script.stdout is not None
    line = script.stdout.readline()
    assert re.fullmatch(r"ready 127\.0\.0\.1:\d+\n", line), stderr.read_text()
    (jvm,) = java_children(script.pid)
    data_dir = Path(re.findall(r"data in (\S+),", stderr.read_text())[0])
    assert (data_dir / "broker.log").exists()
    script.send_signal(signal.SIGTERM)
    assert script.wait(60) == 0
    assert script.stdout.read() == "", "stdout carries the ready line only"
    assert not alive(jvm)
    assert not data_dir.exists()


def test_port_in_use_fails_with_the_broker_log(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run(
            [sys.executable, str(SCRIPT), "--port", str(port), "--data-dir", str(tmp_path)],
            capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
    assert done.returncode != 0
    assert done.stdout == ""
    assert "the broker exited" in done.stderr
    assert "Address already in use" in done.stderr


def test_prefetch_only_resolves_the_jars() -> None:
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--prefetch"], capture_output=True, text=True, check=True
    )
    assert done.stdout == ""
    lib = Path(re.findall(r"jars ready in (\S+)", done.stderr)[0])
    assert any(jar.name.startswith("kafka_2.13-") for jar in lib.glob("*.jar"))


def test_sigterm_while_starting_leaves_nothing_behind(tmp_path: Path) -> None:
    stderr = tmp_path / "stderr"
    script = launch("--data-dir", str(tmp_path / "data"), stderr=stderr)
    deadline = time.monotonic() + 60
    while not (jvms := java_children(script.pid)) and time.monotonic() < deadline:
        time.sleep(0.01)
    script.send_signal(signal.SIGTERM)
    assert script.wait(60) == 0, stderr.read_text()
    assert script.stdout is not None and script.stdout.read() == ""
    assert jvms and not any(alive(jvm) for jvm in jvms)


def test_sigkill_of_the_script_takes_the_jvm_along(tmp_path: Path) -> None:
    script = launch("--data-dir", str(tmp_path / "data"), stderr=tmp_path / "stderr")
    assert script.stdout is not None and script.stdout.readline().startswith("ready ")
    (jvm,) = java_children(script.pid)
    script.kill()
    script.wait()
    deadline = time.monotonic() + 30
    while alive(jvm) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not alive(jvm), "the JVM outlived a killed kafka-broker"


def test_start_timeout_is_a_clear_error(tmp_path: Path) -> None:
    broker = KafkaBroker(tmp_path / "data")
    with pytest.raises(RuntimeError, match=r"kafka-broker failed: no ready line within 0 s"):
        broker.start(timeout=0.3)
    assert broker.process is None
    assert broker.stop() is None


async def test_consumer_group_resumes_after_its_commit(
    kafka_broker: KafkaBroker, kafka_topic: str
) -> None:
    bootstrap, group = kafka_broker.bootstrap, unique_topic_name("group")
    await produce(bootstrap, kafka_topic, [b"first", b"second"])
    for expected in (b"first", b"second"):
        consumer = AIOKafkaConsumer(
            kafka_topic, bootstrap_servers=bootstrap, group_id=group,
            auto_offset_reset="earliest", enable_auto_commit=False,
        )  # fmt: skip
        await consumer.start()
        try:
            message = await asyncio.wait_for(consumer.getone(), 30)
            assert message.value == expected
            await consumer.commit()
        finally:
            await consumer.stop()


def test_a_test_may_leave_the_session_broker_stopped(kafka_broker: KafkaBroker) -> None:
    assert kafka_broker.stop() == 0
    assert not kafka_broker.running


async def test_the_next_test_finds_it_running_again(
    kafka_broker: KafkaBroker, kafka_topic: str
) -> None:
    # Runs after the test above (file order): the autouse fixture restarted the broker.
    assert kafka_broker.running
    await produce(kafka_broker.bootstrap, kafka_topic, [b"back"])
    assert await consume(kafka_broker.bootstrap, kafka_topic, 1) == [b"back"]

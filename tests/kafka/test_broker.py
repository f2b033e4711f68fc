"""scripts/kafka-broker and its fixture, against the real broker they start."""

from __future__ import annotations

import re
import signal
import socket
import subprocess
import sys
from pathlib import Path

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from tests.support.kafka import SCRIPT, KafkaBroker, unique_topic_name


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
    kafka_broker.stop()
    with socket.socket() as probe:
        assert probe.connect_ex(("127.0.0.1", kafka_broker.port or 0)) != 0, "still listening"
    kafka_broker.start()
    assert kafka_broker.bootstrap == bootstrap
    await produce(bootstrap, kafka_topic, [b"after restart"])
    assert await consume(bootstrap, kafka_topic, 2) == [b"before restart", b"after restart"]


def test_sigterm_stops_the_jvm_and_removes_the_temp_dir(tmp_path: Path) -> None:
    stderr = tmp_path / "stderr"
    with open(stderr, "w") as err:
        script = subprocess.Popen(
            [sys.executable, str(SCRIPT)], stdout=subprocess.PIPE, stderr=err, text=True
        )
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

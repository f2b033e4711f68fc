"""The Kafka-buffered mode under faults: nothing a receiver acknowledged is lost.

Real processes throughout: the project's Kafka broker, `clew collect --kafka` receivers and
`clew write --kafka` writers, clients that retry on 503 as OTLP exporters do (load.py). Each
test compares the span ids acknowledged with the span ids stored and prints its figures (run
with -s to see them; the assertion messages carry them too). Delivery is at least once: a
request answered 503 after its send timed out may reach Kafka anyway, and its retry is a second
message; such spans count as duplicated unless the store deduplicates the batch.
"""

from __future__ import annotations

import signal
import time
import urllib.parse
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.collector.kafka.processes import (
    Receiver,
    Writer,
    kafka_env,
    wait_balanced,
    wait_consumed,
)
from tests.reliability.load import STORED_IDS, Load, compare
from tests.support.clickhouse_http import FakeClickHouse
from tests.support.kafka import KafkaBroker

PARTITIONS = 2


def writers_for(broker: KafkaBroker, env: dict[str, str], root: Path, count: int) -> list[Writer]:
    """Writers over their own embedded folders (or the server backend the env names)."""
    return [
        Writer(broker.bootstrap, root / f"data-{n}", env, root / f"write-{n}.log")
        for n in range(count)
    ]


def consumed(broker: KafkaBroker, env: dict[str, str], writers: list[Writer]) -> None:
    """Wait until the group committed every span message."""
    group, topic = env["CLEW_KAFKA_GROUP"], env["CLEW_KAFKA_SPANS_TOPIC"]
    wait_consumed(broker.bootstrap, group, topic, PARTITIONS, writers)


def stored_embedded(writers: list[Writer]) -> dict[str, int]:
    """Stored span id → rows, over every writer's folder (the writers are stopped)."""
    return dict(Counter(span for writer in writers for span in writer.span_ids()))


def stop_all(processes: list[Receiver | Writer]) -> None:
    for process in processes:
        assert process.stop() == 0, process.log()[-3000:]


def outage(receiver: Receiver, down: Callable[[], Any], up: Callable[[], Any], hold: float) -> Load:
    """1000 spans/s through `receiver` for 2 s, `hold` s with a part down, 2 s after; stopped."""
    load = Load(receiver, senders=2, spans=50, rate=1000, grpc=1)
    load.start()
    try:
        time.sleep(2)
        down()
        time.sleep(hold)  # not a timing assertion: the clients meet the outage
    finally:
        up()  # the session's other tests need it back
    time.sleep(2)
    load.stop()
    return load


def test_kafka_broker_restart_while_clients_send_loses_nothing(
    kafka_broker: KafkaBroker, tmp_path: Path
) -> None:
    env = kafka_env(kafka_broker, PARTITIONS, CLEW_KAFKA_SEND_TIMEOUT="2")
    receiver = Receiver(kafka_broker.bootstrap, env, tmp_path / "collect.log")
    writers = writers_for(kafka_broker, env, tmp_path, 2)
    for process in [receiver, *writers]:
        process.start()
    wait_balanced(writers, PARTITIONS)  # one partition of each topic apiece
    load = outage(receiver, kafka_broker.stop, kafka_broker.start, 4)
    consumed(kafka_broker, env, writers)
    stop_all([receiver, *writers])
    figures = compare("Kafka broker restart (buffered mode)", load, stored_embedded(writers))
    assert load.refused > 0, f"the outage was not felt: {figures.line()}"
    assert figures.acked > 0 and not figures.errors and figures.lost == 0, figures.line()


def test_writers_joining_and_leaving_while_data_flows_lose_nothing(
    kafka_broker: KafkaBroker, tmp_path: Path
) -> None:
    env = kafka_env(kafka_broker, PARTITIONS)
    receiver = Receiver(kafka_broker.bootstrap, env, tmp_path / "collect.log")
    first, second = writers_for(kafka_broker, env, tmp_path, 2)
    receiver.start()
    first.start()
    wait_balanced([first], 2 * PARTITIONS)
    load = Load(receiver, senders=2, spans=50, rate=2000, grpc=1)
    load.start()
    time.sleep(2)
    second.start()  # joins: the group rebalances while data flows
    wait_balanced([first, second], PARTITIONS)
    time.sleep(2)
    assert first.stop(signal.SIGTERM) == 0, first.log()  # leaves: the second takes over
    wait_balanced([second], 2 * PARTITIONS)
    time.sleep(2)
    load.stop()
    consumed(kafka_broker, env, [second])
    stop_all([receiver, second])
    figures = compare("writers join and leave", load, stored_embedded([first, second]))
    assert first.span_ids() and second.span_ids(), "both writers stored some"
    assert figures.acked > 0 and not figures.errors and figures.lost == 0, figures.line()


def test_clickhouse_down_longer_than_max_poll_interval_writers_wait_and_lose_nothing(
    kafka_broker: KafkaBroker,
    tmp_path: Path,
    clickhouse_http: FakeClickHouse,
    clickhouse_url: str,
) -> None:
    env = kafka_env(
        kafka_broker,
        PARTITIONS,
        CLEW_CLICKHOUSE_URL=clickhouse_url,
        CLEW_KAFKA_MAX_POLL_INTERVAL="3",  # the outage below lasts more than twice that
    )
    receiver = Receiver(kafka_broker.bootstrap, env, tmp_path / "collect.log")
    writers = writers_for(kafka_broker, env, tmp_path, 2)
    for process in [receiver, *writers]:
        process.start()
    wait_balanced(writers, PARTITIONS)
    before = [len(writer.log()) for writer in writers]  # the joins' rebalances are over
    load = outage(receiver, clickhouse_http.stop, clickhouse_http.start, 8)
    consumed(kafka_broker, env, writers)
    # Read before stopping: the first writer to leave hands its partitions to the other.
    logs = "".join(writer.log()[skip:] for writer, skip in zip(writers, before, strict=True))
    stop_all([receiver, *writers])
    database = urllib.parse.urlsplit(clickhouse_url).path.strip("/")
    text = clickhouse_http.post(STORED_IDS + " FORMAT TSV", database=database).decode()
    stored = {span: int(n) for span, n in (line.split("\t") for line in text.splitlines())}
    figures = compare(
        "ClickHouse down 8 s > max.poll.interval 3 s (buffered mode)",
        load,
        stored,
        insert_retries=logs.count("event=store_down"),
    )
    assert "event=store_down" in logs, "the outage was not felt"
    # Polling while paused kept each writer in the group: no partition changed hands.
    assert "partitions revoked" not in logs, logs[-3000:]
    assert (
        figures.acked > 0 and not figures.errors and figures.lost == 0 and figures.duplicated == 0
    ), figures.line()


def test_writer_sigkill_mid_batch_then_restart_stores_each_span_once(
    kafka_broker: KafkaBroker, tmp_path: Path
) -> None:
    env = kafka_env(kafka_broker, PARTITIONS)  # batches of 200 spans: the kill finds one
    receiver = Receiver(kafka_broker.bootstrap, env, tmp_path / "collect.log")
    (writer,) = writers_for(kafka_broker, env, tmp_path, 1)
    receiver.start()
    writer.start()
    wait_balanced([writer], 2 * PARTITIONS)
    load = Load(receiver, senders=2, spans=50, rate=2000, grpc=1)
    load.start()
    time.sleep(3)
    assert writer.stop(signal.SIGKILL) == -signal.SIGKILL
    time.sleep(1)
    writer.start()  # cuts the batch it was inserting where it was cut before: same token
    time.sleep(2)
    load.stop()
    consumed(kafka_broker, env, [writer])
    stop_all([receiver, writer])
    figures = compare(
        "writer SIGKILL mid-batch, restart (buffered mode)", load, stored_embedded([writer])
    )
    assert "batch plans" not in writer.log(), writer.log()[-3000:]
    assert (
        figures.acked > 0 and not figures.errors and figures.lost == 0 and figures.duplicated == 0
    ), figures.line()

"""The writer group and the publisher against the real broker and a real chDB store."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer

from clew.collector import decode
from clew.collector.errors import BufferFull, StoreError
from clew.collector.kafka import messages
from clew.collector.kafka.batches import Batch, Pending, contents, plan, planned_last
from clew.collector.kafka.consume import WriterGroup
from clew.collector.kafka.messages import KafkaSettings
from clew.collector.kafka.publish import KafkaPipeline, Publisher
from clew.collector.metrics import Metrics
from clew.collector.store import ChdbStore
from clew.collector.write import Writer
from tests.collector.fixtures import logs_request, scalar_trace_request
from tests.collector.kafka.processes import lag
from tests.support.kafka import KafkaBroker, unique_topic_name
from tests.support.ports import free_port


class FailingStore:
    """A real store whose first `failures` inserts fail, as a ClickHouse that is down would."""

    def __init__(self, store: ChdbStore, failures: int) -> None:
        self.store, self.failures, self.tokens = store, failures, list[str | None]()

    def _fail(self) -> None:
        if self.failures:
            self.failures -= 1
            raise StoreError("ClickHouse is down (test)")

    def insert(self, table: str, data: str, fmt: str = "JSONEachRow", **kw: Any) -> None:
        self._fail()
        self.tokens.append(kw.get("token"))
        self.store.insert(table, data, fmt)

    def insert_otlp_traces(self, messages: list[bytes]) -> list[int]:
        self._fail()
        return self.store.insert_otlp_traces(messages)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.store, name)


def store_batch(store: ChdbStore, signal: str, batch: Batch) -> int:
    """Store one batch as the writer group does: its contents through the shared writer."""
    writer = Writer(store, signal, Metrics(), wait=lambda _delay: True)
    return writer(contents(signal, batch), batch.token)


def kafka_settings(broker: KafkaBroker) -> KafkaSettings:
    settings = KafkaSettings(
        spans_topic=unique_topic_name("spans"),
        logs_topic=unique_topic_name("logs"),
        group=unique_topic_name("group"),
    )
    for topic in settings.topics().values():
        broker.create_topic(topic, 1)
    return settings


def publish_fixtures(bootstrap: str, settings: KafkaSettings, copies: int) -> None:
    """Publish `copies` trace and log requests through the receivers' pipeline."""
    pipeline = KafkaPipeline(Publisher(bootstrap, settings), Metrics())
    pipeline.start()
    try:
        for _ in range(copies):
            trace = scalar_trace_request().SerializeToString()
            pipeline.accept("spans", decode.spans(trace, decode.PROTOBUF))
            logs = logs_request().SerializeToString()
            pipeline.accept("logs", decode.logs(logs, decode.PROTOBUF))
    finally:
        pipeline.drain()


async def run_until(group: WriterGroup, done: Any) -> None:
    """Run the group until `done()` holds, then stop it."""
    task = asyncio.create_task(group.run())
    for _ in range(600):
        if done() or task.done():
            break
        await asyncio.sleep(0.1)
    group.stop()
    await task


def dropped(metrics: Metrics) -> list[float]:
    """Every clew_dropped_total sample."""
    return [
        sample.value
        for family in metrics.registry.collect()
        for sample in family.samples
        if sample.name == "clew_dropped_total"
    ]


def count(store: ChdbStore, table: str) -> int:
    sql = "SELECT count() AS n FROM {table:Identifier}"
    return int(store.query(sql, {"table": table}).named()[0]["n"])


def test_a_failing_store_is_retried_and_nothing_is_dropped_or_doubled(
    kafka_broker: KafkaBroker, store: ChdbStore
) -> None:
    settings = kafka_settings(kafka_broker)
    publish_fixtures(kafka_broker.bootstrap, settings, 3)
    failing, metrics = FailingStore(store, failures=3), Metrics()
    spans = decode.spans(scalar_trace_request().SerializeToString(), decode.PROTOBUF).accepted
    both = lambda: count(store, "otel_logs") == 3 * 2 and count(store, "otel_traces") == 3 * spans  # noqa: E731

    async def main() -> None:
        group = WriterGroup(failing, kafka_broker.bootstrap, settings, metrics=metrics)
        await run_until(group, both)

    asyncio.run(main())
    assert failing.failures == 0
    # Counted as `clew serve` counts: written, retried (per attempt), nothing dropped.
    written = {s: metrics.written.labels(s)._value.get() for s in ("spans", "logs")}
    assert written == {"spans": 3 * spans, "logs": 3 * 2}
    retried = sum(metrics.retried.labels(s)._value.get() for s in ("spans", "logs"))
    assert retried >= 3
    assert all(v == 0 for v in dropped(metrics))
    assert count(store, "otel_traces") == 3 * spans
    assert count(store, "otel_logs") == 3 * 2
    assert all(
        token and token.startswith(f"clew:{settings.logs_topic}:0:") and token.endswith(":rows")
        for token in failing.tokens
    )


def test_the_publisher_refuses_with_a_retryable_error_when_kafka_is_unreachable() -> None:
    settings = KafkaSettings(send_timeout=1)
    metrics = Metrics()
    pipeline = KafkaPipeline(Publisher(f"127.0.0.1:{free_port()}", settings), metrics)
    pipeline.start()
    trace = decode.spans(scalar_trace_request().SerializeToString(), decode.PROTOBUF)
    try:
        with pytest.raises(BufferFull, match="Kafka did not acknowledge"):
            pipeline.accept("spans", trace)
    finally:
        pipeline.drain()
    assert metrics.refused.labels("spans", "broker_unavailable")._value.get() == trace.accepted


async def consumed_batches(bootstrap: str, settings: KafkaSettings, messages: int) -> list[Batch]:
    """The first `messages` records of each topic's partition 0, as the writer batches them."""
    consumer = AIOKafkaConsumer(
        *settings.topics().values(), bootstrap_servers=bootstrap, auto_offset_reset="earliest"
    )
    await consumer.start()
    pending = Pending(max_items=10**9, max_age=10**9)
    try:
        while sum(len(b.records) for q in pending.batches.values() for b in q) < 2 * messages:
            pending.add(await consumer.getmany(timeout_ms=1000))
    finally:
        await consumer.stop()
    return pending.ready(everything=True)


def test_a_redelivered_batch_is_stored_once(kafka_broker: KafkaBroker, store: ChdbStore) -> None:
    settings = kafka_settings(kafka_broker)
    publish_fixtures(kafka_broker.bootstrap, settings, 2)
    batches = asyncio.run(consumed_batches(kafka_broker.bootstrap, settings, 2))
    signals = {topic: signal for signal, topic in settings.topics().items()}
    for _ in range(2):  # the same partition and offset range again: a redelivery
        for batch in batches:
            store_batch(store, signals[batch.tp.topic], batch)
    spans = decode.spans(scalar_trace_request().SerializeToString(), decode.PROTOBUF).accepted
    assert count(store, "otel_traces") == 2 * spans
    assert count(store, "otel_logs") == 2 * 2


def test_batches_hold_at_most_max_items_and_keep_partition_order(
    kafka_broker: KafkaBroker,
) -> None:
    settings = kafka_settings(kafka_broker)
    publish_fixtures(kafka_broker.bootstrap, settings, 5)
    batches = asyncio.run(consumed_batches(kafka_broker.bootstrap, settings, 5))
    pending = Pending(max_items=8, max_age=10**9)  # two trace requests of 7 spans, log pairs
    pending.add({batch.tp: batch.records for batch in batches})
    cut = pending.ready()  # only the full ones
    offsets = {b.tp: [r.offset for r in b.records] for b in batches}
    for batch in cut:
        assert batch.items >= 8 and batch.items - messages.items(batch.records[-1].headers) < 8
    assert [len(b.records) for b in cut if b.tp.topic == settings.spans_topic] == [2, 2]
    rest = pending.ready(everything=True)
    for tp, expected in offsets.items():
        got = [r.offset for b in cut + rest if b.tp == tp for r in b.records]
        assert got == expected


def test_a_planned_batch_is_cut_where_its_plan_says(kafka_broker: KafkaBroker) -> None:
    settings = kafka_settings(kafka_broker)
    publish_fixtures(kafka_broker.bootstrap, settings, 5)
    fetched = asyncio.run(consumed_batches(kafka_broker.bootstrap, settings, 5))
    spans = next(b for b in fetched if b.tp.topic == settings.spans_topic)
    offset, metadata = plan(Batch(spans.tp, 0, spans.records[:3]))
    assert offset == spans.records[0].offset and planned_last(metadata) == spans.records[2].offset
    assert planned_last("") is None and planned_last("clew-batch-last:x") is None
    pending = Pending(max_items=1, max_age=0)  # would cut every record, and at once
    pending.planned = {spans.tp: spans.records[2].offset}
    pending.add({spans.tp: spans.records})
    cut = pending.ready()
    assert [len(batch.records) for batch in cut] == [3, 1, 1]
    assert cut[0].token == Batch(spans.tp, 0, spans.records[:3]).token


def test_stopping_stores_and_commits_what_was_fetched(
    kafka_broker: KafkaBroker, store: ChdbStore
) -> None:
    settings = kafka_settings(kafka_broker)
    publish_fixtures(kafka_broker.bootstrap, settings, 2)

    async def main() -> None:
        # Batches never fill nor age: only the drain on stop() stores them.
        group = WriterGroup(store, kafka_broker.bootstrap, settings, max_items=10**9, max_age=1e9)
        fetched = lambda: sum(len(b.records) for q in group.pending.batches.values() for b in q)  # noqa: E731
        await run_until(group, lambda: fetched() == 2 * 2)
        assert count(store, "otel_logs") == 2 * 2
        for topic in settings.topics().values():  # and committed: nothing left for the group
            assert await lag(kafka_broker.bootstrap, settings.group, topic, 1) == 0

    asyncio.run(main())
    spans = decode.spans(scalar_trace_request().SerializeToString(), decode.PROTOBUF).accepted
    assert count(store, "otel_traces") == 2 * spans
    assert count(store, "otel_logs") == 2 * 2


def test_a_recreated_topic_does_not_repeat_old_tokens(
    kafka_broker: KafkaBroker, store: ChdbStore
) -> None:
    # Offsets start over in a topic created again; its records' timestamps do not.
    settings = kafka_settings(kafka_broker)
    publish_fixtures(kafka_broker.bootstrap, settings, 1)
    batches = asyncio.run(consumed_batches(kafka_broker.bootstrap, settings, 1))
    signals = {topic: signal for signal, topic in settings.topics().items()}
    for batch in batches:
        store_batch(store, signals[batch.tp.topic], batch)
    for batch in batches:  # the same offsets, written later: another topic's records
        later = [replace(r, timestamp=r.timestamp + 60_000) for r in batch.records]
        again = Batch(batch.tp, batch.generation, later, batch.items)
        assert again.token != batch.token
        store_batch(store, signals[batch.tp.topic], again)
    # Logs go in under the batch's token: the new records are stored. (The spans, equal in
    # every byte, go under a digest of their contents and are rightly kept once.)
    assert count(store, "otel_logs") == 2 * 2

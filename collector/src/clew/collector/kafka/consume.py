"""`clew write --kafka`: the writer consumer group.

Per partition batch: decode, insert with a deduplication token made of topic, partition and
offset range (a redelivered batch carries the same token), and commit the offsets only after
the insert succeeded. While the store fails the writer stops consuming and retries the same
batch with backoff; nothing is dropped, and on SIGTERM the uncommitted batch is left to Kafka.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import signal
from typing import Any

import orjson
from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from aiokafka.errors import KafkaError

from clew.collector import decode
from clew.collector.decode import RawSpans
from clew.collector.kafka import messages
from clew.collector.kafka.messages import KafkaSettings
from clew.collector.schema.apply import apply_schema
from clew.collector.settings import Settings
from clew.collector.store import Store, open_store
from clew.collector.store.base import ProtobufTraces
from clew.collector.write import TABLES

log = logging.getLogger(__name__)
BACKOFF = (0.2, 0.5, 1.0, 2.0, 5.0)
Records = list[ConsumerRecord[bytes, bytes]]


def batch_token(tp: TopicPartition, records: Records) -> str:
    """The deduplication token of one partition's batch: its topic, partition, offset range."""
    return f"clew:{tp.topic}:{tp.partition}:{records[0].offset}-{records[-1].offset}"


def insert(store: Store, signal: str, items: list[Any], token: str) -> int:
    """Insert one batch's items (RawSpans and rows); the rows stored. Raises if the store fails."""
    raw = [item.body for item in items if isinstance(item, RawSpans)]
    rows = [item for item in items if not isinstance(item, RawSpans)]
    skipped = list(range(len(raw)))
    if raw and isinstance(store, ProtobufTraces):
        skipped = store.insert_otlp_traces(raw)
    rows.extend(row for n in skipped for row in decode.spans_as_rows(raw[n]))
    if rows:
        store.insert(TABLES[signal], orjson.dumps(rows).decode("utf-8"), token=token)
    return len(rows)


class WriterGroup:
    """One member of the writers' consumer group over one store."""

    def __init__(self, store: Store, bootstrap: str, settings: KafkaSettings) -> None:
        self.store, self.settings = store, settings
        self.signals = {topic: signal for signal, topic in settings.topics().items()}
        self.bootstrap = bootstrap
        self.consumer = self._new_consumer()
        self.stopping = asyncio.Event()

    def _new_consumer(self) -> AIOKafkaConsumer:
        return AIOKafkaConsumer(
            *self.signals,
            bootstrap_servers=self.bootstrap,
            group_id=self.settings.group,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
        )

    async def _start(self) -> bool:
        """Join the group, retrying with backoff while the broker is unreachable."""
        for attempt in itertools.count():
            try:
                await self.consumer.start()
                return True
            except KafkaError as exc:
                await self.consumer.stop()
                self.consumer = self._new_consumer()  # a consumer that failed to start is spent
                delay = BACKOFF[min(attempt, len(BACKOFF) - 1)]
                log.warning("Kafka unreachable (retry in %.1f s): %r", delay, exc)
                if await self._stopped_within(delay):
                    return False
        return False

    async def run(self, max_records: int) -> None:
        """Consume, store and commit until stop() is called."""
        if not await self._start():
            return
        try:
            while not self.stopping.is_set():
                batches = await self.consumer.getmany(timeout_ms=500, max_records=max_records)
                for tp, records in batches.items():
                    if not await self._store(tp, records):
                        return  # stopping in the middle: the batch stays uncommitted
                    await self._commit(tp, records)
        finally:
            await self.consumer.stop()

    def stop(self) -> None:
        """Finish the current batch (or give up its retries) and leave the group."""
        self.stopping.set()

    async def _store(self, tp: TopicPartition, records: Records) -> bool:
        signal = self.signals[tp.topic]
        items = [i for r in records for i in messages.decode(r.value or b"", list(r.headers))]
        token = batch_token(tp, records)
        for attempt in itertools.count():
            try:
                rows = await asyncio.to_thread(insert, self.store, signal, items, token)
                log.debug("stored %s: %d items, %d as rows", token, len(items), rows)
                return True
            except Exception as exc:  # ClickHouse down or failing: keep the batch, retry
                delay = BACKOFF[min(attempt, len(BACKOFF) - 1)]
                log.warning("insert of %s failed (retry in %.1f s): %r", token, delay, exc)
                if await self._stopped_within(delay):
                    return False
        return False

    async def _stopped_within(self, delay: float) -> bool:
        try:
            await asyncio.wait_for(self.stopping.wait(), delay)
        except TimeoutError:
            return False
        return True

    async def _commit(self, tp: TopicPartition, records: Records) -> None:
        try:
            await self.consumer.commit({tp: records[-1].offset + 1})
        except KafkaError as exc:  # e.g. a rebalance took the partition: it is redelivered
            log.warning("commit of %s failed: %r", batch_token(tp, records), exc)


async def _run_group(store: Store, bootstrap: str, kafka: KafkaSettings, max_records: int) -> None:
    group = WriterGroup(store, bootstrap, kafka)  # aiokafka needs the running loop
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, group.stop)
    await group.run(max_records)


def write(settings: Settings, bootstrap: str, kafka: KafkaSettings) -> None:
    """Run `clew write --kafka` until SIGINT/SIGTERM."""
    store = open_store(settings)
    try:
        apply_schema(store, settings)
        log.info(
            "clew writing: Kafka %s, group %s, data in %s",
            bootstrap,
            kafka.group,
            settings.data_dir,
        )
        asyncio.run(_run_group(store, bootstrap, kafka, settings.batch_max_rows))
    finally:
        store.close()
        log.info("clew write stopped")

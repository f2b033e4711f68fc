"""`clew write --kafka`: the writer consumer group.

Records gather per partition into batches (kafka/batches.py); each batch is inserted with a
deduplication token made of topic, partition and offset range, and its offsets are committed
only after the insert succeeded. While the store fails, the writer pauses every partition it
owns, keeps polling (so the group keeps it: max.poll.interval.ms) and retries the same batch
with exponential backoff and jitter; it resumes once the insert went through. Nothing is
dropped: a batch not stored is not committed, and Kafka hands it to the partition's next owner.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import signal

from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError

from clew.collector.kafka.batches import Batch, Pending, Record, plan, planned_last, store_batch
from clew.collector.kafka.messages import KafkaSettings
from clew.collector.schema.apply import apply_schema
from clew.collector.settings import Settings
from clew.collector.store import Store, open_store
from clew.collector.write import backoff

log = logging.getLogger(__name__)
POLL_MS = 100


class WriterGroup(ConsumerRebalanceListener):  # type: ignore[misc]
    """One member of the writers' consumer group over one store."""

    def __init__(
        self,
        store: Store,
        bootstrap: str,
        settings: KafkaSettings,
        *,
        max_items: int = 20_000,
        max_age: float = 0.5,
    ) -> None:
        self.store, self.settings, self.bootstrap = store, settings, bootstrap
        self.signals = {topic: signal for signal, topic in settings.topics().items()}
        self.pending = Pending(max_items, max_age)
        self.consumer = self._new_consumer()
        self.stopping = asyncio.Event()
        self._storing = asyncio.Lock()  # held from a batch's insert to its commit

    def _new_consumer(self) -> AIOKafkaConsumer:
        consumer = AIOKafkaConsumer(
            bootstrap_servers=self.bootstrap,
            group_id=self.settings.group,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            max_partition_fetch_bytes=self.settings.fetch_partition_bytes,
            fetch_max_bytes=2 * self.settings.fetch_partition_bytes,
            fetch_max_wait_ms=POLL_MS,
            max_poll_interval_ms=int(self.settings.max_poll_interval * 1000),
        )
        consumer.subscribe(list(self.signals), listener=self)
        return consumer

    async def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        """Forget what was fetched from them: not committed, so their next owner gets it."""
        if revoked:  # the first join revokes nothing
            self.pending.drop(revoked)  # and batches taken out before are stale from now on
            names = sorted(f"{tp.topic}:{tp.partition}" for tp in revoked)
            log.info("partitions revoked: %s", names)
            # A batch being inserted finishes and commits first, so its partition's next
            # owner does not store it again; one still retrying gives up (it is stale).
            async with self._storing:
                pass

    async def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        """Learn the batch plans left by their previous owners (see batches.plan)."""
        self.pending.planned = await self._plans(assigned) if assigned else {}

    async def _plans(self, partitions: set[TopicPartition]) -> dict[TopicPartition, int]:
        admin = AIOKafkaAdminClient(bootstrap_servers=self.bootstrap)
        try:
            await admin.start()
            group = self.settings.group
            offsets = await admin.list_consumer_group_offsets(group, partitions=list(partitions))
        except (KafkaError, OSError) as exc:  # without plans a batch may be cut differently
            log.warning("reading the batch plans failed: %r", exc)
            return {}
        finally:
            await admin.close()
        plans = {tp: planned_last(meta.metadata or "") for tp, meta in offsets.items()}
        return {tp: last for tp, last in plans.items() if last is not None}

    async def _start(self) -> bool:
        """Join the group, retrying with backoff while the broker is unreachable."""
        for failures in itertools.count(1):
            try:
                await self.consumer.start()
                return True
            except KafkaError as exc:
                await self.consumer.stop()
                self.consumer = self._new_consumer()  # a consumer that failed to start is spent
                delay = backoff(failures)
                log.warning("Kafka unreachable (retry in %.1f s): %r", delay, exc)
                if await self._stopped_within(delay):
                    return False
        return False

    async def run(self) -> None:
        """Consume, store and commit until stop() is called."""
        if not await self._start():
            return
        try:
            while not self.stopping.is_set():
                self.pending.add(await self.consumer.getmany(timeout_ms=POLL_MS))
                await self._flush(self.pending.ready())
            await self._flush(self.pending.ready(everything=True))  # SIGTERM drains
        finally:
            await self.consumer.stop()

    async def _flush(self, batches: list[Batch]) -> None:
        """Store and commit each batch; one not stored (stopping, revoked) stays uncommitted."""
        for batch in batches:
            async with self._storing:
                if await self._store(batch):
                    await self._commit(batch)

    def stop(self) -> None:
        """Finish the current batch (or give up its retries) and leave the group."""
        self.stopping.set()

    async def _store(self, batch: Batch) -> bool:
        signal = self.signals[batch.tp.topic]
        if batch.generation == self.pending.generation:
            await self._commit(batch, plan(batch))
        for failures in itertools.count(1):
            if batch.generation != self.pending.generation:
                log.info("leaving %s to the partition's next owner (rebalanced)", batch.token)
                return False
            try:
                insert = asyncio.to_thread(store_batch, self.store, signal, batch)
                rows = await self._polling_until(asyncio.ensure_future(insert), failures > 1)
                log.debug("stored %s: %d items, %d as rows", batch.token, batch.items, rows)
                return True
            except Exception as exc:  # ClickHouse down or failing: keep the batch, retry
                delay = backoff(failures)
                log.warning("insert of %s failed (retry in %.1f s): %r", batch.token, delay, exc)
                if self.stopping.is_set() or not await self._paused_for(delay, batch):
                    return False  # not committed: Kafka redelivers it
        return False

    async def _polling_until(self, task: asyncio.Future[int], paused: bool) -> int:
        """The insert's result; polling meanwhile, so a slow insert does not cost the group.

        Records fetched meanwhile join later batches; on a retry the partitions are paused.
        """
        if paused:
            self.consumer.pause(*self.consumer.assignment())
        try:
            while not task.done():
                poll = asyncio.ensure_future(self.consumer.getmany(timeout_ms=500))
                await asyncio.wait({task, poll}, return_when=asyncio.FIRST_COMPLETED)
                if not poll.done():
                    poll.cancel()
                    await asyncio.gather(poll, return_exceptions=True)
                elif not poll.cancelled() and poll.exception() is None:
                    self.pending.add(poll.result())
        finally:
            if paused:
                self.consumer.resume(*self.consumer.assignment())
        return task.result()

    async def _paused_for(self, delay: float, batch: Batch) -> bool:
        """Wait with every owned partition paused, still polling; False when stopping or stale."""
        self.consumer.pause(*self.consumer.assignment())
        try:
            deadline = asyncio.get_running_loop().time() + delay
            while (left := deadline - asyncio.get_running_loop().time()) > 0:
                if self.stopping.is_set() or batch.generation != self.pending.generation:
                    return False
                self.pending.add(await self._poll(min(left, 0.5)))
        finally:
            self.consumer.resume(*self.consumer.assignment())
        return not self.stopping.is_set()

    async def _poll(self, seconds: float) -> dict[TopicPartition, list[Record]]:
        """Poll for at most `seconds`: paused partitions return nothing, new ones may.

        getmany() waits for a rebalance to end, and the rebalance waits for this batch
        (on_partitions_revoked): bounded here, the retry loop sees the batch went stale.
        """
        try:
            poll = self.consumer.getmany(timeout_ms=int(seconds * 1000) + 1)
            return await asyncio.wait_for(poll, seconds + 0.5)
        except TimeoutError:
            return {}

    async def _stopped_within(self, delay: float) -> bool:
        try:
            await asyncio.wait_for(self.stopping.wait(), delay)
        except TimeoutError:
            return False
        return True

    async def _commit(self, batch: Batch, offset: tuple[int, str] | None = None) -> None:
        """Commit past the batch (or record its plan); a failure leaves it to be redelivered."""
        try:
            await self.consumer.commit({batch.tp: offset or (batch.next_offset, "")})
        except KafkaError as exc:  # e.g. a rebalance took the partition: it is redelivered
            log.warning("commit of %s failed: %r", batch.token, exc)


async def _run_group(store: Store, bootstrap: str, kafka: KafkaSettings, config: Settings) -> None:
    group = WriterGroup(  # aiokafka needs the running loop
        store, bootstrap, kafka, max_items=config.batch_max_rows, max_age=config.batch_max_age
    )
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, group.stop)
    await group.run()


def write(settings: Settings, bootstrap: str, kafka: KafkaSettings) -> None:
    """Run `clew write --kafka` until SIGINT/SIGTERM."""
    store = open_store(settings)
    try:
        apply_schema(store, settings)
        where = f"Kafka {bootstrap}, group {kafka.group}, data in {settings.data_dir}"
        log.info("clew writing: %s", where)
        asyncio.run(_run_group(store, bootstrap, kafka, settings))
    finally:
        store.close()
        log.info("clew write stopped")

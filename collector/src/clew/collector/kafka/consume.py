"""`clew write --kafka`: the writer consumer group.

Records gather per partition into batches (kafka/batches.py); each batch is inserted with a
deduplication token made of topic, partition and offset range, and its offsets are committed
only after the insert succeeded. Inserting, retrying, dropping and counting are `clew serve`'s
own write stage (write.Writer), run on a thread. While the store fails, the writer pauses every
partition it owns, keeps polling (so the group keeps it: max.poll.interval.ms) and retries the
same batch with exponential backoff and jitter; it resumes once the insert went through. A
batch not stored (stopping, or its partition taken by a rebalance) is not committed: Kafka hands
it to the partition's next owner. What the writer drops (the store keeps refusing it while it
answers, or a bug) is counted in clew_dropped_total and committed past, as `clew serve` does.
With CLEW_WRITE_METRICS_PORT, /metrics serves the same metrics as `clew serve`'s.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import signal
import threading
import time
from typing import TYPE_CHECKING

from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError

from clew.collector.batch import Stopped
from clew.collector.kafka.batches import Batch, Pending, contents, plan, planned_last
from clew.collector.kafka.messages import KafkaSettings
from clew.collector.metrics import SIGNALS, Metrics
from clew.collector.schema.apply import apply_schema
from clew.collector.settings import Settings
from clew.collector.store import Store, open_store
from clew.collector.write import Writer, backoff

if TYPE_CHECKING:
    import uvicorn

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
        metrics: Metrics | None = None,
        max_items: int = 20_000,
        max_age: float = 0.5,
    ) -> None:
        self.store, self.settings, self.bootstrap = store, settings, bootstrap
        self.signals = {topic: signal for signal, topic in settings.topics().items()}
        self.metrics = metrics or Metrics()
        self.writers = {
            signal: Writer(store, signal, self.metrics, wait=self._backoff) for signal in SIGNALS
        }
        self._writing: Batch | None = None  # the batch on the writer's thread
        self._retrying = threading.Event()  # set by the writer when it waits to retry
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
        """Insert one batch through the shared writer, polling meanwhile; False: uncommitted."""
        if batch.generation != self.pending.generation:
            return _left(batch)
        await self._commit(batch, plan(batch))
        self._writing = batch
        self._retrying.clear()
        try:
            await self._polling_until(asyncio.ensure_future(asyncio.to_thread(self._write, batch)))
        except Stopped:
            return _left(batch)
        finally:
            self._writing = None
        return True

    def _write(self, batch: Batch) -> int:
        """On the writer's thread: decode and insert, retrying as write.Writer does."""
        signal = self.signals[batch.tp.topic]
        return self.writers[signal](contents(signal, batch), batch.token)

    def _backoff(self, delay: float) -> bool:
        """The writer's wait between attempts, on its thread; False gives the batch up.

        The event loop pauses the partitions once this is called and keeps polling, so the
        group keeps this member; a rebalance that takes the batch's partition makes it stale.
        """
        self._retrying.set()
        deadline = time.monotonic() + delay
        while (batch := self._writing) is not None and not self.stopping.is_set():
            if batch.generation != self.pending.generation:
                return False
            if (left := deadline - time.monotonic()) <= 0:
                return True
            time.sleep(min(left, 0.05))
        return False

    async def _polling_until(self, task: asyncio.Future[int]) -> int:
        """The insert's result; polling meanwhile, so a slow insert does not cost the group.

        Records fetched meanwhile join later batches; once the insert is retried, the
        partitions are paused (polled, nothing fetched) until it is done.
        """
        paused = False
        try:
            while not task.done():
                if not paused and self._retrying.is_set():
                    self.consumer.pause(*self.consumer.assignment())
                    paused = True
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

    def update_gauges(self) -> None:
        """clew_buffer_rows: items fetched and not yet stored, by signal."""
        waiting = dict.fromkeys(self.signals.values(), 0)
        queued = [batch for queue in self.pending.batches.values() for batch in queue]
        for batch in [*queued, *([self._writing] if self._writing else [])]:
            waiting[self.signals[batch.tp.topic]] += batch.items
        for name, items in waiting.items():
            self.metrics.buffer_rows.labels(name).set(items)

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


def _left(batch: Batch) -> bool:
    log.info("leaving %s to the partition's next owner (stopping or rebalanced)", batch.token)
    return False


def _metrics_server(group: WriterGroup, config: Settings) -> uvicorn.Server | None:
    """`clew serve`'s /metrics and /healthz for this writer, when a port is set."""
    if config.write_metrics_port is None:
        return None
    # Imported here: a writer without the port does not load the receivers' web stack.
    from fastapi import FastAPI

    from clew.collector.app import uvicorn_server
    from clew.collector.receive.http import metrics_router
    from clew.common.auth import TokenCheck
    from clew.common.tls import server_tls

    def render() -> bytes:
        group.update_gauges()
        return group.metrics.render()

    app = FastAPI(title="clew write", docs_url=None, redoc_url=None, openapi_url=None)
    app.include_router(metrics_router(render, TokenCheck(config.ingest_token)))
    return uvicorn_server(app, config.host, config.write_metrics_port, server_tls(config))


async def _run_group(store: Store, bootstrap: str, kafka: KafkaSettings, config: Settings) -> None:
    group = WriterGroup(  # aiokafka needs the running loop
        store, bootstrap, kafka, max_items=config.batch_max_rows, max_age=config.batch_max_age
    )
    server = _metrics_server(group, config)

    def stop() -> None:
        group.stop()
        if server is not None:
            server.should_exit = True

    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop)
    serving = asyncio.ensure_future(server.serve()) if server else None
    try:
        await group.run()
    finally:
        if server is not None and serving is not None:
            server.should_exit = True
            await serving


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

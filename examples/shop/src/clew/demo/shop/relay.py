"""The outbox relay of orders: publishes committed outbox rows to Kafka, in their own context."""

from __future__ import annotations

import asyncio
import contextlib
import time
from types import TracebackType

import structlog
from aiokafka import AIOKafkaProducer

from clew.demo.shop.common import KAFKA_BOOTSTRAP, connect, env
from clew.demo.shop.common import run as sql
from clew.instrumentation import outbox

OUTBOX_TABLE = (
    "CREATE TABLE IF NOT EXISTS outbox (id INTEGER PRIMARY KEY AUTOINCREMENT, topic TEXT,"
    " key TEXT, payload TEXT, context TEXT, sent INTEGER NOT NULL DEFAULT 0)"
)
POLL_SECONDS = 1.0
"""Rows are published when orders wakes the relay, or at the latest after this long."""
STUCK_SECONDS = 5.0
"""A row unpublished this long is reported in its order's trace (once), so clew shows it."""

log = structlog.get_logger("orders.relay")


class Relay:
    """A background task publishing the outbox; ``async with Relay() as relay: relay.wake()``."""

    def __init__(self) -> None:
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._producer: AIOKafkaProducer | None = None
        self._waiting: dict[int, float] = {}
        """Unsent row id → when the relay first failed to publish it (monotonic)."""
        self._reported: set[int] = set()

    async def __aenter__(self) -> Relay:
        # The producer connects in the task: orders takes orders while Kafka is down, and
        # their messages wait in the outbox until it is back.
        self._task = asyncio.create_task(self._run(), name="outbox-relay")
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        if self._producer is not None:
            await self._producer.stop()

    def wake(self) -> None:
        """A row was committed: publish now rather than at the next poll."""
        self._wake.set()

    async def _run(self) -> None:
        while True:
            try:
                await self.publish_pending(await self._connected())
            except Exception as exc:
                # The rows stay in the outbox and are tried again at the next poll.
                log.warning("outbox relay cannot publish yet", error=repr(exc))
                self._report_stuck_safely(exc)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), POLL_SECONDS)
            self._wake.clear()

    async def _connected(self) -> AIOKafkaProducer:
        if self._producer is None:
            producer = AIOKafkaProducer(bootstrap_servers=env(KAFKA_BOOTSTRAP))
            try:
                await producer.start()
            except BaseException:
                await producer.stop()
                raise
            self._producer = producer
        return self._producer

    async def publish_pending(self, producer: AIOKafkaProducer) -> int:
        """Publish every unsent row, oldest first; a row is marked sent after the broker acked."""
        db = connect("orders")
        try:
            with outbox.polling():
                rows = sql(db, "SELECT id, topic, key, payload, context FROM outbox"
                               " WHERE sent = 0 ORDER BY id")  # fmt: skip
            for row_id, topic, key, payload, stored in rows:
                with outbox.restored(stored):
                    await producer.send_and_wait(topic, payload.encode(), key=key.encode())
                    sql(db, "UPDATE outbox SET sent = 1 WHERE id = ?", row_id)
                    db.commit()
                    log.info("outbox message published", topic=topic, outbox_id=row_id)
                self._waiting.pop(row_id, None)
                self._reported.discard(row_id)
        finally:
            db.close()
        return len(rows)

    def _report_stuck_safely(self, error: Exception) -> None:
        """report_stuck(), whose own failure (a locked database) must not end the relay."""
        try:
            self.report_stuck(error)
        except Exception as exc:
            log.warning("outbox relay cannot report unsent messages", error=repr(exc))

    def report_stuck(self, error: Exception) -> None:
        """Report each row unsent for STUCK_SECONDS once, in the trace of its order."""
        now = time.monotonic()
        db = connect("orders")
        try:
            with outbox.polling():
                rows = sql(db, "SELECT id, topic, context FROM outbox WHERE sent = 0")
        finally:
            db.close()
        for row_id, topic, stored in rows:
            waited = now - self._waiting.setdefault(row_id, now)
            if waited < STUCK_SECONDS or row_id in self._reported:
                continue
            self._reported.add(row_id)
            outbox.unsent(stored, topic, error)
            with outbox.restored(stored):  # the log line carries the order's id and trace
                log.warning("outbox message not published", topic=topic, outbox_id=row_id,
                            waited_s=round(waited, 1), error=repr(error))  # fmt: skip

"""Take spooled requests in order and hand them on in batches: at max_rows, or max_age.

A thread, not an asyncio task: the sink (a chDB or HTTP insert) blocks. Items live in the
spool (spool/), not in memory: add() appends there and returns a future that completes once
the record is durable; the bounds (rows not yet written, spool bytes) refuse with BufferFull so
the receivers can answer with a retryable status. A batch leaves the spool only after its sink
call returned; a sink that raises Stopped (the collector is stopping while the store fails)
leaves it there for the next start.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

from clew.collector.spool import Record, Spool, decode_payload, encode_items

log = logging.getLogger(__name__)

Row = dict[str, Any]
# The sink gets the batch's items and its deduplication token; it returns how many of its
# attempts failed (0: the first one worked).
Sink = Callable[[list[Any], str], int]


class Stopped(Exception):
    """The sink gave up a batch because the collector is stopping; the batch stays spooled."""


class Batcher:
    """Appends items to one signal's spool from any thread; one thread flushes them to `sink`."""

    def __init__(
        self,
        spool: Spool,
        sink: Sink,
        *,
        max_rows: int,
        max_age: float,
        name: str = "batcher",
        replayed: Callable[[int], None] | None = None,
        stopping: threading.Event | None = None,
    ) -> None:
        self.spool, self._sink, self.name = spool, sink, name
        self._count_replayed = replayed or (lambda _items: None)
        self.max_rows, self.max_age = max_rows, max_age
        self.replayed = 0  # items inserted that the spool held when it was opened
        self._stopping = False
        self._stop_event = stopping or threading.Event()  # tells the sink to stop retrying
        self._catching_up = spool.backlog_weight > 0
        self._behind_since = time.monotonic()
        self._thread = threading.Thread(target=self._run, name=f"clew-batch-{name}", daemon=True)

    @property
    def depth(self) -> int:
        """Rows accepted and not yet written (spooled or being inserted)."""
        return self.spool.backlog_weight

    def start(self) -> None:
        """Start the flushing thread."""
        if self._catching_up:
            log.info(
                "event=replay_start batcher=%s items=%d spool_bytes=%d",
                self.name,
                self.spool.backlog_weight,
                self.spool.bytes,
            )
        self._thread.start()

    def add(self, items: list[Any], weight: int | None = None) -> Future[int]:
        """Spool items worth `weight` rows (default: one each); the future says when durable."""
        weight = len(items) if weight is None else weight
        if not items:
            done: Future[int] = Future()
            done.set_result(0)
            return done
        return self.spool.append(encode_items(items), weight)

    def stop(self, timeout: float = 60.0) -> None:
        """Refuse new items, write what the store takes, end the thread, close the spool."""
        with self.spool.cond:
            self._stopping = True
            self.spool.cond.notify_all()
        self._stop_event.set()
        if self._thread.is_alive():
            self._thread.join(timeout)
        self.spool.close()

    def _run(self) -> None:
        while (records := self._next_batch()) is not None:
            if not self._flush(records):
                return

    def _flush(self, records: list[Record]) -> bool:
        first, last = records[0].seq, records[-1].seq
        weight = sum(record.weight for record in records)
        items = [decode_payload(record.payload, record.weight) for record in records]
        self.spool.begin(last)
        try:
            failures = self._sink(items, f"clew:spool:{self.spool.id}:{self.name}:{first}-{last}")
        except Stopped:
            log.warning(
                "event=spool_kept batcher=%s items=%d", self.name, self.spool.backlog_weight
            )
            return False
        except Exception:  # a bug in a sink must not stop every later write
            log.exception("event=batch_failed batcher=%s first=%d last=%d", self.name, first, last)
            failures = 0
        replayed = sum(r.weight for r in records if r.seq <= self.spool.recovered_last)
        self.replayed += replayed
        self._count_replayed(replayed)
        self.spool.commit(last, weight)
        self._note_progress(failures)
        return True

    def _note_progress(self, failures: int) -> None:
        if failures and not self._catching_up:
            self._catching_up, self._behind_since = True, time.monotonic()
        if self._catching_up and not self.spool.unread_weight:
            self._catching_up = False
            log.info(
                "event=replay_done batcher=%s seconds=%.1f replayed=%d",
                self.name,
                time.monotonic() - self._behind_since,
                self.replayed,
            )

    def _next_batch(self) -> list[Record] | None:
        spool = self.spool
        while True:
            with spool.cond:
                while not self._due():
                    if self._stopping and not spool.unread_weight:
                        return None
                    spool.cond.wait(self._wait_time())
            records = spool.read(self.max_rows)
            if records:
                return records
            with spool.cond:  # due but not yet durable: the flusher is about to sync
                spool.cond.wait(0.01)

    def _age(self) -> float:
        return (time.time_ns() - self.spool.oldest_unread_ns) / 1e9

    def _due(self) -> bool:
        unread = self.spool.unread_weight
        if not unread:
            return False
        return self._stopping or unread >= self.max_rows or self._age() >= self.max_age

    def _wait_time(self) -> float | None:
        if not self.spool.unread_weight:
            return None if not self._stopping else 0.0
        return max(0.0, self.max_age - self._age())

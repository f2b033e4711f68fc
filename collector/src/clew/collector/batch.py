"""Buffer rows and hand them on in batches: at max_rows, or when the oldest row is max_age old.

A thread, not an asyncio task: the HTTP receiver (asyncio) and the gRPC receiver (a thread
pool) both add rows, and the sink (a chDB insert) blocks. The buffer is bounded: add() refuses
with BufferFull instead of growing, so the receivers can answer with a retryable status.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from clew.collector.errors import BufferFull, ShuttingDown

log = logging.getLogger(__name__)

Row = dict[str, Any]
Sink = Callable[[list[Any]], None]


class Batcher:
    """Collects items from any thread; one background thread flushes them to `sink`.

    An item is a row, or a whole request that stands for `weight` rows; the bounds and the
    max_rows trigger count rows.
    """

    def __init__(
        self, sink: Sink, *, max_rows: int, max_age: float, max_buffer: int, name: str = "batcher"
    ) -> None:
        self._sink = sink
        self.max_rows, self.max_age, self.max_buffer = max_rows, max_age, max_buffer
        self._items: list[Any] = []
        self._weight = 0
        self._oldest = 0.0
        self._in_flight = 0
        self._cond = threading.Condition()
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    @property
    def depth(self) -> int:
        """Rows buffered or being written right now."""
        return self._weight + self._in_flight

    def start(self) -> None:
        """Start the flushing thread."""
        self._thread.start()

    def add(self, items: list[Any], weight: int | None = None) -> None:
        """Buffer items worth `weight` rows (default: one each); BufferFull past max_buffer."""
        weight = len(items) if weight is None else weight
        if not items:
            return
        with self._cond:
            if self._stopping:
                raise ShuttingDown("the collector is shutting down")
            if self.depth + weight > self.max_buffer:
                raise BufferFull(f"write buffer full ({self.depth} rows buffered)")
            was_empty = not self._items
            if was_empty:
                self._oldest = time.monotonic()
            self._items.extend(items)
            self._weight += weight
            if was_empty or self._weight >= self.max_rows:
                self._cond.notify()  # start the age clock, or flush now

    def stop(self, timeout: float = 60.0) -> None:
        """Refuse new rows, flush everything buffered, and end the thread."""
        with self._cond:
            self._stopping = True
            self._cond.notify()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def _run(self) -> None:
        while True:
            batch = self._next_batch()
            if batch is None:
                return
            try:
                self._sink(batch)
            except Exception:  # a bug in a sink must not stop every later write
                log.exception("%s: a batch of %d items was lost", self._thread.name, len(batch))
            finally:
                with self._cond:
                    self._in_flight = 0

    def _next_batch(self) -> list[Any] | None:
        with self._cond:
            while not self._due():
                if self._stopping and not self._items:
                    return None
                self._cond.wait(self._wait_time())
            # Swap the buffer: adders keep going while this batch is written.
            batch, self._items = self._items, []
            self._in_flight, self._weight = self._weight, 0
            return batch

    def _due(self) -> bool:
        if not self._items:
            return False
        aged = time.monotonic() - self._oldest >= self.max_age
        return self._stopping or aged or self._weight >= self.max_rows

    def _wait_time(self) -> float | None:
        if not self._items:
            return None if not self._stopping else 0.0
        return max(0.0, self.max_age - (time.monotonic() - self._oldest))

"""What both receivers hand decoded requests to: the Pipeline seam and its spool implementation.

`clew serve`'s SpoolPipeline counts each request and spools it for the writer; accept() returns
once it is durable in the spool (fsynced, with spool_fsync = "always"): from then on clew owes
it to the store, across store outages, restarts and crashes. `clew collect --kafka` hands the
receivers a KafkaPipeline (kafka/publish.py) instead.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from concurrent.futures import Future
from typing import Protocol

from clew.collector.batch import Batcher
from clew.collector.decode import Decoded
from clew.collector.errors import BufferFull
from clew.collector.metrics import Metrics
from clew.collector.spool import SpoolFull

log = logging.getLogger(__name__)
# An append waits this long for its fsync before the request is refused (retryable).
SYNC_TIMEOUT = 30.0


class Pipeline(Protocol):
    """The seam the receivers hand decoded requests to; BufferFull refuses one (retryable)."""

    metrics: Metrics

    def accept(self, signal: str, decoded: Decoded) -> None:
        """Take the request's accepted part; return once clew owes it to the store."""

    async def accept_async(self, signal: str, decoded: Decoded) -> None:
        """accept() for the HTTP receiver's event loop."""

    def update_gauges(self) -> None:
        """Refresh the gauges (called before /metrics is rendered)."""

    def start(self) -> None:
        """Start what carries accepted requests on."""

    def drain(self) -> None:
        """Stop accepting; hand on what was accepted."""


class SpoolPipeline:
    """One batcher per signal ("spans", "logs") and the metrics of what passed through."""

    def __init__(self, batchers: dict[str, Batcher], metrics: Metrics) -> None:
        self.batchers, self.metrics = batchers, metrics
        self._refusals = RefusalLog()

    def accept(self, signal: str, decoded: Decoded) -> None:
        """Spool the rows and wait until they are durable; BufferFull when there is no room."""
        self.metrics.count_decoded(signal, decoded)
        try:
            self._spool(signal, decoded).result(SYNC_TIMEOUT)
        except (BufferFull, TimeoutError) as exc:
            raise self._refused(signal, decoded, exc) from None
        self._accepted(signal, decoded)

    async def accept_async(self, signal: str, decoded: Decoded) -> None:
        """accept() for the HTTP receiver's event loop: the fsync is awaited, not waited on."""
        self.metrics.count_decoded(signal, decoded)
        try:
            await asyncio.wait_for(asyncio.wrap_future(self._spool(signal, decoded)), SYNC_TIMEOUT)
        except (BufferFull, TimeoutError) as exc:
            raise self._refused(signal, decoded, exc) from None
        self._accepted(signal, decoded)

    def _spool(self, signal: str, decoded: Decoded) -> Future[int]:
        return self.batchers[signal].add(decoded.rows, decoded.accepted)

    def _refused(self, signal: str, decoded: Decoded, exc: Exception) -> BufferFull:
        if not isinstance(exc, BufferFull):  # the fsync did not come back in time
            exc = SpoolFull(f"the spool did not sync within {SYNC_TIMEOUT:.0f} s")
        self.metrics.refused.labels(signal, exc.reason).inc(decoded.accepted)
        self._refusals.note(signal, exc.reason, decoded.accepted, str(exc))
        return exc

    def _accepted(self, signal: str, decoded: Decoded) -> None:
        self.metrics.accepted.labels(signal).inc(decoded.accepted)
        if decoded.rows:
            self.metrics.spooled.labels(signal).inc(decoded.accepted)

    def update_gauges(self) -> None:
        """Refresh the backlog and spool gauges (called before /metrics is rendered)."""
        for signal, batcher in self.batchers.items():
            self.metrics.buffer_rows.labels(signal).set(batcher.depth)
            self.metrics.spool_bytes.labels(signal).set(batcher.spool.bytes)

    def start(self) -> None:
        """Start every batcher's flushing thread."""
        for batcher in self.batchers.values():
            batcher.start()

    def drain(self) -> None:
        """Stop accepting and write out what the store takes; the rest stays spooled."""
        for batcher in self.batchers.values():
            batcher.stop()


class RefusalLog:
    """One structured line per signal and reason per second, counting every refusal in it."""

    def __init__(self, every: float = 1.0) -> None:
        self.every = every
        self._lock = threading.Lock()
        self._pending: dict[tuple[str, str], list[int]] = {}
        self._last: dict[tuple[str, str], float] = {}

    def note(self, signal: str, reason: str, items: int, detail: str) -> None:
        """Count one refused request of `items` items; log when a second has passed."""
        key, now = (signal, reason), time.monotonic()
        with self._lock:
            requests, total = self._pending.get(key, [0, 0])
            self._pending[key] = [requests + 1, total + items]
            if now - self._last.get(key, 0.0) < self.every:
                return
            self._last[key] = now
            requests, total = self._pending.pop(key)
        log.warning(
            "event=refused signal=%s reason=%s requests=%d items=%d detail=%r",
            signal,
            reason,
            requests,
            total,
            detail,
        )

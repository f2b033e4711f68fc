"""What both receivers hand decoded requests to: count them, buffer them for the writer."""

from __future__ import annotations

from clew.collector.batch import Batcher
from clew.collector.decode import Decoded
from clew.collector.metrics import Metrics


class Pipeline:
    """One batcher per signal ("spans", "logs") and the metrics of what passed through."""

    def __init__(self, batchers: dict[str, Batcher], metrics: Metrics) -> None:
        self.batchers, self.metrics = batchers, metrics

    def accept(self, signal: str, decoded: Decoded) -> None:
        """Buffer the rows; BufferFull (after counting them refused) when there is no room."""
        self.metrics.count_decoded(signal, decoded)
        with self.metrics.admitting(signal, decoded.accepted):
            self.batchers[signal].add(decoded.rows, decoded.accepted)

    async def accept_async(self, signal: str, decoded: Decoded) -> None:
        """accept() for the HTTP receiver's event loop (buffering here never waits)."""
        self.accept(signal, decoded)

    def update_gauges(self) -> None:
        """Refresh the buffer-depth gauges (called before /metrics is rendered)."""
        for signal, batcher in self.batchers.items():
            self.metrics.buffer_rows.labels(signal).set(batcher.depth)

    def start(self) -> None:
        """Start every batcher's flushing thread."""
        for batcher in self.batchers.values():
            batcher.start()

    def drain(self) -> None:
        """Stop accepting and write out everything buffered."""
        for batcher in self.batchers.values():
            batcher.stop()

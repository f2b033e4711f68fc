"""The collector's Prometheus metrics, one registry per app so tests can run several.

Every item a receiver decodes ends in exactly one of: written, rejected (invalid, answered
through partial success), refused (retryable: the client keeps it and resends) or dropped
(lost after clew had accepted it; the goal is that this stays 0). Requests refused before
they could be decoded are counted as requests. Reasons are the `reason` of the error
(clew.collector.errors) or of the partial-success rejection.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from clew.collector.errors import BufferFull

if TYPE_CHECKING:
    from clew.collector.decode import Decoded

SIGNALS = ("spans", "logs")
# The reason of a rejection that does not say which rule it broke.
INVALID = "invalid"


@dataclass
class Metrics:
    """Counters by signal ("spans" or "logs") and, for refusals and losses, by reason."""

    registry: CollectorRegistry = field(default_factory=CollectorRegistry)

    def __post_init__(self) -> None:
        self.received = self._counter("clew_received", "Items decoded from requests")
        self.accepted = self._counter("clew_accepted", "Items accepted into the write buffer")
        self.written = self._counter("clew_written", "Items inserted into the store")
        self.rejected = self._counter(
            "clew_rejected", "Items refused as invalid (partial success)", "reason"
        )
        self.adjusted = self._counter(  # limits (docs/LIMITS.md): values cut, not items lost
            "clew_adjusted", "Values changed to fit the input limits", "reason"
        )
        self.refused = self._counter(
            "clew_refused", "Items refused with a retryable status", "reason"
        )
        self.refused_requests = self._counter(
            "clew_refused_requests", "Requests refused before they were decoded", "reason"
        )
        self.dropped = self._counter(
            "clew_dropped", "Accepted items lost (should stay 0)", "reason"
        )
        self.spooled = self._counter("clew_spooled", "Items written to the on-disk spool")
        self.replayed = self._counter("clew_replayed", "Items replayed from the spool")
        self.retried = self._counter("clew_retried", "Items whose insert was retried")
        self.batch_rows = Histogram(
            "clew_batch_rows",
            "Rows per insert",
            ["signal"],
            buckets=(10, 100, 1_000, 5_000, 10_000, 20_000, 50_000, 100_000),
            registry=self.registry,
        )
        self.batch_seconds = Histogram(
            "clew_batch_seconds",
            "Time to write one batch to the store, retries included",
            ["signal"],
            buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
            registry=self.registry,
        )
        self.buffer_rows = Gauge(
            "clew_buffer_rows", "Rows waiting to be written", ["signal"], registry=self.registry
        )
        self.spool_bytes = Gauge(
            "clew_spool_bytes", "Bytes in the on-disk spool", ["signal"], registry=self.registry
        )
        for signal in SIGNALS:
            for counter in (self.received, self.accepted, self.written, self.spooled):
                counter.labels(signal)  # present at 0 from the start
            for counter in (self.replayed, self.retried):
                counter.labels(signal)
            self.dropped.labels(signal, "store_failed")
            self.refused.labels(signal, "buffer_full")

    def _counter(self, name: str, documentation: str, *extra: str) -> Counter:
        return Counter(name, documentation, ["signal", *extra], registry=self.registry)

    def count_decoded(self, signal: str, decoded: Decoded) -> None:
        """Count a decoded request's items as received, and its rejections by reason."""
        self.received.labels(signal).inc(decoded.accepted + decoded.rejected)
        explained = 0
        for reason, count in decoded.reasons.items():
            self.rejected.labels(signal, reason).inc(count)
            explained += count
        if decoded.rejected > explained:
            self.rejected.labels(signal, INVALID).inc(decoded.rejected - explained)
        for reason, count in decoded.adjusted.items():
            self.adjusted.labels(signal, reason).inc(count)

    @contextmanager
    def admitting(self, signal: str, items: int) -> Iterator[None]:
        """Count `items` accepted when the block succeeds, refused by reason when it raises."""
        try:
            yield
        except BufferFull as exc:
            self.refused.labels(signal, exc.reason).inc(items)
            raise
        self.accepted.labels(signal).inc(items)

    def render(self) -> bytes:
        """The Prometheus text exposition of every metric."""
        return generate_latest(self.registry)

"""The collector's Prometheus metrics, one registry per app so tests can run several."""

from __future__ import annotations

from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

SIGNALS = ("spans", "logs")


@dataclass
class Metrics:
    """Counters by signal ("spans" or "logs"): received, written, rejected, refused, dropped."""

    registry: CollectorRegistry = field(default_factory=CollectorRegistry)

    def __post_init__(self) -> None:
        labels = ["signal"]
        reg = self.registry
        self.received = Counter(
            "clew_received", "Items decoded from requests", labels, registry=reg
        )
        self.written = Counter(
            "clew_written", "Items inserted into the store", labels, registry=reg
        )
        self.rejected = Counter(
            "clew_rejected", "Items refused as invalid (partial success)", labels, registry=reg
        )
        self.refused = Counter(
            "clew_refused", "Items refused because the buffer was full", labels, registry=reg
        )
        self.dropped = Counter(
            "clew_dropped", "Items lost after the store failed every retry", labels, registry=reg
        )
        self.batch_rows = Histogram(
            "clew_batch_rows",
            "Rows per insert",
            labels,
            buckets=(10, 100, 1_000, 5_000, 10_000, 20_000, 50_000, 100_000),
            registry=reg,
        )
        self.buffer_rows = Gauge(
            "clew_buffer_rows", "Rows waiting to be written", labels, registry=reg
        )
        for signal in SIGNALS:
            for metric in (self.received, self.written, self.rejected, self.refused, self.dropped):
                metric.labels(signal)  # present at 0 from the start

    def render(self) -> bytes:
        """The Prometheus text exposition of every metric."""
        return generate_latest(self.registry)

"""Writer: batches into the ingest tables of a real chDB store; retries; counts drops."""

from __future__ import annotations

import time

from clew.collector.errors import StoreError
from clew.collector.metrics import Metrics
from clew.collector.store import ChdbStore
from clew.collector.write import RETRY_DELAYS, Writer

NOW = time.time_ns()


def _span(n: int) -> dict[str, object]:
    return {
        "TimestampNs": NOW + n,
        "EndNs": NOW + n + 10,
        "TraceId": f"{n:032x}",
        "SpanId": f"{n:016x}",
        "SpanName": "op",
        "ServiceName": "svc",
    }


def _value(metrics: Metrics, name: str, signal: str) -> float:
    sample = metrics.registry.get_sample_value(name, {"signal": signal})
    return sample or 0.0


def test_writes_spans_and_counts(store: ChdbStore) -> None:
    metrics = Metrics()
    Writer(store, "spans", metrics)([_span(n) for n in range(5)])
    assert store.query("SELECT count(), sum(Duration) FROM otel_traces").rows == [(5, 50)]
    assert _value(metrics, "clew_written_total", "spans") == 5
    assert _value(metrics, "clew_batch_rows_count", "spans") == 1


def test_writes_logs(store: ChdbStore) -> None:
    Writer(store, "logs", Metrics())([{"TimestampNs": NOW, "Body": "hello", "ServiceName": "s"}])
    assert store.query("SELECT Body, ServiceName FROM otel_logs").rows == [("hello", "s")]


class FlakyStore:
    """A store whose inserts fail `failures` times, then reach the real one."""

    def __init__(self, real: ChdbStore, failures: int) -> None:
        self.real, self.failures, self.calls = real, failures, 0

    def insert(self, table: str, data: str, fmt: str = "JSONEachRow") -> None:
        self.calls += 1
        if self.calls <= self.failures:
            raise StoreError("simulated failure")
        self.real.insert(table, data, fmt)


def test_retries_then_succeeds(store: ChdbStore) -> None:
    metrics, slept = Metrics(), []
    flaky = FlakyStore(store, failures=2)
    Writer(flaky, "spans", metrics, sleep=slept.append)([_span(1)])  # type: ignore[arg-type]
    assert slept == list(RETRY_DELAYS[:2])
    assert store.query("SELECT count() FROM otel_traces").rows == [(1,)]


def test_counts_drops_after_every_retry_failed(store: ChdbStore) -> None:
    metrics = Metrics()
    flaky = FlakyStore(store, failures=100)
    Writer(flaky, "spans", metrics, sleep=lambda _: None)([_span(1), _span(2)])  # type: ignore[arg-type]
    assert flaky.calls == len(RETRY_DELAYS) + 1
    dropped = {"signal": "spans", "reason": "store_failed"}
    assert metrics.registry.get_sample_value("clew_dropped_total", dropped) == 2
    assert _value(metrics, "clew_retried_total", "spans") == 2 * len(RETRY_DELAYS)
    assert _value(metrics, "clew_written_total", "spans") == 0


def test_store_without_fast_path_gets_rows(store: ChdbStore) -> None:
    from clew.collector.decode import RawSpans

    from .fixtures import trace_request

    request = trace_request()
    del request.resource_spans[0].scope_spans[0].spans[6:]
    plain = FlakyStore(store, failures=0)  # only insert(): no insert_otlp_traces
    Writer(plain, "spans", Metrics())([RawSpans(request.SerializeToString(), 7)])  # type: ignore[arg-type]
    assert store.query("SELECT count() FROM otel_traces").rows == [(7,)]


class BrokenFastPath(FlakyStore):
    """A store whose fast path always fails; its rows path works."""

    def insert_otlp_traces(self, messages: list[bytes]) -> list[int]:
        raise StoreError("Protobuf reader refused the batch")


def test_failed_fast_path_falls_back_to_rows(store: ChdbStore) -> None:
    from clew.collector.decode import RawSpans

    from .fixtures import trace_request

    request = trace_request()
    del request.resource_spans[0].scope_spans[0].spans[6:]
    metrics = Metrics()
    broken = BrokenFastPath(store, failures=0)
    Writer(broken, "spans", metrics)([RawSpans(request.SerializeToString(), 7)])  # type: ignore[arg-type]
    assert store.query("SELECT count() FROM otel_traces").rows == [(7,)]
    assert _value(metrics, "clew_written_total", "spans") == 7

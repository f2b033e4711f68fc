"""Writer: batches into the ingest tables of a real chDB store; retries, tokens, drops."""

from __future__ import annotations

import threading
import time
from typing import Any

import orjson
import pytest

from clew.collector.batch import Stopped
from clew.collector.decode import RawSpans
from clew.collector.errors import StoreError
from clew.collector.metrics import Metrics
from clew.collector.spool import JsonRows
from clew.collector.store import ChdbStore
from clew.collector.write import FIRST_DELAY, MAX_DELAY, REJECT_AFTER, Writer, backoff
from clew.common.store import QueryResult

from .fixtures import scalar_trace_request, trace_request

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


def _value(metrics: Metrics, name: str, signal: str, **labels: str) -> float:
    sample = metrics.registry.get_sample_value(name, {"signal": signal, **labels})
    return sample or 0.0


def _count(store: ChdbStore, table: str = "otel_traces") -> int:
    return int(store.query(f"SELECT count() FROM {table}").rows[0][0])  # noqa: S608 - ours


def test_writes_spans_and_counts(store: ChdbStore) -> None:
    metrics = Metrics()
    assert Writer(store, "spans", metrics)([_span(n) for n in range(5)]) == 0
    assert store.query("SELECT count(), sum(Duration) FROM otel_traces").rows == [(5, 50)]
    assert _value(metrics, "clew_written_total", "spans") == 5
    assert _value(metrics, "clew_batch_rows_count", "spans") == 1


def test_writes_logs_and_spooled_json_rows(store: ChdbStore) -> None:
    spooled = JsonRows(orjson.dumps([{"TimestampNs": NOW, "Body": "b", "ServiceName": "s"}]), 1)
    Writer(store, "logs", Metrics())(
        [{"TimestampNs": NOW, "Body": "a", "ServiceName": "s"}, spooled]
    )
    assert store.query("SELECT Body FROM otel_logs ORDER BY Body").rows == [("a",), ("b",)]


class FlakyStore:
    """A store whose inserts fail `failures` times, then reach the real one."""

    def __init__(self, real: ChdbStore, failures: int, *, answers: bool = False) -> None:
        self.real, self.failures, self.calls, self.answers = real, failures, 0, answers
        self.tokens: list[str | None] = []

    def insert(
        self, table: str, data: str, fmt: str = "JSONEachRow", *, token: str | None = None
    ) -> None:
        self.calls += 1
        self.tokens.append(token)
        if self.calls <= self.failures:
            raise StoreError("simulated failure")
        self.real.insert(table, data, fmt, token=token)

    def query(self, sql: str, parameters: Any = None) -> QueryResult:
        if not self.answers and self.calls <= self.failures:
            raise StoreError("down")
        return self.real.query(sql, parameters)


def test_backoff_doubles_with_jitter_up_to_a_cap() -> None:
    assert backoff(1, lambda: 0.0) == FIRST_DELAY / 2
    assert backoff(1, lambda: 1.0) == FIRST_DELAY
    assert backoff(3, lambda: 1.0) == 4 * FIRST_DELAY
    assert backoff(50, lambda: 1.0) == MAX_DELAY
    assert FIRST_DELAY / 2 <= backoff(2) <= 2 * FIRST_DELAY


def test_retries_until_the_store_takes_the_batch(store: ChdbStore) -> None:
    metrics, slept = Metrics(), list[float]()
    flaky = FlakyStore(store, failures=REJECT_AFTER + 5)  # down for longer than any fixed plan
    writer = Writer(flaky, "spans", metrics, sleep=slept.append)  # type: ignore[arg-type]
    assert writer([_span(1), _span(2)], "t1") == REJECT_AFTER + 5
    assert _count(store) == 2
    assert len(slept) == REJECT_AFTER + 5 and max(slept) <= MAX_DELAY
    assert slept[1] > slept[0] * 1.0 or slept[1] >= FIRST_DELAY  # growing, jittered
    assert set(flaky.tokens) == {"t1:rows"}  # every attempt carries the same token
    assert _value(metrics, "clew_retried_total", "spans") == 2 * (REJECT_AFTER + 5)
    assert _value(metrics, "clew_dropped_total", "spans", reason="store_rejected") == 0


def test_a_batch_the_answering_store_keeps_refusing_is_dropped(store: ChdbStore) -> None:
    metrics = Metrics()
    flaky = FlakyStore(store, failures=1000, answers=True)
    writer = Writer(flaky, "spans", metrics, sleep=lambda _: None)  # type: ignore[arg-type]
    writer([_span(1), _span(2)], "t")
    assert flaky.calls == REJECT_AFTER
    dropped = {"signal": "spans", "reason": "store_rejected"}
    assert metrics.registry.get_sample_value("clew_dropped_total", dropped) == 2
    assert _value(metrics, "clew_written_total", "spans") == 0


def test_stopping_gives_the_batch_back(store: ChdbStore) -> None:
    stopping = threading.Event()
    flaky = FlakyStore(store, failures=1000)
    writer = Writer(flaky, "spans", Metrics(), stopping=stopping, sleep=lambda _: stopping.set())  # type: ignore[arg-type]
    with pytest.raises(Stopped):
        writer([_span(1)], "t")
    assert flaky.calls == 2


def test_same_token_is_stored_once_on_the_embedded_store(store: ChdbStore) -> None:
    rows = [_span(n) for n in range(3)]
    writer = Writer(store, "spans", Metrics())
    writer(rows, "clew:test:1-3")
    writer(rows, "clew:test:1-3")  # a retry whose first answer was lost
    assert _count(store) == 3
    writer(rows, "clew:test:4-6")  # other records, even with equal contents, are new
    assert _count(store) == 6
    logs = [{"TimestampNs": NOW, "Body": "x", "ServiceName": "s"}]
    Writer(store, "logs", Metrics())(logs, "clew:test:1-1")
    Writer(store, "logs", Metrics())(logs, "clew:test:1-1")
    assert _count(store, "otel_logs") == 1


def test_fast_path_batch_retried_is_stored_once_side_tables_too(store: ChdbStore) -> None:
    fast = RawSpans(scalar_trace_request().SerializeToString(), 0)
    slow = trace_request()  # nested values: the fast path skips it, rows carry it
    batch = [fast, RawSpans(slow.SerializeToString(), 0)]
    writer = Writer(store, "spans", Metrics())
    writer(batch, "clew:test:7-8")
    once = _count(store), _count(store, "otel_traces_trace_id_ts"), _count(store, "clew_span_links")
    writer(batch, "clew:test:7-8")
    assert (_count(store), _count(store, "otel_traces_trace_id_ts")) == once[:2]
    assert _count(store, "clew_span_links") == once[2]
    assert once[0] > len(slow.resource_spans[0].scope_spans[0].spans)


def test_store_without_fast_path_gets_rows(store: ChdbStore) -> None:
    request = trace_request()
    del request.resource_spans[0].scope_spans[0].spans[6:]
    plain = FlakyStore(store, failures=0)  # only insert(): no insert_otlp_traces
    Writer(plain, "spans", Metrics())([RawSpans(request.SerializeToString(), 7)])  # type: ignore[arg-type]
    assert _count(store) == 7


class BrokenFastPath(FlakyStore):
    """A store whose fast path always fails; its rows path works."""

    def insert_otlp_traces(self, messages: list[bytes]) -> list[int]:
        raise StoreError("Protobuf reader refused the batch")


def test_failed_fast_path_falls_back_to_rows(store: ChdbStore) -> None:
    request = trace_request()
    del request.resource_spans[0].scope_spans[0].spans[6:]
    metrics = Metrics()
    broken = BrokenFastPath(store, failures=0, answers=True)
    Writer(broken, "spans", metrics)([RawSpans(request.SerializeToString(), 7)])  # type: ignore[arg-type]
    assert _count(store) == 7
    assert _value(metrics, "clew_written_total", "spans") == 7


def test_a_batch_that_cannot_be_encoded_is_counted_dropped(store: ChdbStore) -> None:
    metrics = Metrics()
    plain = FlakyStore(store, failures=0)  # no fast path: the body must be decoded here
    Writer(plain, "spans", metrics)([RawSpans(b"\xff not protobuf", 3)], "t")  # type: ignore[arg-type]
    dropped = {"signal": "spans", "reason": "internal"}
    assert metrics.registry.get_sample_value("clew_dropped_total", dropped) == 3

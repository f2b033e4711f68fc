"""Batches → the store: the one write stage of `clew serve` (spool) and `clew write` (Kafka).

A batch is inserted with a deduplication token; spans go whole to ClickHouse's Protobuf reader
where the store can (the fast path), and what it skips or cannot take goes as rows. A batch is
retried, with exponential backoff and jitter, until the store takes it: its source (the spool,
or the uncommitted Kafka offsets) holds it meanwhile, so a store outage costs time, not data.
Only a batch the store keeps refusing while it answers other queries (it cannot take these
rows) is dropped, counted as dropped{reason="store_rejected"}. Every attempt carries the same
tokens, so an insert that worked but whose answer was lost is stored once. Whatever happens,
the outcome is counted here, so both commands' /metrics mean the same.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson

from clew.collector import decode
from clew.collector.batch import Row, Stopped
from clew.collector.decode import RawSpans
from clew.collector.errors import StoreError
from clew.collector.limits import UNBOUNDED
from clew.collector.metrics import Metrics
from clew.collector.spool import JsonRows
from clew.common.store import ProtobufTraces, Store

log = logging.getLogger(__name__)

TABLES = {"spans": "clew_ingest_spans", "logs": "clew_ingest_logs"}
FIRST_DELAY, MAX_DELAY = 0.1, 5.0
# Failures in a row, with the store answering `SELECT 1`, after which a batch is given up.
REJECT_AFTER = 20
# Sleeps `delay` seconds between two attempts; False: give the batch up (raise Stopped).
Wait = Callable[[float], bool]


@dataclass(frozen=True)
class RawLogs:
    """A whole ExportLogsServiceRequest in protobuf bytes, already checked by a receiver."""

    body: bytes
    records: int


def backoff(failures: int, rand: Callable[[], float] = random.random) -> float:
    """Seconds to wait after `failures` failed attempts: doubling, capped, half of it jitter."""
    delay = min(MAX_DELAY, FIRST_DELAY * 2 ** min(failures - 1, 32))
    return float(delay / 2 + rand() * delay / 2)


def until(stopping: threading.Event) -> Wait:
    """A Wait that sleeps on `stopping`: a stopping writer does not sit out a long backoff."""
    return lambda delay: not stopping.wait(delay)


class Writer:
    """Inserts batches of one signal into its ingest table; the items: RawSpans, RawLogs,
    JsonRows (spooled rows) and row dicts, in any mix."""

    def __init__(self, store: Store, signal: str, metrics: Metrics, *, wait: Wait) -> None:
        self._store, self._signal, self._metrics, self._wait = store, signal, metrics, wait
        self._table = TABLES[signal]

    def __call__(self, batch: list[Any], token: str | None = None) -> int:
        """Insert a batch; the number of failed attempts. Stopped when `wait` gave it up."""
        started = time.monotonic()
        size = sum(_weight(item) for item in batch)
        try:
            batch = _decoded_logs(batch)
            failures = self._retrying(lambda: self._write(batch, token), size)
        except Stopped:
            raise
        except Exception:  # a bug here must not stop every later batch: count, log, go on
            log.exception("event=dropped signal=%s items=%d reason=internal", self._signal, size)
            self._metrics.dropped.labels(self._signal, "internal").inc(size)
            failures = 0
        self._metrics.batch_seconds.labels(self._signal).observe(time.monotonic() - started)
        return failures

    def _retrying(self, attempt: Callable[[], None], size: int) -> int:
        failures, since = 0, time.monotonic()
        while True:
            try:
                attempt()
            except StoreError as exc:
                failures += 1
                if failures == 1:
                    log.warning(
                        "event=store_down signal=%s items=%d error=%r",
                        self._signal,
                        size,
                        str(exc)[:300],
                    )
                if failures >= REJECT_AFTER and self._store_answers():
                    self._drop(size, exc)
                    return failures
                self._metrics.retried.labels(self._signal).inc(size)
                if not self._wait(backoff(failures)):
                    raise Stopped from exc
            else:
                if failures:
                    log.info(
                        "event=store_back signal=%s seconds=%.1f failed_attempts=%d",
                        self._signal,
                        time.monotonic() - since,
                        failures,
                    )
                return failures

    def _write(self, batch: list[Any], token: str | None) -> None:
        raw = [item for item in batch if isinstance(item, RawSpans)]
        parts = [item.data for item in batch if isinstance(item, JsonRows)]
        rows: list[Row] = [item for item in batch if isinstance(item, dict)]
        written = 0
        if raw:
            skipped = self._raw(raw, token)
            left = set(skipped)
            written += sum(r.spans for n, r in enumerate(raw) if n not in left)
            rows.extend(row for n in skipped for row in decode.spans_as_rows(raw[n].body))
        if rows:
            parts.append(orjson.dumps(rows))
        count = len(rows) + sum(item.count for item in batch if isinstance(item, JsonRows))
        if parts:
            self._store.insert(self._table, _join_arrays(parts), token=_part(token, "rows"))
        self._count_written(written + count)

    def _raw(self, raw: list[RawSpans], token: str | None) -> list[int]:
        """Insert whole requests; the positions of those left to the rows path."""
        if not isinstance(self._store, ProtobufTraces):
            return list(range(len(raw)))  # without the fast path, every request goes as rows
        bodies = [request.body for request in raw]
        for attempt in (1, 2):
            try:
                return self._store.insert_otlp_traces(bodies)
            except StoreError as exc:
                if not self._store_answers():
                    raise  # the store is down: retry the whole batch later
                if attempt == 2:
                    # One request ClickHouse cannot read must not cost the batch: rows carry it.
                    log.warning(
                        "fast span insert failed, %d requests go as rows: %s", len(raw), exc
                    )
        # The first failure may have been a lost answer to an insert that was stored: the same
        # bytes again are deduplicated (their digest is the token), rows would be a second copy.
        return list(range(len(raw)))

    def _store_answers(self) -> bool:
        try:
            self._store.query("SELECT 1")
        except StoreError:
            return False
        return True

    def _drop(self, size: int, exc: StoreError) -> None:
        log.error(
            "event=dropped signal=%s items=%d reason=store_rejected error=%r",
            self._signal,
            size,
            str(exc)[:300],
        )
        self._metrics.dropped.labels(self._signal, "store_rejected").inc(size)

    def _count_written(self, size: int) -> None:
        if size:
            self._metrics.written.labels(self._signal).inc(size)
            self._metrics.batch_rows.labels(self._signal).observe(size)


def _decoded_logs(batch: list[Any]) -> list[Any]:
    """The batch with each RawLogs replaced by its rows (decoded once, not per attempt)."""
    if not any(isinstance(item, RawLogs) for item in batch):
        return batch
    out: list[Any] = []
    for item in batch:
        if isinstance(item, RawLogs):  # the receiver applied the limits before publishing
            out.extend(decode.logs(item.body, decode.PROTOBUF, UNBOUNDED).rows)
        else:
            out.append(item)
    return out


def _weight(item: Any) -> int:
    if isinstance(item, RawSpans):
        return item.spans
    if isinstance(item, RawLogs):
        return item.records
    return item.count if isinstance(item, JsonRows) else 1


def _part(token: str | None, part: str) -> str | None:
    return f"{token}:{part}" if token else None


def _join_arrays(parts: list[bytes]) -> str:
    """JSON arrays → one JSON array (JSONEachRow reads an array of objects)."""
    inner = [part[1:-1] for part in parts if len(part) > 2]
    return (b"[" + b",".join(inner) + b"]").decode("utf-8")

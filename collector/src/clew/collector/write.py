"""Batches → the store: insert with a deduplication token, retry with backoff, count outcomes.

A batch is retried, with exponential backoff and jitter, until the store takes it: the spool
holds it meanwhile, so a store outage costs time and spool space, not data. Only a batch the
store keeps refusing while it answers other queries (it cannot take these rows) is dropped,
counted as dropped{reason="store_rejected"}. Every attempt carries the same tokens, so an
insert that worked but whose answer was lost is stored once.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable
from typing import Any

import orjson

from clew.collector import decode
from clew.collector.batch import Row, Stopped
from clew.collector.decode import RawSpans
from clew.collector.errors import StoreError
from clew.collector.metrics import Metrics
from clew.collector.spool import JsonRows
from clew.common.store import ProtobufTraces, Store

log = logging.getLogger(__name__)

TABLES = {"spans": "clew_ingest_spans", "logs": "clew_ingest_logs"}
FIRST_DELAY, MAX_DELAY = 0.1, 5.0
# Failures in a row, with the store answering `SELECT 1`, after which a batch is given up.
REJECT_AFTER = 20


def backoff(failures: int, rand: Callable[[], float] = random.random) -> float:
    """Seconds to wait after `failures` failed attempts: doubling, capped, half of it jitter."""
    delay = min(MAX_DELAY, FIRST_DELAY * 2 ** min(failures - 1, 32))
    return float(delay / 2 + rand() * delay / 2)


class Writer:
    """Inserts batches of one signal into its ingest table."""

    def __init__(
        self,
        store: Store,
        signal: str,
        metrics: Metrics,
        *,
        stopping: threading.Event | None = None,
        sleep: Callable[[float], Any] | None = None,
    ) -> None:
        self._store, self._signal, self._metrics = store, signal, metrics
        self._stopping = stopping or threading.Event()
        # Waiting on the stop event: a stopping collector does not sit out a long backoff.
        self._sleep = sleep or self._stopping.wait
        self._table = TABLES[signal]

    def __call__(self, batch: list[Any], token: str | None = None) -> int:
        """Insert a batch of rows and raw trace requests; the number of failed attempts."""
        started = time.monotonic()
        size = sum(_weight(item) for item in batch)
        try:
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
                if self._stopping.is_set():
                    raise Stopped from exc
                if failures >= REJECT_AFTER and self._store_answers():
                    self._drop(size, exc)
                    return failures
                self._metrics.retried.labels(self._signal).inc(size)
                self._sleep(backoff(failures))
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
        try:
            return self._store.insert_otlp_traces([request.body for request in raw])
        except StoreError as exc:
            if not self._store_answers():
                raise  # the store is down: retry the whole batch later
            # One request ClickHouse cannot read must not cost the batch: rows carry it all.
            log.warning("fast span insert failed, %d requests go as rows: %s", len(raw), exc)
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


def _weight(item: Any) -> int:
    if isinstance(item, RawSpans):
        return item.spans
    return item.count if isinstance(item, JsonRows) else 1


def _part(token: str | None, part: str) -> str | None:
    return f"{token}:{part}" if token else None


def _join_arrays(parts: list[bytes]) -> str:
    """JSON arrays → one JSON array (JSONEachRow reads an array of objects)."""
    inner = [part[1:-1] for part in parts if len(part) > 2]
    return (b"[" + b",".join(inner) + b"]").decode("utf-8")

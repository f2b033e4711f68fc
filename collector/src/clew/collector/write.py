"""Rows → the store: encode a batch once, insert it, retry on failure, count the outcome."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

import orjson

from clew.collector import decode
from clew.collector.batch import Row
from clew.collector.decode import RawSpans
from clew.collector.errors import StoreError
from clew.collector.metrics import Metrics
from clew.collector.store.base import ProtobufTraces, Store

log = logging.getLogger(__name__)

TABLES = {"spans": "clew_ingest_spans", "logs": "clew_ingest_logs"}
RETRY_DELAYS = (0.2, 1.0, 3.0)


class Writer:
    """Inserts batches of one signal into its ingest table."""

    def __init__(
        self,
        store: Store,
        signal: str,
        metrics: Metrics,
        *,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._store, self._signal, self._metrics, self._sleep = store, signal, metrics, sleep
        self._table = TABLES[signal]

    def __call__(self, batch: list[Any]) -> None:
        """Insert a batch of rows and raw trace requests; count what was written or dropped."""
        started = time.monotonic()
        raw = [item for item in batch if isinstance(item, RawSpans)]
        rows: list[Row] = [item for item in batch if not isinstance(item, RawSpans)]
        if raw:
            rows.extend(self._raw(raw))
        if rows:
            self._insert_rows(rows)
        self._metrics.batch_seconds.labels(self._signal).observe(time.monotonic() - started)

    def _raw(self, raw: list[RawSpans]) -> list[Row]:
        """Insert whole requests; the rows of those the fast path left to Python."""
        skipped = list(range(len(raw)))  # without the fast path, every request goes through rows
        if isinstance(self._store, ProtobufTraces):
            try:
                skipped = self._store.insert_otlp_traces([request.body for request in raw])
            except StoreError as exc:
                # One request ClickHouse cannot read must not cost the batch: rows carry it all.
                log.warning("fast span insert failed, %d requests go as rows: %s", len(raw), exc)
        left = set(skipped)
        self._count_written(sum(r.spans for n, r in enumerate(raw) if n not in left))
        return [row for n in skipped for row in decode.spans_as_rows(raw[n].body)]

    def _insert_rows(self, rows: list[Row]) -> None:
        """Insert rows with retries; after the last failure count them dropped."""
        # JSONEachRow accepts one JSON array of objects: a single encode call for the batch.
        data = orjson.dumps(rows).decode("utf-8")
        for delay in (*RETRY_DELAYS, None):
            try:
                self._store.insert(self._table, data)
            except StoreError as exc:
                if delay is None:
                    log.error("dropped %d %s after retries: %s", len(rows), self._signal, exc)
                    self._metrics.dropped.labels(self._signal, exc.reason).inc(len(rows))
                    return
                log.warning("insert of %d %s failed, retrying: %s", len(rows), self._signal, exc)
                self._metrics.retried.labels(self._signal).inc(len(rows))
                self._sleep(delay)
            else:
                self._count_written(len(rows))
                return

    def _count_written(self, size: int) -> None:
        if size:
            self._metrics.written.labels(self._signal).inc(size)
            self._metrics.batch_rows.labels(self._signal).observe(size)

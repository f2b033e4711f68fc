"""Rows → the store: encode a batch once, insert it, retry on failure, count the outcome."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any, TypeVar

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
T = TypeVar("T")


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
        raw = [item for item in batch if isinstance(item, RawSpans)]
        rows: list[Row] = [item for item in batch if not isinstance(item, RawSpans)]
        if raw:
            rows.extend(self._attempt(lambda: self._raw(raw), sum(r.spans for r in raw)) or [])
        if rows:
            # JSONEachRow accepts one JSON array of objects: a single encode call for the batch.
            data = orjson.dumps(rows).decode("utf-8")
            self._attempt(lambda: self._store.insert(self._table, data), len(rows))

    def _raw(self, raw: list[RawSpans]) -> list[Row]:
        """Insert whole requests; the rows of those the fast path left to Python."""
        skipped = list(range(len(raw)))  # without the fast path, every request goes through rows
        if isinstance(self._store, ProtobufTraces):
            try:
                skipped = self._store.insert_otlp_traces([request.body for request in raw])
            except StoreError as exc:
                # One request ClickHouse cannot read must not cost the batch: rows carry it all.
                log.warning(
                    "fast span insert failed, writing %d requests as rows: %s", len(raw), exc
                )
        written = sum(raw[n].spans for n in range(len(raw)) if n not in set(skipped))
        self._count_written(written)
        rows: list[Row] = []
        for n in skipped:
            rows.extend(decode.spans_as_rows(raw[n].body))
        return rows

    def _attempt(self, insert: Callable[[], T], size: int) -> T | None:
        """Run `insert` with retries; after the last failure count `size` items dropped."""
        for delay in (*RETRY_DELAYS, None):
            try:
                result = insert()
            except StoreError as exc:
                if delay is None:
                    log.error("dropped %d %s after retries: %s", size, self._signal, exc)
                    self._metrics.dropped.labels(self._signal).inc(size)
                    return None
                log.warning("insert of %d %s failed, retrying: %s", size, self._signal, exc)
                self._sleep(delay)
            else:
                if result is None:  # a rows insert: the raw path counts its own
                    self._count_written(size)
                return result
        return None

    def _count_written(self, size: int) -> None:
        if size:
            self._metrics.written.labels(self._signal).inc(size)
            self._metrics.batch_rows.labels(self._signal).observe(size)

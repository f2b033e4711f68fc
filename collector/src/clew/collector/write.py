"""Rows → the store: encode a batch once, insert it, retry on failure, count the outcome."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

import orjson

from clew.collector.batch import Row
from clew.collector.errors import StoreError
from clew.collector.metrics import Metrics
from clew.collector.store.base import Store

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

    def __call__(self, rows: list[Row]) -> None:
        """Insert `rows`; after every retry failed, count them as dropped and log why."""
        # JSONEachRow accepts one JSON array of objects: a single encode call for the batch.
        data = orjson.dumps(rows).decode("utf-8")
        for delay in (*RETRY_DELAYS, None):
            try:
                self._store.insert(self._table, data)
            except StoreError as exc:
                if delay is None:
                    log.error("dropped %d %s after retries: %s", len(rows), self._signal, exc)
                    self._metrics.dropped.labels(self._signal).inc(len(rows))
                    return
                log.warning("insert of %d %s failed, retrying: %s", len(rows), self._signal, exc)
                self._sleep(delay)
            else:
                self._metrics.written.labels(self._signal).inc(len(rows))
                self._metrics.batch_rows.labels(self._signal).observe(len(rows))
                return

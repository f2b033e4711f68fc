"""Schema file 026 (a bloom filter on clew_failed_spans.TraceId): a trace read without its logs
takes the spans that wrote an ERROR log from the failed-span index by trace id alone. A store
written before 026 gets the index on upgrade and reads the same flags before and after
materializing it; the index then skips the granules the sorting key would read."""

from __future__ import annotations

import time
from pathlib import Path

from clew.collector.schema.apply import apply_schema
from clew.collector.settings import Settings
from clew.collector.store import ChdbStore
from clew.query_ui.read import load
from tests.query_ui import traces
from tests.query_ui.read.upgrade import skip_index_granules, store_before

INDEX = "idx_trace_id"
HOUR_NS = 3_600 * 10**9


def _failed(store: ChdbStore, trace_id: str) -> list[tuple[str, list[str]]]:
    """The failed spans of a read without logs, with the kinds of their signals."""
    story = load.load_trace(store, trace_id, logs=False)
    return [(s.span_id, [signal.kind for signal in story.signals(s)]) for s in story.failed_spans()]


def _skip_index_granules(store: ChdbStore, trace_id: str) -> str:
    """The `Granules: kept/total` line of the plan's skip index for the ERROR-logged read."""
    sql = "SELECT SpanId FROM clew_failed_spans WHERE TraceId IN {ids:Array(String)}"
    return skip_index_granules(store, sql + " AND Reason = 'error_log'", {"ids": [trace_id]}, INDEX)


def test_error_logged_spans_are_read_the_same_before_and_after_the_index(tmp_path: Path) -> None:
    store = store_before(tmp_path, "026")
    try:
        # A trace whose only failure is a caught error, logged: a span without an Error status,
        # and a log line of it stamped two hours late by a host's clock (no time window holds
        # it: the flag is found by trace id alone).
        story = traces.Story(base_ns=time.time_ns() - 3 * HOUR_NS)
        root = story.span("orders", "POST /orders", ms=40)
        cache = story.span("orders", "cache get", parent=root, at=1, ms=5)
        story.log(cache, "orders", "ERROR", "cache read timed out; falling back", at=4)
        late = story.span("orders", "audit write", parent=root, at=10, ms=5)
        story.log(late, "orders", "ERROR", "audit sink refused the row", at=2 * 3_600_000)
        story.log(root, "orders", "INFO", "order accepted", at=30)
        story.write(store)
        other = traces.Story(base_ns=time.time_ns() - HOUR_NS)  # a trace without ERROR logs
        other.span("orders", "GET /orders", ms=3)
        other.write(store)
        absent = other.spans[0]["TraceId"]
        trace_id = root.trace_id
        expected = [(cache.span_id, ["error_log"]), (late.span_id, ["error_log"])]
        assert _failed(store, trace_id) == expected

        apply_schema(store, Settings(data_dir=tmp_path))  # the upgrade adds the index
        indexes = store.query(
            "SELECT name FROM system.data_skipping_indices WHERE table = 'clew_failed_spans'"
        ).rows
        assert (INDEX,) in indexes
        assert _failed(store, trace_id) == expected  # old parts: read whole, same answer
        store.command(
            f"ALTER TABLE clew_failed_spans MATERIALIZE INDEX {INDEX} SETTINGS mutations_sync = 1"
        )
        assert _failed(store, trace_id) == expected
        assert _failed(store, absent) == []
        # Each part's granules are kept for the trace they hold and dropped for one they lack.
        assert _skip_index_granules(store, absent).startswith("Granules: 0/")
        assert not _skip_index_granules(store, trace_id).startswith("Granules: 0/")
    finally:
        store.close()

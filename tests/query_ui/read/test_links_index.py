"""Schema file 025 (a bloom filter on clew_span_links.LinkedTraceId): a store written before
it gets the index on upgrade, reads the same links before and after materializing it, and
the index then skips the granules that the sorting key alone would read for an id it lacks."""

from __future__ import annotations

import time
from pathlib import Path

from clew.collector.schema.apply import apply_schema
from clew.collector.settings import Settings
from clew.collector.store import ChdbStore
from clew.query_ui.read import load
from tests.query_ui import traces
from tests.query_ui.read.upgrade import skip_index_granules, store_before

INDEX = "idx_linked_trace_id"


def _back_links(store: ChdbStore, trace_id: str) -> list[tuple[str, str]]:
    return sorted((link.trace_id, link.span_id) for _, link in load._back_links(store, [trace_id]))


def _skip_index_granules(store: ChdbStore, trace_id: str) -> str:
    """The `Granules: kept/total` line of the plan's skip index for a links lookup."""
    sql = "SELECT TraceId FROM clew_span_links WHERE LinkedTraceId IN {ids:Array(String)}"
    return skip_index_granules(store, sql, {"ids": [trace_id]}, INDEX)


def test_links_are_read_the_same_before_and_after_the_index_which_then_skips_granules(
    tmp_path: Path,
) -> None:
    store = store_before(tmp_path, "025")
    try:
        story = traces.Story(base_ns=time.time_ns() - 10**9)
        producer, other = (
            story.span("orders", "orders.placed publish", kind="Producer") for _ in range(2)
        )
        for n in range(3):  # consumers that started traces of their own, linking back
            story.span("billing", "orders.placed process", kind="Consumer", at=5 + n,
                       links=(producer,))  # fmt: skip
        story.span("billing", "orders.placed process", kind="Consumer", links=(other,))
        story.write(store)
        # Ids are counters: one between the two linked traces is in the key's range, unlinked.
        absent = f"{int(producer.trace_id, 16) + 1:032x}"
        assert producer.trace_id < absent < other.trace_id
        before = _back_links(store, producer.trace_id)
        assert len(before) == 3

        apply_schema(store, Settings(data_dir=tmp_path))  # the upgrade adds the index
        indexes = store.query(
            "SELECT name FROM system.data_skipping_indices WHERE table = 'clew_span_links'"
        ).rows
        assert (INDEX,) in indexes
        assert _back_links(store, producer.trace_id) == before  # old parts: read as before
        store.command(
            f"ALTER TABLE clew_span_links MATERIALIZE INDEX {INDEX} SETTINGS mutations_sync = 1"
        )
        assert _back_links(store, producer.trace_id) == before
        assert load._back_links(store, [absent]) == []
        # The sorting key keeps the part's one granule for an id it might hold; the index drops it.
        assert _skip_index_granules(store, absent) == "Granules: 0/1"
        assert _skip_index_granules(store, producer.trace_id) == "Granules: 1/1"
    finally:
        store.close()

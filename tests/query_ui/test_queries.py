"""Every query in clew.query_ui.queries runs against the collector's schema (writer and reader
cannot drift), with a value of its declared type bound to each typed parameter."""

from __future__ import annotations

import re
from typing import Any

import pytest

from clew.collector.settings import Settings
from clew.collector.store import ChdbStore
from clew.query_ui.read import load, queries
from tests.query_ui.shop import Shop

PLACEHOLDER = re.compile(r"\{(\w+):([^}]+)\}")
SAMPLES: dict[str, Any] = {
    "String": "order.id",
    "Int64": 0,
    "UInt32": 10,
    "UInt64": 0,
    "Bool": True,
    "Array(String)": ["order.id"],
}
ALL = sorted(
    name
    for name in dir(queries)
    if name.isupper() and not name.startswith("_") and "SELECT" in str(getattr(queries, name))
)


def test_every_query_is_covered() -> None:
    assert len(ALL) >= 12, ALL


@pytest.mark.parametrize("name", ALL)
def test_query_runs_on_the_schema(name: str, shop_store: tuple[Settings, ChdbStore, Shop]) -> None:
    sql = getattr(queries, name)
    parameters = {param: SAMPLES[kind] for param, kind in PLACEHOLDER.findall(sql)}
    assert "{" not in PLACEHOLDER.sub("", sql).replace("{}", ""), "an unbound placeholder"
    shop_store[1].query(sql, parameters, settings=queries.QUERY_SETTINGS)


# 60,000 spans of 6,000 traces over 7 services and 11 span names: in the table's order a
# trace's spans sit in several granules, in trace_order in one.
MANY_SPANS = """
INSERT INTO otel_traces (Timestamp, TraceId, SpanId, ServiceName, SpanName, Duration)
SELECT now64(9) - toIntervalMillisecond(number % 6000), lower(hex(MD5(toString(number % 6000)))),
       lower(hex(number)), concat('svc', toString(number % 7)), concat('op', toString(number % 11)),
       1000
FROM numbers(60000)
"""


def test_a_trace_is_read_from_the_trace_order_projection(
    shop_store: tuple[Settings, ChdbStore, Shop],
) -> None:
    # schema/015: a trace by id is read from the trace-id-ordered copy, not the table. (Last in
    # this module: it adds spans to the module's store.)
    store = shop_store[1]
    store.command(MANY_SPANS)
    trace_id = store.query("SELECT lower(hex(MD5('42')))").rows[0][0]
    params = {"trace_ids": [trace_id], "limit": queries.MAX_SPANS + 1}
    for query in (queries.SPANS_OF_TRACES, queries.SPANS_WITH_RESOURCE_OF_TRACES):
        rows = load.run(store, query, params, None, queries.TRACE_READ_SETTINGS)
        assert len(rows) == 10
        plan = store.query(f"EXPLAIN {query}", params, settings=queries.TRACE_READ_SETTINGS).rows
        assert "ReadFromMergeTree (trace_order)" in "\n".join(r[0] for r in plan)

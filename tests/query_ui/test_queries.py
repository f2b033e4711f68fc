"""Every query in clew.query_ui.queries runs against the collector's schema (writer and reader
cannot drift), with a value of its declared type bound to each typed parameter."""

from __future__ import annotations

import re
from typing import Any

import pytest

from clew.collector.settings import Settings
from clew.collector.store import ChdbStore
from clew.query_ui import queries
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

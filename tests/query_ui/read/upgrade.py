"""A store as an older clew left it, and what ClickHouse's plan says about a read: for the
tests of schema files that add a skip index to a table that already holds data."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from clew.collector.schema.apply import schema_files, statements
from clew.collector.store import ChdbStore


def store_before(folder: Path, number: str) -> ChdbStore:
    """A store in `folder` with the schema files numbered below `number` applied, no later."""
    store = ChdbStore(folder)
    for name, text in schema_files():
        if name < number:
            for statement in statements(text, 7):
                store.command(statement)
    return store


def skip_index_granules(store: ChdbStore, sql: str, params: dict[str, Any], index: str) -> str:
    """The `Granules: kept/total` line of skip index `index` in the plan of `sql`."""
    plan = [row[0] for row in store.query("EXPLAIN indexes = 1 " + sql, params).rows]
    at = next(n for n, line in enumerate(plan) if f"Name: {index}" in line)
    return next(line.strip() for line in plan[at:] if "Granules:" in line)

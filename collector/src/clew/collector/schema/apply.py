"""Apply the numbered schema files in order; safe to run at every start-up.

Tables are created when missing (`IF NOT EXISTS`) and changed only by the files' own ALTERs;
views are also replaced when their file's statement changed (schema/views.py).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from importlib import resources

from clew.collector.schema import views
from clew.collector.settings import Settings
from clew.common.store import LocalTables, Store

_FILE = re.compile(r"^\d{3}_[a-z0-9_]+\.sql$")


def schema_files() -> list[tuple[str, str]]:
    """(name, text) of every schema file, in number order."""
    root = resources.files(__package__ or "clew.collector.schema")
    names = sorted(entry.name for entry in root.iterdir() if _FILE.match(entry.name))
    return [(name, root.joinpath(name).read_text(encoding="utf-8")) for name in names]


def statements(text: str, retention_days: int) -> list[str]:
    """The statements of one file, with the retention filled in."""
    days = str(int(retention_days))
    return [statement.replace("{retention_days}", days) for statement in _split(text)]


def _split(text: str) -> list[str]:
    lines = [line for line in text.splitlines() if not line.lstrip().startswith("--")]
    return [part.strip() for part in "\n".join(lines).split(";") if part.strip()]


_CREATED = re.compile(r"CREATE TABLE IF NOT EXISTS (\w+) ")
_RETENTION = re.compile(r"^TTL (.+?) \+ toIntervalDay\(\{retention_days\}\)", re.MULTILINE)


def retention_ttl() -> dict[str, str]:
    """Table -> its TTL expression without the interval, for every table the schema files keep
    for the configured retention, so that a change of retention reaches each of them."""
    found: dict[str, str] = {}
    for _name, text in schema_files():
        for statement in _split(text):
            if (table := _CREATED.match(statement)) and (ttl := _RETENTION.search(statement)):
                found[table.group(1)] = ttl.group(1)
    return found


# table -> its TTL expression without the interval, to re-point retention when it changes.
RETENTION_TTL = retention_ttl()


def apply_schema(store: Store, settings: Settings) -> None:
    """Create what is missing, then bring retention and business keys in line with settings.

    A store on a cluster (the server store's `cluster`, from `?cluster=` in its URL) gets the
    cluster's variant of the same files (schema/cluster.py).
    """
    if cluster := getattr(store, "cluster", None):
        from clew.collector.schema.cluster import apply_cluster_schema  # imports this module

        apply_cluster_schema(store, settings, cluster)
        return
    days = settings.retention_days
    ddl = [statement for _name, text in schema_files() for statement in statements(text, days)]
    views.apply(store, ddl, [views.RECORD_DDL])
    _align_retention(store, settings.retention_days)
    if isinstance(store, LocalTables):
        _align_table_settings(store, store.table_settings)
    write_business_key_names(store, settings.business_keys)


def write_business_key_names(store: Store, keys: list[str]) -> None:
    """Replace the configured business keys the materialized views index."""
    store.command("TRUNCATE TABLE IF EXISTS clew_business_key_names")
    if keys:
        store.command(
            "INSERT INTO clew_business_key_names SELECT arrayJoin({keys:Array(String)})",
            {"keys": sorted(set(keys))},
        )


def _align_retention(store: Store, days: int) -> None:
    found = store.query(
        "SELECT name, engine_full FROM system.tables"
        " WHERE database = currentDatabase() AND name IN {names:Array(String)}",
        {"names": list(RETENTION_TTL)},
    )
    wanted = f"toIntervalDay({int(days)})"
    for name, engine_full in found.rows:
        if wanted not in engine_full:
            ttl = f"{RETENTION_TTL[name]} + {wanted}"
            # The DDL takes no parameters; both parts come from this module, not from input.
            store.command(
                f"ALTER TABLE {name} MODIFY TTL {ttl} SETTINGS materialize_ttl_after_modify = 0"
            )


def _align_table_settings(store: Store, wanted: Mapping[str, int]) -> None:
    """Give every MergeTree table of the store's database the store's own settings; tables
    that have them already are left alone. Parts written before keep their form until merged."""
    tables = store.query(
        "SELECT name, engine_full FROM system.tables"
        " WHERE database = currentDatabase() AND engine LIKE '%MergeTree'"
    )
    assignments = ", ".join(f"{name} = {int(value)}" for name, value in sorted(wanted.items()))
    for name, engine_full in tables.rows:
        if any(f"{setting} = {int(value)}" not in engine_full for setting, value in wanted.items()):
            # Names come from system.tables and from the store's class, not from input.
            store.command(f"ALTER TABLE {name} MODIFY SETTING {assignments}")

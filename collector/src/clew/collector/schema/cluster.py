"""The schema on a ClickHouse cluster: the same files, `ON CLUSTER`, replicated and distributed.

Each MergeTree-family table `T` becomes `T_local` with the Replicated engine of its family
(one replica set per shard), and `T` becomes a Distributed table over it, so readers keep the
names of the single-server schema. Each Null ingest table becomes `T_local` on every node with
a Distributed `T` in front, sharding by trace id: a trace's rows land on one shard, where the
materialized views (which run on the node that receives the rows) fill the side tables, so a
trace and its side rows stay together. `clew_business_key_names` stays one table replicated
across the whole cluster, because every node's views read it; so do `clew_overview_progress`
(the overview job's position, docs/adr/0006-overview.md), one value for the whole cluster, and
`clew_schema_views` (schema/views.py), the record of the views' definitions. A plain view reads
the Distributed tables (the whole cluster), so its names are left as they are.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from clew.collector.schema import views
from clew.collector.schema.apply import (
    RETENTION_TTL,
    schema_files,
    statements,
    write_business_key_names,
)
from clew.collector.settings import Settings
from clew.common.store import Store

LOCAL = "_local"
# ZooKeeper paths: per shard for data, one path for the cluster-wide table.
SHARD_PATH = "/clickhouse/tables/{shard}/{database}/{table}"
CLUSTER_PATH = "/clickhouse/tables/all/{database}/{table}"
CLUSTER_WIDE = frozenset({"clew_business_key_names", "clew_overview_progress", views.RECORD})

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_CREATE = re.compile(
    r"^(CREATE\s+(?:TABLE|(?:MATERIALIZED\s+)?VIEW|(?:OR\s+REPLACE\s+)?FUNCTION)"
    r"(?:\s+IF\s+NOT\s+EXISTS)?\s+)(\w+)",
    re.IGNORECASE,
)
_ALTER = re.compile(r"^(ALTER\s+TABLE\s+)(\w+)", re.IGNORECASE)
_TABLE = re.compile(r"^CREATE\s+TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?(\w+)", re.IGNORECASE)
_ENGINE = re.compile(r"\bENGINE\s*=\s*(\w*)MergeTree\b(?:\(([^)]*)\))?", re.IGNORECASE)
_TRACE_ID = re.compile(r"^\s*TraceId\s+String\b", re.MULTILINE)


def cluster_statements(
    files: Iterable[tuple[str, str]], cluster: str, retention_days: int
) -> list[str]:
    """The statements of `files` for `cluster`; each Distributed table follows its local one."""
    if not _NAME.match(cluster):
        raise ValueError(f"bad cluster name: {cluster!r}")
    texts = [stmt for _, text in files for stmt in statements(text, retention_days)]
    tables = {found.group(1) for stmt in texts if (found := _TABLE.match(stmt))}
    renamed = sorted(tables - CLUSTER_WIDE)
    out: list[str] = []
    for stmt in texts:
        table = _TABLE.match(stmt)
        local = stmt if _reads_cluster(stmt) else _rename(stmt, renamed)
        out.append(_on_cluster(local, cluster, table.group(1) if table else None))
        if table and table.group(1) in renamed:
            out.append(_distributed(table.group(1), cluster, stmt))
        altered = _ALTER.match(stmt)
        if altered and altered.group(2) in renamed and "COLUMN" in stmt.upper():
            out.append(_on_cluster(stmt, cluster, None))  # the Distributed table's columns too
    return out


def _reads_cluster(stmt: str) -> bool:
    """A plain view: read at query time, over the whole cluster (a materialized one is not)."""
    created = views.view(stmt)
    return created is not None and not created.materialized


def _rename(stmt: str, names: list[str]) -> str:
    if not names:
        return stmt
    # \b keeps otel_traces from matching inside otel_traces_trace_id_ts (underscore is a word char).
    pattern = re.compile(r"\b(" + "|".join(map(re.escape, names)) + r")\b")
    return pattern.sub(lambda found: found.group(1) + LOCAL, stmt)


def _on_cluster(stmt: str, cluster: str, table: str | None) -> str:
    def clause(found: re.Match[str]) -> str:
        return f"{found.group(1)}{found.group(2)} ON CLUSTER {cluster}"

    stmt = _ALTER.sub(clause, _CREATE.sub(clause, stmt, count=1), count=1)
    path = CLUSTER_PATH if table in CLUSTER_WIDE else SHARD_PATH

    def replicated(found: re.Match[str]) -> str:
        args = f"'{path}', '{{replica}}'" + (f", {found.group(2)}" if found.group(2) else "")
        return f"ENGINE = Replicated{found.group(1)}MergeTree({args})"

    return _ENGINE.sub(replicated, stmt, count=1)


def _distributed(table: str, cluster: str, local_stmt: str) -> str:
    key = "cityHash64(TraceId)" if _TRACE_ID.search(local_stmt) else "rand()"
    return (
        f"CREATE TABLE IF NOT EXISTS {table} ON CLUSTER {cluster} AS {table}{LOCAL}\n"
        f"ENGINE = Distributed('{cluster}', currentDatabase(), '{table}{LOCAL}', {key})"
    )


def retention_statements(cluster: str, days: int, engines: dict[str, str]) -> list[str]:
    """ALTERs re-pointing the TTL of each local table whose engine text lacks `days`."""
    wanted = f"toIntervalDay({int(days)})"
    return [
        f"ALTER TABLE {name}{LOCAL} ON CLUSTER {cluster}"
        f" MODIFY TTL {RETENTION_TTL[name]} + {wanted} SETTINGS materialize_ttl_after_modify = 0"
        for name, engine_full in sorted(engines.items())
        if name in RETENTION_TTL and wanted not in engine_full
    ]


def apply_cluster_schema(store: Store, settings: Settings, cluster: str) -> None:
    """apply_schema's work on a cluster: create what is missing, align retention and keys."""
    days = settings.retention_days
    record = cluster_statements([("record", views.RECORD_DDL)], cluster, days)
    views.apply(store, cluster_statements(schema_files(), cluster, days), record)
    found = store.query(
        "SELECT name, engine_full FROM system.tables"
        " WHERE database = currentDatabase() AND name IN {names:Array(String)}",
        {"names": [name + LOCAL for name in RETENTION_TTL]},
    )
    engines = {name.removesuffix(LOCAL): engine_full for name, engine_full in found.rows}
    for stmt in retention_statements(cluster, settings.retention_days, engines):
        store.command(stmt)
    write_business_key_names(store, settings.business_keys)

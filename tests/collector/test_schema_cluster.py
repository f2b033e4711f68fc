"""The cluster variant of the schema: it parses, and it is replicated and distributed throughout.

No cluster exists here, so ClickHouse itself (chDB's parser, `EXPLAIN AST`) judges the DDL, and
the tests read the parsed statements for the engines, names and `ON CLUSTER` clauses.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from clew.collector import cli
from clew.collector.schema import views
from clew.collector.schema.apply import RETENTION_TTL, apply_schema, schema_files
from clew.collector.schema.apply import statements as single_statements
from clew.collector.schema.cluster import (
    apply_cluster_schema,
    cluster_statements,
    retention_statements,
)
from clew.collector.settings import Settings
from clew.collector.store import ChdbStore, QueryResult

CLUSTER = "clew_cluster"
CLEW = [str(Path(sys.executable).with_name("clew"))]
CREATED = re.compile(r"^CREATE (?:TABLE|MATERIALIZED VIEW) IF NOT EXISTS (\w+) ON CLUSTER (\w+)")


@pytest.fixture(scope="module")
def statements() -> list[str]:
    return cluster_statements(schema_files(), CLUSTER, retention_days=7)


def ast(store: ChdbStore, statement: str, parameters: Any = None) -> str:
    """ClickHouse's parse tree of `statement`; a syntax error raises StoreError."""
    return "\n".join(row[0] for row in store.query("EXPLAIN AST " + statement, parameters).rows)


def test_every_statement_parses_and_is_on_the_cluster(
    store: ChdbStore, statements: list[str]
) -> None:
    for statement in statements:
        tree = ast(store, statement)
        assert tree.strip(), statement
        assert f" ON CLUSTER {CLUSTER}" in statement, statement


def test_merge_tree_tables_are_replicated_local_tables_behind_distributed_ones(
    store: ChdbStore, statements: list[str]
) -> None:
    created = {found.group(1): s for s in statements if (found := CREATED.match(s))}
    for table in RETENTION_TTL:
        local = created[f"{table}_local"]
        assert re.search(r"ENGINE = Replicated\w*MergeTree\('/clickhouse/tables/\{shard\}/", local)
        front = created[table]
        assert f"AS {table}_local" in front
        key = "cityHash64(TraceId)" if "TraceId String" in local else "rand()"  # by trace if any
        assert f"Distributed('{CLUSTER}', currentDatabase(), '{table}_local', {key})" in front
    assert "ENGINE = ReplicatedAggregatingMergeTree(" in created["clew_business_keys_local"]
    names = created["clew_business_key_names"]
    assert "ReplicatedMergeTree('/clickhouse/tables/all/" in names  # one replica set, all nodes
    assert "clew_business_key_names_local" not in "\n".join(statements)
    assert not any(re.search(r"ENGINE = MergeTree\b", s) for s in statements)


def test_ingest_tables_shard_by_trace_and_views_stay_local(statements: list[str]) -> None:
    created = {found.group(1): s for s in statements if (found := CREATED.match(s))}
    assert "ENGINE = Null" in created["clew_ingest_spans_local"]
    assert "cityHash64(TraceId)" in created["clew_ingest_spans"]
    views = {name: s for name, s in created.items() if name.endswith("_mv")}
    assert views, "the schema has materialized views"
    for name, view in views.items():
        target = re.search(r"\bTO (\w+)", view)
        source = re.search(r"\bFROM (\w+)", view)
        assert target and target.group(1).endswith("_local"), name
        assert source and source.group(1).endswith("_local"), name
    assert "FROM clew_business_key_names)" in created["clew_business_keys_spans_mv"]


def test_column_changes_reach_local_and_distributed_tables(statements: list[str]) -> None:
    singles = [s for _, text in schema_files() for s in single_statements(text, 7)]
    for single in (s for s in singles if s.startswith("ALTER TABLE") and "COLUMN" in s.upper()):
        table = single.split()[2]
        clauses = single.split(table, 1)[1]
        assert f"ALTER TABLE {table}_local ON CLUSTER {CLUSTER}{clauses}" in statements
        assert f"ALTER TABLE {table} ON CLUSTER {CLUSTER}{clauses}" in statements


def test_distributed_tables_follow_their_local_tables(statements: list[str]) -> None:
    order = [found.group(1) for s in statements if (found := CREATED.match(s))]
    for position, name in enumerate(order):
        if f"{name}_local" in order:
            assert order.index(f"{name}_local") < position, name


def test_retention_alters_only_the_stale_local_tables(store: ChdbStore) -> None:
    engines = {"otel_traces": "MergeTree ... toIntervalDay(7)", "otel_logs": "... toIntervalDay(3)"}
    alters = retention_statements(CLUSTER, 7, engines)
    assert alters == [
        f"ALTER TABLE otel_logs_local ON CLUSTER {CLUSTER} MODIFY TTL toDateTime(Timestamp)"
        " + toIntervalDay(7) SETTINGS materialize_ttl_after_modify = 0"
    ]
    assert ast(store, alters[0])


def test_bad_cluster_name_is_refused() -> None:
    with pytest.raises(ValueError, match="cluster"):
        cluster_statements(schema_files(), "c; DROP TABLE x", 7)


class Recorder:
    """Records what apply_cluster_schema sends; answers system.tables like a fresh cluster."""

    def __init__(self, parser: ChdbStore) -> None:
        self.parser, self.commands = parser, list[str]()

    def query(self, sql: str, parameters: Any = None, *, settings: Any = None) -> QueryResult:
        names = parameters["names"] if parameters else []
        return QueryResult(("name", "engine_full"), [(n, "toIntervalDay(1)") for n in names])

    def command(self, sql: str, parameters: Any = None) -> None:
        ast(self.parser, sql, parameters)  # everything sent must at least parse
        self.commands.append(sql)


def test_apply_cluster_schema_sends_parsable_ddl_retention_and_keys(
    store: ChdbStore, tmp_path: Any
) -> None:
    recorder = Recorder(store)
    settings = Settings(data_dir=tmp_path, retention_days=5, business_keys=["order.id"])
    apply_cluster_schema(recorder, settings, CLUSTER)  # type: ignore[arg-type]
    sent = recorder.commands
    ddl = cluster_statements(schema_files(), CLUSTER, 5)
    record = cluster_statements([("record", views.RECORD_DDL)], CLUSTER, 5)
    assert sent[: len(record) + len(ddl)] == record + ddl  # the views' record, then the files
    assert sent[len(record) + len(ddl)] == views.RECORD_NEW  # every view created is recorded
    alters = [s for s in sent if s.startswith("ALTER TABLE") and "MODIFY TTL" in s]
    assert len(alters) == len(RETENTION_TTL) and all("toIntervalDay(5)" in s for s in alters)
    assert sent[-2:] == [
        "TRUNCATE TABLE IF EXISTS clew_business_key_names",
        "INSERT INTO clew_business_key_names SELECT arrayJoin({keys:Array(String)})",
    ]


def test_apply_schema_goes_on_the_cluster_of_a_store_that_names_one(
    store: ChdbStore, tmp_path: Any
) -> None:
    # The server store names its cluster (`?cluster=` in CLEW_CLICKHOUSE_URL) as `.cluster`.
    on_cluster = Recorder(store)
    on_cluster.cluster = CLUSTER  # type: ignore[attr-defined]
    settings = Settings(data_dir=tmp_path, retention_days=5, business_keys=["order.id"])
    apply_schema(on_cluster, settings)  # type: ignore[arg-type]
    assert on_cluster.commands[1:4] == cluster_statements(schema_files(), CLUSTER, 5)[:3]
    inserts = ("INSERT", "TRUNCATE")  # into replicated tables: every replica gets the rows
    assert all(" ON CLUSTER " in sql for sql in on_cluster.commands if not sql.startswith(inserts))
    single = Recorder(store)
    apply_schema(single, settings)  # type: ignore[arg-type]
    assert not any(" ON CLUSTER " in sql for sql in single.commands)


def test_clew_schema_prints_the_cluster_ddl(store: ChdbStore) -> None:
    env = {**os.environ, "CLEW_RETENTION_DAYS": "9"}
    printed = subprocess.run(
        [*CLEW, "schema", "--cluster", CLUSTER], capture_output=True, env=env, check=True
    ).stdout.decode()
    sent = [part.strip() for part in printed.split(";\n") if part.strip()]
    assert sent == cluster_statements(schema_files(), CLUSTER, 9)
    for statement in sent:
        ast(store, statement)
    plain = CliRunner().invoke(cli.main, ["schema"])
    assert plain.exit_code == 0 and " ON CLUSTER " not in plain.output
    assert "CREATE TABLE IF NOT EXISTS otel_traces" in plain.output
    bad = CliRunner().invoke(cli.main, ["schema", "--cluster", "c; DROP TABLE x"])
    assert bad.exit_code == 2 and "bad cluster name" in bad.output

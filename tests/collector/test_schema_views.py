"""A schema file that changes a view reaches a store that has the view already (schema/views.py).

On chDB and on the server backend (the ClickHouse-server fixture): the files as shipped, then
the same files with one view edited, applied again to the same store, as a newer collector
would at start-up. The cluster variant is judged by ClickHouse's parser (no cluster here).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from clew.collector.errors import SchemaError
from clew.collector.schema import apply as schema_apply
from clew.collector.schema import views
from clew.collector.schema.apply import apply_schema, schema_files, statements
from clew.collector.schema.cluster import apply_cluster_schema, cluster_statements
from clew.collector.settings import Settings
from clew.collector.store import ChdbStore, QueryResult, Store
from clew.collector.store.server import open_server_store
from tests.collector.test_schema_cluster import CLUSTER, Recorder, ast

NOW = time.time_ns()
FAILED_VIEW = "016_failed_spans.sql"
Files = list[tuple[str, str]]


def edited(old: str, new: str) -> Files:
    """The shipped files with `old` replaced by `new` in the failed-span index's file."""
    files = [(n, t.replace(old, new) if n == FAILED_VIEW else t) for n, t in schema_files()]
    assert files != schema_files(), "the edit must change the file"
    return files


def failed_span(store: Store, span_id: str) -> None:
    row = (
        f'{{"TimestampNs": {NOW}, "EndNs": {NOW + 1000}, "TraceId": "{"a" * 32}",'
        f' "SpanId": "{span_id}", "SpanName": "op", "ServiceName": "svc", "StatusCode": "Error"}}'
    )
    store.insert("clew_ingest_spans", row)


def reasons(store: Store) -> dict[str, str]:
    rows = store.query("SELECT SpanId, Reason FROM clew_failed_spans").rows
    return {str(span): str(reason) for span, reason in rows}


def with_files(monkeypatch: pytest.MonkeyPatch, files: Files) -> None:
    monkeypatch.setattr(schema_apply, "schema_files", lambda: files)


def replaces_an_edited_view(store: Store, settings: Settings, mp: pytest.MonkeyPatch) -> None:
    """The check both backends run: shipped files, then an edit of schema/016's span view."""
    failed_span(store, "1" * 16)
    with_files(mp, edited("'status',", "'status_v2',"))
    apply_schema(store, settings)  # a newer collector starting on the same store
    failed_span(store, "2" * 16)
    assert reasons(store) == {"1" * 16: "status", "2" * 16: "status_v2"}
    recorded = dict(store.query(views.RECORDED).rows)
    edited_view = views.view(next(s for s in statements(edited_file(), 7) if "spans_mv" in s))
    assert edited_view is not None and recorded[edited_view.name] == edited_view.digest
    apply_schema(store, settings)  # applied once: a second start replaces nothing
    assert dict(store.query(views.RECORDED).rows) == recorded


def edited_file() -> str:
    return dict(edited("'status',", "'status_v2',"))[FAILED_VIEW]


def test_an_edited_materialized_view_reaches_an_existing_chdb_store(
    store: Store, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    replaces_an_edited_view(store, settings, monkeypatch)


@pytest.fixture
def server(clickhouse_url: str, settings: Settings) -> Iterator[Store]:
    opened = open_server_store(clickhouse_url)
    apply_schema(opened, settings)
    yield opened
    opened.close()


def test_an_edited_materialized_view_reaches_an_existing_server_store(
    server: Store, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    replaces_an_edited_view(server, settings, monkeypatch)


def test_rows_inserted_while_a_view_is_replaced_each_reach_its_target_once(
    server: Store, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    inserted, stop = list[str](), threading.Event()

    def insert_until_stopped() -> None:
        while not stop.is_set() or len(inserted) < 20:
            span_id = f"{len(inserted) + 1:016x}"
            failed_span(server, span_id)
            inserted.append(span_id)

    writer = threading.Thread(target=insert_until_stopped)
    writer.start()
    try:
        for n in range(5):  # each start replaces the view again: MODIFY QUERY, atomic
            with_files(monkeypatch, edited("'status',", f"'status_{n}',"))
            apply_schema(server, settings)
    finally:
        stop.set()
        writer.join()
    counted = server.query("SELECT SpanId, count() FROM clew_failed_spans GROUP BY SpanId").rows
    assert {str(span): int(n) for span, n in counted} == dict.fromkeys(inserted, 1)


def extra_file(body: str) -> Files:
    return [("099_test_views.sql", body)]


TARGETS = """
CREATE TABLE IF NOT EXISTS test_source (n UInt32) ENGINE = MergeTree ORDER BY n;
CREATE TABLE IF NOT EXISTS test_target_a (n UInt32) ENGINE = MergeTree ORDER BY n;
CREATE TABLE IF NOT EXISTS test_target_b (n UInt32) ENGINE = MergeTree ORDER BY n;
"""


def test_plain_views_and_a_changed_target_are_replaced(
    store: Store, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    def apply_with(view_sql: str) -> None:
        with_files(monkeypatch, [*schema_files(), *extra_file(TARGETS + view_sql)])
        apply_schema(store, settings)

    apply_with(
        "CREATE VIEW IF NOT EXISTS test_view AS SELECT 1 AS x;\n"
        "CREATE MATERIALIZED VIEW IF NOT EXISTS test_mv TO test_target_a"
        " AS SELECT n FROM test_source"
    )
    store.command("INSERT INTO test_source VALUES (1)")
    apply_with(
        "CREATE VIEW IF NOT EXISTS test_view AS SELECT 2 AS x;\n"
        "CREATE MATERIALIZED VIEW IF NOT EXISTS test_mv TO test_target_b"
        " AS SELECT n FROM test_source"
    )
    store.command("INSERT INTO test_source VALUES (2)")
    assert store.query("SELECT x FROM test_view").rows == [(2,)]
    assert store.query("SELECT n FROM test_target_a").rows == [(1,)]
    assert store.query("SELECT n FROM test_target_b").rows == [(2,)]


def test_an_edited_view_may_read_a_column_that_a_later_file_adds(
    store: Store, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    mv = "CREATE MATERIALIZED VIEW IF NOT EXISTS test_mv TO test_target_a"
    mv += " AS SELECT {} FROM test_source"
    first = extra_file(TARGETS + mv.format("n"))
    with_files(monkeypatch, [*schema_files(), *first])
    apply_schema(store, settings)
    later = ("100_test_column.sql", "ALTER TABLE test_source ADD COLUMN IF NOT EXISTS m UInt32")
    edited_view = extra_file(TARGETS + mv.format("n + m AS n"))
    with_files(monkeypatch, [*schema_files(), *edited_view, later])
    apply_schema(store, settings)  # the view is replaced after file 100 added the column
    store.command("INSERT INTO test_source VALUES (1, 10)")
    assert store.query("SELECT n FROM test_target_a").rows == [(11,)]


def test_a_store_from_before_the_record_gets_every_view_once(
    store: Store, settings: Settings
) -> None:
    store.command("TRUNCATE TABLE clew_schema_views")  # as a store made by an older collector
    apply_schema(store, settings)
    recorded = dict(store.query(views.RECORDED).rows)
    shipped = [v for _, t in schema_files() for s in statements(t, 7) if (v := views.view(s))]
    assert recorded == {v.name: v.digest for v in shipped}


def test_every_view_of_the_files_is_replaceable_and_created_once() -> None:
    shipped = [v for _, t in schema_files() for s in statements(t, 7) if (v := views.view(s))]
    names = [v.name for v in shipped]
    assert len(names) == len(set(names)) and len(names) >= 9, names
    for created in shipped:
        assert not created.materialized or created.target, f"{created.name}: no TO table"
        assert created.replacement(created.target)  # raises SchemaError otherwise
    without_to = views.view("CREATE MATERIALIZED VIEW IF NOT EXISTS m ENGINE = Log AS SELECT 1")
    assert without_to is not None
    with pytest.raises(SchemaError, match="no TO table"):
        without_to.replacement(None)


class ClusterStore(Recorder):
    """A Recorder whose system.tables holds every view already, recorded as `recorded` says."""

    def __init__(self, parser: ChdbStore, recorded: dict[str, str]) -> None:
        super().__init__(parser)
        self.recorded = recorded

    def query(self, sql: str, parameters: Any = None, *, settings: Any = None) -> QueryResult:
        if sql == views.RECORDED:
            return QueryResult(("Name", "Digest"), list(self.recorded.items()))
        if sql == views.EXISTING:
            shipped = cluster_statements(schema_files(), CLUSTER, 7)
            found = [v for s in shipped if (v := views.view(s))]
            rows = [(v.name, f"CREATE VIEW db.{v.name} TO db.{v.target} AS x") for v in found]
            return QueryResult(("name", "create_table_query"), rows)
        return super().query(sql, parameters, settings=settings)


def test_on_a_cluster_an_edited_view_is_modified_on_every_node(
    store: ChdbStore, settings: Settings
) -> None:
    shipped = cluster_statements(schema_files(), CLUSTER, 7)
    current = {v.name: v.digest for s in shipped if (v := views.view(s))}
    stale = "clew_failed_spans_spans_mv"
    on_cluster = ClusterStore(store, {**current, stale: "an older digest"})
    apply_cluster_schema(on_cluster, settings, CLUSTER)  # type: ignore[arg-type]
    replaced = [sql for sql in on_cluster.commands if "MODIFY QUERY" in sql]
    assert len(replaced) == 1
    assert replaced[0].startswith(f"ALTER TABLE {stale} ON CLUSTER {CLUSTER} MODIFY QUERY SELECT")
    assert "FROM otel_traces_local" in replaced[0]  # the view fires where the rows land
    assert not any(sql.startswith("CREATE MATERIALIZED VIEW") for sql in on_cluster.commands)
    moved = next(v for s in shipped if (v := views.view(s)) and v.materialized)
    dropped, created = moved.replacement("another_target")  # its TO table changed
    assert dropped == f"DROP VIEW IF EXISTS {moved.name} ON CLUSTER {CLUSTER} SYNC"
    assert created == moved.statement
    ast(store, dropped)
    record = cluster_statements([("record", views.RECORD_DDL)], CLUSTER, 7)
    assert on_cluster.commands[: len(record)] == record
    assert "ReplicatedReplacingMergeTree('/clickhouse/tables/all/" in record[0]


def test_on_a_cluster_a_plain_view_reads_the_distributed_tables() -> None:
    view_sql = "CREATE VIEW IF NOT EXISTS v AS SELECT * FROM otel_traces"
    sent = cluster_statements([*schema_files(), *extra_file(view_sql)], CLUSTER, 7)
    reads = "AS SELECT * FROM otel_traces"  # the Distributed table, not otel_traces_local
    assert sent[-1] == " ".join(["CREATE VIEW IF NOT EXISTS v ON CLUSTER", CLUSTER, reads])
    created = views.view(sent[-1])
    assert created is not None
    assert created.replacement(None) == [
        " ".join(["CREATE OR REPLACE VIEW v ON CLUSTER", CLUSTER, reads])
    ]

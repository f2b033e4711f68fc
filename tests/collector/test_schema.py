"""The schema files on real chDB: tables, materialized views, retention, business keys."""

from __future__ import annotations

import json
import time
from pathlib import Path

from clew.collector.schema.apply import RETENTION_TTL, apply_schema, schema_files, statements
from clew.collector.settings import Settings
from clew.collector.store import ChdbStore, open_store

NOW = time.time_ns()


def _span(**fields: object) -> dict[str, object]:
    row: dict[str, object] = {
        "TimestampNs": NOW,
        "EndNs": NOW + 5_000,
        "TraceId": "0af7651916cd43dd8448eb211c80319c",
        "SpanId": "b7ad6b7169203331",
        "SpanName": "GET /orders",
        "SpanKind": "Server",
        "ServiceName": "shop",
        "StatusCode": "Unset",
    }
    row.update(fields)
    return row


def _insert(store: ChdbStore, table: str, *rows: dict[str, object]) -> None:
    store.insert(table, "\n".join(json.dumps(row) for row in rows))


def test_files_are_numbered_and_in_order() -> None:
    names = [name for name, _ in schema_files()]
    assert names == sorted(names)
    assert names[0].startswith("001_") and len(names) >= 6


def test_tables_have_the_exporter_columns(store: ChdbStore) -> None:
    columns = store.query(
        "SELECT name, type FROM system.columns WHERE table = {t:String} ORDER BY position",
        {"t": "otel_traces"},
    ).rows
    assert columns[:3] == [
        ("Timestamp", "DateTime64(9)"),
        ("TraceId", "String"),
        ("SpanId", "String"),
    ]
    assert ("Events.Attributes", "Array(Map(LowCardinality(String), String))") in columns
    assert ("Duration", "UInt64") in columns
    assert columns[-2:] == [
        ("ResourceAttributeItems", "Array(String)"),
        ("SpanAttributeItems", "Array(String)"),
    ]
    store.insert("clew_ingest_spans", json.dumps(_span(SpanAttributes={"k": "v", "a": "b"})))
    items = store.query("SELECT SpanAttributeItems, ResourceAttributeItems FROM otel_traces").rows
    assert items == [(["k=v", "a=b"], [])]
    keys = store.query(
        "SELECT sorting_key, partition_key FROM system.tables WHERE name = {t:String}",
        {"t": "otel_logs"},
    ).rows
    assert keys == [
        ("toStartOfFiveMinutes(Timestamp), ServiceName, Timestamp", "toDate(Timestamp)")
    ]


def test_apply_is_idempotent_and_follows_retention(settings: Settings, store: ChdbStore) -> None:
    apply_schema(store, settings)
    changed = settings.model_copy(update={"retention_days": 3})
    apply_schema(store, changed)
    engines = dict(store.query("SELECT name, engine_full FROM system.tables").rows)
    # Every table whose schema file keeps it for the retention follows the new one; the
    # overview's tables among them (a hand-kept list once forgot them).
    assert {"otel_traces", "otel_logs", "clew_service_minutes", "clew_failures"} <= set(
        RETENTION_TTL
    )
    for table in RETENTION_TTL:
        assert "toIntervalDay(3)" in engines[table], (table, engines[table])
    retained = [name for name, engine in engines.items() if "toIntervalDay(" in engine]
    assert set(retained) - set(RETENTION_TTL) <= {"clew_call_halves"}  # a fixed day: its own


def test_span_insert_fills_traces_and_lookup(store: ChdbStore) -> None:
    later = _span(SpanId="00f067aa0ba902b7", TimestampNs=NOW + 10**9, EndNs=NOW + 10**9 + 5_000)
    _insert(store, "clew_ingest_spans", _span(), later)
    rows = store.query("SELECT Timestamp, Duration FROM otel_traces ORDER BY Timestamp").rows
    assert [duration for _, duration in rows] == [5_000, 5_000]
    lookup = store.query(
        "SELECT TraceId, min(Start), max(End) FROM otel_traces_trace_id_ts GROUP BY TraceId"
    ).rows
    assert len(lookup) == 1 and lookup[0][0] == "0af7651916cd43dd8448eb211c80319c"


def test_business_keys_from_spans_and_logs(store: ChdbStore) -> None:
    _insert(store, "clew_ingest_spans", _span(SpanAttributes={"order.id": "A-1", "other": "x"}))
    _insert(
        store,
        "clew_ingest_spans",
        _span(StatusCode="Error", ServiceName="pay", SpanAttributes={"order.id": "A-1"}),
    )
    _insert(
        store,
        "clew_ingest_logs",
        {
            "TimestampNs": NOW,
            "TraceId": "11111111111111111111111111111111",
            "ServiceName": "mail",
            "SeverityNumber": 9,
            "LogAttributes": {"customer.id": "C-7"},
        },
    )
    found = store.query(
        "SELECT TraceId, max(HasError), arraySort(groupUniqArrayArray(Services))"
        " FROM clew_business_keys WHERE Key = {key:String} AND Value = {value:String}"
        " GROUP BY TraceId",
        {"key": "order.id", "value": "A-1"},
    ).rows
    assert found == [("0af7651916cd43dd8448eb211c80319c", 1, ["pay", "shop"])]
    by_log = store.query(
        "SELECT TraceId, max(HasError) FROM clew_business_keys WHERE Key = 'customer.id'"
        " GROUP BY TraceId"
    ).rows
    assert by_log == [("11111111111111111111111111111111", 0)]
    unindexed = store.query("SELECT count() FROM clew_business_keys WHERE Key = 'other'").rows
    assert unindexed == [(0,)]


def test_span_links_side_table(store: ChdbStore) -> None:
    linked = "22222222222222222222222222222222"
    _insert(
        store,
        "clew_ingest_spans",
        _span(
            LinksTraceId=[linked, ""],
            LinksSpanId=["1111111111111111", ""],
            LinksTraceState=["", ""],
            LinksAttributes=[{"messaging.system": "kafka"}, {}],
        ),
    )
    edges = store.query(
        "SELECT LinkedSpanId, TraceId, SpanId, ServiceName, Attributes FROM clew_span_links"
        " WHERE LinkedTraceId = {trace_id:String}",
        {"trace_id": linked},
    ).named()
    assert edges == [
        {
            "LinkedSpanId": "1111111111111111",
            "TraceId": "0af7651916cd43dd8448eb211c80319c",
            "SpanId": "b7ad6b7169203331",
            "ServiceName": "shop",
            "Attributes": {"messaging.system": "kafka"},
        }
    ]
    assert store.query("SELECT count() FROM clew_span_links").rows == [(1,)]


def test_data_survives_reopen(settings: Settings, store: ChdbStore, tmp_path: Path) -> None:
    _insert(store, "clew_ingest_spans", _span())
    store.close()
    reopened = open_store(settings)
    try:
        apply_schema(reopened, settings)
        assert reopened.query("SELECT count() FROM otel_traces").rows == [(1,)]
    finally:
        reopened.close()


MERGE_TREES = (
    "SELECT name, engine_full, metadata_modification_time FROM system.tables"
    " WHERE database = currentDatabase() AND engine LIKE '%MergeTree' ORDER BY name"
)


def test_the_embedded_store_writes_small_parts_as_one_file(settings: Settings) -> None:
    # A store whose tables were made before the setting (the schema files alone), then opened
    # by this clew: every table takes it, once.
    store = ChdbStore(settings.data_dir)
    try:
        for _name, text in schema_files():
            for statement in statements(text, settings.retention_days):
                store.command(statement)
        before = store.query(MERGE_TREES).rows
        assert before and not any("min_bytes_for_full_part_storage" in row[1] for row in before)
        apply_schema(store, settings)
        tables = store.query(MERGE_TREES).rows
        assert {row[0] for row in before} < {row[0] for row in tables}  # and clew_schema_views
        assert all("min_bytes_for_full_part_storage = 10485760" in row[1] for row in tables)
        time.sleep(1.1)  # metadata times are in seconds: a second ALTER would show
        apply_schema(store, settings)
        assert store.query(MERGE_TREES).rows == tables

        _insert(store, "clew_ingest_spans", _span())
        parts = store.query(
            "SELECT table, part_storage_type FROM system.parts"
            " WHERE database = currentDatabase() AND active AND table IN ('otel_traces',"
            " 'clew_business_keys', 'otel_traces_trace_id_ts')"
        ).rows
        assert sorted(parts) == [
            ("otel_traces", "Packed"),
            ("otel_traces_trace_id_ts", "Packed"),
        ]
        assert [file.name for file in settings.data_dir.rglob("data.packed")]
        assert store.query("SELECT SpanName FROM otel_traces").rows == [("GET /orders",)]
    finally:
        store.close()

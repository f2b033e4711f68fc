"""The store's behaviour, the same on both backends: embedded chDB and a ClickHouse server.

The server is tests/support/clickhouse_http.py's stand-in, reached through clickhouse-connect
exactly as a real server would be; each test runs once per backend and expects the same rows.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from clew.collector.errors import StoreError
from clew.collector.schema import views
from clew.collector.schema.apply import apply_schema, schema_files
from clew.collector.settings import Settings
from clew.collector.store import ChdbStore, Store, open_store
from clew.collector.store.server import ServerStore

SECOND = int(time.time()) - 60
T0 = SECOND * 10**9 + 123_456_789
TRACE, LINKED = "5b8efff798038103d269b633813fc60c", "22222222222222222222222222222222"
CREATED = re.compile(r"CREATE (?:TABLE|MATERIALIZED VIEW) IF NOT EXISTS (\w+)")
HOSTILE = [
    "plain", "quote ' here", 'double " quote', "back\\slash", "tab\tand\nnewline\r",
    "\\N", "NULL", "ünï 🧵", "'; DROP TABLE otel_traces; --", "{v:String}", "nul\0byte",
    "x" * 5000,  # long enough for clickhouse-connect to send parameters as a form
]  # fmt: skip


def text_time(ns: int) -> str:
    """ClickHouse's text form of a DateTime64(9) in UTC."""
    stamp = datetime.fromtimestamp(ns // 10**9, UTC).strftime("%Y-%m-%d %H:%M:%S")
    return f"{stamp}.{ns % 10**9:09d}"


@pytest.fixture(params=["embedded", "server"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """An open store with the schema applied, chosen by settings as `clew` chooses it."""
    url = request.getfixturevalue("clickhouse_url") if request.param == "server" else None
    settings = Settings(
        data_dir=tmp_path / "data", clickhouse_url=url, business_keys=["order.id", "customer.id"]
    )
    store = open_store(settings)
    assert isinstance(store, ServerStore if url else ChdbStore)
    apply_schema(store, settings)
    yield store
    store.close()


def span(**fields: Any) -> dict[str, Any]:
    """An ingest row with every column set."""
    row: dict[str, Any] = {
        "TimestampNs": T0,
        "EndNs": T0 + 1_500_000,
        "TraceId": TRACE,
        "SpanId": "eee19b7ec3c1b174",
        "ParentSpanId": "eee19b7ec3c1b173",
        "TraceState": "k=v",
        "SpanName": "GET /orders/{id}",
        "SpanKind": "Server",
        "ServiceName": "shop",
        "ResourceAttributes": {"service.name": "shop", "host.name": "h'1"},
        "ScopeName": "clew.test",
        "ScopeVersion": "1.0",
        "SpanAttributes": {"order.id": "A-1", "http.status_code": "500"},
        "StatusCode": "Error",
        "StatusMessage": "boom\ttab",
        "EventsTimestampNs": [T0 + 1_000],
        "EventsName": ["exception"],
        "EventsAttributes": [{"exception.type": "ValueError"}],
        "LinksTraceId": [LINKED],
        "LinksSpanId": ["1111111111111111"],
        "LinksTraceState": [""],
        "LinksAttributes": [{"messaging.system": "kafka"}],
    }
    row.update(fields)
    return row


def log(**fields: Any) -> dict[str, Any]:
    """A log ingest row with every column set."""
    row: dict[str, Any] = {
        "TimestampNs": T0 + 2_000,
        "TraceId": TRACE,
        "SpanId": "eee19b7ec3c1b174",
        "TraceFlags": 1,
        "SeverityText": "ERROR",
        "SeverityNumber": 17,
        "ServiceName": "mail",
        "Body": 'could not send: "quota"\n',
        "ResourceSchemaUrl": "https://opentelemetry.io/schemas/1.21.0",
        "ResourceAttributes": {"service.name": "mail"},
        "ScopeSchemaUrl": "",
        "ScopeName": "mailer",
        "ScopeVersion": "2",
        "ScopeAttributes": {"a": "b"},
        "LogAttributes": {"customer.id": "C-7"},
        "EventName": "mail.failed",
    }
    row.update(fields)
    return row


def test_schema_is_applied(backend: Store) -> None:
    names = backend.query("SELECT name FROM system.tables WHERE database = currentDatabase()").rows
    declared = {name for _, text in schema_files() for name in CREATED.findall(text)}
    declared.add(views.RECORD)  # the record of the views' statements (schema/views.py)
    assert {name for (name,) in names} == declared and "otel_traces" in declared
    engines = dict(
        backend.query(
            "SELECT name, engine FROM system.tables WHERE database = currentDatabase()"
            " AND name IN {names:Array(String)}",
            {"names": ["otel_traces", "clew_business_keys", "clew_ingest_spans"]},
        ).rows
    )
    assert engines == {
        "otel_traces": "MergeTree",
        "clew_business_keys": "AggregatingMergeTree",
        "clew_ingest_spans": "Null",
    }


def test_every_span_column_round_trips(backend: Store) -> None:
    backend.insert("clew_ingest_spans", json.dumps([span()]))
    (row,) = backend.query("SELECT * FROM otel_traces").named()
    sent = span()
    renamed = {"EventsName": "Events.Name", "EventsAttributes": "Events.Attributes"}
    renamed.update(
        {
            f"Links{part}": f"Links.{part}"
            for part in ("TraceId", "SpanId", "TraceState", "Attributes")
        }
    )
    expected = {renamed.get(key, key): value for key, value in sent.items() if "Ns" not in key}
    assert row == {
        **expected,
        "Timestamp": text_time(T0),
        "Duration": 1_500_000,
        "Events.Timestamp": [text_time(T0 + 1_000)],
    }
    assert list(row)[:3] == ["Timestamp", "TraceId", "SpanId"]


def test_every_log_column_round_trips(backend: Store) -> None:
    backend.insert("clew_ingest_logs", json.dumps([log()]))
    (row,) = backend.query("SELECT *, TimestampTime FROM otel_logs").named()
    expected = {key: value for key, value in log().items() if key != "TimestampNs"}
    assert row == {
        "Timestamp": text_time(T0 + 2_000),
        **expected,
        "TimestampTime": text_time(T0)[:19],
    }


def test_views_fill_the_side_tables(backend: Store) -> None:
    later = span(SpanId="00f067aa0ba902b7", TimestampNs=T0 + 10**9, EndNs=T0 + 10**9 + 5)
    backend.insert("clew_ingest_spans", json.dumps([span(), later]))
    backend.insert("clew_ingest_logs", json.dumps([log(TraceId=LINKED, SeverityNumber=9)]))
    keys = backend.query(
        "SELECT Key, Value, TraceId, min(FirstSeen), max(LastSeen), max(HasError),"
        " arraySort(groupUniqArrayArray(Services)) FROM clew_business_keys"
        " GROUP BY Key, Value, TraceId ORDER BY Key"
    ).rows
    assert keys == [
        ("customer.id", "C-7", LINKED, text_time(T0 + 2_000), text_time(T0 + 2_000), 0, ["mail"]),
        ("order.id", "A-1", TRACE, text_time(T0), text_time(T0 + 10**9), 1, ["shop"]),
    ]
    links = backend.query(
        "SELECT LinkedSpanId, SpanId, Timestamp, Attributes FROM clew_span_links"
        " WHERE LinkedTraceId = {trace_id:String} ORDER BY SpanId",
        {"trace_id": LINKED},
    ).rows
    assert links == [
        (
            "1111111111111111",
            "00f067aa0ba902b7",
            text_time(T0 + 10**9),
            {"messaging.system": "kafka"},
        ),
        ("1111111111111111", "eee19b7ec3c1b174", text_time(T0), {"messaging.system": "kafka"}),
    ]
    lookup = backend.query(
        "SELECT TraceId, min(Start), max(End) FROM otel_traces_trace_id_ts GROUP BY TraceId"
    ).rows
    assert lookup == [(TRACE, text_time(T0)[:19], text_time(T0 + 10**9)[:19])]


def test_hostile_strings_are_parameters_not_sql(backend: Store) -> None:
    for value in HOSTILE:
        assert backend.query("SELECT {v:String} AS v", {"v": value}).rows == [(value,)]
    rows = [span(SpanId=f"{n:016x}", SpanAttributes={"order.id": v}) for n, v in enumerate(HOSTILE)]
    backend.insert("clew_ingest_spans", json.dumps(rows))
    for value in HOSTILE:
        found = backend.query(
            "SELECT TraceId FROM clew_business_keys"
            " WHERE Key = {key:String} AND Value = {value:String}",
            {"key": "order.id", "value": value},
        ).rows
        assert found == [(TRACE,)], value
    assert backend.query("SELECT count() FROM otel_traces").rows == [(len(HOSTILE),)]


def test_typed_parameters(backend: Store) -> None:
    moment = datetime(2026, 1, 2, 3, 4, 5, 6)
    result = backend.query(
        "SELECT {n:UInt64} AS n, {i:Int64} AS i, {f:Float64} AS f, {b:Bool} AS b,"
        " {t:DateTime64(9)} AS t, {d:Date} AS d, {xs:Array(String)} AS xs,"
        " {m:Map(String, String)} AS m, {ns:Nullable(String)} AS ns",
        {
            "n": 2**64 - 1, "i": -(2**63), "f": 1.5, "b": True, "t": moment, "d": moment.date(),
            "xs": ["a", "b'c", "tab\there"], "m": {"k'": "v\n"}, "ns": None,
        },
    )  # fmt: skip
    assert result.named() == [
        {
            "n": 2**64 - 1, "i": -(2**63), "f": 1.5, "b": True,
            "t": "2026-01-02 03:04:05.000006000", "d": "2026-01-02",
            "xs": ["a", "b'c", "tab\there"], "m": {"k'": "v\n"}, "ns": None,
        }
    ]  # fmt: skip


def test_settings_apply_to_one_query(backend: Store) -> None:
    empty = backend.query("SELECT number FROM numbers(10) WHERE 0", settings={"max_threads": 1})
    assert empty.column_names == ("number",) and empty.rows == []
    limited = {"max_result_rows": 20, "result_overflow_mode": "break"}
    assert len(backend.query("SELECT number FROM numbers(10)", settings=limited).rows) == 10
    with pytest.raises(StoreError, match="TOO_MANY_ROWS"):
        backend.query("SELECT number FROM numbers(10)", settings={"max_result_rows": 2})


@pytest.mark.parametrize(
    ("sql", "parameters", "message"),
    [
        ("SELECT * FROM no_such_table", None, "UNKNOWN_TABLE"),
        ("SELEC 1", None, "SYNTAX_ERROR"),
        ("SELECT {n:UInt8}", {"n": "not a number"}, "BAD_QUERY_PARAMETER"),
    ],
)
def test_errors_are_store_errors(
    backend: Store, sql: str, parameters: dict[str, Any] | None, message: str
) -> None:
    with pytest.raises(StoreError, match=message):
        backend.query(sql, parameters)


def test_insert_takes_a_deduplication_token(backend: Store) -> None:
    backend.insert("clew_ingest_spans", json.dumps([span()]), token="batch-1")
    backend.insert("clew_ingest_logs", json.dumps([log()]), "JSONEachRow", token=None)
    assert backend.query("SELECT count() FROM otel_traces").rows == [(1,)]
    assert backend.query("SELECT count() FROM otel_logs").rows == [(1,)]


def test_bad_inserts_are_store_errors_and_store_nothing(backend: Store) -> None:
    with pytest.raises(StoreError):
        backend.insert("clew_ingest_spans", '[{"TimestampNs": "not a number"}]')
    with pytest.raises(StoreError):
        backend.insert("bad name;", "{}")
    with pytest.raises(StoreError):
        backend.command("ALTER TABLE no_such_table DELETE WHERE 1")
    assert backend.query("SELECT count() FROM otel_traces").rows == [(0,)]


def test_closed_store_refuses(backend: Store) -> None:
    backend.close()
    with pytest.raises(StoreError, match="closed"):
        backend.query("SELECT 1")

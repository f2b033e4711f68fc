"""The server backend's own behaviour: its URL, deduplicated retries, Native inserts, failures.

Through clickhouse-connect against tests/support/clickhouse_http.py's stand-in server.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest
from clickhouse_connect.driver.exceptions import OperationalError
from urllib3.exceptions import InsecureRequestWarning

from clew.collector import decode
from clew.collector.errors import StoreError
from clew.collector.schema.apply import apply_schema
from clew.collector.settings import Settings
from clew.collector.store import open_store
from clew.collector.store.server import ServerStore, dedup_token, open_server_store, parse_url
from tests.support.clickhouse_http import FakeClickHouse
from tests.support.ports import free_port

from .fixtures import scalar_trace_request, trace_request

DEDUP_TABLE = (
    "CREATE TABLE {name} (Id UInt64, Name String) ENGINE = MergeTree ORDER BY Id"
    " SETTINGS non_replicated_deduplication_window = 100"
)


@pytest.fixture
def server(clickhouse_url: str) -> Iterator[ServerStore]:
    store = open_server_store(clickhouse_url)
    yield store
    store.close()


def test_url_parts_and_defaults() -> None:
    address = parse_url("https://ops:s%40cret%3A1@ch.example:9443/traces?cluster=main")
    assert (address.interface, address.host, address.port) == ("https", "ch.example", 9443)
    assert (address.username, address.password, address.database) == ("ops", "s@cret:1", "traces")
    assert address.cluster == "main" and address.verify
    plain = parse_url("http://db.internal")
    assert (plain.port, plain.username, plain.password, plain.database) == (
        8123,
        "default",
        "",
        "default",
    )
    assert parse_url("https://h/x?verify=false").port == 8443
    assert not parse_url("https://h/x?verify=false").verify
    assert "s@cret" not in repr(address)


@pytest.mark.parametrize(
    "url",
    [
        "clickhouse://h:9000/db",
        "http:///db",
        "http://h:99999/db",
        "http://h/db;drop",
        "http://h/db?cluster=a%20b",
        "http://h/db?compression=zstd",
    ],
)
def test_bad_urls_are_refused(url: str) -> None:
    with pytest.raises(StoreError, match="CLEW_CLICKHOUSE_URL"):
        parse_url(url)
    with pytest.raises(StoreError) as caught:
        parse_url(url.replace("//", "//user:hunter2@", 1))
    assert "hunter2" not in str(caught.value)


def test_open_store_follows_clickhouse_url(clickhouse_url: str, tmp_path: Path) -> None:
    store = open_store(Settings(data_dir=tmp_path, clickhouse_url=clickhouse_url))
    try:
        assert isinstance(store, ServerStore)
        assert store.query("SELECT currentDatabase()").rows == [
            (parse_url(clickhouse_url).database,)
        ]
    finally:
        store.close()


def test_settings_never_show_the_password(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with_password = "http://clew:s3cret-pw@127.0.0.1:8123/clew"
    monkeypatch.setenv("CLEW_CLICKHOUSE_URL", with_password)
    settings = Settings(data_dir=tmp_path)
    shown = [
        repr(settings),
        str(settings),
        settings.model_dump_json(),
        f"{settings.clickhouse_url}",
    ]
    assert all("s3cret-pw" not in text for text in shown)
    assert settings.clickhouse_url is not None
    assert settings.clickhouse_url.get_secret_value() == with_password


def test_retried_insert_is_stored_once(server: ServerStore) -> None:
    server.command(DEDUP_TABLE.format(name="dedup"))
    rows = json.dumps([{"Id": 1, "Name": "a"}, {"Id": 2, "Name": "b"}])
    server.insert("dedup", rows)
    server.insert("dedup", rows)  # what the writer does after a lost acknowledgement
    assert server.query("SELECT count() FROM dedup").rows == [(2,)]


def test_retry_through_a_null_table_is_stored_once_behind_its_view(server: ServerStore) -> None:
    server.command(DEDUP_TABLE.format(name="dedup"))
    server.command("CREATE TABLE ingest (Id UInt64, Name String) ENGINE = Null")
    server.command("CREATE MATERIALIZED VIEW ingest_mv TO dedup AS SELECT * FROM ingest")
    rows = json.dumps([{"Id": 7, "Name": "seven"}])
    server.insert("ingest", rows)
    server.insert("ingest", rows)
    assert server.query("SELECT Id FROM dedup").rows == [(7,)]


def test_the_token_decides_not_the_block(server: ServerStore) -> None:
    server.command(DEDUP_TABLE.format(name="dedup"))
    rows = json.dumps([{"Id": 1, "Name": "a"}])
    server.insert("dedup", rows, token="partition-0:offsets-0-9")
    server.insert("dedup", rows, token="partition-0:offsets-10-19")  # same rows, new batch
    server.insert("dedup", json.dumps([{"Id": 3, "Name": "c"}]), token="partition-0:offsets-0-9")
    assert server.query("SELECT Id FROM dedup ORDER BY Id").rows == [(1,), (1,)]


def test_token_is_a_digest_of_table_format_and_rows() -> None:
    assert dedup_token("t", "JSONEachRow", b"[1]") == dedup_token("t", "JSONEachRow", b"[1]")
    assert dedup_token("t", "JSONEachRow", b"[1]") != dedup_token("u", "JSONEachRow", b"[1]")
    assert dedup_token("t", "JSONEachRow", b"[1]") != dedup_token("t", "JSONEachRow", b"[2]")


def test_native_column_inserts(server: ServerStore) -> None:
    server.command(
        "CREATE TABLE native (Id UInt64, Name LowCardinality(String), Tags Map(String, String),"
        " At DateTime64(9), Xs Array(String)) ENGINE = MergeTree ORDER BY Id"
    )
    at = [datetime(2023, 11, 14, 22, 13, 20, 5, tzinfo=UTC), datetime(2023, 11, 14, 22, 13, 21)]
    columns: list[list[Any]] = [[1, 2], ["a", "b'"], [{"k": "v"}, {}], list(at), [["x"], []]]
    server.insert_columns("native", ["Id", "Name", "Tags", "At", "Xs"], columns, token="t-1")
    assert server.query("SELECT * FROM native ORDER BY Id").rows == [
        (1, "a", {"k": "v"}, "2023-11-14 22:13:20.000005000", ["x"]),
        (2, "b'", {}, "2023-11-14 22:13:21.000000000", []),
    ]
    with pytest.raises(StoreError):
        server.insert_columns("native", ["Id"], [])


def test_wrong_password_is_a_clear_store_error(clickhouse_http: FakeClickHouse) -> None:
    url = f"http://clew:wrong-secret@127.0.0.1:{clickhouse_http.port}/default"
    with pytest.raises(StoreError, match="AUTHENTICATION_FAILED") as caught:
        open_server_store(url)
    assert "wrong-secret" not in str(caught.value)


def test_unreachable_server_is_a_store_error() -> None:
    with pytest.raises(StoreError, match="cannot connect"):
        open_server_store(f"http://clew:x@127.0.0.1:{free_port()}/default")


def test_server_going_away_is_a_store_error(
    server: ServerStore, clickhouse_http: FakeClickHouse
) -> None:
    """It stops the session's server, then starts it again on the same port and folder."""
    clickhouse_http.stop()
    try:
        with pytest.raises(StoreError):
            server.query("SELECT 1")
        with pytest.raises(StoreError):
            server.insert("dedup", "{}")
    finally:
        clickhouse_http.start()
    assert server.query("SELECT 1 AS one").rows == [(1,)]


@pytest.fixture
def with_schema(server: ServerStore, tmp_path: Path) -> ServerStore:
    # The OTLP fixtures are dated 2023: a long retention keeps their rows.
    apply_schema(
        server, Settings(data_dir=tmp_path, business_keys=["order.id"], retention_days=3650)
    )
    return server


def test_fast_span_path_writes_what_the_python_path_writes(with_schema: ServerStore) -> None:
    store = with_schema
    scalar = scalar_trace_request().SerializeToString()
    nested_request = trace_request()
    del nested_request.resource_spans[0].scope_spans[0].spans[6:]
    assert store.insert_otlp_traces([scalar, nested_request.SerializeToString()]) == [1]
    read = (
        "SELECT * EXCEPT (Timestamp), toUnixTimestamp64Nano(Timestamp) AS ns"
        " FROM otel_traces ORDER BY SpanId, ServiceName"
    )
    fast = store.query(read).named()
    keys = store.query("SELECT Key, Value, HasError FROM clew_business_keys").rows
    assert keys == [("order.id", "A-1", 1)]
    store.command("TRUNCATE TABLE otel_traces")
    store.insert("clew_ingest_spans", orjson.dumps(decode.spans_as_rows(scalar)).decode())
    assert len(fast) == 7 and fast == store.query(read).named()


def test_https_with_and_without_certificate_checks(clickhouse_https: FakeClickHouse) -> None:
    url = clickhouse_https.url
    assert url.startswith("https://")
    # urllib3 warns about every unverified request: the user asked for it, and sees it.
    with pytest.warns(InsecureRequestWarning):
        store = open_server_store(url + "?verify=false")
        try:
            assert store.query("SELECT {v:String} AS v", {"v": "tls"}).rows == [("tls",)]
        finally:
            store.close()
    with pytest.raises(StoreError, match="cannot connect"):
        open_server_store(url)  # self-signed: refused while certificates are checked


def test_one_store_serves_many_threads(server: ServerStore) -> None:
    def ask(n: int) -> list[tuple[int, str]]:
        return [
            server.query(
                "SELECT {n:UInt32} AS n, {s:String} AS s", {"n": n, "s": f"t{n}-{i}"}
            ).rows[0]
            for i in range(10)
        ]

    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(ask, range(16)))
    assert answers == [[(n, f"t{n}-{i}") for i in range(10)] for n in range(16)]


def test_servers_without_string_schemas_leave_every_request_to_python(
    with_schema: ServerStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = dict(with_schema._client.server_settings)  # type: ignore[union-attr]
    del settings["format_schema_source"]
    monkeypatch.setattr(with_schema._client, "server_settings", settings)
    assert with_schema.insert_otlp_traces([b"any", b"thing"]) == [0, 1]
    assert with_schema.query("SELECT count() FROM otel_traces").rows == [(0,)]


def test_fast_span_path_retried_after_a_lost_answer_is_stored_once(
    with_schema: ServerStore,
) -> None:
    store = with_schema
    request = scalar_trace_request().SerializeToString()
    assert store.insert_otlp_traces([request]) == []
    assert store.insert_otlp_traces([request]) == []  # the writer's retry: the same bytes
    counts = store.query("SELECT SpanId, count() FROM otel_traces GROUP BY SpanId").rows
    assert counts and all(n == 1 for _, n in counts), counts


def test_fast_span_path_is_done_once_its_insert_answered(
    with_schema: ServerStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A clean-up that fails after the INSERT (the server going away) is not a failed batch:
    the writer would send the batch again, and a retried INSERT ... SELECT is not always
    recognised as the same blocks."""
    store = with_schema
    client = store._client
    assert client is not None
    command = client.command

    def dropping_fails(sql: str, *args: Any, **kwargs: Any) -> Any:
        if sql.startswith("DROP TEMPORARY TABLE"):
            raise OperationalError("Server is shutting down. (ABORTED)")
        return command(sql, *args, **kwargs)

    monkeypatch.setattr(client, "command", dropping_fails)
    assert store.insert_otlp_traces([scalar_trace_request().SerializeToString()]) == []
    assert store.query("SELECT count() FROM otel_traces").rows == [(7,)]

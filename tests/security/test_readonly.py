"""The UI's store: read-only and bounded on both backends; its refusals are clear pages."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from clew.collector.schema.apply import apply_schema
from clew.collector.settings import Settings
from clew.collector.store import ChdbStore, Store, open_store
from clew.collector.store.server import open_server_store
from clew.query_ui.app import create_app
from clew.query_ui.errors import QueryLimitError, ReadOnlyError, RowLimitError
from clew.query_ui.readonly import ReadOnlyStore
from clew.query_ui.settings import Settings as UISettings
from tests.query_ui.shop import Shop, write_shop
from tests.security.conftest import UI_TOKEN

BEARER = {"Authorization": f"Bearer {UI_TOKEN}"}
WRITES = [
    "INSERT INTO otel_logs SELECT * FROM otel_logs",
    "ALTER TABLE otel_logs DELETE WHERE 1",
    "DROP TABLE otel_logs",
    "CREATE TABLE clew_evil (a Int8) ENGINE = Memory",
    "TRUNCATE TABLE otel_logs",
]


def _logs(store: Store) -> int:
    return int(store.query("SELECT count() FROM otel_logs").rows[0][0])


def _check_read_only(store: Store) -> None:
    ui = ReadOnlyStore(store, max_execution_time=5, max_result_rows=1000)
    before = _logs(store)
    assert before > 0
    for statement in WRITES:
        with pytest.raises(ReadOnlyError, match="read-only"):
            ui.query(statement)
    with pytest.raises(ReadOnlyError):
        ui.command("DROP TABLE otel_logs")
    with pytest.raises(ReadOnlyError):
        ui.insert("otel_logs", "{}")
    assert _logs(ui) == before  # reads still work, and nothing changed
    assert _logs(store) == before


def test_writes_through_the_ui_store_are_refused_embedded(
    shop_store: tuple[UISettings, ChdbStore, Shop],
) -> None:
    _check_read_only(shop_store[1])


@pytest.fixture
def server_store(clickhouse_url: str, tmp_path: Path) -> Iterator[Store]:
    settings = Settings(data_dir=tmp_path / "unused", clickhouse_url=clickhouse_url)
    store = open_store(settings)
    try:
        apply_schema(store, settings)
        write_shop(store)
        yield store
    finally:
        store.close()


def test_writes_through_the_ui_store_are_refused_on_a_server(server_store: Store) -> None:
    _check_read_only(server_store)


@pytest.mark.parametrize("backend", ["embedded", "server"])
def test_time_and_row_limits_stop_queries_with_clear_errors(
    backend: str, request: pytest.FixtureRequest
) -> None:
    if backend == "embedded":
        store: Store = request.getfixturevalue("shop_store")[1]
    else:
        store = request.getfixturevalue("server_store")
    ui = ReadOnlyStore(store, max_execution_time=0.5, max_result_rows=5)
    with pytest.raises(QueryLimitError, match=r"time limit of 0\.5 s \(CLEW_UI_MAX_EXECUTION_TIME"):
        ui.query("SELECT count() FROM numbers(1000000000000) WHERE sipHash64(number) = 0")
    with pytest.raises(RowLimitError, match="limit of 5 rows"):
        ui.query("SELECT number FROM numbers(100)")
    assert len(ui.query("SELECT number FROM numbers(5)").rows) == 5
    # A query's own tighter limits stay as they are (the search relies on 'break').
    own = {"max_execution_time": 0.1, "timeout_overflow_mode": "break"}
    assert ui.settings(own) == own | {"max_result_rows": 5, "result_overflow_mode": "throw"} | {
        "readonly": 2
    }


def test_limits_reach_the_user_as_pages_and_json_not_500(
    shop_store: tuple[UISettings, ChdbStore, Shop], shop: Shop
) -> None:
    settings, store, _ = shop_store
    tight = settings.model_copy(update={"ui_max_result_rows": 2})
    with TestClient(create_app(tight, store)) as client:
        api = client.get(f"/api/traces/{shop.failed_trace}", headers=BEARER)
        assert api.status_code == 422
        assert api.json() == {
            "error": "Query row limit reached",
            "detail": "the result passed the UI's limit of 2 rows (CLEW_UI_MAX_RESULT_ROWS); "
            "narrow the time range or add filters",
        }
        page = client.get(f"/traces/{shop.failed_trace}", headers=BEARER)
        assert page.status_code == 422 and "CLEW_UI_MAX_RESULT_ROWS" in page.text
        assert "<html" in page.text.lower()


def test_the_ui_reads_through_its_own_connection(
    server_store: Store, clickhouse_url: str, tmp_path: Path
) -> None:
    # The main store is closed: the UI answers through CLEW_UI_CLICKHOUSE_URL's connection.
    settings = UISettings(ui_clickhouse_url=clickhouse_url)
    closed = open_server_store(clickhouse_url)
    closed.close()
    with TestClient(create_app(settings, closed)) as client:
        found = client.get("/api/traces", params={"service": "checkout", "lookback": "30d"})
        assert found.status_code == 200 and found.json()["traces"]


def test_the_time_ceiling_reaches_the_user_as_a_504(
    shop_store: tuple[UISettings, ChdbStore, Shop], shop: Shop
) -> None:
    settings, store, _ = shop_store
    # A ceiling far below the queries' own 10 s: ClickHouse stops them, with 'throw'.
    tight = settings.model_copy(update={"ui_max_execution_time": 1e-6})
    with TestClient(create_app(tight, store)) as client:
        api = client.get(f"/api/traces/{shop.failed_trace}", headers=BEARER)
        assert api.status_code == 504, api.text
        assert "time limit of 1e-06 s (CLEW_UI_MAX_EXECUTION_TIME)" in api.json()["detail"]
        page = client.get("/search", params={"lookback": "30d"}, headers=BEARER)
        assert page.status_code == 504 and "CLEW_UI_MAX_EXECUTION_TIME" in page.text

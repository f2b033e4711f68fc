"""The embedded store: typed parameters, result shapes, errors, closing."""

from __future__ import annotations

import threading
import time
from datetime import date, datetime, timedelta, timezone

import pytest

from clew.collector.errors import StoreError
from clew.collector.store import ChdbStore


@pytest.mark.parametrize(
    "value", ["plain", "quote ' here", "back\\slash", "tab\tand\nnewline", "\\N", "ünï"]
)
def test_string_parameters_round_trip(store: ChdbStore, value: str) -> None:
    assert store.query("SELECT {v:String} AS v", {"v": value}).rows == [(value,)]


def test_typed_parameters(store: ChdbStore) -> None:
    result = store.query(
        "SELECT {n:UInt64} AS n, {xs:Array(String)} AS xs,"
        " {t:DateTime64(9)} AS t, {f:Float64} AS f",
        {"n": 2**63, "xs": ["a", "b'c"], "t": datetime(2026, 1, 2, 3, 4, 5, 6), "f": 1.5},
    )
    assert result.named() == [
        {"n": 2**63, "xs": ["a", "b'c"], "t": "2026-01-02 03:04:05.000006000", "f": 1.5}
    ]


def test_settings_and_empty_result(store: ChdbStore) -> None:
    result = store.query("SELECT number FROM numbers(10) WHERE 0", settings={"max_threads": 1})
    assert result.column_names == ("number",) and result.rows == []


def test_errors_are_store_errors(store: ChdbStore) -> None:
    with pytest.raises(StoreError, match="UNKNOWN_TABLE"):
        store.query("SELECT * FROM no_such_table")
    with pytest.raises(StoreError):
        store.insert("bad name;", "{}")


def test_closed_store_refuses(store: ChdbStore) -> None:
    store.close()
    with pytest.raises(StoreError, match="closed"):
        store.query("SELECT 1")


def test_nested_strings_with_escapes(store: ChdbStore) -> None:
    values = ["tab\there", "new\nline", "q'uote", "back\\slash"]
    assert store.query("SELECT {xs:Array(String)}", {"xs": values}).rows == [(values,)]


def test_a_failed_query_leaves_nothing_for_the_next(store: ChdbStore) -> None:
    # chDB hands the output of a query that failed part-way to the next query on the session.
    with pytest.raises(StoreError, match="TOO_MANY_ROWS"):
        store.query(
            "SELECT number FROM numbers(10)", settings={"max_result_rows": 2, "max_block_size": 1}
        )
    assert store.query("SELECT 42 AS x").named() == [{"x": 42}]
    with pytest.raises(StoreError):
        store.command("INSERT INTO otel_logs (Timestamp) VALUES ('not a time')")
    assert store.query("SELECT count() AS n FROM otel_logs").named() == [{"n": 0}]


def test_datetimes_bind_to_datetime_and_datetime64(store: ChdbStore) -> None:
    whole, fraction = datetime(2026, 1, 2, 3, 4, 5), datetime(2026, 1, 2, 3, 4, 5, 120000)
    paris = datetime(2026, 1, 2, 4, 4, 5, tzinfo=timezone(timedelta(hours=1)))
    result = store.query(
        "SELECT {a:DateTime} AS a, {b:Array(DateTime)} AS b, {c:DateTime64(3)} AS c,"
        " {d:DateTime} AS d, toString({e:Date}) AS e",
        {"a": whole, "b": [whole, paris], "c": fraction, "d": paris, "e": date(2026, 1, 2)},
    )
    assert result.named() == [
        {
            "a": "2026-01-02 03:04:05",
            "b": ["2026-01-02 03:04:05", "2026-01-02 03:04:05"],
            "c": "2026-01-02 03:04:05.120",
            "d": "2026-01-02 03:04:05",
            "e": "2026-01-02",
        }
    ]


def test_reads_run_side_by_side_and_close_waits_for_them(store: ChdbStore) -> None:
    # Two slow SELECTs from two threads are both under way at once (each has a reader session
    # of its own), beside a write; close() lets them finish, then refuses further reads.
    slow = "SELECT sum(sleepEachRow(0.05)) AS side_by_side_probe FROM numbers(40)"
    results: list[object] = []

    def read() -> None:
        results.append(store.query(slow).rows[0][0])

    threads = [threading.Thread(target=read) for _ in range(2)]
    for thread in threads:
        thread.start()
    running = 0
    for _ in range(400):  # until both are seen running, or the reads have ended
        store.command("CREATE TABLE IF NOT EXISTS side_by_side (n UInt8) ENGINE = Memory")
        running = store.query(
            "SELECT count() FROM system.processes WHERE query LIKE {m:String}"
            " AND query NOT LIKE '%system.processes%'",
            {"m": "%side_by_side_probe%"},
        ).rows[0][0]
        if running == 2 or not any(t.is_alive() for t in threads):
            break
        time.sleep(0.005)
    assert running == 2
    store.close()  # waits for both reads
    assert results == [0, 0]
    for thread in threads:
        thread.join()
    with pytest.raises(StoreError, match="closed"):
        store.query("SELECT 1")

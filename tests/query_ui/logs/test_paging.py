"""Cursor paging through a real `clew serve`: every record once, in order, while other
records keep arriving, with many records sharing one nanosecond (some identical)."""

from __future__ import annotations

import threading
import time
from typing import Any

import httpx

from tests.query_ui.logs.corpus import Record, logs_body, post, wait_for
from tests.support.clew_server import ClewServer

MIN = 60 * 10**9


def _records(now: int) -> list[Record]:
    base = now - 40 * MIN
    records = [Record("pager", "INFO", 9, f"line {n}", base + n * 10**6) for n in range(120)]
    tie = base + 500 * 10**6  # 30 records of one nanosecond, 5 of them byte for byte the same
    records += [Record("pager", "WARN", 13, f"tied {n % 25}", tie) for n in range(30)]
    return records


def _page(server: ClewServer, params: dict[str, Any]) -> dict[str, Any]:
    response = httpx.get(server.ui_url + "/api/logs", params=params, timeout=60)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_pages_neither_repeat_nor_skip_under_concurrent_ingest(
    served: tuple[ClewServer, Any],
) -> None:
    server, _ = served
    records = _records(time.time_ns())
    post(server.http_url, "/v1/logs", logs_body(records))
    params: dict[str, Any] = {"service": "pager", "lookback": "2h", "limit": 7}
    wait_for(lambda: len(_all(server, params | {"limit": 100})) == len(records), "pager records")

    stop = threading.Event()

    def keep_sending() -> None:  # new records arrive while the reader pages
        n = 0
        while not stop.is_set():
            fresh = Record("pager", "INFO", 9, f"new {n}", time.time_ns())
            post(server.http_url, "/v1/logs", logs_body([fresh]))
            n += 1
            time.sleep(0.05)

    sender = threading.Thread(target=keep_sending)
    try:  # records arrive from the first page on: newer than its range, so never shown
        seen = _all(server, params, after_first=sender.start)
    finally:
        stop.set()
        if sender.is_alive():
            sender.join()
    assert len(seen) == len(records)
    assert sorted(seen) == sorted((r.time_ns, r.body) for r in records)  # each once, none new
    assert [t for t, _ in seen] == sorted((t for t, _ in seen), reverse=True)


def _all(
    server: ClewServer, params: dict[str, Any], after_first: Any = None
) -> list[tuple[int, str]]:
    found: list[tuple[int, str]] = []
    cursor = ""
    for _ in range(200):
        body = _page(server, params | ({"cursor": cursor} if cursor else {}))
        if after_first is not None:
            after_first()
            after_first = None
        found += [(log["time_unix_nano"], log["body"]) for log in body["logs"]]
        if not body["next_cursor"]:
            return found
        cursor = body["next_cursor"]
        time.sleep(0.1)  # give the sender room: pages are read while records arrive
    raise AssertionError("paging did not end")

"""The live tail (server-sent events) through a real `clew serve`: a line sent after the
stream opened arrives; filters apply; Last-Event-ID resumes without repeating."""

from __future__ import annotations

import json
import queue
import threading
import time
from typing import Any

import httpx

from tests.query_ui.logs.corpus import Record, logs_body, post
from tests.support.clew_server import ClewServer

WAIT = 60.0


def _listen(server: ClewServer, params: dict[str, Any], headers: dict[str, str],
            out: queue.Queue[tuple[str, str, dict[str, Any]]]) -> None:  # fmt: skip
    kind, ident, data = "", "", ""
    with httpx.stream("GET", server.ui_url + "/api/logs/tail", params=params, headers=headers,
                      timeout=httpx.Timeout(60, read=None)) as response:  # fmt: skip
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        for line in response.iter_lines():
            if not line:
                if data:
                    out.put((kind, ident, json.loads(data)))
                kind, data = "", ""
            elif line.startswith("event: "):
                kind = line[7:]
            elif line.startswith("id: "):
                ident = line[4:]
            elif line.startswith("data: "):
                data += line[6:]


def _bodies_until(out: queue.Queue[Any], wanted: str) -> tuple[list[str], str]:
    seen: list[str] = []
    last_id = ""
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        try:
            kind, ident, data = out.get(timeout=1)
        except queue.Empty:
            continue
        last_id = ident or last_id
        if kind == "logs":
            seen += [log["body"] for log in data["logs"]]
            if wanted in seen:
                return seen, last_id
    raise AssertionError(f"{wanted!r} did not arrive; saw {seen}")


def test_a_line_sent_after_the_stream_opened_arrives(served: tuple[ClewServer, Any]) -> None:
    server, _ = served
    out: queue.Queue[Any] = queue.Queue()
    params = {"service": "tailed", "seconds": "60", "severity": "warn"}
    listener = threading.Thread(target=_listen, args=(server, params, {}, out), daemon=True)
    listener.start()
    assert out.get(timeout=WAIT)[0] == "ready"
    now = time.time_ns()
    sent = [Record("tailed", "INFO", 9, "filtered out: below warn", now),
            Record("other", "ERROR", 17, "filtered out: another service", now),
            Record("tailed", "ERROR", 17, "tail me", now + 1)]  # fmt: skip
    post(server.http_url, "/v1/logs", logs_body(sent))
    seen, last_id = _bodies_until(out, "tail me")
    assert seen == ["tail me"]
    # A reconnect with the last event's id starts after it: the line is not sent again.
    again: queue.Queue[Any] = queue.Queue()
    headers = {"Last-Event-ID": last_id}
    threading.Thread(target=_listen, args=(server, params, headers, again), daemon=True).start()
    post(server.http_url, "/v1/logs", logs_body([Record("tailed", "WARN", 13, "after", now + 2)]))
    seen, _ = _bodies_until(again, "after")
    assert seen == ["after"]


def test_a_stream_ends_after_its_seconds(served: tuple[ClewServer, Any]) -> None:
    server, _ = served
    response = httpx.get(server.ui_url + "/api/logs/tail", params={"seconds": "0"}, timeout=60)
    assert response.status_code == 200 and response.text.startswith("retry: ")
    bad = httpx.get(server.ui_url + "/api/logs/tail", params={"seconds": "-1"}, timeout=60)
    assert bad.status_code == 422 and "'seconds'" in bad.json()["detail"]

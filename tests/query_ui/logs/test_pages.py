"""The /logs page through a real `clew serve`: the lines with their links to the trace (at the
span) and the order, logs without a trace, paging links; and the trace and order pages'
links to it."""

from __future__ import annotations

from typing import Any

import httpx

from tests.query_ui.logs.corpus import Corpus
from tests.support.clew_server import ClewServer


def page(server: ClewServer, **params: Any) -> httpx.Response:
    params.setdefault("lookback", "2d")
    return httpx.get(server.ui_url + "/logs", params=params, timeout=60)


def test_lines_link_to_their_trace_at_the_span_and_to_the_order(
    served: tuple[ClewServer, Corpus],
) -> None:
    server, corpus = served
    response = page(server, text="deadlock")
    assert response.status_code == 200
    html = response.text
    assert f'href="/traces/{corpus.t1}#span-{corpus.s2}"' in html
    assert 'href="/orders/ord-1"' in html
    assert "<mark>Deadlock</mark> detected" in html  # the matching word, highlighted
    assert 'id="histogram-data"' in html and "/static/logs.js" in html


def test_a_trace_that_never_arrived_is_not_a_link(served: tuple[ClewServer, Corpus]) -> None:
    server, corpus = served
    html = page(server, trace_id=corpus.t2).text
    assert f"/traces/{corpus.t2}" not in html and "(not stored)" in html


def test_logs_without_a_trace_are_listed_and_searched(served: tuple[ClewServer, Corpus]) -> None:
    server, _ = served
    html = page(server, has_trace="no", text="cleanup").text
    assert "<mark>cleanup</mark> job removed 3 expired carts" in html
    assert "/traces/" not in html


def test_older_records_are_a_cursor_link(served: tuple[ClewServer, Corpus]) -> None:
    server, _ = served
    first = page(server, limit="2")
    assert first.status_code == 200 and 'class="older"' in first.text
    href = first.text.split('class="older" href="', 1)[1].split('"', 1)[0].replace("&amp;", "&")
    second = httpx.get(server.ui_url + href, timeout=60)
    assert second.status_code == 200 and "cleanup job failed" not in second.text


def test_a_bad_filter_is_shown_on_the_page(served: tuple[ClewServer, Corpus]) -> None:
    server, _ = served
    response = page(server, severity="loud")
    assert response.status_code == 422 and "parameter &#39;severity&#39;" in response.text


def test_trace_and_order_pages_open_their_logs(served: tuple[ClewServer, Corpus]) -> None:
    server, corpus = served
    trace = httpx.get(f"{server.ui_url}/traces/{corpus.t1}", timeout=60).text
    assert f'href="/logs?trace_id={corpus.t1}&amp;lookback=7d"' in trace
    order = httpx.get(f"{server.ui_url}/orders/ord-1", timeout=60).text
    link = 'href="/logs?key=order.id&amp;key_value=ord-1&amp;lookback=7d"'
    assert link in order
    logs = httpx.get(server.ui_url + link[6:-1].replace("&amp;", "&"), timeout=60).text
    assert "retrying the charge after a deadlock" in logs  # the order's trace, no attribute

"""The hostile corpus through every path and query parameter of every GET route of the UI and
API (read from the app, so new routes are covered): nothing answers 500, no page shows a
payload unescaped, no injection finds a row or changes one, no redirect leaves the site."""

from __future__ import annotations

import json
from collections.abc import Iterator
from urllib.parse import quote, urlsplit

import httpx
import pytest
from fastapi.testclient import TestClient

from clew.collector.store import ChdbStore
from clew.query_ui import auth
from clew.query_ui.app import create_app
from clew.query_ui.logs.filters import parse_text, tokens
from clew.query_ui.settings import Settings as UISettings
from tests.query_ui.shop import Shop
from tests.security.conftest import UI_TOKEN
from tests.security.hostile import (
    CORPUS,
    RAW_ESCAPES,
    SQL,
    XSS,
    HostileTrace,
    Route,
    get_routes,
    write_hostile_trace,
)

BEARER = {"Authorization": f"Bearer {UI_TOKEN}", "Accept": "text/html,application/json"}
# Markup characters: a payload holding one must never reach a page as it was sent.
MARKUP = set("<>\"'")


@pytest.fixture(scope="module")
def hostile(shop_store: tuple[UISettings, ChdbStore, Shop]) -> HostileTrace:
    return write_hostile_trace(shop_store[1])


@pytest.fixture(scope="module")
def client(
    shop_store: tuple[UISettings, ChdbStore, Shop], hostile: HostileTrace
) -> Iterator[TestClient]:
    settings, store, _ = shop_store
    app = create_app(settings, store)
    with TestClient(app, headers=BEARER, follow_redirects=False) as test_client:
        yield test_client


def _fill(shop: Shop) -> dict[str, str]:
    # Real values for the parameters a payload is not in, so the payload reaches the query.
    return {"trace_id": shop.failed_trace, "key": "order.id", "value": "ord-1", "order_id": "x"}


# Query parameters a route needs for a payload elsewhere to reach its query: the live tail
# polls once and ends (seconds=0) instead of following for minutes; context needs a time.
BASE_QUERY = {"/api/logs/tail": {"seconds": "0"}, "/api/logs/context": {"at": "1"}}


def _check(response: httpx.Response, payloads: list[str]) -> None:
    where = f"{response.request.method} {str(response.request.url)[:200]}"
    assert response.status_code < 500, f"{where}: {response.status_code} {response.text[:300]}"
    raw_location = response.headers.get("location", "")
    location = urlsplit(raw_location)
    assert location.netloc in ("", "testserver") and location.scheme in ("", "http"), where
    # Browsers read a backslash as a slash: '/\\host' leaves the site like '//host'.
    assert not raw_location.replace("\\", "/").startswith("//"), f"{where} -> {raw_location}"
    assert "set-cookie" not in response.headers or "x=1" not in response.headers["set-cookie"]
    if response.headers.get("content-type", "").startswith("text/html"):
        for payload in payloads:
            if MARKUP & set(payload):
                assert payload not in response.text, f"{where}: unescaped {payload[:60]!r}"
    elif response.headers.get("content-type", "").startswith("text/event-stream"):
        for line in response.text.splitlines():  # the live tail: each event's data is JSON
            if line.startswith("data: "):
                json.loads(line[6:])
    elif response.content:
        response.json()  # the API answers JSON, errors included


def test_the_routes_are_found(client: TestClient) -> None:
    paths = {route.path for route in get_routes(client.app)}  # type: ignore[arg-type]
    assert {"/search", "/api/traces", "/traces/{trace_id}", "/go"} <= paths
    logs = {"/logs", "/api/logs", "/api/logs/histogram", "/api/logs/context", "/api/logs/tail"}
    assert logs <= paths
    search = next(r for r in get_routes(client.app) if r.path == "/api/traces")  # type: ignore[arg-type]
    assert {"service", "operation", "tag", "key_value", "lookback"} <= set(search.query_params)


def test_every_parameter_of_every_route_survives_the_corpus(client: TestClient, shop: Shop) -> None:
    routes: list[Route] = get_routes(client.app)  # type: ignore[arg-type]
    sent = 0
    for route in routes:
        for name in route.path_params:
            fill = {k: v for k, v in _fill(shop).items() if k != name}
            for payload in CORPUS:
                _check(client.get(route.url(quote(payload, safe=""), fill)), [payload])
                sent += 1
            for raw in RAW_ESCAPES:
                _check(client.get(route.url(raw, fill)), [])
                sent += 1
        base = BASE_QUERY.get(route.path, {})
        for name in route.query_params:
            for payload in CORPUS:
                params = base | {name: payload}
                _check(client.get(route.url("", _fill(shop)), params=params), [payload])
                sent += 1
            for raw in RAW_ESCAPES:
                extra = "".join(f"&{k}={v}" for k, v in base.items() if k != name)
                _check(client.get(f"{route.url('', _fill(shop))}?{name}={raw}{extra}"), [])
                sent += 1
    assert sent > 1000


def test_static_files_do_not_traverse(client: TestClient) -> None:
    for path in ("/static/../app.py", "/static/..%2fapp.py", "/static/%2e%2e/app.py",
                 "/static/..%5capp.py", "/static/%00", "/static/clew.css%00.py"):  # fmt: skip
        response = client.get(path)
        assert response.status_code in (400, 404), path
        assert "create_app" not in response.text


def test_sql_injection_finds_no_rows_and_changes_none(
    client: TestClient, shop_store: tuple[UISettings, ChdbStore, Shop]
) -> None:
    store = shop_store[1]
    before = store.query("SELECT count() FROM otel_traces").rows
    for payload in SQL:
        for name in ("service", "operation", "key_value", "tag"):
            value = f"http.route={payload}" if name == "tag" else payload
            found = client.get("/api/traces", params={name: value, "lookback": "30d"})
            assert found.status_code in (200, 422), (name, payload, found.text)
            if found.status_code == 200:
                assert found.json()["traces"] == [], (name, payload)
        keyed = client.get(f"/api/keys/order.id/{quote(payload, safe='')}/traces")
        assert keyed.status_code == 404, payload
    assert store.query("SELECT count() FROM otel_traces").rows == before
    tables = store.query("SELECT count() FROM system.tables WHERE name = 'otel_traces'").rows
    assert tables == [(1,)]


def test_logs_injection_finds_no_rows_and_changes_none(
    client: TestClient, shop_store: tuple[UISettings, ChdbStore, Shop]
) -> None:
    store = shop_store[1]
    before = store.query("SELECT count() FROM otel_logs").rows
    for payload in SQL:
        for name in ("service", "text", "key_value", "tag", "trace_id"):
            value = f"job={payload}" if name == "tag" else payload
            for path in ("/api/logs", "/api/logs/histogram"):
                found = client.get(path, params={name: value, "lookback": "30d"})
                assert found.status_code in (200, 422), (name, payload, found.text)
                if found.status_code != 200 or path != "/api/logs":
                    continue
                bodies = [log["body"].lower() for log in found.json()["logs"]]
                if name == "text":  # searched as text: only bodies holding its words
                    wanted = parse_text(payload)
                    for body in bodies:
                        assert set(wanted.required) <= set(tokens(body)), (payload, body)
                        assert all(phrase in body for phrase in wanted.phrases), (payload, body)
                else:
                    assert bodies == [], (name, payload)
    assert store.query("SELECT count() FROM otel_logs").rows == before


def test_stored_payloads_are_shown_as_text(client: TestClient, hostile: HostileTrace) -> None:
    pages = [
        f"/traces/{hostile.trace_id}",
        f"/orders/{quote(hostile.order_id, safe='')}",
        "/search?lookback=1h",
        f"/search?lookback=1h&key_value={quote(hostile.order_id, safe='')}",
        "/logs?lookback=1h",
        f"/logs?lookback=1h&key_value={quote(hostile.order_id, safe='')}&text=pwned",
    ]
    for url in pages:
        page = client.get(url)
        assert page.status_code == 200, (url, page.text[:300])
        _check(page, XSS)
    trace = client.get(f"/traces/{hostile.trace_id}").text
    assert "&lt;script&gt;window.__pwned=1&lt;/script&gt;" in trace  # shown, as text


def test_the_login_form_survives_the_corpus(client: TestClient) -> None:
    for payload in CORPUS:
        large = len(payload) > auth.MAX_FORM_BYTES // 2  # urlencoded, it passes the bound
        wrong = client.post("/login", data={"token": payload, "next": payload})
        assert wrong.status_code == (413 if large else 401)
        _check(wrong, [payload])
        right = client.post("/login", data={"token": UI_TOKEN, "next": payload})
        assert right.status_code == (413 if large else 303)
        _check(right, [payload])
    client.cookies.clear()

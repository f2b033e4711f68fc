"""The hostile corpus through every new parameter: stats, flame, compare (a, b, key), the
nearest succeeded order, the comparison page and its redirect, and every MCP tool argument."""

from __future__ import annotations

import json
from collections.abc import Iterator
from urllib.parse import quote, urlsplit

import httpx
import pytest
from mcp import Client
from mcp.types import TextContent

from clew.collector.store import ChdbStore
from clew.query_ui.settings import Settings
from tests.query_ui.drill.traces import Drill
from tests.security.hostile import CORPUS, RAW_ESCAPES, SQL

MARKUP = set("<>\"'")


@pytest.fixture(scope="module")
def api(drill_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=drill_url, follow_redirects=False, timeout=60) as client:
        yield client


def _check(response: httpx.Response, payload: str) -> None:
    where = f"{response.request.method} {str(response.request.url)[:160]}"
    assert response.status_code < 500, f"{where}: {response.status_code} {response.text[:300]}"
    location = urlsplit(response.headers.get("location", ""))
    assert location.netloc == "" and not location.path.startswith("//"), where
    if response.headers.get("content-type", "").startswith("text/html"):
        if MARKUP & set(payload):
            assert payload not in response.text, f"{where}: unescaped {payload[:60]!r}"
    elif response.content:
        response.json()


def _requests(drill: Drill, p: str) -> list[tuple[str, dict[str, str]]]:
    """Every new parameter set to the payload, the others to real values."""
    q = quote(p, safe="")
    order = drill.orders["failed"]
    return [
        (f"/api/traces/{q}/stats", {}),
        (f"/api/traces/{q}/flame", {}),
        ("/api/compare", {"a": p, "b": drill.b}),
        ("/api/compare", {"a": drill.a, "b": p}),
        ("/api/compare", {"a": order, "b": p, "key": "order.id"}),
        ("/api/compare", {"a": drill.a, "b": drill.b, "key": p}),
        (f"/api/keys/order.id/{q}/nearest-succeeded", {}),
        (f"/api/keys/{q}/{quote(order)}/nearest-succeeded", {}),
        ("/compare", {"a": p, "b": drill.b}),
        ("/compare", {"a": order, "b": p, "key": "order.id"}),
        ("/compare", {"a": drill.a, "b": drill.b, "key": p}),
        ("/compare/succeeded", {"value": p}),
        ("/compare/succeeded", {"value": order, "key": p}),
    ]


def test_every_new_parameter_survives_the_corpus(api: httpx.Client, drill: Drill) -> None:
    sent = 0
    for payload in CORPUS:
        for path, params in _requests(drill, payload):
            _check(api.get(path, params=params), payload)
            sent += 1
    for raw in RAW_ESCAPES:
        for path in (f"/api/traces/{raw}/stats", f"/api/compare?a={raw}&b={drill.b}",
                     f"/compare/succeeded?value={raw}", f"/compare?a={raw}&b={raw}"):  # fmt: skip
            _check(api.get(path), "")
            sent += 1
    assert sent > 500


def test_sql_injection_through_compare_finds_nothing_and_changes_nothing(
    api: httpx.Client, drill_store: tuple[Settings, ChdbStore, Drill]
) -> None:
    store, drill = drill_store[1], drill_store[2]
    before = store.query("SELECT count() FROM otel_traces").rows
    for payload in SQL:
        keyed = api.get("/api/compare", params={"a": payload, "b": payload, "key": "order.id"})
        assert keyed.status_code == 404, payload
        near = api.get(f"/api/keys/order.id/{quote(payload, safe='')}/nearest-succeeded")
        assert near.status_code == 404, payload
        assert api.get("/api/compare", params={"a": payload, "b": drill.b}).status_code == 404
    assert store.query("SELECT count() FROM otel_traces").rows == before


async def test_every_mcp_tool_argument_survives_the_corpus(drill_url: str, drill: Drill) -> None:
    args = {
        "search_traces": ["lookback", "service", "operation", "min_duration", "key_value"],
        "get_trace": ["trace_id"],
        "why_failed": ["value", "key"],
        "compare_traces": ["a", "b", "key"],
        "trace_stats": ["trace_id"],
    }
    fill = {"trace_id": drill.a, "value": drill.orders["failed"], "a": drill.a, "b": drill.b}
    async with Client(f"{drill_url}/mcp", read_timeout_seconds=60) as client:
        for tool, names in args.items():
            for name in names:
                for payload in [*CORPUS[:40], "x" * 600]:
                    call = {k: v for k, v in fill.items() if k in names} | {name: payload}
                    result = await client.call_tool(tool, call)
                    block = result.content[0]
                    assert isinstance(block, TextContent), (tool, name)
                    if not result.is_error:
                        json.loads(block.text)  # an answer is the API's JSON
                    else:
                        assert "Traceback" not in block.text, block.text
        tagged = await client.call_tool("search_traces", {"tag": CORPUS[:10]})
        assert tagged.is_error or json.loads(tagged.content[0].text)["traces"] == []  # type: ignore[union-attr]

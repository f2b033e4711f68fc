"""The MCP server through the SDK's own client: `clew mcp` as a real subprocess over stdio
against a real server, and /mcp over streamable HTTP behind CLEW_UI_TOKEN."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import httpx2
import pytest
from mcp import Client, StdioServerParameters
from mcp.client.streamable_http import streamable_http_client
from mcp.types import CallToolResult, TextContent
from pydantic import SecretStr

from clew.collector.store import ChdbStore
from clew.query_ui.app import create_app
from clew.query_ui.mcp.server import bounded
from clew.query_ui.mcp.tools import TOOLS
from clew.query_ui.settings import Settings
from tests.query_ui.drill.traces import Drill
from tests.query_ui.server import serve

TOKEN = "mcp-test-token"
CLEW = str(Path(sys.executable).parent / "clew")
NAMES = {
    "search_traces",
    "get_trace",
    "why_failed",
    "compare_traces",
    "trace_stats",
    "search_logs",
    "failure_groups",
    "service_health",
}


def _json(result: CallToolResult) -> dict[str, Any]:
    assert not result.is_error, result.content
    block = result.content[0]
    assert isinstance(block, TextContent)
    body: dict[str, Any] = json.loads(block.text)
    return body


def _error(result: CallToolResult) -> str:
    assert result.is_error
    block = result.content[0]
    assert isinstance(block, TextContent)
    return block.text


@pytest.fixture(scope="module")
def guarded_url(drill_store: tuple[Settings, ChdbStore, Drill]) -> Iterator[str]:
    """The same store behind a UI token."""
    settings, store, _ = drill_store
    guarded = settings.model_copy(update={"ui_token": SecretStr(TOKEN)})
    with serve(create_app(guarded, store)) as url:
        yield url


async def _exercise(client: Client, drill: Drill, api: httpx.Client) -> None:
    """Every tool, its answer checked against the API's own JSON."""
    tools = {tool.name: tool for tool in (await client.list_tools()).tools}
    assert set(tools) == NAMES
    schema = tools["why_failed"].input_schema
    assert schema["required"] == ["value"] and schema["properties"]["key"]["default"] == "order.id"
    assert all(tool.description and len(tool.description) > 60 for tool in tools.values())
    compared = _json(await client.call_tool("compare_traces", {"a": drill.a, "b": drill.b}))
    assert compared == api.get("/api/compare", params={"a": drill.a, "b": drill.b}).json()
    got = _json(await client.call_tool("get_trace", {"trace_id": drill.b}))
    assert got["spans"] == api.get(f"/api/traces/{drill.b}").json()["spans"]
    assert "logs" in got and got["critical_path"]
    why = _json(await client.call_tool("why_failed", {"value": drill.orders["failed"]}))
    assert why == api.get(f"/api/orders/{drill.orders['failed']}/diagnosis").json()
    found = _json(await client.call_tool("search_traces", {"lookback": "1d", "status": "error"}))
    assert drill.b in {t["trace_id"] for t in found["traces"]}
    stats = _json(await client.call_tool("trace_stats", {"trace_id": drill.nested}))
    assert stats == api.get(f"/api/traces/{drill.nested}/stats").json()
    logs = _json(await client.call_tool("search_logs", {"lookback": "2d", "trace_id": drill.b}))
    assert logs == api.get("/api/logs", params={"lookback": "2d", "trace_id": drill.b}).json()
    groups = _json(await client.call_tool("failure_groups", {"lookback": "1d"}))
    assert groups == api.get("/api/failures", params={"lookback": "1d"}).json()
    health = _json(await client.call_tool("service_health", {"lookback": "1d"}))
    assert health == api.get("/api/services", params={"lookback": "1d"}).json()
    assert health["services"], "the drill data's services have figures"
    missing = _error(await client.call_tool("get_trace", {"trace_id": "f" * 32}))
    assert "404" in missing and "no trace with id" in missing
    refused = await client.call_tool("search_traces", {"limit": 1000})
    assert refused.is_error and "limit" in _error(refused)


async def test_clew_mcp_over_stdio(drill_url: str, drill: Drill) -> None:
    params = StdioServerParameters(command=CLEW, args=["mcp", "--url", drill_url])
    with httpx.Client(base_url=drill_url) as api:
        async with Client(params, read_timeout_seconds=60) as client:
            await _exercise(client, drill, api)


async def test_clew_mcp_over_stdio_sends_the_token(guarded_url: str, drill: Drill) -> None:
    wrong = StdioServerParameters(command=CLEW, args=["mcp", "--url", guarded_url])
    async with Client(wrong, read_timeout_seconds=60) as client:
        text = _error(await client.call_tool("get_trace", {"trace_id": drill.a}))
        assert "token" in text
    right = StdioServerParameters(
        command=CLEW, args=["mcp", "--url", guarded_url, "--token", TOKEN]
    )
    async with Client(right, read_timeout_seconds=60) as client:
        assert _json(await client.call_tool("get_trace", {"trace_id": drill.a}))["spans"]


async def test_mcp_over_http_needs_the_token(guarded_url: str, drill: Drill) -> None:
    bare = httpx.post(f"{guarded_url}/mcp", json={"jsonrpc": "2.0", "id": 1, "method": "ping"})
    assert bare.status_code == 401 and bare.headers["www-authenticate"].startswith("Bearer")
    headers = {"Authorization": f"Bearer {TOKEN}"}
    with httpx.Client(base_url=guarded_url, headers=headers) as api:
        async with httpx2.AsyncClient(headers=headers, timeout=60) as http:
            transport = streamable_http_client(f"{guarded_url}/mcp", http_client=http)
            async with Client(transport, read_timeout_seconds=60) as client:
                await _exercise(client, drill, api)


async def test_mcp_over_http_without_a_token_refuses_the_sdk_client(guarded_url: str) -> None:
    with pytest.raises(Exception) as refused:  # the SDK wraps its error in exception groups
        async with Client(f"{guarded_url}/mcp", read_timeout_seconds=30) as client:
            await client.list_tools()
    # The SDK reports the 401 as an error response; the raw 401 is checked above.
    assert "MCPError" in repr(refused.value), repr(refused.value)


def test_answers_are_bounded_with_a_marker() -> None:
    body = {"trace_id": "t", "spans": [{"n": "x" * 100} for _ in range(2000)], "limits": []}
    cut = bounded(body, max_chars=20_000)
    assert len(json.dumps(cut)) <= 20_000 and cut["truncated"] is True
    assert cut["truncated_lists"]["spans"]["total"] == 2000
    assert cut["truncated_lists"]["spans"]["shown"] == len(cut["spans"]) > 0
    assert bounded({"a": [1]}) == {"a": [1]}
    assert bounded({"x": "y" * 100}, max_chars=50)["truncated"] is True


def test_every_tool_is_one_entry() -> None:
    assert {tool.name for tool in TOOLS} == NAMES
    assert len({tool.name for tool in TOOLS}) == len(TOOLS)

"""The MCP server over any way of reaching the JSON API: a running clew's URL (`clew mcp`) or
the UI application itself (`/mcp`). Answers are the API's JSON, cut to a bounded size."""

from __future__ import annotations

import inspect
import json
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError

from clew.query_ui.mcp.tools import TOOLS, Call, Tool

Fetch = Callable[[str, dict[str, Any]], Awaitable[dict[str, Any]]]
MAX_CHARS = 60_000  # an answer an agent can read whole; longer lists are cut, and said so
INSTRUCTIONS = (
    "clew stores distributed traces and logs and explains why an order failed. Start with "
    "why_failed for an order id, search_traces to find traces, get_trace for one trace, "
    "compare_traces to see where two traces part ways. Durations are nanoseconds. An answer "
    'cut to fit carries "truncated": true and, under "truncated_lists", what was cut.'
)


def build(fetch: Fetch) -> MCPServer:
    """An MCP server with every tool of TOOLS answering through `fetch`."""
    # WARNING: the SDK configures the root logger; at INFO it would log every request.
    server: MCPServer = MCPServer(
        "clew", instructions=INSTRUCTIONS, version="0.1.0", log_level="WARNING"
    )
    for tool in TOOLS:
        server.add_tool(_handler(tool, fetch), name=tool.name, description=tool.description,
                        structured_output=False)  # fmt: skip
    return server


def _handler(tool: Tool, fetch: Fetch) -> Callable[..., Awaitable[str]]:
    async def handle(**arguments: Any) -> str:
        bodies = [await fetch(path, params) for path, params in tool.calls(**arguments)]
        return json.dumps(bounded(merged(bodies)), ensure_ascii=False)

    # The SDK reads the input schema from the signature: the table function's, typed.
    signature = inspect.signature(tool.calls, eval_str=True)
    handle.__signature__ = signature.replace(return_annotation=str)  # type: ignore[attr-defined]
    handle.__name__ = tool.name
    return handle


def merged(bodies: list[dict[str, Any]]) -> dict[str, Any]:
    """Later answers add their fields to the first; the limits hit by any are kept."""
    out = dict(bodies[0])
    for body in bodies[1:]:
        out |= {k: v for k, v in body.items() if k not in out}
    limits = [note for body in bodies for note in body.get("limits", [])]
    if limits:
        out["limits"] = list(dict.fromkeys(limits))
    return out


def bounded(body: dict[str, Any], max_chars: int = MAX_CHARS) -> dict[str, Any]:
    """The body, its longest lists halved until it fits in `max_chars` of JSON."""
    cut: dict[str, dict[str, int]] = {}
    while _size(body) > max_chars:
        lists = [k for k, v in body.items() if isinstance(v, list) and v]
        if not lists:
            return {"truncated": True, "error": "the answer is too large to return",
                    "size_chars": _size(body)}  # fmt: skip
        name = max(lists, key=lambda k: _size(body[k]))
        total = cut.get(name, {}).get("total", len(body[name]))
        body = body | {name: body[name][: len(body[name]) // 2]}
        cut[name] = {"total": total, "shown": len(body[name])}
    if cut:
        body = body | {"truncated": True, "truncated_lists": cut}
    return body


def _size(value: Any) -> int:
    return len(json.dumps(value, ensure_ascii=False))


def url_fetch(url: str, token: str | None, client: httpx.AsyncClient | None = None) -> Fetch:
    """GETs against a running clew's JSON API; its error answers become tool errors."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    http = client or httpx.AsyncClient(base_url=url.rstrip("/"), headers=headers, timeout=60)

    async def fetch(path: str, params: dict[str, Any]) -> dict[str, Any]:
        try:
            response = await http.get(path, params=params)
        except httpx.HTTPError as exc:
            raise ToolError(f"could not reach clew at {url}: {exc}") from exc
        return _json(response)

    return fetch


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        raise ToolError(f"clew answered {response.status_code}, not JSON") from None
    if response.status_code == 401:
        raise ToolError("clew wants its UI token (clew mcp --token, or CLEW_UI_TOKEN)")
    if response.status_code >= 400 or not isinstance(body, dict):
        detail = body.get("detail", body) if isinstance(body, dict) else body
        raise ToolError(f"{response.status_code}: {json.dumps(detail, ensure_ascii=False)[:2000]}")
    return body


__all__ = ["Call", "Fetch", "bounded", "build", "merged", "url_fetch"]

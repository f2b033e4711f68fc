"""`clew mcp`: clew's MCP tools over stdio, for an MCP client that starts it as a subprocess.

Like `clew why` and `clew trace`, it reads a running clew's JSON API (`--url`, `--token`).
"""

from __future__ import annotations

import click

from clew.query_ui.cli import token_option, url_option


@click.command("mcp")
@url_option
@token_option
def mcp(url: str, token: str | None) -> None:
    """Serve clew's MCP tools over stdio (JSON-RPC on stdin/stdout), reading clew at --url."""
    import anyio

    from clew.query_ui.mcp import server

    anyio.run(server.build(server.url_fetch(url, token)).run_stdio_async)

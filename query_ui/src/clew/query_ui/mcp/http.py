"""`/mcp` on the UI's port: the MCP server over streamable HTTP, answering through the UI
application itself, so its tools return exactly the API's JSON under the same token.

The UI's guard (auth.py) sees /mcp like any route: with CLEW_UI_TOKEN set, a request without
`Authorization: Bearer <token>` is refused with 401 before it reaches the MCP server.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from fastapi import FastAPI
from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
from mcp.server.transport_security import TransportSecuritySettings
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from clew.query_ui.mcp import server
from clew.query_ui.settings import Settings

PATH = "/mcp"
LOOPBACK = ("127.0.0.1", "localhost", "::1")


class Endpoint:
    """The ASGI app mounted at /mcp; a session manager runs while the UI's lifespan does."""

    def __init__(self, app: FastAPI, settings: Settings) -> None:
        self.app, self.settings = app, settings
        self.manager: StreamableHTTPSessionManager | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.manager is None:
            raise RuntimeError("/mcp is served only while the application's lifespan runs")
        await self.manager.handle_request(scope, receive, send)

    @asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        """Serve /mcp: stateless, JSON answers (each tool call is one request and answer)."""
        # The SDK logs every stateless request at INFO ("Terminating session"); clew's log
        # keeps its own events.
        logging.getLogger("mcp").setLevel(logging.WARNING)
        token = self.settings.ui_token
        secret = token.get_secret_value() if token is not None else None
        headers = {"Authorization": f"Bearer {secret}"} if secret else {}
        transport = httpx.ASGITransport(app=self.app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://clew", headers=headers, timeout=60
        ) as client:
            mcp = server.build(server.url_fetch("the UI application", None, client))
            self.manager = StreamableHTTPSessionManager(
                app=mcp._lowlevel_server,  # the SDK mounts it this way too (streamable_http_app)
                stateless=True,
                json_response=True,
                security_settings=_rebinding_guard(self.settings.host),
            )
            async with self.manager.run():
                yield
            self.manager = None


def _rebinding_guard(host: str) -> TransportSecuritySettings | None:
    """On loopback, refuse other Host and Origin headers (DNS rebinding), as the SDK does."""
    if host not in LOOPBACK:
        return None
    return TransportSecuritySettings(
        enable_dns_rebinding_protection=True,
        allowed_hosts=["127.0.0.1:*", "localhost:*", "[::1]:*"],
        allowed_origins=["http://127.0.0.1:*", "http://localhost:*", "http://[::1]:*"],
    )


def mount(app: FastAPI, settings: Settings) -> Endpoint:
    """Mount /mcp on `app`; enter `running()` in the app's lifespan."""
    endpoint = Endpoint(app, settings)
    # A route, not a mount: a mount answers /mcp with a redirect to /mcp/.
    app.router.routes.append(Route(PATH, endpoint, include_in_schema=False))
    app.state.mcp = endpoint
    return endpoint


@asynccontextmanager
async def running(app: FastAPI) -> AsyncIterator[None]:
    """The app's /mcp endpoint running, if it has one."""
    endpoint: Endpoint | None = getattr(app.state, "mcp", None)
    if endpoint is None:
        yield
        return
    async with endpoint.running():
        yield

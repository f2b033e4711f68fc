"""The query UI's FastAPI application: pages, JSON API and static files over one store."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from importlib.resources import files
from typing import Any

import jinja2
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.exceptions import HTTPException as StarletteHTTPException

from clew.common.settings import SharedSettings
from clew.common.store import Store
from clew.query_ui import auth, deps, filters
from clew.query_ui.errors import QueryUIError
from clew.query_ui.mcp import http as mcp_http
from clew.query_ui.overview.job import OverviewJob, overview_job
from clew.query_ui.readonly import ReadOnlyStore
from clew.query_ui.routers import api, drill, logs, overview, pages
from clew.query_ui.settings import Settings

PACKAGE = files("clew.query_ui")


def serve_app(shared: SharedSettings, store: Store) -> FastAPI:
    """The UI for `clew serve` (the `clew.ui` entry point): the collector's shared settings,
    flags included, and the UI's own from the environment."""
    return create_app(Settings(**shared.shared()), store)


def create_app(settings: Settings, store: Store) -> FastAPI:
    """The UI and API over `store`.

    Every query runs read-only under the UI's limits; with `ui_clickhouse_url` set the UI reads
    through a connection of its own (a read-only database user), opened here, closed at exit.
    """
    own = _own_store(settings)
    app = FastAPI(
        title="clew",
        summary="Find a trace, read the whole story, say why an order failed.",
        version="0.1.0",
        lifespan=_closing(own, overview_job(settings, store)),
    )
    app.state.settings = settings
    app.state.store = ReadOnlyStore(
        own or store,
        max_execution_time=settings.ui_max_execution_time,
        max_result_rows=settings.ui_max_result_rows,
    )
    app.state.templates = _templates()
    auth.install(app, settings.ui_token)
    app.include_router(api.router)
    app.include_router(logs.api)
    app.include_router(logs.pages)
    app.include_router(overview.api)
    app.include_router(overview.pages)
    app.include_router(pages.router)
    app.include_router(drill.router)
    mcp_http.mount(app, settings)
    app.add_api_route("/healthz", _healthz, include_in_schema=False)
    app.middleware("http")(_security_headers)
    app.mount("/static", StaticFiles(directory=str(PACKAGE / "static")), name="static")
    app.add_exception_handler(QueryUIError, _ui_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    return app


# Defence in depth behind autoescaping: no script but clew's own file, no framing, no plugins;
# the waterfall's bars are inline style attributes, hence 'unsafe-inline' for styles only.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; "
        "form-action 'self'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",  # trace ids and order ids are in the URLs
}


async def _security_headers(
    request: Request, call_next: Callable[[Request], Awaitable[Response]]
) -> Response:
    response = await call_next(request)
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    return response


async def _healthz() -> dict[str, str]:
    return {"status": "ok"}


def _own_store(settings: Settings) -> Store | None:
    if not settings.ui_clickhouse_url:
        return None
    from clew.collector.store.server import open_server_store

    url = settings.ui_clickhouse_url.get_secret_value()
    return open_server_store(url, ca_file=settings.clickhouse_ca_file)


def _closing(store: Store | None, job: OverviewJob | None = None) -> Any:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if job is not None:
            job.start()
        try:
            async with mcp_http.running(app):
                yield
        finally:
            if job is not None:
                job.stop()
            if store is not None:
                store.close()

    return lifespan


def _templates() -> Jinja2Templates:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(PACKAGE / "templates")),
        autoescape=True,  # every page shows stored, attacker-controllable strings
        undefined=jinja2.StrictUndefined,
    )
    filters.register(env)
    return Jinja2Templates(env=env, context_processors=[_page_context])


def _page_context(request: Request) -> dict[str, Any]:
    """What the header of every page needs."""
    return {
        "business_keys": deps.business_keys(request),
        "auth_enabled": request.app.state.ui_auth.enabled,
    }


def error_response(request: Request, status: int, title: str, message: str) -> Response:
    """The one place errors become responses: JSON under /api, an HTML page elsewhere."""
    if request.url.path.startswith("/api/"):
        return JSONResponse({"error": title, "detail": message}, status_code=status)
    templates: Jinja2Templates = request.app.state.templates
    context = {"title": title, "message": message, "status": status}
    return templates.TemplateResponse(request, "error.html", context, status_code=status)


async def _ui_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, QueryUIError)
    return error_response(request, exc.status_code, exc.title, exc.message)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    title = "Not found" if exc.status_code == 404 else "Error"
    message = "There is no page at this address." if exc.status_code == 404 else str(exc.detail)
    return error_response(request, exc.status_code, title, message)

"""Hostile strings, a trace made of them, and every GET route of the UI app to send them to.

Routes are read from the application itself, so a new page or API route is attacked too.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI
from fastapi.routing import APIRoute

from tests.query_ui.traces import Inserter, SpanRef, Story

# Each one sets window.__pwned (or opens a dialog) if it ever runs as script.
XSS = [
    "<script>window.__pwned=1</script>",
    "<img src=x onerror=window.__pwned=2>",
    '"><svg onload=window.__pwned=3>',
    '\'><iframe srcdoc="<script>parent.__pwned=4</script>">',
    "</script><script>window.__pwned=5</script>",
    "javascript:window.__pwned=6",
    "<a href=javascript:window.__pwned=7>click</a>",
    "<details open ontoggle=window.__pwned=8>",
    "{{7*7}}<style>*{display:none}</style>",
    '<div style="background:url(javascript:alert(9))">',
]
SQL = [
    "' OR 1=1 --",
    "x' OR '1'='1",
    "\\' OR 1=1 --",
    "x'; DROP TABLE otel_traces; --",
    "1) UNION ALL SELECT name, 1, 1 FROM system.tables --",
    "{trace_id:String}",
    "' || (SELECT version()) || '",
    "x\\",
    "%' AND sleep(3) AND '%'='",
]
PATHS = ["../../../../etc/passwd", "..\\..\\windows\\win.ini", "/etc/passwd", "%2e%2e%2f", "."]
# Open redirects: /go and /login?next= must stay on the site.
REDIRECTS = ["//evil.example/", "https://evil.example/", "/\\evil.example", "\\\\evil.example"]
FORMATS = ["%s%s%s%n", "{0}{1}", "{__class__.__mro__}", "${jndi:ldap://127.0.0.1/x}", "%(x)s"]
UNICODE = [
    "\u202egnp.exe",  # right-to-left override
    "a\u200bb\ufeffc",  # zero-width space, BOM
    "\uff4f\uff52\uff44\uff45\uff52",  # fullwidth "order"
    "\U0001f4a9" * 50,
    "e\u0301" * 100,  # combining marks
    "\x1b[31mred\x1b[0m",  # terminal escapes
    "line\r\nSet-Cookie: x=1",  # header injection
]
NUL = ["a\x00b", "\x00", "\x7f\x01\x02"]
# As long as a URL component may be (httpx stops at 64 KiB; servers sooner).
HUGE = ["A" * 60_000, "'" * 16_000, "<" * 16_000]
CORPUS = [*XSS, *SQL, *PATHS, *REDIRECTS, *FORMATS, *UNICODE, *NUL, *HUGE]
# Sent as raw percent-escapes: not UTF-8 at all, or overlong encodings of '/' and '.'.
RAW_ESCAPES = ["%ff%fe", "%c0%af%c0%ae", "%ed%a0%80", "..%c0%af..%c0%afetc%c0%afpasswd"]
HOSTILE_ORDER = "ord-<img src=x onerror=window.__pwned=10>"


@dataclass(frozen=True)
class HostileTrace:
    """A trace whose every stored string is an XSS payload."""

    trace_id: str
    order_id: str
    root: SpanRef


def write_hostile_trace(store: Inserter) -> HostileTrace:
    """A failed order whose names, attributes, log bodies and exception carry XSS payloads."""
    story = Story(base_ns=time.time_ns() - 2 * 60 * 10**9)
    attrs = {f"xss.{n}": payload for n, payload in enumerate(XSS)}
    root = story.span(
        XSS[1], XSS[0], ms=50, attrs={"order.id": HOSTILE_ORDER, "http.url": XSS[5], **attrs}
    )
    child = story.span(
        XSS[2],
        XSS[3],
        parent=root,
        at=5,
        ms=20,
        status="Error",
        message=XSS[4],
        attrs={"order.id": HOSTILE_ORDER, XSS[6]: XSS[7]},
        exception=(XSS[8], XSS[9]),
    )
    for n, payload in enumerate(XSS):
        story.log(child, XSS[2], "ERROR", payload, at=6 + n, attrs={payload: payload})
    story.write(store)
    return HostileTrace(root.trace_id, HOSTILE_ORDER, root)


@dataclass(frozen=True)
class Route:
    """A GET route: its path template, path parameters and query parameters."""

    path: str
    path_params: tuple[str, ...]
    query_params: tuple[str, ...]

    def url(self, value: str, fill: dict[str, str]) -> str:
        """The path with every parameter set to `value` (already URL-escaped), or to `fill`."""
        url = self.path
        for name in self.path_params:
            url = url.replace(f"{{{name}:path}}", fill.get(name, value))
            url = url.replace(f"{{{name}}}", fill.get(name, value))
        return url


def _query_names(dependant: Any) -> list[str]:
    names = [getattr(q, "alias", None) or q.name for q in dependant.query_params]
    for sub in dependant.dependencies:
        names += _query_names(sub)
    return names


def _walk(routes: list[Any], prefix: str = "") -> Iterator[tuple[str, APIRoute]]:
    for route in routes:
        if isinstance(route, APIRoute):
            yield prefix + route.path, route
        elif hasattr(route, "original_router"):  # FastAPI's included routers
            inner = getattr(getattr(route, "include_context", None), "prefix", "") or ""
            yield from _walk(route.original_router.routes, prefix + inner)
        elif hasattr(route, "routes") and hasattr(route, "path"):  # older FastAPI: flat
            yield from _walk(route.routes, prefix + route.path)


def get_routes(app: FastAPI) -> list[Route]:
    """Every GET route of `app` (static files aside), with its parameters."""
    found = []
    for path, route in _walk(app.router.routes):
        if "GET" not in (route.methods or set()):
            continue
        params = tuple(p.name for p in route.dependant.path_params)
        found.append(Route(path, params, tuple(dict.fromkeys(_query_names(route.dependant)))))
    return found

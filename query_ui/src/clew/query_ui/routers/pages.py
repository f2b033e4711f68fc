"""The HTML pages: search, trace, order (any business key), and the id jump box.

`/` is the overview's home page (routers/overview.py).
"""

from __future__ import annotations

import re
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from clew.query_ui import deps, explain, search, waterfall
from clew.query_ui.errors import InvalidQueryError
from clew.query_ui.filters import key_url
from clew.query_ui.read import load, queries
from clew.query_ui.read.model import SpanRef
from clew.query_ui.read.story import Story
from clew.query_ui.routers.args import search_args

router = APIRouter(include_in_schema=False)
TRACE_ID = re.compile(r"^[0-9a-fA-F]{32}$")


def render(request: Request, name: str, context: dict[str, Any], status: int = 200) -> Response:
    """A page, with what every page's header needs."""
    templates: Jinja2Templates = request.app.state.templates
    return templates.TemplateResponse(request, name, context, status_code=status)


@router.get("/search")
def search_page(
    request: Request, args: Annotated[dict[str, Any], Depends(search_args)]
) -> Response:
    """The search form and, below it, the matching traces."""
    store = deps.store(request)
    typed = [str(args[f]).strip() for f in ("key_value", "operation", "service")]
    typed += [str(t).strip() for t in args["tag"]]
    for value in filter(TRACE_ID.match, typed):
        if load.trace_exists(store, value):  # a trace id typed anywhere opens the trace
            return RedirectResponse(f"/traces/{value.lower()}", status_code=303)
    context: dict[str, Any] = {"args": args, "error": "", "page": None, "services": []}
    services = load.run(store, queries.SERVICES, {}, limits=[])  # suggestions only
    context["services"] = [str(r["ServiceName"]) for r in services]
    try:
        filters = search.build_filters(args, deps.business_keys(request))
    except InvalidQueryError as exc:
        context["error"] = exc.message
        return render(request, "search.html", context, status=400)
    context["page"] = search.search(store, filters)
    context["prev_url"], context["next_url"] = _page_urls(args, context["page"])
    context["sort_url"] = lambda sort: _url(
        {**args, "sort": sort, "order": _flip(args, sort), "offset": ""}
    )
    return render(request, "search.html", context)


def _flip(args: dict[str, Any], sort: str) -> str:
    """Clicking the column the results are sorted by reverses the order."""
    if args.get("sort", "start") == sort:
        return "asc" if args.get("order", "desc") == "desc" else "desc"
    return "desc"


def _url(args: dict[str, Any]) -> str:
    pairs = [
        (k, v)
        for k, value in args.items()
        for v in (value if isinstance(value, list) else [value])
        if v
    ]
    return "/search?" + urlencode(pairs)


def _page_urls(args: dict[str, Any], page: search.SearchPage) -> tuple[str, str]:
    offset, limit = page.filters.offset, page.filters.limit
    prev = _url({**args, "offset": str(max(offset - limit, 0))}) if offset else ""
    nxt = _url({**args, "offset": str(offset + limit)}) if page.has_more else ""
    return prev, nxt


@router.get("/go")
def go(request: Request, q: Annotated[str, Query()] = "") -> Response:
    """A trace id opens the trace whatever its age; a business key value opens its page."""
    value = q.strip()
    store = deps.store(request)
    if TRACE_ID.match(value) and load.trace_exists(store, value):
        return RedirectResponse(f"/traces/{value.lower()}", status_code=303)
    params = {"value": value, "keys": deps.business_keys(request)}
    keys = load.run(store, queries.BUSINESS_KEYS_OF_VALUE, params) if value else []
    if keys:
        key = str(keys[0]["Key"])
        return RedirectResponse(key_url(value, key), status_code=303)
    message = f"No trace id and no business key value {value!r} is stored." if value else ""
    context: dict[str, Any] = {"args": search_args(), "error": message, "page": None}
    context["services"] = []
    return render(request, "search.html", context, status=404 if value else 200)


@router.get("/traces/{trace_id}")
def trace_page(request: Request, trace_id: str) -> Response:
    """The waterfall of one trace, its spans' details and logs."""
    story = load.load_trace(deps.store(request), trace_id)
    # The trace's own diagnosis marks where its failures started.
    causes = frozenset(c.span.ref for c in explain.explain(story).root_causes)
    view = waterfall.build(story, causes=causes)
    context = {"trace_id": story.trace_ids[0], "view": view, "limits": story.limits}
    return render(request, "trace.html", context)


@router.get("/orders/{order_id:path}")
def order_page(request: Request, order_id: str) -> Response:
    """An order: diagnosis on top, every trace and log on one timeline."""
    return _key_page(request, "order.id", order_id)


@router.get("/keys/{key}/{value:path}")
def key_page(request: Request, key: str, value: str) -> Response:
    """Any business key value, like the order page."""
    return _key_page(request, deps.checked_key(request, key), value)


def _key_page(request: Request, key: str, value: str) -> Response:
    story, diagnosis = deps.story_and_diagnosis(request, key, value)
    views = _per_trace(story, frozenset(c.span.ref for c in diagnosis.root_causes))
    context: dict[str, Any] = {"key": key, "value": value, "diagnosis": diagnosis.to_dict()}
    context["views"] = views
    context |= {"limits": story.limits, "logs": story.logs}
    return render(request, "order.html", context)


def _per_trace(story: Story, causes: frozenset[SpanRef]) -> list[tuple[str, waterfall.Waterfall]]:
    """One waterfall per trace, all on the same time axis, oldest trace first."""
    if not story.spans:
        return []
    axis = (min(s.start_ns for s in story.spans), max(s.end_ns for s in story.spans))
    views = [
        (trace_id, waterfall.build(story, trace_id, axis, causes))
        for trace_id in story.trace_ids
        if story.spans_of(trace_id)
    ]
    return sorted(views, key=lambda v: v[1].rows[0].span.start_ns if v[1].rows else 0)

"""The logs explorer's routes: /logs (the page) and /api/logs (search, histogram, context,
tail). Filters carry the trace search's names where they mean the same."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi.responses import Response, StreamingResponse

from clew.query_ui import deps
from clew.query_ui.errors import InvalidParameterError, InvalidQueryError
from clew.query_ui.logs import filters as lf
from clew.query_ui.logs import histogram, search, tail
from clew.query_ui.logs.context import context
from clew.query_ui.routers.api import ERRORS
from clew.query_ui.routers.args import reject_unknown
from clew.query_ui.routers.pages import render
from clew.query_ui.search import bounded, parse_time

api = APIRouter(prefix="/api/logs", tags=["logs"], dependencies=[Depends(reject_unknown)])
pages = APIRouter(include_in_schema=False)
MAX_TAIL_SECONDS = 3600


def log_args(
    lookback: Annotated[str, Query(description="relative range ending now/`end`: 15m, 1h")] = "1h",
    start: Annotated[str, Query(description="absolute start, RFC 3339 (UTC when no offset)")] = "",
    end: Annotated[str, Query(description="absolute end, RFC 3339; default now")] = "",
    service: Annotated[str, Query(description="the service that wrote the record")] = "",
    tag: Annotated[
        list[str], Query(description="`key=value` on the record or its resource; repeat")
    ] = [],  # noqa: B006 - FastAPI copies defaults
    key: Annotated[str, Query(description="business key of `key_value`; default the first")] = "",
    key_value: Annotated[
        str, Query(description="records carrying this business key value, or of its traces")
    ] = "",
    text: Annotated[
        str, Query(description='words, "quoted phrases", -excluded; case-insensitive')
    ] = "",
    severity: Annotated[str, Query(description="at least: TRACE..FATAL or 1-24")] = "",
    trace_id: Annotated[str, Query(description="records of this trace")] = "",
    has_trace: Annotated[str, Query(description="any | yes | no")] = "any",
    limit: Annotated[str, Query(description="records per page, 1 to 100")] = "50",
) -> dict[str, Any]:
    """The logs filters as given; `logs.filters.build` checks them."""
    return dict(locals())


Args = Annotated[dict[str, Any], Depends(log_args)]


@api.get("", responses=ERRORS, summary="Search log records")
def get_logs(
    request: Request,
    args: Args,
    cursor: Annotated[str, Query(description="next_cursor of the page before")] = "",
) -> dict[str, Any]:
    """Log records matching every filter, newest first, a page at a time."""
    filters = lf.build(args, deps.business_keys(request))
    given = search.Cursor.decode(cursor) if cursor else None
    return search.to_json(search.page(deps.store(request), filters, given))


@api.get("/histogram", responses=ERRORS, summary="Log volume by severity")
def get_histogram(request: Request, args: Args) -> dict[str, Any]:
    """Records per time bucket and severity over the range, oldest bucket first."""
    filters = lf.build(args, deps.business_keys(request))
    return histogram.histogram(deps.store(request), filters)


@api.get("/context", responses=ERRORS, summary="The lines around a log line")
def get_context(
    request: Request,
    at: Annotated[str, Query(description="the line's time: Unix ns or RFC 3339")],
    service: Annotated[str, Query(description="the line's service")] = "",
    trace_id: Annotated[str, Query(description="the line's trace id")] = "",
    size: Annotated[str, Query(description="lines each side from the service, 1-200")] = "20",
) -> dict[str, Any]:
    """Lines of the same service just before and after, and the lines of the same trace."""
    at_ns = _moment(at, "at")
    lines = bounded(size.strip(), 1, 200, "size")
    trace = lf.build({"trace_id": trace_id}, ["order.id"]).trace_id
    return context(deps.store(request), at_ns, service.strip(), trace, lines)


@api.get("/tail", responses=ERRORS, summary="Follow new log lines (server-sent events)")
def get_tail(
    request: Request,
    args: Args,
    after: Annotated[str, Query(description="send lines after this time (Unix ns); now")] = "",
    seconds: Annotated[str, Query(description="how long to follow before the stream ends")] = "300",
    last_event_id: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> StreamingResponse:
    """`event: logs` with {logs, stored_traces, limits} as lines arrive; reconnect to go on."""
    filters = lf.build(args, deps.business_keys(request))
    floor = _moment(last_event_id or after, "after") if (last_event_id or after) else None
    follower = tail.Follower(deps.store(request), filters, floor or filters.end_ns)
    duration = bounded(seconds.strip(), 0, MAX_TAIL_SECONDS, "seconds")
    headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    body = tail.stream(follower, duration, request.is_disconnected)
    return StreamingResponse(body, media_type="text/event-stream", headers=headers)


def _moment(text: str, name: str) -> int:
    value = text.strip()
    if value.isascii() and value.isdigit() and len(value) <= 19:
        return int(value)
    return parse_time(value, name)


@pages.get("/logs")
def logs_page(request: Request, args: Args, cursor: Annotated[str, Query()] = "") -> Response:
    """The search form, the volume histogram and the matching lines."""
    context: dict[str, Any] = {"args": args, "cursor": cursor, "error": "", "page": None}
    context["highlights"] = []
    try:
        filters = lf.build(args, deps.business_keys(request))
        given = search.Cursor.decode(cursor) if cursor else None
    except InvalidQueryError as exc:
        context["error"] = exc.message
        status = exc.status_code if isinstance(exc, InvalidParameterError) else 400
        return render(request, "logs.html", context, status=status)
    store = deps.store(request)
    result = search.page(store, filters, given)
    context["page"] = result
    context["highlights"] = filters.text.highlights
    context["histogram"] = histogram.histogram(store, filters) if given is None else None
    context["next_url"] = _url(args | {"cursor": result.next_cursor or ""})
    context["query"] = _url(args)[len("/logs?") :]
    return render(request, "logs.html", context)


def _url(args: dict[str, Any]) -> str:
    pairs = [(k, v) for k, v in args.items() if k != "tag" and v not in ("", None)]
    pairs += [("tag", t) for t in args.get("tag", []) if t]
    return "/logs?" + urlencode(pairs)

"""Drilling down: trace statistics, the flame graph's data, comparing two traces or orders."""

from __future__ import annotations

import re
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ConfigDict
from typing_extensions import TypedDict

from clew.query_ui import compare, deps, stats, waterfall
from clew.query_ui.errors import NotFoundError
from clew.query_ui.read import load
from clew.query_ui.read.critical import critical_path
from clew.query_ui.read.story import Story
from clew.query_ui.routers.api import ERRORS
from clew.query_ui.routers.pages import render

router = APIRouter()
TRACE_ID = re.compile(r"^[0-9a-fA-F]{32}$")
MAX_ARG = 512  # ids and key values are short; anything longer is refused with a 422

TraceArg = Annotated[str, Query(max_length=MAX_ARG, description="a trace id (32 hex digits)")]
KeyArg = Annotated[
    str, Query(max_length=MAX_ARG, description="compare values of this business key, not traces")
]


class StatRowOut(TypedDict):
    """The spans of one service and operation in a trace."""

    service: str
    operation: str
    count: int
    total_ns: int
    self_ns: int
    min_ns: int
    avg_ns: int
    max_ns: int


class StatsResponse(TypedDict):
    """Trace statistics, most self time first."""

    trace_id: str
    rows: list[StatRowOut]
    limits: list[str]


class CompareResponse(TypedDict):
    """Two span trees aligned by service and operation path (the docstring of
    clew.query_ui.compare says how); `a`/`b` summarise each side with its critical path."""

    __pydantic_config__ = ConfigDict(extra="allow")  # type: ignore[misc]
    a: dict[str, Any]
    b: dict[str, Any]
    only_a: list[dict[str, Any]]
    only_b: list[dict[str, Any]]
    both: list[dict[str, Any]]
    diverged_at: dict[str, Any] | None
    limits: list[str]


def _trace(request: Request, trace_id: str) -> Story:
    """A trace by id; what cannot be a trace id (32 hex digits) is not looked for."""
    if not TRACE_ID.match(trace_id.strip()):
        raise NotFoundError(f"no trace with id {trace_id.strip().lower()[:100]!r} is stored")
    return load.load_trace(deps.store(request), trace_id, logs=False, links=False, resource=False)


@router.get(
    "/api/traces/{trace_id}/stats",
    response_model=StatsResponse,
    responses=ERRORS,
    summary="Statistics of a trace",
    tags=["api"],
)
def trace_stats(request: Request, trace_id: str) -> dict[str, Any]:
    """Per service and operation: count, total, self time (not covered by children), min/avg/max."""
    story = _trace(request, trace_id)
    rows = [row.to_dict() for row in stats.rows(story)]
    return {"trace_id": story.trace_ids[0], "rows": rows, "limits": list(story.limits)}


@router.get(
    "/api/traces/{trace_id}/flame", responses=ERRORS, summary="Flame graph data", tags=["api"]
)
def trace_flame(request: Request, trace_id: str) -> dict[str, Any]:
    """The spans in waterfall order, compact: each is [span id, index of its parent or -1,
    index into `services`, name, start after the trace's start (ns), duration (ns), failed,
    on the critical path]; `services` is [[name, colour], ...]."""
    story = _trace(request, trace_id)
    order = story.depth_first()
    services = list(dict.fromkeys(span.service for span in story.spans))  # first seen first
    colour = {name: n for n, name in enumerate(services)}
    on_path = critical_path(story)
    start = story.spans[0].start_ns
    spans = [
        [s.span_id, parent, colour[s.service], s.name, s.start_ns - start, s.duration_ns,
         int(story.failed(s)), int(s.ref in on_path)]
        for s, parent in order
    ]  # fmt: skip
    return {
        "trace_id": story.trace_ids[0],
        # the waterfall's colours: one per service in order of first appearance, 12 in turn
        "services": [[name, n % waterfall.PALETTE_SIZE] for name, n in colour.items()],
        "spans": spans,
        "limits": list(story.limits),
    }


def _compared(request: Request, a: str, b: str, key: str) -> dict[str, Any]:
    store = deps.store(request)
    if key:
        return compare.of_keys(store, deps.checked_key(request, key), a, b)
    return compare.of_traces(store, a, b)


@router.get(
    "/api/compare",
    response_model=CompareResponse,
    responses=ERRORS,
    summary="Compare two traces (or two business key values)",
    tags=["api"],
)
def compare_api(request: Request, a: TraceArg, b: TraceArg, key: KeyArg = "") -> dict[str, Any]:
    """Spans only in A, only in B, and in both with their duration difference (B - A)."""
    return _compared(request, a, b, key)


@router.get(
    "/api/keys/{key}/{value:path}/nearest-succeeded",
    responses=ERRORS,
    summary="The nearest similar value that succeeded",
    tags=["api"],
)
def nearest_succeeded(request: Request, key: str, value: str) -> dict[str, Any]:
    """The closest-in-time value of the key with the same entry operation and no failed span."""
    return compare.nearest_succeeded(deps.store(request), deps.checked_key(request, key), value)


@router.get("/compare", include_in_schema=False)
def compare_page(
    request: Request,
    a: Annotated[str, Query(max_length=MAX_ARG)] = "",
    b: Annotated[str, Query(max_length=MAX_ARG)] = "",
    key: Annotated[str, Query(max_length=MAX_ARG)] = "",
) -> Response:
    """Two traces (or orders) side by side; a form when one is missing."""
    context: dict[str, Any] = {"a": a.strip(), "b": b.strip(), "key": key, "result": None}
    if context["a"] and context["b"]:
        result = _compared(request, context["a"], context["b"], key)
        merged = [(kind, e) for kind in ("both", "only_a", "only_b") for e in result[kind]]
        context["result"] = result
        context["nodes"] = sorted(merged, key=lambda pair: int(pair[1]["position"]))
    return render(request, "compare.html", context)


@router.get("/compare/succeeded", include_in_schema=False)
def compare_with_succeeded(
    request: Request,
    value: Annotated[str, Query(max_length=MAX_ARG)],
    key: Annotated[str, Query(max_length=MAX_ARG)] = "order.id",
) -> Response:
    """Open the comparison of a failed order with the nearest similar one that succeeded."""
    found = compare.nearest_succeeded(deps.store(request), deps.checked_key(request, key), value)
    query = urlencode({"key": key, "a": value, "b": found["match"]["value"]})
    return RedirectResponse(f"/compare?{query}", status_code=303)

"""The overview: home page, service pages, the service map, and their JSON API."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from clew.query_ui import deps
from clew.query_ui.overview import charts, failures, health
from clew.query_ui.overview.ranges import BadParameter, Range, parse_range
from clew.query_ui.overview.servicemap import service_map
from clew.query_ui.routers.api import ERRORS
from clew.query_ui.routers.pages import render

api = APIRouter(prefix="/api", tags=["overview"])
pages = APIRouter(include_in_schema=False)
LOOKBACKS = ("15m", "1h", "6h", "1d", "2d", "7d")
MAX_NAME = 512


def overview_range(
    lookback: Annotated[str, Query(description="range ending now/`end`: 15m ... 7d")] = "1h",
    start: Annotated[str, Query(description="absolute start, RFC 3339 (UTC when no offset)")] = "",
    end: Annotated[str, Query(description="absolute end, RFC 3339; default now")] = "",
) -> Range:
    """The range of an overview request; a bad value is a 422 naming the parameter."""
    return parse_range(lookback, start, end)


def _checked_name(name: str, what: str = "service") -> str:
    if len(name) > MAX_NAME or "\x00" in name:
        raise BadParameter(f"{what}: not a service name")
    return name


RangeArg = Annotated[Range, Depends(overview_range)]


@api.get("/services", responses=ERRORS, summary="Services and their health")
def api_services(request: Request, period: RangeArg) -> dict[str, Any]:
    """Each service's server and consumer spans: requests, errors, p50/p95/p99, worst first."""
    return {"services": health.services(deps.store(request), period)}


@api.get("/services/{name}", responses=ERRORS, summary="One service")
def api_service(request: Request, name: str, period: RangeArg) -> dict[str, Any]:
    """A service's figures, operations, callers and callees, failure groups and log counts."""
    return service_view(request, _checked_name(name), period)


@api.get("/map", responses=ERRORS, summary="The service map")
def api_map(request: Request, period: RangeArg) -> dict[str, Any]:
    """Services as nodes, calls as edges (http, grpc, kafka through topics, other)."""
    return service_map(deps.store(request), period)


@api.get("/failures", responses=ERRORS, summary="Failure groups")
def api_failures(
    request: Request,
    period: RangeArg,
    service: Annotated[str, Query(description="only groups whose root cause is here")] = "",
) -> dict[str, Any]:
    """Failed orders and traces of the range grouped by root-cause signature, biggest first."""
    store = deps.store(request)
    return {"groups": failures.groups(store, period, _checked_name(service))}


def service_view(request: Request, name: str, period: Range) -> dict[str, Any]:
    """Everything the service page shows, as JSON."""
    store = deps.store(request)
    found = health.services(store, period, name)
    edges = service_map(store, period, name)["edges"]
    view: dict[str, Any] = {
        "service": found[0] if found else None,
        "operations": [],
        "callers": [e for e in edges if e["target"] == name],
        "callees": [e for e in edges if e["source"] == name],
        "failures": [],
        "logs": [],
    }
    if found:  # a name with no spans in the range (an uninstrumented peer) has only callers
        view["operations"] = health.operations(store, period, name)
        view["failures"] = failures.groups(store, period, name)
        view["logs"] = health.logs(store, period, name)
    return view


def _range_context(request: Request) -> dict[str, Any]:
    params = request.query_params
    return {
        "lookback": params.get("lookback", "1h"),
        "start": params.get("start", ""),
        "end": params.get("end", ""),
        "lookbacks": LOOKBACKS,
        "spark": charts.sparkline,
    }


@pages.get("/")
def home_page(request: Request, period: RangeArg) -> Response:
    """The health of the system: services worst first, then failure groups."""
    store = deps.store(request)
    context = _range_context(request) | {
        "services": health.services(store, period),
        "groups": failures.groups(store, period),
    }
    return render(request, "home.html", context)


@pages.get("/services/{name}")
def service_page(request: Request, name: str, period: RangeArg) -> Response:
    """One service: operations, callers and callees, failure groups, logs by severity."""
    view = service_view(request, _checked_name(name), period)
    return render(request, "service.html", _range_context(request) | {"name": name, **view})


@pages.get("/map")
def map_page(request: Request, period: RangeArg) -> Response:
    """The service map, drawn as SVG on the server."""
    the_map = service_map(deps.store(request), period)
    context = _range_context(request) | {"map": the_map, "drawing": charts.layout(the_map)}
    return render(request, "map.html", context)

"""Search arguments, shared by the JSON API and the search page (and so documented once)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Query, Request
from fastapi.dependencies.models import Dependant

from clew.query_ui.errors import InvalidParameterError


def reject_unknown(request: Request) -> None:
    """Refuse a query parameter the route does not take: a mistyped filter (`attr=` for
    `tag=`) would otherwise be ignored and widen the results without a word."""
    route = request.scope.get("route")
    dependant = getattr(route, "dependant", None)
    if dependant is None:
        return
    known = set(_query_names(dependant))
    for name in request.query_params:
        if name not in known:
            expected = ", ".join(sorted(known)) or "none"
            raise InvalidParameterError(name, f"unknown parameter (this route takes: {expected})")


def _query_names(dependant: Dependant) -> list[str]:
    names = [param.alias or param.name for param in dependant.query_params]
    for sub in dependant.dependencies:
        names += _query_names(sub)
    return names


def search_args(
    lookback: Annotated[
        str, Query(description="relative range ending now/`end`: 15m, 1h, 2d")
    ] = "1h",
    start: Annotated[str, Query(description="absolute start, RFC 3339 (UTC when no offset)")] = "",
    end: Annotated[str, Query(description="absolute end, RFC 3339; default now")] = "",
    service: Annotated[str, Query(description="a service with a span in the trace")] = "",
    operation: Annotated[str, Query(description="a span name (of `service` when given)")] = "",
    tag: Annotated[
        list[str], Query(description="`key=value` on any span or resource of the trace; repeat")
    ] = [],  # noqa: B006 - FastAPI copies defaults
    status: Annotated[str, Query(description="any | error (any span failed) | ok")] = "any",
    min_duration: Annotated[str, Query(description="trace duration at least: 250ms, 1.5s")] = "",
    max_duration: Annotated[str, Query(description="trace duration at most")] = "",
    key: Annotated[str, Query(description="business key of `key_value`; default the first")] = "",
    key_value: Annotated[str, Query(description="only traces of this business key value")] = "",
    sort: Annotated[str, Query(description="start | duration | spans | errors")] = "start",
    order: Annotated[str, Query(description="desc | asc")] = "desc",
    limit: Annotated[str, Query(description="results per page, 1 to 100")] = "20",
    offset: Annotated[str, Query(description="results to skip (paging)")] = "0",
) -> dict[str, Any]:
    """The search filters as given; `search.build_filters` checks them."""
    return {
        "lookback": lookback,
        "start": start,
        "end": end,
        "service": service,
        "operation": operation,
        "tag": tag,
        "status": status,
        "min_duration": min_duration,
        "max_duration": max_duration,
        "key": key,
        "key_value": key_value,
        "sort": sort,
        "order": order,
        "limit": limit,
        "offset": offset,
    }

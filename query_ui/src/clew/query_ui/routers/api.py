"""The JSON API, documented in the OpenAPI schema at /docs and /openapi.json."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, Request

from clew.query_ui import deps, errors, schemas, search, waterfall
from clew.query_ui.read import load
from clew.query_ui.read.shapes import log_out, span_out, stamp
from clew.query_ui.routers.args import reject_unknown, search_args

router = APIRouter(prefix="/api", tags=["api"], dependencies=[Depends(reject_unknown)])
_Route = TypeVar("_Route", bound=Callable[..., Any])
ERRORS = errors.responses()


def _get(path: str, response: Any, summary: str) -> Callable[[_Route], _Route]:
    """A GET route with its response schema and the error responses every route shares."""
    return router.get(path, response_model=response, responses=ERRORS, summary=summary)


@_get("/traces", schemas.SearchResponse, "Search traces")
def search_traces(
    request: Request, args: Annotated[dict[str, Any], Depends(search_args)]
) -> dict[str, Any]:
    """Traces matching every filter; attribute and status filters apply to the whole trace."""
    filters = search.build_filters(args, deps.business_keys(request))
    page = search.search(deps.store(request), filters)
    next_offset = filters.offset + filters.limit if page.has_more else None
    body = {"traces": page.traces, "has_more": page.has_more, "next_offset": next_offset}
    return body | {"limits": page.limits}


@_get("/traces/{trace_id}", schemas.TraceResponse, "One trace")
def get_trace(request: Request, trace_id: str) -> dict[str, Any]:
    """All spans of a trace, whatever its age, with links, back-links and Kafka hops."""
    story = load.load_trace(deps.store(request), trace_id, logs=False)
    view = waterfall.build(story)
    return {
        "trace_id": story.trace_ids[0],
        "spans": [span_out(story, row.span) | {"depth": row.depth} for row in view.rows],
        "critical_path": [row.span.span_id for row in view.rows if row.critical],
        "missing_parents": view.missing_parents,
        "hops": [hop_dict(h) for row in view.rows for h in row.hops],
        "limits": list(story.limits),
    }


@_get("/traces/{trace_id}/logs", schemas.LogsResponse, "Logs of a trace")
def get_trace_logs(request: Request, trace_id: str) -> dict[str, Any]:
    """Every log record written inside the trace, oldest first."""
    story = load.load_trace(deps.store(request), trace_id)
    return {
        "trace_id": story.trace_ids[0],
        "logs": [log_out(record) for record in story.logs],
        "limits": list(story.limits),
    }


@_get("/keys/{key}/{value:path}/traces", schemas.KeyTracesResponse, "Traces of a business key")
def get_key_traces(request: Request, key: str, value: str) -> dict[str, Any]:
    """The traces in which a business key (such as order.id) had this value."""
    rows = load.key_traces(deps.store(request), deps.checked_key(request, key), value)
    return {"key": key, "value": value, "traces": [key_trace_dict(r) for r in rows]}


@_get("/keys/{key}/{value:path}/diagnosis", schemas.DiagnosisResponse, "Why a key value failed")
def get_key_diagnosis(request: Request, key: str, value: str) -> dict[str, Any]:
    """The explainer's diagnosis over every trace and log of the business key value."""
    return _diagnosis(request, deps.checked_key(request, key), value)


@_get("/orders/{order_id:path}/diagnosis", schemas.DiagnosisResponse, "Why an order failed")
def get_order_diagnosis(request: Request, order_id: str) -> dict[str, Any]:
    """The same as /api/keys/order.id/{order_id}/diagnosis."""
    return _diagnosis(request, "order.id", order_id)


def _diagnosis(request: Request, key: str, value: str) -> dict[str, Any]:
    result: dict[str, Any] = deps.diagnose(request, key, value).to_dict()
    return result


def hop_dict(hop: waterfall.Hop) -> dict[str, Any]:
    """A Kafka hop as JSON."""
    return {
        "topic": hop.topic,
        "producer_trace_id": hop.producer.trace_id,
        "producer_span_id": hop.producer.span_id,
        "producer_service": hop.producer.service or None,
        "consumer_trace_id": hop.consumer.trace_id,
        "consumer_span_id": hop.consumer.span_id,
        "consumer_service": hop.consumer.service or None,
        "queue_ns": hop.queue_ns,
    }


def key_trace_dict(row: dict[str, Any]) -> dict[str, Any]:
    """A row of the business-key index as JSON."""
    return {
        "trace_id": str(row["TraceId"]),
        **stamp("first_seen", int(row["FirstNs"])),
        **stamp("last_seen", int(row["LastNs"])),
        "has_error": bool(row["HasError"]),
        "services": [str(s) for s in row["Services"]],
    }

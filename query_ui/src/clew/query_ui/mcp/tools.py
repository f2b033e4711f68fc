"""The MCP tools: each is one entry of TOOLS, a name, a description and a function whose typed
parameters are the tool's input schema and which says which API paths answer it.

Adding a tool for a new API route is one entry here; `server.py` does the rest (calls the API,
merges the answers, bounds the size).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, Literal
from urllib.parse import quote

from pydantic import Field

Call = tuple[str, dict[str, Any]]  # an API path and its query parameters
Short = Annotated[str, Field(max_length=512)]


@dataclass(frozen=True)
class Tool:
    """One MCP tool over the JSON API."""

    name: str
    description: str
    calls: Callable[..., list[Call]]
    """Takes the tool's arguments; returns the API GETs whose JSON, merged, is the answer."""


KEY_MODE = "set to compare two values of this business key (e.g. order.id), not two traces"


def _segment(value: str) -> str:
    return quote(value.strip(), safe="")


def search_traces(
    lookback: Annotated[
        str, Field(max_length=32, description="range ending now: 15m, 1h, 2d")
    ] = "1h",
    service: Annotated[
        str, Field(max_length=512, description="a service with a span in the trace")
    ] = "",
    operation: Annotated[str, Field(max_length=512, description="a span name")] = "",
    status: Annotated[
        Literal["any", "error", "ok"], Field(description="error: some span failed")
    ] = "any",
    min_duration: Annotated[
        str, Field(max_length=32, description="trace duration at least: 250ms")
    ] = "",
    tag: Annotated[list[Short], Field(max_length=20, description="key=value on any span")] = [],  # noqa: B006
    key_value: Annotated[
        str, Field(max_length=512, description="only traces of this order id")
    ] = "",
    limit: Annotated[int, Field(ge=1, le=100, description="results")] = 20,
) -> list[Call]:
    params: dict[str, Any] = {
        "lookback": lookback,
        "service": service,
        "operation": operation,
        "status": status,
    }
    params |= {"min_duration": min_duration, "tag": tag, "key_value": key_value, "limit": limit}
    return [("/api/traces", {k: v for k, v in params.items() if v not in ("", [])})]


def get_trace(
    trace_id: Annotated[str, Field(max_length=512, description="32 hex digits")],
) -> list[Call]:
    path = f"/api/traces/{_segment(trace_id)}"
    return [(path, {}), (path + "/logs", {})]


def why_failed(
    value: Annotated[str, Field(max_length=512, description="the order id (or other key value)")],
    key: Annotated[str, Field(max_length=512, description="the business key")] = "order.id",
) -> list[Call]:
    return [(f"/api/keys/{_segment(key)}/{_segment(value)}/diagnosis", {})]


def compare_traces(
    a: Annotated[str, Field(max_length=512, description="first trace id (or key value)")],
    b: Annotated[str, Field(max_length=512, description="second trace id (or key value)")],
    key: Annotated[str, Field(max_length=512, description=KEY_MODE)] = "",
) -> list[Call]:
    return [("/api/compare", {"a": a, "b": b} | ({"key": key} if key else {}))]


def trace_stats(
    trace_id: Annotated[str, Field(max_length=512, description="32 hex digits")],
) -> list[Call]:
    return [(f"/api/traces/{_segment(trace_id)}/stats", {})]


def search_logs(
    lookback: Annotated[
        str, Field(max_length=32, description="range ending now: 15m, 1h, 2d")
    ] = "1h",
    text: Annotated[
        str,
        Field(max_length=512, description='words or "a phrase" in the body; -word excludes'),
    ] = "",
    severity: Annotated[
        str, Field(max_length=16, description="at least: TRACE..FATAL or 1-24")
    ] = "",
    service: Annotated[str, Field(max_length=512, description="the service that logged")] = "",
    tag: Annotated[
        list[Short], Field(max_length=20, description="key=value on the record or its resource")
    ] = [],  # noqa: B006
    trace_id: Annotated[str, Field(max_length=512, description="only this trace's logs")] = "",
    key_value: Annotated[str, Field(max_length=512, description="only logs of this order id")] = "",
    limit: Annotated[int, Field(ge=1, le=100, description="records")] = 50,
) -> list[Call]:
    params: dict[str, Any] = {"lookback": lookback, "text": text, "severity": severity}
    params |= {"service": service, "tag": tag, "trace_id": trace_id, "key_value": key_value}
    params["limit"] = limit
    return [("/api/logs", {k: v for k, v in params.items() if v not in ("", [])})]


RANGE = "range ending now: 15m, 1h, 6h, 1d, 2d, 7d"


def failure_groups(
    lookback: Annotated[str, Field(max_length=32, description=RANGE)] = "1h",
    service: Annotated[
        str, Field(max_length=512, description="only groups whose root cause is in it")
    ] = "",
) -> list[Call]:
    params = {"lookback": lookback} | ({"service": service} if service else {})
    return [("/api/failures", params)]


def service_health(
    lookback: Annotated[str, Field(max_length=32, description=RANGE)] = "1h",
    service: Annotated[
        str, Field(max_length=512, description="one service in detail; empty: all of them")
    ] = "",
) -> list[Call]:
    if service:
        return [(f"/api/services/{_segment(service)}", {"lookback": lookback})]
    return [("/api/services", {"lookback": lookback})]


TOOLS: tuple[Tool, ...] = (
    Tool(
        "search_traces",
        "Search stored traces (newest first). Every condition applies to the whole trace. "
        "Returns the API's /api/traces JSON: traces with trace_id, start, duration_ns, "
        "root_service, root_name, span_count, services and error_count.",
        search_traces,
    ),
    Tool(
        "get_trace",
        "One trace by id with all its spans (service, name, timing, status, failed, "
        "attributes, exception, links), its critical path, its Kafka hops and every log "
        "record written in it (the API's /api/traces/{id} and /logs, merged).",
        get_trace,
    ),
    Tool(
        "why_failed",
        "Why did an order (or any business key value) fail: the deterministic explainer's "
        "diagnosis, naming the originating failure, its exception and logs, and the cascade "
        "it caused (the API's /api/keys/{key}/{value}/diagnosis).",
        why_failed,
    ),
    Tool(
        "compare_traces",
        "Compare two traces (or, with key, two orders): span trees aligned by their "
        "service/operation path, spans only in a, only in b, and in both with the duration "
        "difference delta_ns = b - a; failed and critical-path flags; diverged_at names "
        "the first path where they part ways (the API's /api/compare).",
        compare_traces,
    ),
    Tool(
        "search_logs",
        "Search stored log records, newest first: free text over the body, severity at least, "
        "service, attributes, trace or order. Returns the API's /api/logs JSON: logs with "
        "time, severity, service, body, attributes, trace_id and span_id (open the trace "
        "with get_trace), and next_cursor for the next page.",
        search_logs,
    ),
    Tool(
        "failure_groups",
        "What is failing, and since when: the failed orders and traces of the range grouped "
        "by root cause (service, operation, error type, message with ids masked), each with "
        "count, first_seen, last_seen, new, business (a declined card) or fault, service "
        "versions and example orders to pass to why_failed (the API's /api/failures).",
        failure_groups,
    ),
    Tool(
        "service_health",
        "Service health over the range: request rate, error rate and p50/p95/p99 latency of "
        "each service's server and consumer spans, worst first; with service, that service's "
        "operations, callers, callees, failure groups and logs by severity (/api/services).",
        service_health,
    ),
    Tool(
        "trace_stats",
        "Per service and operation of a trace: count, total, self time (not covered by "
        "children), min/avg/max in ns, most self time first (/api/traces/{id}/stats).",
        trace_stats,
    ),
)

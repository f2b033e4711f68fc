"""The JSON API's response shapes, for the OpenAPI schema (the routes return these dicts).

The shapes of one span, link and log record are read/shapes.py's, where they are built.
"""

from __future__ import annotations

from typing import Any

from pydantic import ConfigDict
from typing_extensions import TypedDict

from clew.query_ui.read.shapes import LogOut, SpanOut

_OPEN = ConfigDict(extra="allow")


class TraceSummary(TypedDict):
    """One search result."""

    trace_id: str
    start: str
    start_unix_nano: int
    duration_ns: int
    duration: str
    root_service: str
    root_name: str
    span_count: int
    services: list[str]
    error_count: int


class SearchResponse(TypedDict):
    """A page of search results; `limits` says when a limit cut it short."""

    traces: list[TraceSummary]
    has_more: bool
    next_offset: int | None
    limits: list[str]


class HopOut(TypedDict):
    """A Kafka hop: producer → topic → consumer and the time in the queue."""

    topic: str
    producer_trace_id: str
    producer_span_id: str
    producer_service: str | None
    consumer_trace_id: str
    consumer_span_id: str
    consumer_service: str | None
    queue_ns: int | None


class TraceSpanOut(SpanOut):
    """A span of a trace, with its depth in the tree."""

    depth: int


class TraceResponse(TypedDict):
    """A trace's spans in waterfall order, its critical path, missing parents and hops."""

    trace_id: str
    spans: list[TraceSpanOut]
    critical_path: list[str]
    missing_parents: list[str]
    hops: list[HopOut]
    limits: list[str]


class LogsResponse(TypedDict):
    """A trace's logs, oldest first."""

    trace_id: str
    logs: list[LogOut]
    limits: list[str]


class KeyTrace(TypedDict):
    """A trace of a business key value, from the business-key index."""

    trace_id: str
    first_seen: str
    first_seen_unix_nano: int
    last_seen: str
    last_seen_unix_nano: int
    has_error: bool
    services: list[str]


class KeyTracesResponse(TypedDict):
    """The traces of a business key value."""

    key: str
    value: str
    traces: list[KeyTrace]


class RootCause(TypedDict):
    """Where a failure started; `evidence` items carry a `kind` (exception, log, ...)."""

    __pydantic_config__ = _OPEN  # type: ignore[misc]
    service: str
    span_name: str
    name: str
    span_id: str
    trace_id: str
    error_type: str
    message: str
    time: str
    time_unix_nano: int
    evidence: list[Any]


class CascadeEntry(TypedDict):
    """A span that failed because of a failure below it, and why; `logs`: its ERROR logs."""

    __pydantic_config__ = _OPEN  # type: ignore[misc]
    service: str
    span_name: str
    name: str
    span_id: str
    reason: str
    logs: list[Any]


class Recovery(TypedDict):
    """A span that made a failure good: a successful retry or a compensating action."""

    __pydantic_config__ = _OPEN  # type: ignore[misc]
    kind: str
    service: str
    span_name: str
    span_id: str
    trace_id: str
    time: str
    time_unix_nano: int
    reason: str
    related_span_id: str


class DiagnosisResponse(TypedDict):
    """Why a business key value failed: causes most likely first, cascade, a summary."""

    __pydantic_config__ = _OPEN  # type: ignore[misc]
    key: str
    value: str
    status: str
    root_causes: list[RootCause]
    cascade: list[CascadeEntry]
    recoveries: list[Recovery]
    handled: list[RootCause]
    traces: list[str]
    logs: list[Any]
    summary: str
    failed_spans: list[dict[str, str]]
    limits: list[str]

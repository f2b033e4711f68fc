"""The JSON API's response shapes, for the OpenAPI schema (the routes return these dicts)."""

from __future__ import annotations

from typing import Any

from pydantic import ConfigDict
from typing_extensions import TypedDict

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


class LinkOut(TypedDict, total=False):
    """A link (or back-link); service, name and start when the other span is stored."""

    trace_id: str
    span_id: str
    attributes: dict[str, str]
    service: str
    name: str
    start: str


class SpanOut(TypedDict):
    """One span; `exception` is the first exception event's type, message and stack trace."""

    __pydantic_config__ = _OPEN  # type: ignore[misc]
    trace_id: str
    span_id: str
    parent_span_id: str
    name: str
    kind: str
    service: str
    start: str
    start_unix_nano: int
    duration_ns: int
    status: str
    status_message: str
    failed: bool
    attributes: dict[str, str]
    resource: dict[str, str]
    scope: str
    events: list[dict[str, Any]]
    exception: dict[str, str] | None
    links: list[LinkOut]
    back_links: list[LinkOut]
    depth: int


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


class TraceResponse(TypedDict):
    """A trace's spans in waterfall order, its critical path, missing parents and hops."""

    trace_id: str
    spans: list[SpanOut]
    critical_path: list[str]
    missing_parents: list[str]
    hops: list[HopOut]
    limits: list[str]


class LogOut(TypedDict):
    """One log record."""

    timestamp: str
    time_unix_nano: int
    trace_id: str
    span_id: str
    severity: str
    severity_number: int
    service: str
    body: str
    attributes: dict[str, str]


class LogsResponse(TypedDict):
    """A trace's logs, oldest first."""

    trace_id: str
    logs: list[LogOut]
    limits: list[str]


class KeyTrace(TypedDict):
    """A trace of a business key value, from the business-key index."""

    trace_id: str
    first_seen: str
    last_seen: str
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
    span_id: str
    trace_id: str
    error_type: str
    message: str
    timestamp: str
    evidence: list[Any]


class CascadeEntry(TypedDict):
    """A span that failed because of a failure below it, and why."""

    __pydantic_config__ = _OPEN  # type: ignore[misc]
    service: str
    span_name: str
    span_id: str
    reason: str


class Recovery(TypedDict):
    """A span that made a failure good: a successful retry or a compensating action."""

    __pydantic_config__ = _OPEN  # type: ignore[misc]
    kind: str
    service: str
    span_name: str
    span_id: str
    trace_id: str
    timestamp: str
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
    traces: list[str]
    logs: list[Any]
    summary: str
    limits: list[str]

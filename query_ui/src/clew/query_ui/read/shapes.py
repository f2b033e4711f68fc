"""The read model as JSON: one shape for a span, a link, an event and a log record, used by
every route that returns one. Times are RFC 3339 strings (read/format.py) with the integer
`<name>_unix_nano` beside them, named the same way everywhere (stamp() for untyped shapes;
tests/query_ui/test_one_model.py checks every response)."""

from __future__ import annotations

from typing import Any

from typing_extensions import TypedDict

from clew.query_ui.read.format import rfc3339
from clew.query_ui.read.model import Event, Link, LogRecord, Span
from clew.query_ui.read.story import Story


def stamp(name: str, time_ns: int) -> dict[str, Any]:
    """`{name: RFC 3339, name_unix_nano: int}`: how every response says a point in time."""
    return {name: rfc3339(time_ns), f"{name}_unix_nano": int(time_ns)}


class LinkOut(TypedDict, total=False):
    """A link (or back-link); service, name and start when the other span is stored."""

    trace_id: str
    span_id: str
    attributes: dict[str, str]
    service: str
    name: str
    start: str
    start_unix_nano: int


class EventOut(TypedDict):
    """A span event."""

    name: str
    time: str
    time_unix_nano: int
    attributes: dict[str, str]


class ExceptionOut(TypedDict):
    """The first exception event of a span."""

    type: str
    message: str
    stacktrace: str


class SpanOut(TypedDict):
    """A span as the JSON API returns it; `failed` is read/failed.py's definition."""

    trace_id: str
    span_id: str
    parent_span_id: str
    name: str
    display_name: str
    """What the span did (read.model.Span.display_name); `name` is the raw span name."""
    kind: str
    service: str
    start: str
    start_unix_nano: int
    end: str
    end_unix_nano: int
    duration_ns: int
    status: str
    status_message: str
    failed: bool
    attributes: dict[str, str]
    resource: dict[str, str]
    scope: str
    events: list[EventOut]
    exception: ExceptionOut | None
    links: list[LinkOut]
    back_links: list[LinkOut]


class LogOut(TypedDict):
    """One log record."""

    time: str
    time_unix_nano: int
    trace_id: str
    span_id: str
    severity: str
    severity_number: int
    service: str
    body: str
    attributes: dict[str, str]


def span_out(story: Story, span: Span) -> SpanOut:
    """A span of `story`, with what the story knows of it: failed, links both ways."""
    exc = span.exception
    return {
        "trace_id": span.trace_id,
        "span_id": span.span_id,
        "parent_span_id": span.parent_span_id,
        "name": span.name,
        "display_name": span.display_name,
        "kind": span.kind,
        "service": span.service,
        "start": rfc3339(span.start_ns),
        "start_unix_nano": span.start_ns,
        "end": rfc3339(span.end_ns),
        "end_unix_nano": span.end_ns,
        "duration_ns": span.duration_ns,
        "status": span.status,
        "status_message": span.status_message,
        "failed": story.failed(span),
        "attributes": dict(span.attributes),
        "resource": dict(span.resource),
        "scope": span.scope,
        "events": [event_out(e) for e in span.events],
        "exception": None
        if exc is None
        else {"type": exc.type, "message": exc.message, "stacktrace": exc.stacktrace},
        "links": [link_out(link) for link in story.links(span)],
        "back_links": [link_out(link) for link in story.back_links(span)],
    }


def event_out(event: Event) -> EventOut:
    return {
        "name": event.name,
        "time": rfc3339(event.time_ns),
        "time_unix_nano": event.time_ns,
        "attributes": dict(event.attributes),
    }


def link_out(link: Link) -> LinkOut:
    out = LinkOut(trace_id=link.trace_id, span_id=link.span_id, attributes=dict(link.attributes))
    if link.service:
        out |= {"service": link.service, "name": link.name, "start": rfc3339(link.time_ns)}
        out["start_unix_nano"] = link.time_ns
    return out


def log_out(record: LogRecord) -> LogOut:
    """A log record as every route returns it."""
    return {
        "time": rfc3339(record.time_ns),
        "time_unix_nano": record.time_ns,
        "trace_id": record.trace_id,
        "span_id": record.span_id,
        "severity": record.level,
        "severity_number": record.severity_number,
        "service": record.service,
        "body": record.body,
        "attributes": dict(record.attributes),
    }

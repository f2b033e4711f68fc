"""The one definition of a failed span.

A span failed when at least one of these holds:

1. its status is Error (`Error`, or `STATUS_CODE_ERROR` from older exporters);
2. it recorded an `exception` event;
3. its HTTP response status is 500 or more (`http.response.status_code`, or the older
   `http.status_code`), on a server or a client span alike;
4. a log record at ERROR or above (SeverityNumber >= 17) was written while it was current:
   an error that was caught, logged and swallowed is still a failure.

A compensating span (a saga's refund) fails like any other: a compensation that failed is a
problem of its own (compensation.py). The time a span failed is its earliest signal: the
exception event or the ERROR log, else its end.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from clew.query_ui.explain.story import LogRecord, Span, SpanRef, Story

HTTP_STATUS_ATTRIBUTES = ("http.response.status_code", "http.status_code")
TIMEOUT_WORDS = ("timeout", "timed out", "deadline exceeded", "deadline_exceeded")


@dataclass(frozen=True)
class Signal:
    """One reason to call a span failed."""

    kind: str
    """status | exception | http | error_log"""
    time_ns: int
    text: str


def signals(story: Story, span: Span) -> tuple[Signal, ...]:
    """Why `span` failed, in the order of the definition; empty when it did not fail."""
    # Rules ask about the same spans many times; a story does not change once loaded.
    known: dict[SpanRef, tuple[Signal, ...]] = story.memo["signals"]
    found = known.get(span.ref)
    if found is None:
        found = known[span.ref] = _signals(story, span)
    return found


def _signals(story: Story, span: Span) -> tuple[Signal, ...]:
    found: list[Signal] = []
    if span.status_code == "Error":
        text = f"status Error: {span.status_message}" if span.status_message else "status Error"
        found.append(Signal("status", span.end_ns, text))
    for event in span.events:
        if event.name == "exception":
            found.append(Signal("exception", event.time_ns, _exception_text(event.attributes)))
    status = http_status(span)
    if status is not None and status >= 500:
        found.append(Signal("http", span.end_ns, f"HTTP {status}"))
    for record in story.logs_of(span):
        if record.is_error:
            text = f"{record.severity_text} log: {log_message(record)}"
            found.append(Signal("error_log", record.time_ns, text))
    return tuple(found)


def is_failed(story: Story, span: Span) -> bool:
    return bool(signals(story, span))


def failed_spans(story: Story) -> tuple[Span, ...]:
    """Every failed span of the story, by start time."""
    return tuple(span for span in story.spans if is_failed(story, span))


def failure_time(story: Story, span: Span) -> int:
    """When `span` failed: its earliest signal (ns since the epoch)."""
    return min((s.time_ns for s in signals(story, span)), default=span.end_ns)


def http_status(span: Span) -> int | None:
    for name in HTTP_STATUS_ATTRIBUTES:
        raw = span.attributes.get(name, "")
        if raw.isdigit():
            return int(raw)
    return None


def describe(story: Story, span: Span) -> tuple[str, str]:
    """(error type, message) of a failed span, from its best signal."""
    for event in span.events:
        if event.name == "exception":
            attrs = event.attributes
            return attrs.get("exception.type", "exception"), attrs.get("exception.message", "")
    error_type = span.attributes.get("error.type", "")
    status = http_status(span)
    for record in story.logs_of(span):
        if record.is_error and "exception.type" in record.attributes:
            return record.attributes["exception.type"], log_message(record)
    if span.status_code == "Error" or (status is not None and status >= 500):
        http = f"HTTP {status}" if status is not None and status >= 400 else ""
        default = span.status_message or (f"HTTP status {status}" if http else "")
        return error_type or http or "Error", default
    for record in story.logs_of(span):
        if record.is_error:
            return f"{record.severity_text} log", record.body
    return error_type, span.status_message


def log_message(record: LogRecord) -> str:
    """What a log record says went wrong: its exception's message when it holds one."""
    return record.attributes.get("exception.message", "") or record.body


def is_timeout(story: Story, span: Span) -> bool:
    """Whether `span` failed by giving up waiting (a timeout, HTTP 504, a deadline)."""
    # HTTP 504 Gateway Timeout; gRPC status 4 is DEADLINE_EXCEEDED.
    if http_status(span) == 504 or span.attributes.get("rpc.grpc.status_code") == "4":
        return True
    error_type, message = describe(story, span)
    text = f"{error_type} {message} {span.attributes.get('error.type', '')}".lower()
    return is_failed(story, span) and any(word in text for word in TIMEOUT_WORDS)


def _exception_text(attributes: Mapping[str, str]) -> str:
    error_type = attributes.get("exception.type", "exception")
    return f"{error_type}: {attributes.get('exception.message', '')}"

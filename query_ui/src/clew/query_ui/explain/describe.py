"""How the explainer describes a failed span: its error type and message, when it failed, and
whether it gave up waiting. Which spans failed is the read model's (read/failed.py)."""

from __future__ import annotations

from clew.query_ui.read.failed import TIMEOUT_WORDS
from clew.query_ui.read.model import LogRecord, Span
from clew.query_ui.read.story import Story


def failure_time(story: Story, span: Span) -> int:
    """When `span` failed: its earliest signal (ns since the epoch)."""
    return min((s.time_ns for s in story.signals(span)), default=span.end_ns)


def describe(story: Story, span: Span) -> tuple[str, str]:
    """(error type, message) of a failed span, from its best signal."""
    exception = span.exception
    if exception is not None:
        return exception.type or "exception", exception.message
    error_type = span.attributes.get("error.type", "")
    status = span.http_status
    for record in story.logs_of(span):
        if record.is_error and "exception.type" in record.attributes:
            return record.attributes["exception.type"], log_message(record)
    if span.status == "Error" or (status is not None and status >= 500):
        http = f"HTTP {status}" if status is not None and status >= 400 else ""
        default = span.status_message or (f"HTTP status {status}" if http else "")
        return error_type or http or "Error", default
    for record in story.logs_of(span):
        if record.is_error:
            return f"{record.level} log", record.body
    return error_type, span.status_message


def log_message(record: LogRecord) -> str:
    """What a log record says went wrong: its exception's message when it holds one."""
    return record.attributes.get("exception.message", "") or record.body


def is_timeout(story: Story, span: Span) -> bool:
    """Whether `span` failed by giving up waiting (a timeout, HTTP 504, a deadline)."""
    # HTTP 504 Gateway Timeout; gRPC status 4 is DEADLINE_EXCEEDED.
    if span.http_status == 504 or span.attributes.get("rpc.grpc.status_code") == "4":
        return True
    error_type, message = describe(story, span)
    text = f"{error_type} {message} {span.attributes.get('error.type', '')}".lower()
    return story.failed(span) and any(word in text for word in TIMEOUT_WORDS)

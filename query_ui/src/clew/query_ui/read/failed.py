"""The one definition of a failed span, for every page, route, command and the explainer.

A span failed when at least one of these holds:

1. its status is Error (`Error`, or `STATUS_CODE_ERROR` from older exporters);
2. it recorded an `exception` event;
3. an HTTP response status of 500 or more (`http.response.status_code`, or the older
   `http.status_code`), on a server or a client span alike;
4. a log record at ERROR or above (SeverityNumber >= 17) was written while it was current:
   an error that was caught, logged and swallowed is still a failed span.

This is a fact about one span. Whether the business flow failed is the explainer's question:
a failed span can be handled (a cache read that fell back, an attempt retried with success)
and a compensating action (a refund) that fails is a failure of its own.

The collector's failed-span index (schema/016_failed_spans.sql) writes the same definition in
SQL; tests/query_ui/test_one_model.py checks the two against each other on every signal.
The time a span failed is its earliest signal: the exception event or the ERROR log, else its end.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from clew.query_ui.read.model import LogRecord, Span

TIMEOUT_WORDS = ("timeout", "timed out", "deadline exceeded", "deadline_exceeded")


@dataclass(frozen=True)
class Signal:
    """One reason to call a span failed."""

    kind: str
    """status | exception | http | error_log"""
    time_ns: int
    text: str


def span_signals(
    span: Span, logs: Iterable[LogRecord], error_logged: bool = False
) -> tuple[Signal, ...]:
    """Why `span` failed, in the order of the definition; empty when it did not fail.

    `logs` are the records written in the span; `error_logged` says an ERROR record was
    written in it when the records themselves were not read.
    """
    statuses = span.http_statuses
    if not (span.status == "Error" or span.events or statuses or logs or error_logged):
        return ()  # none of the four holds: most spans of a big trace, answered at once
    found: list[Signal] = []
    if span.status == "Error":
        text = f"status Error: {span.status_message}" if span.status_message else "status Error"
        found.append(Signal("status", span.end_ns, text))
    for event in span.events:
        if event.name == "exception":
            found.append(Signal("exception", event.time_ns, _exception_text(event.attributes)))
    server_error = next((s for s in statuses if s >= 500), None)
    if server_error is not None:
        found.append(Signal("http", span.end_ns, f"HTTP {server_error}"))
    error_logs = [r for r in logs if r.is_error]
    for record in error_logs:
        found.append(Signal("error_log", record.time_ns, f"{record.level} log: {record.body}"))
    if error_logged and not error_logs:
        found.append(Signal("error_log", span.end_ns, "ERROR log"))
    return tuple(found)


def _exception_text(attributes: Mapping[str, str]) -> str:
    error_type = attributes.get("exception.type", "exception")
    return f"{error_type}: {attributes.get('exception.message', '')}"

"""What a reader needs to see about a failing span: exception, logs, statement, status, topic.

Each evidence item is a dict with a "kind" and that kind's fields:
reason {text} (the rule's conclusion; added by diagnosis.py), exception {timestamp, type,
message, stacktrace}, status {code, message}, log {timestamp, trace_id, span_id, service,
severity, severity_number, body, attributes}, db.statement {system, statement},
http {status_code, method, target}, messaging {system, destination}, duration {duration_ms},
repeated {count, span_ids} (the same failure in several attempts; added by diagnosis.py).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from clew.query_ui.explain.failed import http_status
from clew.query_ui.explain.story import LogRecord, Span, Story

DB_STATEMENT_ATTRIBUTES = ("db.query.text", "db.statement")
DB_SYSTEM_ATTRIBUTES = ("db.system.name", "db.system")
TOPIC_ATTRIBUTES = ("messaging.destination.name", "messaging.destination")

ENTRY_KINDS = frozenset({"Server", "Consumer"})

Evidence = dict[str, Any]


def rfc3339(time_ns: int) -> str:
    """ns since the epoch → RFC 3339 in UTC, with nanoseconds: 2026-11-21T21:45:14.123456789Z."""
    seconds, nanos = divmod(time_ns, 1_000_000_000)
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S") + f".{nanos:09d}Z"


def evidence(story: Story, span: Span) -> list[Evidence]:
    """Everything stored about `span` that helps explain its failure, most telling first."""
    found: list[Evidence] = [_exception(e.time_ns, e.attributes) for e in _exceptions(span)]
    if span.status_code == "Error":
        found.append({"kind": "status", "code": "Error", "message": span.status_message})
    found.extend(log_dict(r) for r in logs_around(story, span))
    found.extend(_attribute_evidence(span))
    found.append({"kind": "duration", "duration_ms": span.duration_ns / 1e6})
    return found


def logs_around(story: Story, span: Span) -> list[LogRecord]:
    """ERROR and WARN logs of `span`, and of its callers in the same service from its start.

    A database client span cannot log; the code around it logs what went wrong, in the
    enclosing span, up to the service's entry span (Server or Consumer).
    """
    around = [span]
    for ancestor in story.ancestors(span):
        if ancestor.service != span.service:
            break
        around.append(ancestor)
        if ancestor.kind in ENTRY_KINDS:
            break
    found = [
        record
        for s in around
        for record in story.logs_of(s)
        if (record.is_error or record.is_warning) and (s is span or record.time_ns >= span.start_ns)
    ]
    return sorted(found, key=lambda r: r.time_ns)


def log_dict(record: LogRecord) -> Evidence:
    """One log record as the JSON API shows it."""
    return {
        "kind": "log",
        "timestamp": rfc3339(record.time_ns),
        "trace_id": record.trace_id,
        "span_id": record.span_id,
        "service": record.service,
        "severity": record.severity_text,
        "severity_number": record.severity_number,
        "body": record.body,
        "attributes": dict(record.attributes),
    }


def _exceptions(span: Span) -> list[Any]:
    return [event for event in span.events if event.name == "exception"]


def _exception(time_ns: int, attributes: Any) -> Evidence:
    return {
        "kind": "exception",
        "timestamp": rfc3339(time_ns),
        "type": attributes.get("exception.type", ""),
        "message": attributes.get("exception.message", ""),
        "stacktrace": attributes.get("exception.stacktrace", ""),
    }


def _attribute_evidence(span: Span) -> list[Evidence]:
    attrs = span.attributes
    found: list[Evidence] = []
    statement = _first(attrs, DB_STATEMENT_ATTRIBUTES)
    if statement:
        system = _first(attrs, DB_SYSTEM_ATTRIBUTES)
        found.append({"kind": "db.statement", "system": system, "statement": statement})
    status = http_status(span)
    if status is not None:
        method = _first(attrs, ("http.request.method", "http.method"))
        target = _first(attrs, ("http.route", "url.full", "http.url", "url.path", "http.target"))
        found.append({"kind": "http", "status_code": status, "method": method, "target": target})
    topic = _first(attrs, TOPIC_ATTRIBUTES)
    if topic:
        system = attrs.get("messaging.system", "")
        found.append({"kind": "messaging", "system": system, "destination": topic})
    return found


def _first(attributes: Any, names: tuple[str, ...]) -> str:
    return next((str(attributes[n]) for n in names if attributes.get(n)), "")

"""What a reader needs to see about a failing span: exception, logs, statement, status, topic.

Each evidence item is a dict with a "kind" and that kind's fields:
reason {text} (the rule's conclusion; added by diagnosis.py), exception {time, time_unix_nano,
type, message, stacktrace}, status {code, message}, log {the API's log shape: time,
time_unix_nano, trace_id, span_id, service, severity, severity_number, body, attributes},
db.statement {system, statement},
http {status_code, method, target}, messaging {system, destination}, duration {duration_ms},
repeated {count, span_ids} (the same failure in several attempts; added by diagnosis.py).
"""

from __future__ import annotations

from typing import Any

from clew.query_ui.read.model import LogRecord, Span
from clew.query_ui.read.shapes import log_out, stamp
from clew.query_ui.read.story import Story

DB_STATEMENT_ATTRIBUTES = ("db.query.text", "db.statement")
DB_SYSTEM_ATTRIBUTES = ("db.system.name", "db.system")
TOPIC_ATTRIBUTES = ("messaging.destination.name", "messaging.destination")

ENTRY_KINDS = frozenset({"Server", "Consumer"})

Evidence = dict[str, Any]


def evidence(story: Story, span: Span) -> list[Evidence]:
    """Everything stored about `span` that helps explain its failure, most telling first."""
    found: list[Evidence] = [_exception(e.time_ns, e.attributes) for e in _exceptions(span)]
    if span.status == "Error":
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
    """One log record as the JSON API shows it, as evidence."""
    return {"kind": "log", **log_out(record)}


def _exceptions(span: Span) -> list[Any]:
    return [event for event in span.events if event.name == "exception"]


def _exception(time_ns: int, attributes: Any) -> Evidence:
    return {
        "kind": "exception",
        **stamp("time", time_ns),
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
    status = span.http_status
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

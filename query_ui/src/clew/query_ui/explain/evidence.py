"""What a reader needs to see about a failing span: exception, logs, statement, status, topic.

Evidence is gathered, not chosen: the exception recorded on the span or, when the span holds
only a status, on the code around it in the same service (a consumer span with the exception,
its HTTP call with the 410), the ERROR and WARN logs of both, and where a consumed message sits.

Each evidence item is a dict with a "kind" and that kind's fields:
reason {text} (the rule's conclusion; added by diagnosis.py), exception {time,
time_unix_nano, type, message, stacktrace, span_id, frames (frames.Frame.to_dict, the
application's first)}, status {code, message}, log {the API's log shape: time, time_unix_nano,
trace_id, span_id, service, severity, severity_number, body, attributes},
db.statement {system, statement}, http {status_code, method, target}, messaging {system,
destination, partition, offset, group, key} (current and older semantic convention names
read), peer {address, url, text} (a call to a peer that sends no spans), duration
{duration_ms}; added by diagnosis.py: repeated {count, span_ids, attempts, text},
compensation {text}, contention {table, suspects, text}.
"""

from __future__ import annotations

from typing import Any

from clew.query_ui.explain.frames import app_first
from clew.query_ui.read.model import LogRecord, Span
from clew.query_ui.read.shapes import log_out, stamp
from clew.query_ui.read.story import Story

DB_STATEMENT_ATTRIBUTES = ("db.query.text", "db.statement")
DB_SYSTEM_ATTRIBUTES = ("db.system.name", "db.system")
TOPIC_ATTRIBUTES = ("messaging.destination.name", "messaging.destination")
MESSAGE_PLACE = {
    "partition": ("messaging.destination.partition.id", "messaging.kafka.destination.partition",
                  "messaging.kafka.partition"),
    "offset": ("messaging.kafka.message.offset", "messaging.kafka.offset"),
    "group": ("messaging.consumer.group.name", "messaging.kafka.consumer.group",
              "messaging.kafka.consumer_group"),
    "key": ("messaging.kafka.message.key", "messaging.kafka.message_key"),
}  # fmt: skip
PEER_ATTRIBUTES = ("server.address", "net.peer.name", "peer.service")
URL_ATTRIBUTES = ("url.full", "http.url")

ENTRY_KINDS = frozenset({"Server", "Consumer"})

Evidence = dict[str, Any]


def evidence(story: Story, span: Span) -> list[Evidence]:
    """Everything stored about `span` that helps explain its failure, most telling first."""
    found: list[Evidence] = [
        _exception(s, e.time_ns, e.attributes) for s, e in gathered_exceptions(story, span)
    ]
    if span.status == "Error":
        found.append({"kind": "status", "code": "Error", "message": span.status_message})
    found.extend(log_dict(r) for r in logs_around(story, span))
    found.extend(_attribute_evidence(span))
    found.extend(_message_place(story, span))
    found.extend(_peer(story, span))
    found.append({"kind": "duration", "duration_ms": span.duration_ns / 1e6})
    return found


def around(story: Story, span: Span) -> list[Span]:
    """`span` and its callers in the same service, up to the service's entry span."""
    spans = [span]
    for ancestor in story.ancestors(span):
        if ancestor.service != span.service:
            break
        spans.append(ancestor)
        if ancestor.kind in ENTRY_KINDS:
            break
    return spans


def gathered_exceptions(story: Story, span: Span) -> list[tuple[Span, Any]]:
    """The span's exception events; without one, those its callers recorded from its start."""
    own = [(span, e) for e in _exceptions(span)]
    if own:
        return own
    return [
        (s, e)
        for s in around(story, span)[1:]
        for e in _exceptions(s)
        if e.time_ns >= span.start_ns
    ]


def logs_around(story: Story, span: Span) -> list[LogRecord]:
    """ERROR and WARN logs of `span`, and of its callers in the same service from its start.

    A database client span cannot log; the code around it logs what went wrong, in the
    enclosing span, up to the service's entry span (Server or Consumer).
    """
    found = [
        record
        for s in around(story, span)
        for record in story.logs_of(s)
        if (record.is_error or record.is_warning) and (s is span or record.time_ns >= span.start_ns)
    ]
    return sorted(found, key=lambda r: r.time_ns)


def log_dict(record: LogRecord) -> Evidence:
    """One log record as the JSON API shows it, as evidence."""
    return {"kind": "log", **log_out(record)}


def _exceptions(span: Span) -> list[Any]:
    return [event for event in span.events if event.name == "exception"]


def _exception(span: Span, time_ns: int, attributes: Any) -> Evidence:
    stacktrace = attributes.get("exception.stacktrace", "")
    return {
        "kind": "exception",
        **stamp("time", time_ns),
        "type": attributes.get("exception.type", ""),
        "message": attributes.get("exception.message", ""),
        "stacktrace": stacktrace,
        "span_id": span.span_id,
        "frames": [f.to_dict() for f in app_first(stacktrace)],
    }


def _message_place(story: Story, span: Span) -> list[Evidence]:
    """Where the message a failed consumer handled sits: enough to find, replay or skip it."""
    for s in around(story, span):
        attrs = s.attributes
        topic = _first(attrs, TOPIC_ATTRIBUTES)
        if topic:
            place = {name: _first(attrs, names) for name, names in MESSAGE_PLACE.items()}
            system = attrs.get("messaging.system", "")
            return [{"kind": "messaging", "system": system, "destination": topic, **place}]
    return []


def _peer(story: Story, span: Span) -> list[Evidence]:
    """A failed call with no span of the callee below it: the peer sends no spans."""
    attrs = span.attributes
    address = _first(attrs, PEER_ATTRIBUTES)
    url = _first(attrs, URL_ATTRIBUTES)
    if span.kind != "Client" or story.children(span) or _first(attrs, DB_SYSTEM_ATTRIBUTES):
        return []
    if not (address or url):
        return []
    peer = address or url
    text = f"the failure is in {peer}, which sends no spans (not traced)"
    return [{"kind": "peer", "address": address, "url": url, "text": text}]


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
    return found


def _first(attributes: Any, names: tuple[str, ...]) -> str:
    return next((str(attributes[n]) for n in names if attributes.get(n)), "")

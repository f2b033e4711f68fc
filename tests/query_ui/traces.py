"""Stories made for the tests: spans and logs written as the collector writes them."""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass, field
from typing import Any, Protocol

MS = 1_000_000
_counter = itertools.count(1)


class Inserter(Protocol):
    def insert(self, table: str, data: str, fmt: str = "JSONEachRow") -> None: ...


def new_id(length: int) -> str:
    """A unique lowercase hex id, as OTLP ids are stored."""
    return f"{next(_counter):0{length}x}"


@dataclass(frozen=True)
class SpanRef:
    """What a test needs to point at a written span."""

    trace_id: str
    span_id: str
    start_ns: int


@dataclass
class Story:
    """Spans and logs to write; times in milliseconds after `base_ns`."""

    base_ns: int
    spans: list[dict[str, Any]] = field(default_factory=list)
    logs: list[dict[str, Any]] = field(default_factory=list)

    def span(
        self,
        service: str,
        name: str,
        *,
        parent: SpanRef | None = None,
        trace_id: str | None = None,
        at: float = 0,
        ms: float = 10,
        kind: str = "Server",
        status: str = "Unset",
        message: str = "",
        attrs: dict[str, str] | None = None,
        exception: tuple[str, str] | None = None,
        links: tuple[SpanRef, ...] = (),
        parent_span_id: str | None = None,
    ) -> SpanRef:
        """Add a span; `exception` is (type, message) and adds an exception event."""
        trace = parent.trace_id if parent else (trace_id or new_id(32))
        ref = SpanRef(trace, new_id(16), self.base_ns + int(at * MS))
        events: list[tuple[int, str, dict[str, str]]] = []
        if exception:
            stack = 'Traceback (most recent call last):\n  File "app.py", line 7\n'
            stack += f"{exception[0]}: {exception[1]}"
            attributes = {"exception.type": exception[0], "exception.message": exception[1]}
            events.append(
                (
                    ref.start_ns + int(ms * MS) - 1000,
                    "exception",
                    attributes | {"exception.stacktrace": stack},
                )
            )
        self.spans.append(
            {
                "TimestampNs": ref.start_ns,
                "EndNs": ref.start_ns + int(ms * MS),
                "TraceId": trace,
                "SpanId": ref.span_id,
                "ParentSpanId": parent.span_id if parent else (parent_span_id or ""),
                "TraceState": "",
                "SpanName": name,
                "SpanKind": kind,
                "ServiceName": service,
                "ResourceAttributes": {"service.name": service, "host.name": f"{service}-1"},
                "ScopeName": "tests",
                "ScopeVersion": "1",
                "SpanAttributes": attrs or {},
                "StatusCode": status,
                "StatusMessage": message,
                "EventsTimestampNs": [e[0] for e in events],
                "EventsName": [e[1] for e in events],
                "EventsAttributes": [e[2] for e in events],
                "LinksTraceId": [link.trace_id for link in links],
                "LinksSpanId": [link.span_id for link in links],
                "LinksTraceState": ["" for _ in links],
                "LinksAttributes": [{} for _ in links],
            }
        )
        return ref

    def log(
        self,
        span: SpanRef | None,
        service: str,
        severity: str,
        body: str,
        *,
        at: float = 0,
        attrs: dict[str, str] | None = None,
    ) -> None:
        """Add a log record written inside `span` (or outside any span)."""
        number = {"DEBUG": 5, "INFO": 9, "WARN": 13, "ERROR": 17, "FATAL": 21}[severity]
        self.logs.append(
            {
                "TimestampNs": self.base_ns + int(at * MS),
                "TraceId": span.trace_id if span else "",
                "SpanId": span.span_id if span else "",
                "TraceFlags": 1,
                "SeverityText": severity,
                "SeverityNumber": number,
                "ServiceName": service,
                "Body": body,
                "ResourceSchemaUrl": "",
                "ResourceAttributes": {"service.name": service},
                "ScopeSchemaUrl": "",
                "ScopeName": "app",
                "ScopeVersion": "",
                "ScopeAttributes": {},
                "LogAttributes": attrs or {},
                "EventName": "",
            }
        )

    def write(self, store: Inserter) -> None:
        """Insert through the collector's ingest tables, as its writer does."""
        if self.spans:
            store.insert("clew_ingest_spans", "\n".join(json.dumps(s) for s in self.spans))
        if self.logs:
            store.insert("clew_ingest_logs", "\n".join(json.dumps(row) for row in self.logs))

"""The story of a business key: every span, link and log of its traces, stitched together."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

SpanRef = tuple[str, str]
"""(trace id, span id): span ids are only unique within a trace."""

ERROR_SEVERITY = 17
"""OTel SeverityNumber: ERROR is 17-20, FATAL 21-24."""
WARN_SEVERITY = 13
"""OTel SeverityNumber: WARN is 13-16."""


def normalize_kind(raw: str) -> str:
    """`SPAN_KIND_SERVER` (old exporter) or `Server` (current) → `Server`."""
    return _normalize(raw, "SPAN_KIND_") or "Unspecified"


def normalize_status(raw: str) -> str:
    """`STATUS_CODE_ERROR` (old exporter) or `Error` (current) → `Error`."""
    return _normalize(raw, "STATUS_CODE_") or "Unset"


def _normalize(raw: str, prefix: str) -> str:
    value = raw.removeprefix(prefix)
    return value[:1].upper() + value[1:].lower()


def display_name(name: str, kind: str, attributes: Mapping[str, str]) -> str:
    """A span named by what it did: `POST inventory /reservations` for an HTTP client span
    named `POST`, `sqlite UPDATE stock` for a database call named `UPDATE`, `process
    orders.placed` for a consumer; from server.address, url.*, http.route, db.*, messaging.*.
    A span whose attributes say nothing more keeps its raw name."""
    get = attributes.get
    method = get("http.request.method") or get("http.method")
    if method:
        return _http_name(name, kind, method, attributes)
    system = get("db.system.name") or get("db.system")
    if system:
        statement = get("db.query.text") or get("db.statement") or ""
        words = statement.split()
        operation = get("db.operation.name") or get("db.operation") or (words[0] if words else "")
        table = get("db.collection.name") or get("db.sql.table") or statement_table(statement)
        parts = [system, operation.upper(), table]
        return " ".join(p for p in parts if p) or name
    topic = get("messaging.destination.name") or get("messaging.destination")
    if topic and kind in ("Producer", "Consumer"):
        default = "publish" if kind == "Producer" else "process"
        verb = get("messaging.operation.name") or get("messaging.operation") or default
        return f"{verb} {topic}"
    return name


def _http_name(name: str, kind: str, method: str, attributes: Mapping[str, str]) -> str:
    get = attributes.get
    url = get("url.full") or get("http.url") or ""
    path = get("http.route") or get("url.template") or get("url.path") or get("http.target")
    path = path or _url_path(url)
    if kind != "Client":
        return name if name != method or not path else f"{method} {path}"
    peer = get("peer.service") or get("server.address") or get("net.peer.name") or _host(url)
    port = get("server.port") or get("net.peer.port")
    if peer and port and (peer[:1].isdigit() or peer == "localhost"):
        peer = f"{peer}:{port}"
    return " ".join(p for p in (method, peer, path) if p)


def _url_path(url: str) -> str:
    rest = url.split("://", 1)[-1]
    return "/" + rest.split("/", 1)[1].split("?", 1)[0] if "/" in rest else ""


def _host(url: str) -> str:
    return url.split("://", 1)[-1].split("/", 1)[0].split("@")[-1] if "://" in url else ""


def statement_table(statement: str) -> str:
    """The first table a SQL statement names (FROM, INTO, UPDATE, JOIN, TABLE), or ''."""
    found = _TABLE.search(statement)
    return found.group(1) if found else ""


_TABLE = re.compile(r"\b(?:from|into|update|join|table)\s+[\"`\[]?([A-Za-z_][\w.]*)", re.I)


@dataclass(frozen=True)
class Event:
    """A span event such as `exception`."""

    name: str
    time_ns: int
    attributes: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Link:
    """A link from a span to a span of another (or the same) trace."""

    trace_id: str
    span_id: str
    attributes: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Span:
    """One stored span; kind and status are normalized to the current exporter's spelling."""

    trace_id: str
    span_id: str
    parent_span_id: str
    name: str
    service: str
    start_ns: int
    duration_ns: int
    kind: str = "Internal"
    status_code: str = "Unset"
    status_message: str = ""
    attributes: Mapping[str, str] = field(default_factory=dict)
    events: tuple[Event, ...] = ()
    links: tuple[Link, ...] = ()
    resource: Mapping[str, str] = field(default_factory=dict)
    scope: str = ""
    """The instrumentation scope (library) that made the span."""

    @property
    def end_ns(self) -> int:
        return self.start_ns + self.duration_ns

    @property
    def ref(self) -> SpanRef:
        return (self.trace_id, self.span_id)

    @property
    def display_name(self) -> str:
        """What the span did, in a person's words (display_name()); the raw name is `name`."""
        return display_name(self.name, self.kind, self.attributes)

    @property
    def label(self) -> str:
        """How a person names this span: service and what it did."""
        return f"{self.service} '{self.display_name}'"


@dataclass(frozen=True)
class LogRecord:
    """One stored log record; trace_id/span_id are '' when it was written outside a span."""

    time_ns: int
    trace_id: str
    span_id: str
    service: str
    severity_text: str
    severity_number: int
    body: str
    attributes: Mapping[str, str] = field(default_factory=dict)

    @property
    def is_error(self) -> bool:
        return self.severity_number >= ERROR_SEVERITY

    @property
    def is_warning(self) -> bool:
        return WARN_SEVERITY <= self.severity_number < ERROR_SEVERITY


class Story:
    """Spans (a forest across traces) and logs of one business key, with lookups the rules need."""

    def __init__(
        self,
        key: str,
        value: str,
        spans: Iterable[Span],
        logs: Iterable[LogRecord] = (),
        *,
        warnings: Iterable[str] = (),
    ) -> None:
        self.key = key
        self.value = value
        # A span stored twice (an exporter's retry) is one span.
        unique = {span.ref: span for span in reversed(list(spans))}
        self.spans = tuple(sorted(unique.values(), key=lambda s: (s.start_ns, s.ref)))
        self.logs = tuple(sorted(logs, key=lambda r: r.time_ns))
        # What the loader's limits cut off; a story with warnings is incomplete.
        self.warnings = tuple(warnings)
        # Per-story caches for the rules' helpers: a story does not change once built.
        self.memo: dict[str, dict[Any, Any]] = defaultdict(dict)
        self._by_ref = {span.ref: span for span in self.spans}
        self._children: dict[SpanRef, list[Span]] = defaultdict(list)
        self._linked_from: dict[SpanRef, list[Span]] = defaultdict(list)
        self._logs: dict[SpanRef, list[LogRecord]] = defaultdict(list)
        for span in self.spans:
            if span.parent_span_id:
                self._children[(span.trace_id, span.parent_span_id)].append(span)
            for link in span.links:
                self._linked_from[(link.trace_id, link.span_id)].append(span)
        for record in self.logs:
            if record.span_id:
                self._logs[(record.trace_id, record.span_id)].append(record)

    def __bool__(self) -> bool:
        return bool(self.spans or self.logs)

    @property
    def trace_ids(self) -> tuple[str, ...]:
        """Every trace of the story, the earliest first."""
        seen = dict.fromkeys(span.trace_id for span in self.spans)
        seen.update(dict.fromkeys(r.trace_id for r in self.logs if r.trace_id))
        return tuple(seen)

    def span(self, ref: SpanRef) -> Span | None:
        return self._by_ref.get(ref)

    def parent(self, span: Span) -> Span | None:
        if not span.parent_span_id:
            return None
        return self._by_ref.get((span.trace_id, span.parent_span_id))

    def children(self, span: Span) -> tuple[Span, ...]:
        return tuple(self._children.get(span.ref, ()))

    def calls(self, span: Span) -> tuple[Span, ...]:
        """Children that `span` waited for: a Consumer child handles a message later, not a call."""
        return tuple(c for c in self.children(span) if c.kind != "Consumer")

    def called(self, span: Span) -> Iterator[Span]:
        """Every span below `span` through calls only, depth first."""
        for child in self.calls(span):
            yield child
            yield from self.called(child)

    def descendants(self, span: Span) -> Iterator[Span]:
        """Every span below `span`, depth first."""
        for child in self.children(span):
            yield child
            yield from self.descendants(child)

    def ancestors(self, span: Span) -> Iterator[Span]:
        """The parent, its parent, ... up to the root (or to a parent that never arrived)."""
        parent = self.parent(span)
        while parent is not None:
            yield parent
            parent = self.parent(parent)

    def linked_from(self, span: Span) -> tuple[Span, ...]:
        """Spans that link to `span` (consumers that started their own trace, outbox relays)."""
        return tuple(self._linked_from.get(span.ref, ()))

    def logs_of(self, span: Span) -> tuple[LogRecord, ...]:
        """Log records written while `span` was the current span."""
        return tuple(self._logs.get(span.ref, ()))

    def missing_parents(self) -> tuple[Span, ...]:
        """Spans whose parent never arrived."""
        return tuple(s for s in self.spans if s.parent_span_id and self.parent(s) is None)

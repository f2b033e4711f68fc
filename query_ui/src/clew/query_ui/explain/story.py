"""The story of a business key: every span, link and log of its traces, stitched together."""

from __future__ import annotations

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
    def label(self) -> str:
        """How a person names this span: service and operation."""
        return f"{self.service} '{self.name}'"


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

"""A story: spans (a forest across one or more traces), their logs and links, and the facts
every surface reads from them: the tree, links both ways, which spans failed and why."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import replace
from typing import Any

from clew.query_ui.read.failed import Signal, span_signals
from clew.query_ui.read.model import Link, LogRecord, Span, SpanRef


class Story:
    """One trace, or every trace of a business key value, as read by the loader.

    `key`/`value` are '' for a single trace. `limits` says what the loader's limits cut off
    (a story with limits is incomplete). `ends` describes linked spans that are stored but not
    part of the story; `back_links` are links from spans outside the story to spans in it;
    `error_logged` names spans that wrote an ERROR log when the logs themselves were not read.
    """

    def __init__(
        self,
        spans: Iterable[Span],
        logs: Iterable[LogRecord] = (),
        *,
        key: str = "",
        value: str = "",
        limits: Iterable[str] = (),
        ends: Mapping[SpanRef, Link] | None = None,
        back_links: Iterable[tuple[SpanRef, Link]] = (),
        error_logged: Iterable[SpanRef] = (),
    ) -> None:
        self.key, self.value = key, value
        # A span stored twice (an exporter's retry) is one span.
        unique = {span.ref: span for span in reversed(list(spans))}
        self.spans = tuple(sorted(unique.values(), key=lambda s: (s.start_ns, s.ref)))
        self.logs = tuple(sorted(logs, key=lambda r: (r.time_ns, r.ref)))
        self.limits = tuple(dict.fromkeys(limits))
        # Per-story caches for the explainer's helpers: a story does not change once built.
        self.memo: dict[str, dict[Any, Any]] = defaultdict(dict)
        self._ends = dict(ends or {})
        self._error_logged = frozenset(error_logged)
        self._by_ref = {span.ref: span for span in self.spans}
        self._children: dict[SpanRef, tuple[Span, ...]] = {}
        self._back_links: dict[SpanRef, dict[SpanRef, Link]] = defaultdict(dict)
        self._logs: dict[SpanRef, list[LogRecord]] = defaultdict(list)
        self._signals: dict[SpanRef, tuple[Signal, ...]] = {}
        self._failed: tuple[Span, ...] | None = None
        self._depth_first: tuple[tuple[Span, int], ...] | None = None
        self._index(back_links)
        self._roots = tuple(s for s in self.spans if self.parent(s) is None)

    def _index(self, outside_back_links: Iterable[tuple[SpanRef, Link]]) -> None:
        children: dict[SpanRef, list[Span]] = defaultdict(list)
        for span in self.spans:
            if span.parent_span_id:
                children[(span.trace_id, span.parent_span_id)].append(span)
            for link in span.links:
                back = Link(span.trace_id, span.span_id, link.attributes)
                self._back_links[link.ref][span.ref] = self._resolved(back)
        for target, link in sorted(outside_back_links, key=lambda b: (b[1].time_ns, b[1].ref)):
            self._back_links[target].setdefault(link.ref, link)
        for record in self.logs:
            if record.span_id:
                self._logs[record.ref].append(record)
        # Tuples once: the tree is walked several times per page, and handing out the stored
        # tuple costs nothing where a copy per call added up on big traces.
        self._children = {ref: tuple(spans) for ref, spans in children.items()}

    def __bool__(self) -> bool:
        return bool(self.spans or self.logs)

    @property
    def trace_ids(self) -> tuple[str, ...]:
        """Every trace of the story, the earliest first."""
        seen = dict.fromkeys(span.trace_id for span in self.spans)
        seen.update(dict.fromkeys(r.trace_id for r in self.logs if r.trace_id))
        return tuple(seen)

    def spans_of(self, trace_id: str) -> tuple[Span, ...]:
        return tuple(s for s in self.spans if s.trace_id == trace_id)

    def span(self, ref: SpanRef) -> Span | None:
        return self._by_ref.get(ref)

    def roots(self) -> tuple[Span, ...]:
        """Spans without a parent in the story (roots, and spans whose parent never arrived),
        by start."""
        return self._roots

    def parent(self, span: Span) -> Span | None:
        if not span.parent_span_id:
            return None
        return self._by_ref.get((span.trace_id, span.parent_span_id))

    def children(self, span: Span) -> tuple[Span, ...]:
        return self._children.get(span.ref, ())

    def calls(self, span: Span) -> tuple[Span, ...]:
        """Children that `span` waited for: a Consumer child handles a message later, not a call."""
        return tuple(c for c in self.children(span) if c.kind != "Consumer")

    def called(self, span: Span) -> Iterator[Span]:
        """Every span below `span` through calls only, depth first."""
        return _depth_first_below(span, self.calls)

    def depth_first(self) -> tuple[tuple[Span, int], ...]:
        """The spans as the waterfall lists them, parents first and children in start order,
        each with its parent's position in the list (-1 for a root or a span whose parent
        never arrived). Made once: the comparison, the flame graph and the critical path walk
        it, and on a 1,500-span trace each walk of the tree cost milliseconds."""
        if self._depth_first is None:
            out: list[tuple[Span, int]] = []
            stack = [(root, -1) for root in reversed(self._roots)]
            children = self._children
            while stack:
                span, parent = stack.pop()
                out.append((span, parent))
                below = children.get(span.ref)
                if below:
                    here = len(out) - 1
                    stack.extend([(child, here) for child in reversed(below)])
            self._depth_first = tuple(out)
        return self._depth_first

    def descendants(self, span: Span) -> Iterator[Span]:
        """Every span below `span`, depth first."""
        return _depth_first_below(span, self.children)

    def ancestors(self, span: Span) -> Iterator[Span]:
        """The parent, its parent, ... up to the root (or to a parent that never arrived)."""
        parent = self.parent(span)
        while parent is not None:
            yield parent
            parent = self.parent(parent)

    def missing_parents(self) -> tuple[Span, ...]:
        """Spans whose parent never arrived."""
        return tuple(s for s in self.spans if s.parent_span_id and self.parent(s) is None)

    def logs_of(self, span: Span) -> tuple[LogRecord, ...]:
        """Log records written while `span` was the current span."""
        return tuple(self._logs.get(span.ref, ()))

    def links(self, span: Span) -> tuple[Link, ...]:
        """The span's links, each with its other end described when that end is stored."""
        return tuple(self._resolved(link) for link in span.links)

    def back_links(self, span: Span) -> tuple[Link, ...]:
        """Links to `span` from other spans (consumers that started their own trace, relays)."""
        return tuple(self._back_links.get(span.ref, {}).values())

    def _resolved(self, link: Link) -> Link:
        other = self._by_ref.get(link.ref)
        if other is not None:
            return replace(link, service=other.service, name=other.name, time_ns=other.start_ns)
        end = self._ends.get(link.ref)
        if end is not None:
            return replace(link, service=end.service, name=end.name, time_ns=end.time_ns)
        return link

    def signals(self, span: Span) -> tuple[Signal, ...]:
        """Why `span` failed (read/failed.py's definition); empty when it did not."""
        found = self._signals.get(span.ref)
        if found is None:
            error_logged = span.ref in self._error_logged
            logs = self._logs.get(span.ref, ())  # get: the defaultdict gains no empty lists
            found = self._signals[span.ref] = span_signals(span, logs, error_logged)
        return found

    def failed(self, span: Span) -> bool:
        return bool(self.signals(span))

    def failed_spans(self) -> tuple[Span, ...]:
        """Every failed span of the story, by start time."""
        if self._failed is None:
            signals = self.signals
            self._failed = tuple(span for span in self.spans if signals(span))
        return self._failed


def _depth_first_below(span: Span, below: Callable[[Span], tuple[Span, ...]]) -> Iterator[Span]:
    """The spans under `span` by `below` (children, or calls), parents first and siblings in
    order. A stack, not recursion: a chain of spans can be deeper than Python allows frames."""
    stack = list(reversed(below(span)))
    while stack:
        found = stack.pop()
        yield found
        stack.extend(reversed(below(found)))

"""A trace (or all traces of an order) as rows on a time axis: tree, critical path, hops."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from clew.query_ui.explain.frames import Frame, app_first
from clew.query_ui.read.critical import critical_path
from clew.query_ui.read.model import Link, LogRecord, Span, SpanRef
from clew.query_ui.read.story import Story

PALETTE_SIZE = 12


@dataclass(frozen=True)
class Hop:
    """A Kafka message: producer → topic → consumer, and the time it spent in the queue."""

    topic: str
    producer: Link
    consumer: Link
    queue_ns: int | None


@dataclass
class Row:
    """One span on the waterfall."""

    span: Span
    failed: bool
    depth: int
    offset_pct: float
    width_pct: float
    color: int
    has_children: bool
    critical: bool
    logs: list[LogRecord]
    subtree_logs: list[LogRecord]
    links: tuple[Link, ...] = ()
    back_links: tuple[Link, ...] = ()
    hops: list[Hop] = field(default_factory=list)
    missing_parent: bool = False
    root_cause: bool = False
    """The diagnosis names this span as where a failure started."""
    frames: list[Frame] = field(default_factory=list)
    """The frames of its exception's traceback, the application's first (frames.app_first)."""


@dataclass
class Waterfall:
    """The rows in display order, with what the page says about the whole."""

    rows: list[Row]
    start_ns: int
    duration_ns: int
    services: dict[str, int]
    missing_parents: list[str]
    orphan_logs: list[LogRecord]


def build(
    story: Story,
    trace_id: str = "",
    axis: tuple[int, int] | None = None,
    causes: frozenset[SpanRef] = frozenset(),
) -> Waterfall:
    """Rows depth-first in start order (the story's own order, Story.depth_first), of one trace
    of the story (or of all its spans); spans whose parent never arrived are roots, noted.
    Failed and critical are the read model's; `causes` are the root causes the diagnosis names
    (marked). No recursion: a chain of spans deeper than Python's recursion limit is a trace
    like any other."""
    spans = list(story.spans_of(trace_id) if trace_id else story.spans)
    logs = [r for r in story.logs if not trace_id or r.trace_id == trace_id]
    by_id = {s.span_id: s for s in spans}
    start = axis[0] if axis else min((s.start_ns for s in spans), default=0)
    end = axis[1] if axis else max((s.end_ns for s in spans), default=0)
    width = max(end - start, 1)
    services = _colours(spans)
    own_logs, orphans = _logs_by_span(logs, by_id)
    critical = critical_path(story)
    rows: list[Row] = []
    parents: list[int] = []  # row -> its parent's row, -1 for a root
    order = story.depth_first()
    row_at = [-1] * len(order)  # the story's depth-first position -> row
    # A span's parent is in its own trace, so one trace's spans keep their subtrees whole.
    for position, (span, parent) in enumerate(order):
        if trace_id and span.trace_id != trace_id:
            continue
        above = row_at[parent] if parent >= 0 else -1
        row_at[position] = len(rows)
        parents.append(above)
        rows.append(Row(
            span=span,
            failed=story.failed(span),
            depth=rows[above].depth + 1 if above >= 0 else 0,
            offset_pct=100.0 * (span.start_ns - start) / width,
            width_pct=max(100.0 * span.duration_ns / width, 0.2),
            color=services[span.service],
            has_children=bool(story.children(span)),
            critical=span.ref in critical,
            logs=own_logs.get(span.span_id, []),
            subtree_logs=[],
            links=story.links(span),
            back_links=story.back_links(span),
            hops=hops_of(story, span),
            missing_parent=bool(span.parent_span_id) and above < 0,
            root_cause=span.ref in causes,
            frames=_frames(span),
        ))  # fmt: skip
    _subtree_logs(rows, parents)
    missing = sorted({r.span.parent_span_id for r in rows if r.missing_parent})
    return Waterfall(rows, start, max(end - start, 0), services, missing, orphans)


def _frames(span: Span) -> list[Frame]:
    exception = span.exception
    return app_first(exception.stacktrace) if exception is not None else []


def _subtree_logs(rows: list[Row], parents: list[int]) -> None:
    """Each row's logs and its descendants', by time: the rows backwards, so a row's subtree is
    complete before it is handed up, its children's in their order (ties keep it)."""
    below: list[list[list[LogRecord]]] = [[] for _ in rows]  # each row's children's, last first
    for n in range(len(rows) - 1, -1, -1):
        subtree = list(rows[n].logs)
        for child in reversed(below[n]):
            subtree += child
        rows[n].subtree_logs = sorted(subtree, key=lambda log: log.time_ns)
        if parents[n] >= 0:
            below[parents[n]].append(subtree)


def _colours(spans: list[Span]) -> dict[str, int]:
    """One colour per service, in order of first appearance."""
    services: dict[str, int] = {}
    for span in sorted(spans, key=lambda s: s.start_ns):
        services.setdefault(span.service, len(services) % PALETTE_SIZE)
    return services


def _logs_by_span(
    logs: list[LogRecord], by_id: dict[str, Span]
) -> tuple[dict[str, list[LogRecord]], list[LogRecord]]:
    own: dict[str, list[LogRecord]] = defaultdict(list)
    orphans: list[LogRecord] = []
    for log in logs:
        if log.span_id in by_id:
            own[log.span_id].append(log)
        else:
            orphans.append(log)
    return own, orphans


def hops_of(story: Story, span: Span) -> list[Hop]:
    """Kafka hops through a span: out of a producer, or into a consumer from a linked producer."""
    if span.kind == "Producer":
        me = _end(span)
        consumers = [_end(c) for c in story.children(span) if c.kind == "Consumer"]
        consumers += story.back_links(span)
        hops = [Hop(span.topic, me, c, max(c.time_ns - span.start_ns, 0)) for c in consumers]
        return sorted(hops, key=lambda h: (h.consumer.time_ns, h.consumer.span_id))
    if span.kind == "Consumer":
        me = _end(span)
        return [
            Hop(
                span.topic, link, me, max(span.start_ns - link.time_ns, 0) if link.service else None
            )
            for link in story.links(span)
        ]
    return []


def _end(span: Span) -> Link:
    """A span as one end of a hop."""
    return Link(span.trace_id, span.span_id, {}, service=span.service, name=span.name,
                time_ns=span.start_ns)  # fmt: skip

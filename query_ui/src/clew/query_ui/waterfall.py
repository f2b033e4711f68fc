"""A trace (or all traces of an order) as rows on a time axis: tree, critical path, hops."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from clew.query_ui.model import Link, LogLine, Span

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
    depth: int
    ancestors: list[str]
    offset_pct: float
    width_pct: float
    color: int
    has_children: bool
    critical: bool
    logs: list[LogLine]
    subtree_logs: list[LogLine]
    hops: list[Hop] = field(default_factory=list)
    missing_parent: bool = False


@dataclass
class Waterfall:
    """The rows in display order, with what the page says about the whole."""

    rows: list[Row]
    start_ns: int
    duration_ns: int
    services: dict[str, int]
    missing_parents: list[str]
    orphan_logs: list[LogLine]


def build(spans: list[Span], logs: list[LogLine], axis: tuple[int, int] | None = None) -> Waterfall:
    """Rows depth-first in start order; spans whose parent never arrived are roots, noted."""
    by_id = {s.span_id: s for s in spans}
    children: dict[str, list[Span]] = defaultdict(list)
    roots: list[Span] = []
    for span in sorted(spans, key=lambda s: (s.start_ns, s.span_id)):
        if span.parent_span_id and span.parent_span_id in by_id:
            children[span.parent_span_id].append(span)
        else:
            roots.append(span)
    start = axis[0] if axis else min((s.start_ns for s in spans), default=0)
    end = axis[1] if axis else max((s.end_ns for s in spans), default=0)
    services = _colours(spans)
    critical = _critical_path(roots, children)
    own_logs, orphans = _logs_by_span(logs, by_id)
    rows: list[Row] = []
    for root in roots:
        _append(
            rows, root, [], children, own_logs, (start, max(end - start, 1)), services, critical
        )
    for row in rows:
        row.missing_parent = bool(row.span.parent_span_id) and not row.ancestors
        row.hops = hops_of(row.span, by_id)
    missing = sorted({r.span.parent_span_id for r in rows if r.missing_parent})
    return Waterfall(rows, start, max(end - start, 0), services, missing, orphans)


def _append(
    rows: list[Row],
    span: Span,
    ancestors: list[str],
    children: dict[str, list[Span]],
    own_logs: dict[str, list[LogLine]],
    axis: tuple[int, int],
    services: dict[str, int],
    critical: set[str],
) -> list[LogLine]:
    """Add the span and its subtree; return the subtree's logs (for "and its children")."""
    row = Row(
        span=span,
        depth=len(ancestors),
        ancestors=ancestors,
        offset_pct=100.0 * (span.start_ns - axis[0]) / axis[1],
        width_pct=max(100.0 * span.duration_ns / axis[1], 0.2),
        color=services[span.service],
        has_children=bool(children.get(span.span_id)),
        critical=span.span_id in critical,
        logs=own_logs.get(span.span_id, []),
        subtree_logs=[],
    )
    rows.append(row)
    subtree = list(row.logs)
    for child in children.get(span.span_id, []):
        subtree += _append(
            rows, child, [*ancestors, span.span_id], children, own_logs, axis, services, critical
        )
    row.subtree_logs = sorted(subtree, key=lambda log: log.time_ns)
    return subtree


def _colours(spans: list[Span]) -> dict[str, int]:
    """One colour per service, in order of first appearance."""
    services: dict[str, int] = {}
    for span in sorted(spans, key=lambda s: s.start_ns):
        services.setdefault(span.service, len(services) % PALETTE_SIZE)
    return services


def _logs_by_span(
    logs: list[LogLine], by_id: dict[str, Span]
) -> tuple[dict[str, list[LogLine]], list[LogLine]]:
    own: dict[str, list[LogLine]] = defaultdict(list)
    orphans: list[LogLine] = []
    for log in logs:
        if log.span_id in by_id:
            own[log.span_id].append(log)
        else:
            orphans.append(log)
    return own, orphans


def _critical_path(roots: list[Span], children: dict[str, list[Span]]) -> set[str]:
    """Spans on the critical path: from each root's end, the last child to finish, backwards."""
    path: set[str] = set()
    for root in roots:
        _walk_critical(root, root.end_ns, children, path)
    return path


def _walk_critical(span: Span, until: int, children: dict[str, list[Span]], path: set[str]) -> None:
    path.add(span.span_id)
    cursor = min(span.end_ns, until)
    kids = sorted(children.get(span.span_id, []), key=lambda s: s.end_ns, reverse=True)
    for child in kids:
        # A child that started before the cursor was holding this span up until it ended.
        if child.start_ns < cursor:
            _walk_critical(child, cursor, children, path)
            cursor = child.start_ns


def hops_of(span: Span, by_id: dict[str, Span]) -> list[Hop]:
    """Kafka hops through a span: out of a producer, or into a consumer from a linked producer."""
    if span.kind == "Producer":
        me = _end(span)
        consumers = [_end(c) for c in by_id.values()
                     if c.parent_span_id == span.span_id and c.kind == "Consumer"]  # fmt: skip
        consumers += span.back_links
        hops = [Hop(span.topic, me, c, max(c.time_ns - span.start_ns, 0)) for c in consumers]
        return sorted(hops, key=lambda h: (h.consumer.time_ns, h.consumer.span_id))
    if span.kind == "Consumer":
        me = _end(span)
        return [
            Hop(
                span.topic, link, me, max(span.start_ns - link.time_ns, 0) if link.service else None
            )
            for link in span.links
        ]
    return []


def _end(span: Span) -> Link:
    """A span as one end of a hop."""
    return Link(span.trace_id, span.span_id, {}, service=span.service, name=span.name,
                time_ns=span.start_ns)  # fmt: skip

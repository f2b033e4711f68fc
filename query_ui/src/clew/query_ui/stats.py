"""Trace statistics: per service and operation, how many spans, how long, and how much of that
time was their own (not covered by a child)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from clew.query_ui.read.format import duration
from clew.query_ui.read.model import Span, SpanRef
from clew.query_ui.read.story import Story


@dataclass(frozen=True)
class StatRow:
    """The spans of one service and operation."""

    service: str
    operation: str
    count: int
    total_ns: int
    self_ns: int
    min_ns: int
    max_ns: int

    @property
    def avg_ns(self) -> int:
        return self.total_ns // self.count if self.count else 0

    def to_dict(self) -> dict[str, Any]:
        """The row as `GET /api/traces/{id}/stats` returns it."""
        return {
            "service": self.service,
            "operation": self.operation,
            "count": self.count,
            "total_ns": self.total_ns,
            "self_ns": self.self_ns,
            "min_ns": self.min_ns,
            "avg_ns": self.avg_ns,
            "max_ns": self.max_ns,
        }


def self_times(story: Story) -> dict[SpanRef, int]:
    """Each span's duration less the time its children cover inside it.

    Children that overlap each other count once; the part of a child outside its parent (an
    asynchronous child that outlives it, a skewed clock) is not the parent's time at all.
    """
    return {
        span.ref: max(span.duration_ns - _covered(_clipped(story.children(span), span)), 0)
        for span in story.spans
    }


def _clipped(kids: Iterable[Span], parent: Span) -> list[tuple[int, int]]:
    spans = ((max(k.start_ns, parent.start_ns), min(k.end_ns, parent.end_ns)) for k in kids)
    return sorted((a, b) for a, b in spans if b > a)


def _covered(intervals: list[tuple[int, int]]) -> int:
    """The length of the union of sorted intervals."""
    total, reach = 0, None
    for start, end in intervals:
        if reach is None or start >= reach:
            total += end - start
            reach = end
        elif end > reach:
            total += end - reach
            reach = end
    return total


def rows(story: Story) -> list[StatRow]:
    """One row per service and operation, most self time first."""
    own = self_times(story)
    groups: dict[tuple[str, str], list[Span]] = defaultdict(list)
    for span in story.spans:
        groups[(span.service, span.name)].append(span)
    out = [
        StatRow(
            service=service,
            operation=operation,
            count=len(members),
            total_ns=sum(s.duration_ns for s in members),
            self_ns=sum(own[s.ref] for s in members),
            min_ns=min(s.duration_ns for s in members),
            max_ns=max(s.duration_ns for s in members),
        )
        for (service, operation), members in groups.items()
    ]
    return sorted(out, key=lambda r: (-r.self_ns, r.service, r.operation))


TEXT_COLUMNS = ("count", "total_ns", "self_ns", "min_ns", "avg_ns", "max_ns")


def text_table(body: dict[str, Any]) -> str:
    """`clew trace --stats`: the rows of `GET /api/traces/{id}/stats` as aligned text."""
    head = ["service", "operation", "count", "total", "self", "min", "avg", "max"]
    lines = [head]
    for row in body["rows"]:
        cells = [str(row["count"])] + [duration(int(row[c])) for c in TEXT_COLUMNS[1:]]
        lines.append([str(row["service"]), str(row["operation"]), *cells])
    widths = [max(len(line[i]) for line in lines) for i in range(len(head))]
    text = [
        "  ".join(
            c.ljust(w) if i < 2 else c.rjust(w)
            for i, (c, w) in enumerate(zip(line, widths, strict=True))
        )
        for line in lines
    ]
    return (
        f"trace {body['trace_id']}  (self: time not covered by children)\n\n"
        + "\n".join(text)
        + "\n"
    )

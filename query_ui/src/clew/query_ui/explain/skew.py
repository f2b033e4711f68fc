"""Clocks are not causality: edges decide the order of events, timestamps only break ties.

Each service stamps spans with its own clock. A call's server span must lie within its client
span, a consumer starts after its producer, whatever the clocks say; like Jaeger's clock-skew
adjuster, offset() moves a span (and, through its parent, everything below it) by what its
clock is off by, judged from the edge to its parent or to the producer it links to. Spans of
the service of their parent share its clock and its offset. The rules compare times across
services only through adjusted().
"""

from __future__ import annotations

from clew.query_ui.read.model import Span, SpanRef
from clew.query_ui.read.story import Story


def adjusted(story: Story, span: Span, time_ns: int) -> int:
    """`time_ns`, stamped by `span`'s clock, on the clock of the story's first service."""
    return time_ns + offset(story, span)


def offset(story: Story, span: Span) -> int:
    """Nanoseconds to add to `span`'s times so that its edges are in causal order."""
    known: dict[SpanRef, int] = story.memo["skew"]
    found = known.get(span.ref)
    if found is not None:
        return found
    # Up the parents to one already known (or a root), then down again, each span from its
    # parent's offset: a loop, not recursion, for a chain of spans can be deeper than Python
    # allows frames. A span is known as 0 while it waits, so a cycle (bad data) ends there.
    chain: list[Span] = []
    current: Span | None = span
    while current is not None and current.ref not in known:
        known[current.ref] = 0
        chain.append(current)
        current = story.parent(current)
    for waiting in reversed(chain):
        known[waiting.ref] = _offset(story, waiting, known)
    return known[span.ref]


def _offset(story: Story, span: Span, known: dict[SpanRef, int]) -> int:
    parent = story.parent(span)
    if parent is not None:
        return known[parent.ref] + _correction(story, span, parent)
    producers = [p for link in span.links if (p := story.span((link.trace_id, link.span_id)))]
    return max((_after(story, span, p) for p in producers), default=0)


def _correction(story: Story, span: Span, parent: Span) -> int:
    """What `span` must move by, beyond its parent's offset, to fit its edge to the parent."""
    if parent.service == span.service:
        return 0
    if span.kind == "Consumer":
        return max(parent.start_ns - span.start_ns, 0)
    if span.duration_ns > parent.duration_ns:
        # Longer than its caller (the caller gave up): only its start is bounded.
        return max(parent.start_ns - span.start_ns, 0)
    if parent.start_ns <= span.start_ns and span.end_ns <= parent.end_ns:
        return 0
    # Centred in its caller: the network took the same time each way.
    return parent.start_ns + (parent.duration_ns - span.duration_ns) // 2 - span.start_ns


def _after(story: Story, span: Span, producer: Span) -> int:
    """The offset that has `span` start no earlier than `producer` (the message's sender)."""
    moved = offset(story, producer)
    if producer.service == span.service:
        return moved
    return max(producer.start_ns + moved - span.start_ns, 0)

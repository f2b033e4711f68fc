"""The critical path: the spans that held up the end of their trace."""

from __future__ import annotations

from clew.query_ui.read.model import SpanRef
from clew.query_ui.read.story import Story


def critical_path(story: Story) -> frozenset[SpanRef]:
    """Spans on the critical path of each trace of the story: the chain of spans that
    determined when it ended.

    From the end of each root's subtree (a consumer below it may end after the root),
    backwards: the child whose subtree finished last, no later than the cursor, held its parent
    up until then; it is on the path, the cursor moves to its start, and the next child must
    have finished by then. A child that overlaps the one chosen ran beside it and held nothing
    up: it is not on the path. A span whose parent never arrived is a root of its own.
    """
    memo = story.memo["critical_path"]
    if "path" not in memo:
        ends = _subtree_ends(story)
        path: set[SpanRef] = set()
        # Each (span, until) is walked on its own, so a stack serves as well as recursion, which
        # a 10,000-span trace would take deeper than Python allows.
        stack = [(span, ends[span.ref]) for span in story.roots()]
        while stack:
            span, until = stack.pop()
            path.add(span.ref)
            cursor = until
            children = story.children(span)
            if len(children) > 1:
                children = tuple(sorted(children, key=lambda c: ends[c.ref], reverse=True))
            for child in children:
                end = ends[child.ref]
                if end <= cursor and child.start_ns < cursor:
                    stack.append((child, end))
                    cursor = child.start_ns
        memo["path"] = frozenset(path)
    found: frozenset[SpanRef] = memo["path"]
    return found


def _subtree_ends(story: Story) -> dict[SpanRef, int]:
    """When each span and everything below it had ended: the depth-first list backwards, so
    every span's subtree is complete before its end is passed up to its parent."""
    order = story.depth_first()
    ends = [span.start_ns + span.duration_ns for span, _ in order]
    for position in range(len(order) - 1, -1, -1):
        parent = order[position][1]
        if parent >= 0 and ends[position] > ends[parent]:
            ends[parent] = ends[position]
    return {span.ref: end for (span, _), end in zip(order, ends, strict=True)}

"""The critical path: the spans that held up the end of their trace."""

from __future__ import annotations

from clew.query_ui.read.model import Span, SpanRef
from clew.query_ui.read.story import Story


def critical_path(story: Story) -> frozenset[SpanRef]:
    """Spans on the critical path of each trace of the story.

    From each root's end, backwards: the last child to finish before the cursor held its parent
    up until it ended; the cursor then moves to that child's start, and so on down the tree.
    A span whose parent never arrived is a root of its own.
    """
    memo = story.memo["critical_path"]
    if "path" not in memo:
        path: set[SpanRef] = set()
        for span in story.spans:
            if story.parent(span) is None:
                _walk(story, span, span.end_ns, path)
        memo["path"] = frozenset(path)
    found: frozenset[SpanRef] = memo["path"]
    return found


def _walk(story: Story, span: Span, until: int, path: set[SpanRef]) -> None:
    path.add(span.ref)
    cursor = min(span.end_ns, until)
    for child in sorted(story.children(span), key=lambda s: s.end_ns, reverse=True):
        # A child that started before the cursor was holding this span up until it ended.
        if child.start_ns < cursor:
            _walk(story, child, cursor, path)
            cursor = child.start_ns

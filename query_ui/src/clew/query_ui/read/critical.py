"""The critical path: the spans that held up the end of their trace."""

from __future__ import annotations

from clew.query_ui.read.model import Span, SpanRef
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
        path: set[SpanRef] = set()
        ends: dict[SpanRef, int] = {}
        for span in story.spans:
            if story.parent(span) is None:
                _walk(story, span, _end(story, span, ends), path, ends)
        memo["path"] = frozenset(path)
    found: frozenset[SpanRef] = memo["path"]
    return found


def _end(story: Story, span: Span, ends: dict[SpanRef, int]) -> int:
    """When `span` and everything below it had ended."""
    found = ends.get(span.ref)
    if found is None:
        below = (_end(story, child, ends) for child in story.children(span))
        found = ends[span.ref] = max(below, default=span.end_ns)
        found = ends[span.ref] = max(found, span.end_ns)
    return found


def _walk(
    story: Story, span: Span, until: int, path: set[SpanRef], ends: dict[SpanRef, int]
) -> None:
    path.add(span.ref)
    cursor = until
    children = sorted(story.children(span), key=lambda s: _end(story, s, ends), reverse=True)
    for child in children:
        end = _end(story, child, ends)
        if end <= cursor and child.start_ns < cursor:
            _walk(story, child, end, path, ends)
            cursor = child.start_ns

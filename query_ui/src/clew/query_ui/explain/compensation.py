"""Rule: compensating actions (a saga's refund, release, cancel) are recoveries, never failures.

A span is a compensation when its attribute `clew.compensation` or `saga.compensation` is
"true", or when its name contains "refund" or "compensat" (case-insensitive). Such a span
undoes an earlier step of a business flow that failed further on; reporting it as a failure
would point the reader at the cure instead of the disease.
"""

from __future__ import annotations

from clew.query_ui.explain.finding import Finding
from clew.query_ui.read.model import Span
from clew.query_ui.read.story import Story

COMPENSATION_ATTRIBUTES = ("clew.compensation", "saga.compensation")
COMPENSATION_NAME_PARTS = ("refund", "compensat")


def is_compensation(span: Span) -> bool:
    """Whether `span` compensates an earlier step (see the module docstring for the rule)."""
    if any(span.attributes.get(a, "").lower() == "true" for a in COMPENSATION_ATTRIBUTES):
        return True
    name = span.name.lower()
    return any(part in name for part in COMPENSATION_NAME_PARTS)


def compensation(story: Story) -> list[Finding]:
    """Every compensating span, as a recovery."""
    return [
        Finding("recovery", span, f"compensating action {span.label}")
        for span in story.spans
        if is_compensation(span) and not _inside_compensation(story, span)
    ]


def _inside_compensation(story: Story, span: Span) -> bool:
    """Only the outermost span of a compensation is listed; its children are its steps."""
    return any(is_compensation(a) for a in story.ancestors(span))

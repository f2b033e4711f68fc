"""Rule: compensating actions (a saga's refund, release, cancel) that did their job are recoveries.

A span is a compensation when its attribute `clew.compensation` or `saga.compensation` is
"true", or when its name contains "refund" or "compensat" (case-insensitive). A compensation
that completed undoes an earlier step of a business flow that failed further on: reporting it
as a failure would point the reader at the cure instead of the disease. A compensation that
failed is a problem of its own, often worse than the first (the customer stays charged for an
order that never shipped): the later rules name it as a root cause, and the diagnosis says
what it leaves wrong (leaves_wrong).
"""

from __future__ import annotations

from clew.query_ui.explain.finding import Finding
from clew.query_ui.read.model import Span
from clew.query_ui.read.story import Story

COMPENSATION_ATTRIBUTES = ("clew.compensation", "saga.compensation")
COMPENSATION_NAME_PARTS = ("refund", "compensat")
# What an unfinished compensation leaves in place, by the words its name or route uses.
LEFT_WRONG = (
    (("refund", "payment", "charge"), "the customer stays charged for an order that failed"),
    (("release", "reservation", "stock"), "the stock stays reserved for an order that failed"),
    (("cancel", "order"), "the order stays open although a later step failed"),
)


def is_compensation(span: Span) -> bool:
    """Whether `span` compensates an earlier step (see the module docstring for the rule)."""
    if any(span.attributes.get(a, "").lower() == "true" for a in COMPENSATION_ATTRIBUTES):
        return True
    name = span.name.lower()
    return any(part in name for part in COMPENSATION_NAME_PARTS)


def compensation(story: Story) -> list[Finding]:
    """Every compensating span that completed, as a recovery."""
    return [
        Finding("recovery", span, f"compensating action {span.label}")
        for span in story.spans
        if is_compensation(span)
        and compensation_of(story, span) is span
        and not any(story.failed(s) for s in (span, *story.descendants(span)))
    ]


def compensation_of(story: Story, span: Span) -> Span | None:
    """The outermost compensation that `span` is (part of), or None."""
    found = None
    for candidate in (span, *story.ancestors(span)):
        if is_compensation(candidate):
            found = candidate
    return found


def leaves_wrong(span: Span) -> str:
    """What a compensation that did not complete leaves wrong, in the reader's words."""
    words = f"{span.name} {span.attributes.get('http.route', '')}".lower()
    for parts, wrong in LEFT_WRONG:
        if any(part in words for part in parts):
            return wrong
    return "what it was to undo stays done"

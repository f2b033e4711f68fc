"""Rule: an error the caller caught and carried on from is handled, never a root cause.

The outcome decides: a failed call is handled when the span that made it answered success
anyway (a cache read that timed out before the database was read instead, a lookup answered
404), or failed because of a later call (the database fallback failed too: that is the
cause). Only calls count (Client spans): an error in the service's own code that escaped its
span is a failure even when the caller answered 200. A failure that its own span logged at
ERROR was not recovered from, and neither was a failure followed by a compensation (the saga
undid earlier steps because of it). Every failure inside a handled call
is handled with it.
"""

from __future__ import annotations

from clew.query_ui.explain.compensation import compensation_of
from clew.query_ui.explain.finding import Finding
from clew.query_ui.explain.outcome import answered_ok
from clew.query_ui.explain.retry import call_identity, retried_spans
from clew.query_ui.read.model import Span, SpanRef
from clew.query_ui.read.story import Story


def handled(story: Story) -> list[Finding]:
    """Every handled failure: the call the caller carried on from, and the failures inside it."""
    findings: list[Finding] = []
    for span in handled_calls(story):
        parent = story.parent(span)
        assert parent is not None  # handled_calls only yields calls with a caller
        reason = f"{parent.label} carried on without it"
        findings.append(Finding("handled", span, reason, related=parent))
        for below in story.descendants(span):
            if story.failed(below):
                inside = f"inside {span.label}, which was handled"
                findings.append(Finding("handled", below, inside, related=span, quiet=True))
    return findings


def handled_calls(story: Story) -> list[Span]:
    """The outermost failed calls that their callers carried on from."""
    memo = story.memo["handled"]
    if "calls" not in memo:
        retried = retried_spans(story)
        memo["calls"] = [
            s for s in story.failed_spans() if s.ref not in retried and _caught(story, s)
        ]
    calls: list[Span] = memo["calls"]
    return calls


def made_good(story: Story) -> set[SpanRef]:
    """Refs of every failure that a retry or a caller made good: they explain nothing."""
    refs = set(retried_spans(story))
    for span in handled_calls(story):
        refs.add(span.ref)
        refs.update(s.ref for s in story.descendants(span))
    return refs


def _caught(story: Story, span: Span) -> bool:
    parent = story.parent(span)
    if (
        parent is None
        or span.kind != "Client"
        or compensation_of(story, span) is not None
        or any(s.kind == "error_log" for s in story.signals(span))
    ):
        return False
    later = [c for c in story.calls(parent) if c.start_ns >= span.end_ns]
    if any(compensation_of(story, s) for c in later for s in (c, *story.descendants(c))):
        return False  # the saga compensated because of this failure
    if answered_ok(story, parent):
        return True
    # Failed later for another reason: a later call, not a further attempt of this one.
    this = call_identity(story, span)
    return any(
        c.kind == "Client" and story.failed(c) and call_identity(story, c) != this for c in later
    )

"""Rule: a timeout points at the slow or still-running call below it.

When a failed span gave up waiting (failed.is_timeout), the time went somewhere below it.
Follow the calls down: at each step take the longest call that was still running when the
timed-out span gave up, or else the longest call if it took at least half of its caller's
time; the span where this stops is the slow call. It is the cause even if it did not fail
itself (a database query that finally returned after the caller had given up), and the
timeout is its cascade. A timeout with nothing at all below it is its own cause, and says
that the call it waited for left no span (a span is stored only when it ends: the call may
still be running). A timeout whose calls were all quick is left to the later rules, and a
timeout with another timeout below it to propagation.py (it is cascade of that one)."""

from __future__ import annotations

from clew.query_ui.explain.describe import is_timeout
from clew.query_ui.explain.finding import Finding
from clew.query_ui.explain.handled import made_good
from clew.query_ui.explain.skew import adjusted
from clew.query_ui.read.model import Span
from clew.query_ui.read.story import Story

SLOW_SHARE = 0.5
"""A call taking at least this share of its caller's time is where the caller's time went."""


def timeout(story: Story) -> list[Finding]:
    """For each timeout with a slow call below it: the call as cause, the timeout as cascade."""
    findings: list[Finding] = []
    good = made_good(story)
    for span in story.failed_spans():
        # An outer timeout (a 504 answering for a timed-out call) is cascade of the inner one;
        # a timeout that a retry or the caller made good blames nothing.
        if span.ref in good or not is_timeout(story, span) or _timeout_below(story, span):
            continue
        findings.extend(_blame(story, span))
    return findings


def _blame(story: Story, span: Span) -> list[Finding]:
    waited = _seconds(span.duration_ns)
    slow = slow_call(story, span)
    if slow is None:
        if story.calls(span):
            return []
        # A span is stored only once it ends: a call still running has left no span yet.
        unseen = f"timed out after {waited}; no span of what it waited for has arrived"
        return [Finding("cause", span, f"{unseen} (still running, lost, or not instrumented)")]
    running = adjusted(story, slow, slow.end_ns) > adjusted(story, span, span.end_ns)
    took = "was still running" if running else "was slow"
    cause = f"{took} ({_seconds(slow.duration_ns)}) when {span.label} gave up after {waited}"
    cascade = f"timed out after {waited} waiting for {slow.label}"
    return [
        Finding("cause", slow, cause, related=span),
        Finding("cascade", span, cascade, related=slow),
    ]


def slow_call(story: Story, span: Span) -> Span | None:
    """The deepest call below `span` that its time went into, or None."""
    current, found = span, None
    while True:
        slowest = _slowest(story, current, gave_up_ns=adjusted(story, span, span.end_ns))
        if slowest is None:
            return found
        current = found = slowest


def _slowest(story: Story, caller: Span, gave_up_ns: int) -> Span | None:
    calls = story.calls(caller)
    running = [
        c
        for c in calls
        if adjusted(story, c, c.start_ns) <= gave_up_ns <= adjusted(story, c, c.end_ns)
    ]
    if running:
        return max(running, key=lambda c: c.duration_ns)
    longest = max(calls, key=lambda c: c.duration_ns, default=None)
    if longest is not None and longest.duration_ns >= SLOW_SHARE * caller.duration_ns:
        return longest
    return None


def _timeout_below(story: Story, span: Span) -> bool:
    return any(is_timeout(story, s) for s in story.called(span))


def _seconds(duration_ns: int) -> str:
    return f"{duration_ns / 1e9:.3g} s"

"""Rule: an error that propagated up the call chain is cascade, not cause.

A failed span with a failed call below it (see Story.calls: a Kafka consumer below a
producer is not a call) failed because of that call: it is cascade, and its reason names the
nearest failed call below it. Failures made good by a retry (retry.py) explain nothing, nor
does a span that only reports its parent's response (echo.py), and
neither does a failure that came after the span's own in the same service (one clock, so the
order is known): a cause comes before its effect. Across services clocks may be skewed, so
there the call tree alone decides.
"""

from __future__ import annotations

from clew.query_ui.explain.describe import failure_time
from clew.query_ui.explain.echo import echoes
from clew.query_ui.explain.finding import Finding
from clew.query_ui.explain.handled import made_good as made_good_refs
from clew.query_ui.read.model import Span
from clew.query_ui.read.story import Story


def propagated(story: Story) -> list[Finding]:
    """Every failed span with a failed call below it, as cascade of that call."""
    made_good = made_good_refs(story)
    findings: list[Finding] = []
    for span in story.spans:
        if span.ref in made_good or not story.failed(span):
            continue
        below = failed_call_below(story, span, made_good)
        if below is not None:
            own = "; ".join(s.text for s in story.signals(span) if s.kind in ("status", "http"))
            reason = f"{own or story.signals(span)[0].text}, after {below.label} failed"
            findings.append(Finding("cascade", span, reason, related=below))
    return findings


def _in_time(story: Story, below: Span, span: Span) -> bool:
    if below.service != span.service:
        return True
    return failure_time(story, below) <= failure_time(story, span)


def failed_call_below(story: Story, span: Span, made_good: set[tuple[str, str]]) -> Span | None:
    """The earliest-failing failed call below `span` that no retry made good, or None."""
    failures = [
        s
        for s in story.called(span)
        if s.ref not in made_good
        and story.failed(s)
        and _in_time(story, s, span)
        and not echoes(story, s)
    ]
    # The nearest failures are checked first so that the reason names the next hop down.
    for child in story.calls(span):
        if child in failures:
            return child
    return min(failures, key=lambda s: failure_time(story, s), default=None)

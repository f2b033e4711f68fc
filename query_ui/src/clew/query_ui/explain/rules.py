"""The explainer's rules, in the order they run; for each span the first finding wins."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from clew.query_ui.explain.compensation import compensation
from clew.query_ui.explain.echo import echo
from clew.query_ui.explain.finding import Finding
from clew.query_ui.explain.handled import handled
from clew.query_ui.explain.originating import originating
from clew.query_ui.explain.propagation import propagated
from clew.query_ui.explain.retry import retried
from clew.query_ui.explain.timeout import timeout
from clew.query_ui.read.model import SpanRef
from clew.query_ui.read.story import Story

Rule = Callable[[Story], Sequence[Finding]]

RULES: tuple[Rule, ...] = (
    # First: a compensation that did its job is a recovery (one that failed is left to the rest).
    compensation,
    # Before cascade and cause: a failure that a retry made good explains nothing.
    retried,
    # Then a failed call that its caller carried on from (the outcome decides): handled.
    handled,
    # Before timeout and originating: a span reporting its parent's failed response (a 500, or
    # a 504 that would look like a timeout of its own) is not where anything began.
    echo,
    # Before cascade: a timeout points at the slow call below it, even one that did not fail,
    # and must not be taken for a cascade of some quick failure beside it.
    timeout,
    # An error with a failed call below it is cascade of that call.
    propagated,
    # Last: whatever failure no earlier rule explained is where a failure started.
    originating,
)


def apply(story: Story, rules: Sequence[Rule] = RULES) -> list[Finding]:
    """Run `rules` in order and keep, for each span, the first finding about it."""
    kept: dict[tuple[SpanRef, SpanRef | None], Finding] = {}
    for rule in rules:
        for finding in rule(story):
            kept.setdefault(_subject(finding), finding)
    return list(kept.values())


def _subject(finding: Finding) -> tuple[SpanRef, SpanRef | None]:
    # A successful retry is noted once per attempt it made good, and that note does not stop
    # later rules from judging the retry itself.
    if finding.kind == "recovery" and finding.related is not None:
        return (finding.span.ref, finding.related.ref)
    return (finding.span.ref, None)

"""The failure explainer: why did the flow of one business key (an order) fail?

Rules over the key's whole story (all its traces, the traces linked to and from them, their
logs), in the style of Jaeger's adjusters. load.py reads the story (queries.py, typed
parameters, time and row limits) into a Story (story.py); failed.py holds the one definition
of a failed span; each rule is a small module, run in the order of rules.RULES, and for each
span the first finding wins:

1. compensation.py: a compensating action (a saga's refund) that completed is a recovery (one
   that failed is a root cause of its own, with what it leaves wrong);
2. retry.py: a failed attempt later retried successfully explains nothing (a loop's iterations
   are not attempts);
2b. handled.py: a failed call its caller carried on from is handled (the outcome decides);
3. echo.py: a span that only reports its parent's failed response is cascade of the parent;
4. timeout.py: a timeout points at the slow or still-running call below it;
5. propagation.py: a failure with a failed call below it is cascade of that call;
6. originating.py: every failure left unexplained is an originating failure (root cause).

diagnosis.py assembles root causes (in causal order, skew.py; each with its evidence gathered
by causes.py and, for a database call that waited, its contention suspects, contention.py), the
cascade with the reason each span failed, recoveries, handled failures, and a summary
paragraph (summary.py).
"""

from __future__ import annotations

from clew.common.store import Store
from clew.query_ui.explain.contention import reader
from clew.query_ui.explain.diagnosis import Diagnosis, explain
from clew.query_ui.explain.errors import ExplainError, NotFound
from clew.query_ui.read.load import Limits, load_story
from clew.query_ui.read.story import Story

__all__ = ["Diagnosis", "ExplainError", "Limits", "NotFound", "Story", "diagnose", "explain"]


def diagnose(store: Store, key: str, value: str, *, limits: Limits | None = None) -> Diagnosis:
    """Load the story of (key, value) from `store` and explain it; NotFound if nothing is stored."""
    story = load_story(store, key, value, limits)
    if not story:
        raise NotFound(key, value)
    return explain(story, suspects=reader(store))

"""The failure explainer: why did the flow of one business key (an order) fail?

Rules over the key's whole story (all its traces, the traces linked to and from them, their
logs), in the style of Jaeger's adjusters. The story is the read model's (clew.query_ui.read:
the loader, the Story, and the one definition of a failed span); the explainer reads nothing
else. describe.py says what a failed span's error was and when; each rule is a small module,
run in the order of rules.RULES, and for each span the first finding wins:

1. compensation.py: a compensating action (a saga's refund) is a recovery, never a cause;
2. retry.py: a failed attempt later retried successfully explains nothing;
3. echo.py: a span that only reports its parent's failed response is cascade of the parent;
4. timeout.py: a timeout points at the slow or still-running call below it;
5. propagation.py: a failure with a failed call below it is cascade of that call;
6. originating.py: every failure left unexplained is an originating failure (root cause).

diagnosis.py assembles root causes (earliest first, each with its evidence), the cascade with
the reason each span failed, recoveries, and a summary paragraph (summary.py).
"""

from __future__ import annotations

from clew.common.store import Store
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
    return explain(story)

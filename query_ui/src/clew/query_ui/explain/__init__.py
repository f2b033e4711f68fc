"""The failure explainer: why did the flow of one business key (an order) fail?

Rules over the key's whole story (all its traces, the traces linked to and from them, their
logs), in the style of Jaeger's adjusters: failed.py holds the one definition of a failed
span, each rule is a small module, rules.py orders them, diagnosis.py assembles the result.
"""

from __future__ import annotations

from clew.collector.store.base import Store
from clew.query_ui.explain.diagnosis import Diagnosis, explain
from clew.query_ui.explain.errors import ExplainError, NotFound
from clew.query_ui.explain.load import DEFAULT_LIMITS, Limits, load_story
from clew.query_ui.explain.story import Story

__all__ = ["Diagnosis", "ExplainError", "Limits", "NotFound", "Story", "diagnose", "explain"]


def diagnose(store: Store, key: str, value: str, *, limits: Limits = DEFAULT_LIMITS) -> Diagnosis:
    """Load the story of (key, value) from `store` and explain it; NotFound if nothing is stored."""
    story = load_story(store, key, value, limits)
    if not story:
        raise NotFound(key, value)
    return explain(story)

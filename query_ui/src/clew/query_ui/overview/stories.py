"""The explainer's story of one failure: a business key value, or a trace without one."""

from __future__ import annotations

from clew.collector.store.base import Store
from clew.query_ui.explain import queries
from clew.query_ui.explain.load import DEFAULT_LIMITS, Limits, _Loader, load_story
from clew.query_ui.explain.story import Story


def key_story(store: Store, key: str, value: str, limits: Limits = DEFAULT_LIMITS) -> Story:
    """The story the explainer reads for (key, value), with resource attributes (versions)."""
    return load_story(store, key, value, limits, with_resource=True)


def trace_story(store: Store, trace_id: str, limits: Limits = DEFAULT_LIMITS) -> Story:
    """A trace with no business key, the traces linked to and from it, and their logs."""
    # The explainer's loader starts from a key; for a trace alone it starts from the trace.
    loader = _Loader(store, limits, queries.SPANS_WITH_RESOURCE_OF_TRACES)
    spans = loader._follow_links([trace_id])
    if not spans:
        return Story("", trace_id, [])
    trace_ids = sorted({s.trace_id for s in spans})
    start = min(s.start_ns for s in spans)
    end = max(s.end_ns for s in spans)
    # No log carries an attribute named "" with value NUL: only the traces' own logs match.
    logs = loader._logs("", "\x00", trace_ids, start, end)
    return Story("", trace_id, spans, logs, warnings=dict.fromkeys(loader.warnings))

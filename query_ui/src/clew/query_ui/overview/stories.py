"""The explainer's story of one failure: a business key value, or a trace without one."""

from __future__ import annotations

from clew.common.store import Store
from clew.query_ui.errors import NotFoundError
from clew.query_ui.read.load import load_story, load_trace
from clew.query_ui.read.story import Story


def key_story(store: Store, key: str, value: str) -> Story:
    """The story the explainer reads for (key, value), with resource attributes (versions)."""
    return load_story(store, key, value, with_resource=True)


def trace_story(store: Store, trace_id: str) -> Story:
    """A trace with no business key, as the trace page reads it (empty when it is gone)."""
    try:
        return load_trace(store, trace_id)
    except NotFoundError:
        return Story([])

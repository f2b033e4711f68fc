"""The lines around one log line: of the same service, and of the same trace."""

from __future__ import annotations

from typing import Any

from clew.common.store import Store
from clew.query_ui.logs import queries as lq
from clew.query_ui.logs.search import record, stored_traces
from clew.query_ui.read.load import run
from clew.query_ui.read.model import LogRecord
from clew.query_ui.read.shapes import log_out

# How far from the line to look: enough for a request's lines, bounded so a quiet service
# does not cost a scan of its whole history.
WINDOW_NS = 3600 * 10**9
MAX_TRACE_LINES = 500


def context(store: Store, at_ns: int, service: str, trace_id: str, size: int) -> dict[str, Any]:
    """GET /api/logs/context's answer: `size` lines each side from the service, oldest first,
    and the trace's lines (around the moment) when a trace id is given."""
    limits: list[str] = []
    base: dict[str, object] = {"at_ns": at_ns, "window_ns": WINDOW_NS}
    same_service: list[LogRecord] = []
    if service:
        params = base | {"service": service}
        before = run(store, lq.SERVICE_BEFORE, params | {"limit": size + 1}, limits)
        after = run(store, lq.SERVICE_AFTER, params | {"limit": size}, limits)
        same_service = [record(r) for r in [*reversed(before), *after]]
    same_trace: list[LogRecord] = []
    if trace_id:
        params = base | {"trace_id": trace_id, "limit": MAX_TRACE_LINES}
        same_trace = [record(r) for r in run(store, lq.OF_TRACE, params, limits)]
    stored = stored_traces(store, same_service + same_trace, limits)
    return {
        "service": [log_out(r) for r in same_service],
        "trace": [log_out(r) for r in same_trace],
        "stored_traces": sorted(stored),
        "limits": limits,
    }

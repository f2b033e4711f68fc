"""Log volume over the range, per bucket and severity: one GROUP BY over three small columns."""

from __future__ import annotations

from typing import Any

from clew.common.store import Store
from clew.query_ui.logs import queries as lq
from clew.query_ui.logs.filters import LogFilters
from clew.query_ui.read.load import run
from clew.query_ui.read.shapes import stamp

SECOND = 10**9
MINUTE = 60 * SECOND
# Bucket widths a person reads easily; the narrowest giving at most MAX_BUCKETS is taken.
STEPS = [s * SECOND for s in (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600,
                              7200, 10800, 21600, 43200, 86400)]  # fmt: skip
MAX_BUCKETS = 120
LEVELS = 7  # TRACE ... FATAL and UNSPECIFIED


def step_for(start_ns: int, end_ns: int) -> int:
    """The bucket width for a range."""
    span = max(end_ns - start_ns, 1)
    return next((s for s in STEPS if span / s <= MAX_BUCKETS), -(-span // MAX_BUCKETS))


def histogram(store: Store, filters: LogFilters) -> dict[str, Any]:
    """GET /api/logs/histogram's answer: every bucket of the range, oldest first."""
    step = step_for(filters.start_ns, filters.end_ns)
    first = filters.start_ns - filters.start_ns % step  # buckets on round times
    count = (filters.end_ns - first) // step + 1
    limits: list[str] = []
    params = filters.parameters() | {"first_ns": first, "step_ns": step}
    params["limit"] = count * LEVELS + 1
    template = lq.HISTOGRAM
    if step % MINUTE == 0 and lq.volume_serves(filters):
        template = lq.HISTOGRAM_FROM_VOLUME
        inner_start = -(-filters.start_ns // MINUTE) * MINUTE  # the first whole minute
        inner_end = (filters.end_ns + 1) // MINUTE * MINUTE  # after the last whole minute
        params |= {"inner_start_ns": inner_start, "inner_end_ns": max(inner_end, inner_start)}
    rows = run(store, lq.statement(template, filters), params, limits)
    counts: list[dict[str, int]] = [{} for _ in range(count)]
    for row in rows:
        index = int(row["bucket"])
        if 0 <= index < count:
            counts[index][str(row["level"])] = int(row["n"])
    buckets = []
    for index, by_level in enumerate(counts):
        start = first + index * step
        buckets.append(stamp("start", start) | {"counts": by_level})
    return {"step_ns": step, "buckets": buckets, "limits": limits}

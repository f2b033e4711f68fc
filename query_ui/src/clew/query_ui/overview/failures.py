"""Failure groups of a range: failed orders and traces grouped by their root cause's signature."""

from __future__ import annotations

from typing import Any

from clew.common.store import Store
from clew.query_ui.overview import queries as q
from clew.query_ui.overview.ranges import Range, S
from clew.query_ui.read.format import rfc3339
from clew.query_ui.read.load import run

MAX_GROUPS = 100
EXAMPLES = 5


def groups(
    store: Store, period: Range, service: str = "", limit: int = MAX_GROUPS
) -> list[dict[str, Any]]:
    """The groups of the range, the biggest first, in the API's shape."""
    params = period.parameters() | {"service": service, "limit": limit, "examples": EXAMPLES}
    rows = run(store, q.FAILURE_GROUPS, params)
    if not rows:
        return []
    signatures = [str(row["Signature"]) for row in rows]
    first = {
        str(r["Signature"]): int(r["FirstNs"])
        for r in run(store, q.FIRST_SEEN, {"signatures": signatures})
    }
    counts: dict[str, list[int]] = {s: [0] * period.buckets for s in signatures}
    for row in run(store, q.FAILURE_SERIES, params | {"signatures": signatures}):
        bucket = int(row["Bucket"])
        if 0 <= bucket < period.buckets:
            counts[str(row["Signature"])][bucket] += int(row["Count"])
    return [_group(row, period, first, counts) for row in rows]


def _group(
    row: dict[str, Any], period: Range, first: dict[str, int], counts: dict[str, list[int]]
) -> dict[str, Any]:
    signature = str(row["Signature"])
    ever = first.get(signature, int(row["FirstNs"]))
    return {
        "signature": signature,
        "service": str(row["Service"]),
        "operation": str(row["Operation"]),
        "error_type": str(row["ErrorType"]),
        "message": str(row["Message"]),
        "business": bool(int(row["Business"])),
        "count": int(row["Count"]),
        "first_seen": rfc3339(int(row["FirstNs"])),
        "last_seen": rfc3339(int(row["LastNs"])),
        "new": ever >= period.start_s * S,
        "versions": [str(v) for v in row["Versions"]],
        "examples": [
            {"key": str(key), "value": str(value), "trace_id": str(trace)}
            for _, key, value, trace in row["Examples"]
        ],
        "series": [
            {"time": rfc3339(period.bucket_start(n) * S), "count": c}
            for n, c in enumerate(counts[signature])
        ],
    }

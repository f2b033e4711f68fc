"""Failure groups of a range: failed orders and traces grouped by their root cause's signature."""

from __future__ import annotations

from typing import Any

from clew.common.store import Store
from clew.query_ui.overview import queries as q
from clew.query_ui.overview.figures import counts
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
    return [_group(row, period) for row in run(store, q.FAILURE_GROUPS_EVER, params)]


def _group(row: dict[str, Any], period: Range) -> dict[str, Any]:
    signature = str(row["Signature"])
    ever = min(int(row["EverNs"] or row["FirstNs"]), int(row["FirstNs"]))
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
            for n, c in enumerate(counts(row, period))
        ],
    }

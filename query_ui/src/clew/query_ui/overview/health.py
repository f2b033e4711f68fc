"""Service health: every service's and one service's operations' figures over a range."""

from __future__ import annotations

from typing import Any

from clew.common.store import Store
from clew.query_ui.overview import queries as q
from clew.query_ui.overview.figures import figures, per_second, points
from clew.query_ui.overview.ranges import Range
from clew.query_ui.read.load import run

SEVERITIES = ("FATAL", "ERROR", "WARN", "INFO", "DEBUG", "TRACE", "UNSPECIFIED")


def worst_first(item: dict[str, Any]) -> tuple[float, float, str]:
    """Sort key: the highest error rate first, then the slowest p99, then by name."""
    return (-item["error_rate"], -item["p99_ms"], item["name"])


def services(store: Store, period: Range, service: str = "") -> list[dict[str, Any]]:
    """Each service's server and consumer spans, worst first, each with its series."""
    params = period.parameters() | {"service": service}
    found = [_named(row, "ServiceName", period) for row in run(store, q.SERVICES, params)]
    return sorted(found, key=worst_first)


def operations(store: Store, period: Range, service: str) -> list[dict[str, Any]]:
    """The operations (span names) of one service's server and consumer spans, worst first."""
    params = period.parameters() | {"service": service}
    rows = run(store, q.OPERATIONS, params)
    return sorted((_named(row, "SpanName", period) for row in rows), key=worst_first)


def logs(store: Store, period: Range, service: str) -> list[dict[str, Any]]:
    """Log records of one service per severity, one point per bucket."""
    params = period.parameters() | {"service": service}
    rows = run(store, q.LOG_SERIES, params)
    counts: dict[str, list[int]] = {}
    for row in rows:
        counts.setdefault(str(row["Severity"]), [0] * period.buckets)
        bucket = int(row["Bucket"])
        if 0 <= bucket < period.buckets:
            counts[str(row["Severity"])][bucket] += int(row["Records"])
    order = {name: n for n, name in enumerate(SEVERITIES)}
    return [
        {"severity": name, "records": sum(values), "series": values}
        for name, values in sorted(counts.items(), key=lambda kv: order.get(kv[0], 99))
    ]


def _named(row: dict[str, Any], column: str, period: Range) -> dict[str, Any]:
    values = figures(row)
    rate = per_second(values["requests"], period)
    return {"name": str(row[column]), **values, "rate_per_s": rate, "series": points(row, period)}

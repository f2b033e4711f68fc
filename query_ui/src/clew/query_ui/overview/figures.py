"""Rows of the aggregate tables as the API's figures: counts, error rate, latency in ms."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

from clew.query_ui.overview.ranges import Range, S
from clew.query_ui.read.format import rfc3339


def latency_ms(sketch: Any) -> tuple[float, float, float]:
    """(p50, p95, p99) in ms from quantilesDDMerge's [p50, p95, p99] in ns."""
    values = [float(v) for v in sketch or []]
    values += [0.0] * (3 - len(values))
    p50, p95, p99 = (round(v / 1e6, 3) if math.isfinite(v) else 0.0 for v in values[:3])
    return p50, p95, p99


def figures(row: Mapping[str, Any], count: str = "Requests") -> dict[str, Any]:
    """requests, errors, error_rate, p50_ms, p95_ms, p99_ms of one row."""
    requests, errors = int(row[count]), int(row["Errors"])
    p50, p95, p99 = latency_ms(row.get("Latency"))
    rate = round(errors / requests, 6) if requests else 0.0
    return {
        "requests": requests,
        "errors": errors,
        "error_rate": rate,
        "p50_ms": p50,
        "p95_ms": p95,
        "p99_ms": p99,
    }


def series(
    rows: Iterable[Mapping[str, Any]], name: str, period: Range, count: str = "Requests"
) -> dict[str, list[dict[str, Any]]]:
    """Per `name` column value, one point per bucket of the range (zeros where nothing ran)."""
    found: dict[str, dict[int, Mapping[str, Any]]] = {}
    for row in rows:
        found.setdefault(str(row[name]), {})[int(row["Bucket"])] = row
    return {key: _points(buckets, period, count) for key, buckets in found.items()}


def _points(
    buckets: Mapping[int, Mapping[str, Any]], period: Range, count: str
) -> list[dict[str, Any]]:
    points = []
    for bucket in range(period.buckets):
        row = buckets.get(bucket)
        point: dict[str, Any] = {"time": rfc3339(period.bucket_start(bucket) * S)}
        point["requests"] = int(row[count]) if row else 0
        point["errors"] = int(row["Errors"]) if row else 0
        points.append(point)
    return points


def per_second(count: int, period: Range) -> float:
    """A count over the range as a rate per second."""
    return round(count / max(period.end_s - period.start_s, 1), 6)

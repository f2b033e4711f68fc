"""Rows of the aggregate tables as the API's figures: counts, error rate, latency in ms."""

from __future__ import annotations

import math
from collections.abc import Mapping
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


def points(row: Mapping[str, Any], period: Range) -> list[dict[str, Any]]:
    """One chart point per bucket of the range from the row's Points (buckets, requests,
    errors), zeros where nothing ran."""
    buckets, requests, errors = (list(part) for part in row["Points"])
    found = {int(b): (int(r), int(e)) for b, r, e in zip(buckets, requests, errors, strict=True)}
    return [
        {
            "time": rfc3339(period.bucket_start(bucket) * S),
            "requests": found.get(bucket, (0, 0))[0],
            "errors": found.get(bucket, (0, 0))[1],
        }
        for bucket in range(period.buckets)
    ]


def counts(row: Mapping[str, Any], period: Range) -> list[int]:
    """A row's Points (buckets, counts) as one count per bucket of the range."""
    buckets, values = (list(part) for part in row["Points"][:2])
    found = dict(zip((int(b) for b in buckets), (int(v) for v in values), strict=True))
    return [found.get(bucket, 0) for bucket in range(period.buckets)]


def per_second(count: int, period: Range) -> float:
    """A count over the range as a rate per second."""
    return round(count / max(period.end_s - period.start_s, 1), 6)

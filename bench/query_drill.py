"""The drill-down figures of bench/query.py: statistics, comparison and flame graph data of
1,500-span traces in the 10M-span store.

Writes PAIRS pairs of 1,500-span traces (a tree eight wide over seven services; the second
of a pair has a failed branch, a missing one and an extra one) through the collector's ingest
table, as its writer does, then times what the routes do.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from typing import Any

from clew.collector.store import ChdbStore
from clew.query_ui import compare, stats, waterfall
from clew.query_ui.read import load

SPANS = 1_500
PAIRS = 4
MS = 1_000_000


def _row(trace: str, n: int, parent: int, start: int, length: int, failed: bool) -> dict[str, Any]:
    service = "gateway" if n == 0 else f"svc-{n % 7}"
    return {
        "TimestampNs": start, "EndNs": start + length, "TraceId": trace,
        "SpanId": f"{n + 1:016x}", "ParentSpanId": "" if parent < 0 else f"{parent + 1:016x}",
        "TraceState": "", "SpanName": "GET /big" if n == 0 else f"op-{n % 13}",
        "SpanKind": "Server", "ServiceName": service,
        "ResourceAttributes": {"service.name": service}, "ScopeName": "bench", "ScopeVersion": "",
        "SpanAttributes": {"n": str(n)}, "StatusCode": "Error" if failed else "Unset",
        "StatusMessage": "", "EventsTimestampNs": [], "EventsName": [], "EventsAttributes": [],
        "LinksTraceId": [], "LinksSpanId": [], "LinksTraceState": [], "LinksAttributes": [],
    }  # fmt: skip


def _trace(trace: str, start_ns: int, variant: int, rng: random.Random) -> list[dict[str, Any]]:
    """A tree of SPANS spans, each child inside its parent; variant 1 differs from variant 0."""
    spans = [(-1, start_ns, 2_000 * MS)]
    rows = [_row(trace, 0, -1, start_ns, 2_000 * MS, False)]
    for n in range(1, SPANS + 30 * variant):
        parent = (n - 1) // 8
        p_start, p_len = spans[parent][1], spans[parent][2]
        slot = p_len // 8
        start = p_start + slot * ((n - 1) % 8)
        length = int(slot * rng.uniform(0.5, 0.95))
        spans.append((parent, start, length))
        skip = variant and n % 50 == 7  # B lacks some branches, has some more at the end
        if not skip and len(rows) < SPANS:
            rows.append(_row(trace, n, parent, start, length, bool(variant and n == 333)))
    return rows


def pair_ids() -> list[tuple[str, str]]:
    """The trace ids of the pairs."""
    return [(f"d1{p:030x}", f"d2{p:030x}") for p in range(PAIRS)]


def drill_span_count(store: ChdbStore) -> int:
    """Spans of the pairs, so `--reuse` can tell the generated data apart from them."""
    ids = [t for pair in pair_ids() for t in pair]
    sql = "SELECT count() FROM otel_traces WHERE TraceId IN {ids:Array(String)}"
    return int(store.query(sql, {"ids": ids}).rows[0][0])


def write_pairs(store: ChdbStore, end_ns: int) -> list[tuple[str, str]]:
    """PAIRS pairs of traces a minute before `end_ns` (once: reused data keeps them)."""
    rng = random.Random(15)
    pairs = pair_ids()
    if drill_span_count(store):
        return pairs
    for p, ids in enumerate(pairs):
        for variant, trace in enumerate(ids):
            rows = _trace(trace, end_ns - 60 * 10**9 + p * 10**9, variant, rng)
            store.insert("clew_ingest_spans", "\n".join(json.dumps(r) for r in rows))
    return pairs


def _flame(store: ChdbStore, trace: str) -> object:
    return waterfall.build(load.load_trace(store, trace, logs=False, links=False, resource=False))


def drill_benchmarks(
    store: ChdbStore, runs: int, timed: Callable[[str, int, Callable[[int], object]], None]
) -> None:
    """Statistics, comparison and flame graph data of 1,500-span traces."""
    end = store.query("SELECT toUnixTimestamp64Nano(max(Timestamp)) FROM otel_traces")
    pairs = write_pairs(store, int(end.rows[0][0]))
    sizes = [len(load.load_trace(store, t, logs=False).spans) for pair in pairs for t in pair]
    print(f"drill-down: {PAIRS} pairs of traces of {min(sizes)}-{max(sizes)} spans")

    def trace_stats(i: int) -> object:
        return stats.rows(
            load.load_trace(store, pairs[i % PAIRS][i % 2], logs=False, links=False, resource=False)
        )

    timed("stats of a 1,500-span trace (GET /api/traces/{id}/stats)", runs, trace_stats)
    timed("compare two 1,500-span traces (GET /api/compare)", runs,
          lambda i: compare.of_traces(store, *pairs[i % PAIRS]))  # fmt: skip
    timed("flame graph data of a 1,500-span trace", runs,
          lambda i: _flame(store, pairs[i % PAIRS][i % 2]))  # fmt: skip

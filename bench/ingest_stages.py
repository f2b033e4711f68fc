"""Where ingest time goes, stage by stage, in CPU-seconds (robust on a shared, busy machine).

    uv run python bench/ingest_stages.py --batches 67

Each run inserts requests made for it (the fast path deduplicates a repeated batch), and the
overview's views (schema 019-023) are measured on and off, interleaved, merges stopped.

Python stages run in this thread (thread CPU); ClickHouse stages are measured as this
process's CPU (chDB runs in-process, on its own threads). Each figure is the best of 3 runs over
one batch of realistic requests (300 spans, ~10 attributes each).
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent))

from clew.collector import decode
from clew.collector.limits import Limits
from clew.collector.schema.apply import apply_schema
from clew.collector.settings import Settings
from clew.collector.store import ChdbStore
from ingest import OVERVIEW_VIEWS
from ingest_payload import trace_request


def process_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def best(label: str, spans: int, run: Callable[[], object], clock: Callable[[], float]) -> None:
    rates = []
    for _ in range(3):
        began = clock()
        run()
        rates.append(spans / max(clock() - began, 1e-9))
    rate = max(rates)
    print(f"{label:58} {rate:>10,.0f} spans/CPU-s {1e6 / rate:6.1f} µs/span", flush=True)


def python_stages(bodies: list[bytes], spans: int) -> list[dict[str, object]]:
    limits = Limits.from_settings(Settings())

    def parse_check() -> None:
        for body in bodies:
            decoded = decode.spans(body, decode.PROTOBUF, limits)
            assert isinstance(decoded.rows[0], decode.RawSpans)  # stayed on the fast path

    def walk() -> None:
        for body in bodies:
            decode.spans_as_rows(body)

    rows = [row for body in bodies for row in decode.spans_as_rows(body)]
    print("Python (thread CPU):")
    best(
        "  decode.spans: parse + limit checks (fast path's Python work)",
        spans,
        parse_check,
        time.thread_time,
    )
    best("  protobuf parse + field walk to rows (rows path)", spans, walk, time.thread_time)
    best(
        "  orjson encode of the rows (rows path)",
        spans,
        lambda: orjson.dumps(rows),
        time.thread_time,
    )
    return rows


def clickhouse_stages(
    store: ChdbStore, settings: Settings, count: int, rows: list[dict[str, object]], spans: int
) -> None:
    """Each run inserts requests made for it: the fast path's token is the digest of its
    requests, so inserting the same requests again would measure deduplication, not a write."""

    def fast_path(label: str) -> None:
        batches = [fresh(count) for _ in range(3)]
        best(label, spans, lambda: store.insert_otlp_traces(batches.pop()), process_cpu)

    data = orjson.dumps(rows).decode()
    # Background merges run on chDB's threads and count as this process's CPU at random
    # moments: stopped, the figures are the insert's own (views, side tables, indexes).
    store.command("SYSTEM STOP MERGES")
    print("ClickHouse in chDB (process CPU, merges stopped):")
    best(
        "  rows path: JSONEachRow insert, views, side tables",
        spans,
        lambda: store.insert("clew_ingest_spans", data),
        process_cpu,
    )
    # The overview's views on and off twice, interleaved: the difference is their cost.
    for _ in range(3):
        fast_path("  fast path: Protobuf insert, views, side tables")
        for view in OVERVIEW_VIEWS:
            store.command(f"DROP VIEW {view}")
        fast_path("  fast path without the overview's views (019-023)")
        apply_schema(store, settings)  # puts them back
    for view in (
        *OVERVIEW_VIEWS,
        "clew_business_keys_spans_mv",
        "clew_span_links_mv",
        "otel_traces_trace_id_ts_mv",
    ):
        store.command(f"DROP VIEW {view}")
    fast_path("  ... and without the three side-table views")
    store.command("SYSTEM START MERGES")  # dropping an index is a mutation: it needs them
    for index in (
        "idx_trace_id",
        "idx_res_attr_key",
        "idx_res_attr_value",
        "idx_span_attr_key",
        "idx_span_attr_value",
        "idx_duration",
        "idx_lower_span_name",
    ):
        store.command(f"ALTER TABLE otel_traces DROP INDEX {index}")
    fast_path("  ... and without otel_traces' skip indexes")
    store.command("DROP VIEW clew_ingest_otlp_traces_mv")
    fast_path("  ... staging only (read + nested-value check, no table write)")


def fresh(count: int) -> list[bytes]:
    """`count` requests of 300 spans, with ids and times of their own."""
    return [trace_request(300, seed).SerializeToString() for seed in range(count)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--batches", type=int, default=67, help="requests per batch (300 spans each)"
    )
    args = parser.parse_args()
    bodies = fresh(args.batches)
    spans = 300 * args.batches
    size = sum(map(len, bodies)) / spans
    print(f"batch: {args.batches} requests, {spans:,} spans, {size:.0f} bytes/span")
    rows = python_stages(bodies, spans)
    with tempfile.TemporaryDirectory(prefix="clew-stages-") as tmp:
        settings = Settings(data_dir=Path(tmp))
        store = ChdbStore(settings.data_dir)
        apply_schema(store, settings)
        try:
            clickhouse_stages(store, settings, args.batches, rows, spans)
        finally:
            store.close()


if __name__ == "__main__":
    main()

"""Query benchmark: 10 million spans in the embedded store; p50/p99 of the UI's reads.

    uv run python bench/query.py [--spans 10000000] [--data-dir DIR] [--reuse] [--runs N]
                                 [--without-trace-order | --compare-trace-order | --drill]

Generates the data inside ClickHouse (bench/query_data.py), then times, each on its own:
trace by id (what GET /api/traces/{id} reads: id lookup, spans, links, back-links), the trace
page's data (the same and the logs), spans alone, whole-trace searches, the order diagnosis and
the order page's timeline, (bench/query_drill.py) the statistics, comparison and flame graph
data of 1,500-span traces, and the overview's reads (home page, map, service page; their own
section at the end, `--overview-only` for just those). Prints the store's size on disk first
(system.parts, with the trace_order projection of schema/015 apart), and the load average
before and after. Reused
data generated before schema/016 gets its failed-span index backfilled (docs/adr/0004).
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from clew.collector.schema.apply import apply_schema, schema_files, statements
from clew.collector.settings import Settings
from clew.collector.store import ChdbStore
from clew.common.runtime import tune_gc
from clew.query_ui import explain, search, waterfall
from clew.query_ui.errors import QueryLimitError
from clew.query_ui.read import load
from clew.query_ui.read import queries as q
from clew.query_ui.read.format import rfc3339
from query_data import LOGS, LOGS_PER_ORDER, SPANS, SPANS_PER_ORDER, failing_orders, trace_id
from query_drill import drill_benchmarks, drill_span_count

DAY_NS = 86_400 * 10**9
MATERIALIZE = "ALTER TABLE otel_traces MATERIALIZE PROJECTION trace_order"
DROP = "ALTER TABLE otel_traces DROP PROJECTION IF EXISTS trace_order"
WITHOUT_PROJECTION = """
SELECT count() FROM system.parts WHERE active AND database = currentDatabase()
  AND table = 'otel_traces' AND NOT has(projections, 'trace_order')
"""
SIZES = """
SELECT table, sum(rows) AS rows, sum(bytes_on_disk) AS bytes FROM system.parts
WHERE active AND database = currentDatabase() GROUP BY table ORDER BY bytes DESC
"""
PROJECTION_SIZE = """
SELECT sum(bytes_on_disk) AS bytes, sum(rows) AS rows FROM system.projection_parts
WHERE active AND database = currentDatabase() AND table = 'otel_traces' AND name = 'trace_order'
"""
CHUNK_ORDERS = 100_000
OVERVIEW_TABLES = ("clew_service_minutes", "clew_operation_minutes", "clew_log_minutes",
                   "clew_topic_minutes", "clew_call_halves", "clew_edge_minutes",
                   "clew_overview_progress", "clew_failures")  # fmt: skip
INDEX_FILE = "016_failed_spans.sql"


def generate(store: ChdbStore, orders: int, now_ns: int) -> None:
    """Orders spread evenly over the last 24 hours, inserted in chunks."""
    step = DAY_NS // orders
    start = now_ns - DAY_NS
    began = time.perf_counter()
    for first in range(0, orders, CHUNK_ORDERS):
        params = {"first": first, "count": min(CHUNK_ORDERS, orders - first)}
        params |= {"start_ns": start, "step_ns": step}
        store.command(SPANS, params)
        store.command(LOGS, params)
        done = first + params["count"]
        print(
            f"  {done * SPANS_PER_ORDER:>11,} spans  {time.perf_counter() - began:6.1f}s",
            flush=True,
        )


def backfill_failed_spans(store: ChdbStore) -> None:
    """Fill schema/016's index from data stored before it existed (its views' own SELECTs)."""
    text = dict(schema_files())[INDEX_FILE]
    views = [s for s in statements(text, 7) if s.startswith("CREATE MATERIALIZED VIEW")]
    began = time.perf_counter()
    for view in views:
        select = view.split("TO clew_failed_spans\nAS ", 1)[1]
        store.command(f"INSERT INTO clew_failed_spans {select}")
    print(f"  backfilled clew_failed_spans in {time.perf_counter() - began:.1f}s")


def timed(name: str, runs: int, call: Callable[[int], object]) -> None:
    """Run `call(i)` `runs` times after two warm-up calls; print p50/p99 in milliseconds."""
    stopped(call, -1)  # a warm-up can hit the time limit too: counted nowhere, never fatal
    stopped(call, -2)
    samples, limited = [], 0
    for i in range(runs):
        began = time.perf_counter()
        limited += stopped(call, i)
        samples.append((time.perf_counter() - began) * 1000)
    report(name, samples, limited)


def stopped(call: Callable[[int], object], i: int) -> bool:
    """Call; True when a limit stopped it, raised or said in the result's notes (a search
    shows what it found so far), so the figure says it counts stopped queries."""
    try:
        result = call(i)
    except QueryLimitError:
        return True
    return bool(getattr(result, "limits", None))


def report(name: str, samples: list[float], limited: int) -> None:
    cuts = statistics.quantiles(samples, n=100, method="inclusive")
    note = f", {limited} stopped at a limit" if limited else ""
    print(f"{name:<56} p50 {cuts[49]:7.1f} ms  p99 {cuts[98]:7.1f} ms  (n={len(samples)}{note})")


def compare_trace_order(store: ChdbStore, orders: int, runs: int) -> None:
    """Trace by id with and without the trace_order projection, trace by trace in turn, so the
    other processes' load weighs on both alike."""
    rng = random.Random(3)
    picks = [trace_id(rng.randrange(orders)) for _ in range(runs + 2)]
    variants = {
        "with trace_order": {},
        "without (optimize_use_projections=0)": {"optimize_use_projections": 0},
    }
    base = dict(q.TRACE_READ_SETTINGS)
    samples: dict[str, list[float]] = {name: [] for name in variants}
    for i, picked in enumerate(picks):
        for name, extra in variants.items():
            q.TRACE_READ_SETTINGS.clear()
            q.TRACE_READ_SETTINGS.update(base | extra)
            began = time.perf_counter()
            load.load_trace(store, picked, logs=False)
            if i >= 2:  # two warm-up traces
                samples[name].append((time.perf_counter() - began) * 1000)
    q.TRACE_READ_SETTINGS.clear()
    q.TRACE_READ_SETTINGS.update(base)
    for name, taken in samples.items():
        report(f"trace by id (API), {name}", taken, 0)


def benchmarks(store: ChdbStore, orders: int, runs: int) -> None:
    rng = random.Random(7)
    picks = [rng.randrange(orders) for _ in range(runs + 2)]
    failing = failing_orders(picks, orders)
    # Search windows end where the data ends, however long ago it was generated.
    data_end = store.query("SELECT toUnixTimestamp64Nano(max(Timestamp)) FROM otel_traces")
    end = rfc3339(int(data_end.rows[0][0]))
    settings = {"business_keys": ["order.id"]}

    def spans_only(i: int) -> object:
        params = {"trace_ids": [trace_id(picks[i])], "limit": q.MAX_SPANS + 1}
        return load.run(store, q.SPANS_WITH_RESOURCE_OF_TRACES, params, [], q.TRACE_READ_SETTINGS)

    def order_page(i: int) -> object:
        story = load.load_story(store, "order.id", order(i), with_resource=True)
        return explain.explain(story), [waterfall.build(story, t) for t in story.trace_ids]

    def find(**args: object) -> Callable[[int], object]:
        filters = search.build_filters({"end": end, **args}, settings["business_keys"])
        return lambda _i: search.search(store, filters)

    def order(i: int) -> str:
        return f"ord-{failing[i % len(failing)]}"

    timed(
        "trace by id (API: id lookup, spans, links, back-links)",
        runs,
        lambda i: load.load_trace(store, trace_id(picks[i]), logs=False),
    )
    timed(
        "trace page data (the above and the trace's logs)",
        runs,
        lambda i: load.load_trace(store, trace_id(picks[i])),
    )
    timed("trace by id (id lookup + spans only)", runs, spans_only)
    timed("search: last 1h, no filter, 20 newest", runs // 4, find(lookback="1h"))
    timed(
        "search: last 1h, service=payments status=error",
        runs // 4,
        find(lookback="1h", service="payments", status="error"),
    )
    timed(
        "search: last 1h, tags db.system=postgresql http.route",
        runs // 4,
        find(lookback="1h", tag=["db.system=postgresql", "http.route=POST /checkout"]),
    )
    timed(
        "search: last 1h, tag customer.id=cust-77 (rare value)",
        runs // 4,
        find(lookback="1h", tag=["customer.id=cust-77"]),
    )
    timed(
        "search: last 24h, service=checkout status=error",
        max(runs // 20, 3),
        find(lookback="1d", service="checkout", status="error"),
    )
    timed(
        "order diagnosis (explain.diagnose, failing order)",
        runs,
        lambda i: explain.diagnose(store, "order.id", order(i)),
    )
    timed("order page (story read once + diagnosis + timeline model)", runs, order_page)

    # --- drill-down (issue 15): statistics, comparison, flame graph data; bench/query_drill.py
    # As many runs as the other reads: at a quarter of them (10 of 30), the comparison's p50
    # moved between 83 and 119 ms from one run to the next on this machine.
    drill_benchmarks(store, runs, timed)


def print_sizes(store: ChdbStore) -> None:
    """The store's size on disk per table; otel_traces includes its trace_order projection."""
    for table, rows, size in store.query(SIZES).rows:
        print(f"  {table:<28} {int(rows):>11,} rows {int(size) / 2**20:9.1f} MiB")
    size, rows = store.query(PROJECTION_SIZE).rows[0]
    size_mib = int(size or 0) / 2**20
    print(f"  {'  of which trace_order':<28} {int(rows or 0):>11,} rows {size_mib:9.1f} MiB")


# ---- overview (issue 13): home page, service map, service page, read from aggregates ----
# The minute tables are filled by schema/019-021's views while the data is generated. The
# edges come from the overview job's pairing (timed once, over the whole day). Failure groups
# would take the job one diagnosis per failed order (10 000 here); instead each failed order
# of the data set gets a row in clew_failures, spread over three signatures, as the job would
# write it, so the groups' read is measured at that size.
FAILURES_FROM_KEYS = """
INSERT INTO clew_failures (Key, Value, TraceId, Time, LastSeen, Signature, ServiceName,
    Operation, ErrorType, Message, Business, Version, Diagnosed)
SELECT Key, Value, any(TraceId), min(FirstSeen), max(LastSeen),
    ['sig-deadlock', 'sig-timeout', 'sig-declined'][cityHash64(Value) % 3 + 1],
    'payments', 'UPDATE accounts',
    ['DeadlockDetected', 'TimeoutError', 'CardDeclined'][cityHash64(Value) % 3 + 1],
    'deadlock detected', cityHash64(Value) % 3 = 2,
    ['1.0.0', '1.1.0'][cityHash64(Value) % 2 + 1], now64(3)
FROM clew_business_keys WHERE Key = 'order.id' AND HasError = 1 GROUP BY Key, Value
"""


def prepare_overview(store: ChdbStore) -> None:
    """Pair the day's call halves into edges (the job's work) and write the failure rows."""
    from clew.query_ui.overview.job import OverviewJob
    from clew.query_ui.overview.settings import OverviewSettings

    if not store.query("SELECT count() FROM clew_edge_minutes").rows[0][0]:
        began = time.perf_counter()
        OverviewJob(store, ["order.id"], OverviewSettings(job=False)).pair_edges(time.time_ns())
        print(f"overview job: paired a day of call halves in {time.perf_counter() - began:.1f} s")
    if not store.query("SELECT count() FROM clew_failures").rows[0][0]:
        store.command(FAILURES_FROM_KEYS)
    rows = store.query("SELECT count() FROM clew_failures").rows[0][0]
    print(f"clew_failures: {rows:,} failed orders (bench rows, three signatures)")


def overview_benchmarks(store: ChdbStore, runs: int) -> None:
    """The data of the home page, the map and a service page over 1 h and 24 h."""
    from clew.query_ui.overview import failures, health, ranges, servicemap

    def home(lookback: str) -> Callable[[int], object]:
        period = ranges.parse_range(lookback, "", "")
        return lambda i: (health.services(store, period), failures.groups(store, period))

    def service_page(lookback: str) -> Callable[[int], object]:
        period = ranges.parse_range(lookback, "", "")
        names = ["checkout", "payments", "inventory", "notifications"]

        def read(i: int) -> object:
            name = names[i % len(names)]
            edges = servicemap.service_map(store, period, name)
            return (
                health.services(store, period, name),
                health.operations(store, period, name),
                failures.groups(store, period, name),
                health.logs(store, period, name),
                edges,
            )

        return read

    for lookback in ("1h", "24h"):
        timed(f"overview: home page data ({lookback})", runs, home(lookback))
        period = ranges.parse_range(lookback, "", "")
        timed(
            f"overview: service map ({lookback})",
            runs,
            lambda i, p=period: servicemap.service_map(store, p),
        )
        timed(f"overview: service page data ({lookback})", runs, service_page(lookback))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spans", type=int, default=10_000_000)
    parser.add_argument("--data-dir", type=Path, default=Path("/tmp/clew-bench-query"))
    parser.add_argument("--reuse", action="store_true", help="keep data generated before")
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument(
        "--compare-trace-order",
        action="store_true",
        help="only trace by id, with and without the trace_order projection, interleaved",
    )
    parser.add_argument(
        "--drill", action="store_true", help="only the drill-down figures (bench/query_drill.py)"
    )
    parser.add_argument(
        "--overview-only", action="store_true", help="only the overview's reads (issue 13)"
    )
    parser.add_argument(
        "--without-trace-order",
        action="store_true",
        help="drop schema/015's trace_order projection first (the figures without it)",
    )
    args = parser.parse_args()
    tune_gc()  # the servers' garbage-collection settings, so the figures are theirs
    orders = args.spans // SPANS_PER_ORDER
    settings = Settings(data_dir=args.data_dir, retention_days=7)
    store = ChdbStore(args.data_dir)
    apply_schema(store, settings)
    stored = store.query("SELECT count() FROM otel_traces").rows[0][0] - drill_span_count(store)
    if not (args.reuse and stored == orders * SPANS_PER_ORDER):
        for table in ("otel_traces", "otel_logs", "otel_traces_trace_id_ts", "clew_business_keys",
                      "clew_span_links", "clew_failed_spans", *OVERVIEW_TABLES):  # fmt: skip
            store.command(f"TRUNCATE TABLE {table}")
        print(f"generating {orders * SPANS_PER_ORDER:,} spans, {orders * LOGS_PER_ORDER:,} logs")
        generate(store, orders, time.time_ns())
    elif not store.query("SELECT count() FROM clew_failed_spans").rows[0][0]:
        backfill_failed_spans(store)  # data generated before schema/016
    if args.without_trace_order:
        store.command(DROP)
    elif store.query(WITHOUT_PROJECTION).rows[0][0]:  # parts written before schema/015
        store.command(f"{MATERIALIZE} SETTINGS mutations_sync = 1")
    print_sizes(store)
    parts = store.query("SELECT count() FROM system.parts WHERE active AND table = 'otel_traces'")
    total = store.query("SELECT count() FROM otel_traces").rows[0][0]
    cores = Path("/proc/cpuinfo").read_text().count("processor")
    print(f"otel_traces: {total:,} spans in {parts.rows[0][0]} parts; chDB, {cores} cores")
    print(f"load average before: {os.getloadavg()[0]:.1f} (other processes share the cores)")
    prepare_overview(store)
    if args.compare_trace_order:
        compare_trace_order(store, orders, args.runs)
    elif args.drill:
        drill_benchmarks(store, args.runs, timed)
    elif not args.overview_only:
        benchmarks(store, orders, args.runs)
    if not (args.compare_trace_order or args.drill):
        overview_benchmarks(store, args.runs)
    print(f"load average after: {os.getloadavg()[0]:.1f}")
    store.close()


if __name__ == "__main__":
    main()

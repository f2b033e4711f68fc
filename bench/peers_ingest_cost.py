"""What each part of the span write costs in chDB, in process CPU per span (docs/adr/0007).

    uv run python bench/peers_ingest_cost.py [--batches 67] [--runs 3]

chDB keeps no system.query_log or trace_log (it starts without a server config), and py-spy
sees only Python threads, not ClickHouse's: so the store's share is found by taking parts away
from the full schema, cumulatively, each step on a fresh store with merges stopped, and
inserting the same batch (distinct span ids every time, so deduplication never skips one).
Each line is the median of --runs inserts, as process CPU (chDB runs in-process); the
difference between lines is that part's cost at insert (merges, which re-sort projections
too, come on top).
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from clew.collector.schema.apply import apply_schema
from clew.collector.settings import Settings
from clew.collector.store import ChdbStore
from ingest_payload import UniqueBodies, trace_request

INDEXES = ("idx_trace_id", "idx_res_attr_key", "idx_res_attr_value", "idx_span_attr_key",
           "idx_span_attr_value", "idx_duration", "idx_lower_span_name")  # fmt: skip
STEPS: list[tuple[str, list[str]]] = [
    ("full schema (otel_traces + trace_order projection + side tables)", []),
    ("without the trace_order projection (schema/015)",
     ["ALTER TABLE otel_traces DROP PROJECTION trace_order"]),
    ("... and without the failed-span view (schema/016)",
     ["DROP VIEW clew_failed_spans_spans_mv"]),
    ("... and without the business-key, span-link, trace-id views",
     ["DROP VIEW clew_business_keys_spans_mv", "DROP VIEW clew_span_links_mv",
      "DROP VIEW otel_traces_trace_id_ts_mv"]),
    ("... and without otel_traces' seven skip indexes",
     [f"ALTER TABLE otel_traces DROP INDEX {name}" for name in INDEXES]),
    ("... staging only (Protobuf read + fast-path check, no table)",
     ["DROP VIEW clew_ingest_otlp_traces_mv"]),
]  # fmt: skip


def process_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def measure(store: ChdbStore, bodies: UniqueBodies, spans: int, runs: int) -> float:
    """Median process CPU-seconds per span of inserting the batch, fresh ids every run."""
    costs = []
    for _ in range(runs):
        batch = [bodies[i] for i in range(len(bodies))]
        began = process_cpu()
        store.insert_otlp_traces(batch)
        costs.append((process_cpu() - began) / spans)
    return statistics.median(costs)


def step_cost(step: int, batches: int, runs: int) -> float:
    """CPU-seconds per span with STEPS[: step + 1] applied to a fresh store."""
    bodies = UniqueBodies([trace_request(300, seed).SerializeToString() for seed in range(40)])
    bodies = UniqueBodies([bodies[i % 40] for i in range(batches)])
    with tempfile.TemporaryDirectory(prefix="clew-cost-") as tmp:
        settings = Settings(data_dir=Path(tmp))
        store = ChdbStore(settings.data_dir)
        try:
            apply_schema(store, settings)
            for _, commands in STEPS[: step + 1]:
                for command in commands:  # on empty tables: no mutation to wait for
                    store.command(command)
            # Background merges would land on the next insert's CPU: none while measuring.
            store.command("SYSTEM STOP MERGES")
            measure(store, bodies, 300 * batches, 1)  # warm-up: the first insert reads the schema
            return measure(store, bodies, 300 * batches, runs)
        finally:
            store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, default=67, help="requests (300 spans each)")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--step", type=int, help=argparse.SUPPRESS)  # one step, in a child
    args = parser.parse_args()
    if args.step is not None:
        print(step_cost(args.step, args.batches, args.runs))
        return
    print(f"{args.batches} requests of 300 spans, {300 * args.batches:,} spans an insert, "
          f"median of {args.runs}; load average {os.getloadavg()[0]:.1f}")  # fmt: skip
    before = 0.0
    for step, (label, _) in enumerate(STEPS):
        # One process a step: chDB opens one data folder per process.
        command = [sys.executable, __file__, "--step", str(step)]
        command += ["--batches", str(args.batches), "--runs", str(args.runs)]
        cost = float(subprocess.run(command, capture_output=True, check=True).stdout)
        part = f"  (-{(before - cost) * 1e6:5.1f})" if before else ""
        print(
            f"  {label:66} {cost * 1e6:6.1f} µs/span {1 / cost:>9,.0f} spans/CPU-s{part}",
            flush=True,
        )
        before = cost
    print(f"load average after: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()

"""Read settings side by side on bench/query.py's store: p50 and minimum of the order
diagnosis, trace by id and a trace's spans alone, with the UI's read settings as they are
("base") and with each variant's settings on top.

    uv run python bench/query_ab.py --data-dir DIR [--runs 60] '{"max_threads": 1}' ...

All variants run in one process, read for read, and the order of the variants rotates from
one read to the next. Every read is of an order (or trace) that no read of the process has
read before: a second read of the same one is warm in ways a user's first read is not. On the
10M-span store, a story's spans read took 28-37 ms when repeated against 40-41 ms the first
time, the same 16 granules and 10 MB decompressed both times (chDB's mark cache and opened
files, and the CPU's caches holding the same blocks); the key lookup and the links read also
hit ClickHouse's query condition cache on a repeat. An A/B that read the same order with each
variant in turn made `max_threads = 1` look 17 ms faster on the diagnosis; with fresh orders
the diagnosis p50 is about 64 ms, as bench/query.py measures it, not 49. The store is
bench/query.py's (run that first), with the same kinds of picks.
A skip index is turned off for a variant with `{"ignore_data_skipping_indices": "name"}`.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from clew.collector.store import ChdbStore
from clew.common.runtime import tune_gc
from clew.query_ui import explain
from clew.query_ui.read import load
from clew.query_ui.read import queries as q
from query_data import SPANS_PER_ORDER, failing_orders, trace_id

# The loader reads these module settings at each query; a variant is laid over them for its
# reads and taken off after, so "base" is always the code's own.
_READ_SETTINGS = (q.QUERY_SETTINGS, q.TRACE_READ_SETTINGS)


@contextmanager
def applied(variant: dict[str, Any]) -> Iterator[None]:
    saved = [dict(settings) for settings in _READ_SETTINGS]
    for settings in _READ_SETTINGS:
        settings.update(variant)
    try:
        yield
    finally:
        for settings, before in zip(_READ_SETTINGS, saved, strict=True):
            settings.clear()
            settings.update(before)


def reads(store: ChdbStore, orders: int, seed: int) -> dict[str, Callable[[int], object]]:
    rng = random.Random(seed)
    # Distinct picks, so no read finds what an earlier one warmed (see the docstring).
    picks = rng.sample(range(orders), min(orders, 40_000))
    failing = list(dict.fromkeys(failing_orders(picks, orders)))

    def spans_only(i: int) -> object:
        params = {"trace_ids": [trace_id(picks[i])], "limit": q.MAX_SPANS + 1}
        return load.run(store, q.SPANS_WITH_RESOURCE_OF_TRACES, params, [], q.TRACE_READ_SETTINGS)

    return {
        "order diagnosis": lambda i: explain.diagnose(store, "order.id", f"ord-{failing[i]}"),
        "trace by id (API)": lambda i: load.load_trace(store, trace_id(picks[i]), logs=False),
        "trace's spans alone": spans_only,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=Path("/tmp/clew-bench-query"))
    parser.add_argument("--spans", type=int, default=10_000_000, help="as bench/query.py made")
    parser.add_argument("--runs", type=int, default=60)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("variants", nargs="+", help="settings as JSON objects")
    args = parser.parse_args()
    variants: dict[str, dict[str, Any]] = {"base": {}}
    for text in args.variants:
        variants[text] = json.loads(text)
    tune_gc()
    store = ChdbStore(args.data_dir)
    names = list(variants)
    samples: dict[tuple[str, str], list[float]] = {}
    try:
        for name, read in reads(store, args.spans // SPANS_PER_ORDER, args.seed).items():
            for i in range(args.runs):
                turn = i % len(names)
                for n, variant in enumerate(names[turn:] + names[:turn]):
                    with applied(variants[variant]):
                        began = time.perf_counter()
                        read(i * len(names) + n)  # a pick no read has had
                        took = (time.perf_counter() - began) * 1000
                    samples.setdefault((name, variant), []).append(took)
    finally:
        store.close()
    for (name, variant), taken in samples.items():
        p50, low = statistics.median(taken), min(taken)
        figures = f"p50 {p50:6.1f} ms  min {low:6.1f} ms  (n={len(taken)})"
        print(f"{name:22s} {variant[:60]:60s} {figures}")


if __name__ == "__main__":
    main()

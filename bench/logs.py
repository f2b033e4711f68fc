"""Logs benchmark: 10 million log records in the embedded store; p50/p99 of the logs explorer's
reads, the text index against the exporter's token bloom filter, and the logs ingest rate.

    uv run python bench/logs.py [--records 10000000] [--data-dir DIR] [--reuse] [--runs N]
                                [--ingest-seconds 20] [--skip-ingest]

Generates the records inside ClickHouse (bench/logs_data.py), over the last 24 hours, then
times what GET /api/logs and /api/logs/histogram run: text search over 1 h and over 24 h,
severity + service over 24 h, a trace id, the histogram over 24 h. The text searches run three
ways on the same table: with schema/017's text index (what clew runs), with the exporter's
tokenbf_v1 filter on lower(Body) (its hasToken form), and with neither. Then a real `clew serve`
takes OTLP/HTTP log requests for --ingest-seconds: records/s written and records per CPU-second
of the server. Prints the load average before and after.
"""

from __future__ import annotations

import argparse
import http.client
import re
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from clew.collector.schema.apply import apply_schema
from clew.collector.settings import Settings
from clew.collector.store import ChdbStore
from clew.query_ui.logs import filters as lf
from clew.query_ui.logs import histogram, search
from clew.query_ui.logs import queries as lq
from clew.query_ui.read import queries as q
from clew.query_ui.read.load import run
from ingest import cpu_seconds, start_server
from logs_data import LOGS, logs_request
from query import report, timed

DAY_NS = 86_400 * 10**9
HOUR_NS = 3_600 * 10**9
CHUNK = 1_000_000
WRITTEN = re.compile(r'^clew_written_total\{signal="logs"\} (\S+)$', re.MULTILINE)
INDEX_SIZES = """
SELECT name, type, sum(data_compressed_bytes) AS bytes FROM system.data_skipping_indices
WHERE database = currentDatabase() AND table = 'otel_logs'
  AND name IN ('idx_body_text', 'idx_lower_body')
GROUP BY name, type
"""
BODY_SIZE = """
SELECT sum(column_data_compressed_bytes) FROM system.parts_columns
WHERE active AND database = currentDatabase() AND table = 'otel_logs' AND column = 'Body'
"""
BACKFILL_VOLUME = """
INSERT INTO clew_logs_volume
SELECT toStartOfMinute(Timestamp) AS Minute, ServiceName, SeverityText, SeverityNumber,
       count() AS Count
FROM otel_logs GROUP BY Minute, ServiceName, SeverityText, SeverityNumber
"""
STORED = "SELECT count(), toInt64(toUnixTimestamp64Nano(max(Timestamp))) FROM otel_logs"
PICK_TRACE = """
SELECT TraceId FROM otel_logs
WHERE TraceId != '' AND Timestamp >= fromUnixTimestamp64Nano({at_ns:Int64}) LIMIT 1
"""
# The exporter schema's way: hasToken on lower(Body), which its tokenbf_v1 index serves.
BLOOM_WORD = "hasToken(lower(Body), {words:Array(String)}[1])"
VARIANTS = {
    "text index (clew)": ("idx_lower_body", lq.WORDS),
    "token bloom filter (exporter)": ("idx_body_text", BLOOM_WORD),
    "no index": ("idx_body_text,idx_lower_body", BLOOM_WORD),
}


def generate(store: ChdbStore, records: int, now_ns: int) -> None:
    """Records spread evenly over the last 24 hours, in chunks."""
    began = time.perf_counter()
    for first in range(0, records, CHUNK):
        params = {"first": first, "count": min(CHUNK, records - first)}
        params |= {"start_ns": now_ns - DAY_NS, "step_ns": DAY_NS // records}
        store.command(LOGS, params)
        took = time.perf_counter() - began
        print(f"  {first + params['count']:>11,} records {took:6.1f}s", flush=True)


def filters(now_ns: int, lookback_ns: int, **args: object) -> lf.LogFilters:
    """Filters as the API builds them, over the range ending at the data's end."""
    built = lf.build({"end": "", **args}, ["order.id"])
    built.start_ns, built.end_ns = now_ns - lookback_ns, now_ns
    return built


def text_variants(store: ChdbStore, now_ns: int, runs: int) -> None:
    """One-word text searches with each index in turn, interleaved so load weighs alike."""
    for label, lookback in (("1h", HOUR_NS), ("24h", DAY_NS)):
        found = filters(now_ns, lookback, text="deadlock")
        samples: dict[str, list[float]] = {name: [] for name in VARIANTS}
        for i in range(runs + 1):
            for name, (ignored, condition) in VARIANTS.items():
                sql = lq.statement(lq.PAGE, found).replace(lq.WORDS, condition)
                settings = q.QUERY_SETTINGS | {"ignore_data_skipping_indices": ignored}
                params = found.parameters() | {"before_ns": now_ns + 1, "limit": 51}
                began = time.perf_counter()
                run(store, sql, params, [], settings)
                if i:  # the first round warms up
                    samples[name].append((time.perf_counter() - began) * 1000)
        for name, taken in samples.items():
            report(f"text 'deadlock' {label}, page of 50: {name}", taken, 0)


def benchmarks(store: ChdbStore, now_ns: int, runs: int) -> None:
    """What the API runs, end to end through logs.search/logs.histogram."""
    trace = store.query(PICK_TRACE, {"at_ns": now_ns - DAY_NS // 3})
    trace_id = str(trace.rows[0][0])

    def page(lookback: int, **args: object) -> Callable[[int], object]:
        return lambda i: search.page(store, filters(now_ns, lookback, **args))

    timed("text search 'deadlock', last 1h", runs, page(HOUR_NS, text="deadlock"))
    timed("text search 'deadlock', last 24h", runs, page(DAY_NS, text="deadlock"))
    timed('text search "ord-123456" (an id), last 24h', runs,
          page(DAY_NS, text="ord-123456"))  # fmt: skip
    timed("text search 'timeout' + service checkout, 24h", runs,
          page(DAY_NS, text="timeout", service="checkout"))  # fmt: skip
    timed("severity>=ERROR + service payments, last 24h", runs,
          page(DAY_NS, severity="error", service="payments"))  # fmt: skip
    timed("trace id, last 24h", runs, page(DAY_NS, trace_id=trace_id))
    timed("no filter, last 24h (newest page)", runs, page(DAY_NS))

    def volume(**args: object) -> Callable[[int], object]:
        return lambda i: histogram.histogram(store, filters(now_ns, DAY_NS, **args))

    timed("histogram, last 24h", runs, volume())
    timed("histogram 'deadlock', last 24h", runs, volume(text="deadlock"))


def written(port: int) -> float:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
        match = WRITTEN.search(response.read().decode())
    return float(match.group(1)) if match else 0.0


def sender(port: int, bodies: list[bytes], until: float, counts: list[int]) -> None:
    """One keep-alive connection posting bodies back to back until `until`."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    index = 0
    while time.time() < until:
        connection.request("POST", "/v1/logs", bodies[index % len(bodies)],
                           {"Content-Type": "application/x-protobuf"})  # fmt: skip
        response = connection.getresponse()
        response.read()
        if response.status == 200:
            counts.append(index)
            index += 1
        else:
            time.sleep(0.05)  # 503 + Retry-After: back off, resend, as SDKs do


def ingest(seconds: float, per_request: int, connections: int) -> None:
    """Records/s written by a real `clew serve` and records per CPU-second of it."""
    # Distinct bodies: a repeated batch would share a dedup token and be skipped.
    bodies = [logs_request(per_request, seed).SerializeToString() for seed in range(400)]
    with tempfile.TemporaryDirectory(prefix="clew-bench-logs-") as tmp:
        server, port = start_server(Path(tmp) / "data", {"CLEW_BATCH_MAX_AGE": "0.5"})
        try:
            cpu_before, began = cpu_seconds(server.pid), time.time()
            counts: list[list[int]] = [[] for _ in range(connections)]
            threads = [
                threading.Thread(
                    target=sender, args=(port, bodies[c::connections], began + seconds, counts[c])
                )
                for c in range(connections)
            ]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            accepted = sum(len(c) for c in counts) * per_request
            while written(port) < accepted and time.time() < began + seconds + 600:
                time.sleep(0.2)
            took, done = time.time() - began, written(port)
            cpu = cpu_seconds(server.pid) - cpu_before
            print(f"ingest: {done:,.0f} of {accepted:,.0f} records written in {took:.1f}s = "
                  f"{done / took:,.0f} records/s; server CPU {cpu:.1f}s = "
                  f"{done / cpu:,.0f} records per CPU-second")  # fmt: skip
        finally:
            server.terminate()
            server.wait(300)


def loadavg() -> str:
    return Path("/proc/loadavg").read_text().strip()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=10_000_000)
    parser.add_argument("--data-dir", type=Path, default=Path("/tmp/clew-bench-logs"))
    parser.add_argument("--reuse", action="store_true", help="keep data generated before")
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--ingest-seconds", type=float, default=20.0)
    parser.add_argument("--records-per-request", type=int, default=400)
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--skip-ingest", action="store_true")
    parser.add_argument("--only-api", action="store_true", help="not the index comparison")
    args = parser.parse_args()
    print(f"load average before: {loadavg()}")
    store = ChdbStore(args.data_dir)
    apply_schema(store, Settings(data_dir=args.data_dir, retention_days=7))
    stored = store.query(STORED)
    count, newest = (int(v) for v in stored.rows[0])
    if not (args.reuse and count == args.records):
        store.command("TRUNCATE TABLE otel_logs")
        store.command("TRUNCATE TABLE clew_failed_spans")
        store.command("TRUNCATE TABLE clew_logs_volume")
        print(f"generating {args.records:,} log records")
        newest = time.time_ns()
        generate(store, args.records, newest)
        store.command("OPTIMIZE TABLE otel_logs FINAL")  # settle merges so runs compare alike
    if not store.query("SELECT count() FROM clew_logs_volume").rows[0][0]:
        began = time.perf_counter()
        store.command(BACKFILL_VOLUME)  # data generated before schema/018
        print(f"  backfilled clew_logs_volume in {time.perf_counter() - began:.1f}s")
    sizes = store.query(INDEX_SIZES).rows
    body = int(store.query(BODY_SIZE).rows[0][0] or 0)
    print(f"  Body column {body / 2**20:.1f} MiB compressed; " + "; ".join(
        f"{name} ({kind}) {int(size) / 2**20:.1f} MiB" for name, kind, size in sizes))  # fmt: skip
    if not args.only_api:
        text_variants(store, newest, args.runs)
    benchmarks(store, newest, args.runs)
    store.close()
    if not args.skip_ingest:
        ingest(args.ingest_seconds, args.records_per_request, args.connections)
    print(f"load average after: {loadavg()}")


if __name__ == "__main__":
    main()

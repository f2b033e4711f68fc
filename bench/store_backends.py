"""Store benchmark: the same span batches into the embedded store and into the server store.

    uv run python bench/store_backends.py --spans 100000 --batch 5000

The "server" is the test fixture (tests/support/chdb_http_server.py: chDB behind a Python
HTTP server) reached through clickhouse-connect, so its figure is the HTTP + compression +
client cost on top of the same engine, not a real ClickHouse server's speed. Prints spans/s for
JSONEachRow inserts through the ingest view (what the writer sends), the median time of a trace
lookup, and spans/s for the same rows as Native column blocks on the server.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.support.clickhouse_http import FakeClickHouse

from clew.collector.schema.apply import apply_schema
from clew.collector.settings import Settings
from clew.collector.store import Store, open_store
from clew.collector.store.server import ServerStore

LOOKUP = "SELECT SpanId, SpanName, Duration FROM otel_traces WHERE TraceId = {trace_id:String}"


def batches(spans: int, size: int) -> list[str]:
    """JSONEachRow batches of ingest rows, ten spans a trace, timestamps of the last minute."""
    now = time.time_ns() - 60 * 10**9
    rows = [
        {
            "TimestampNs": now + n * 1000,
            "EndNs": now + n * 1000 + 5_000_000,
            "TraceId": f"{n // 10:032x}",
            "SpanId": f"{n:016x}",
            "SpanName": f"GET /orders/{n % 50}",
            "SpanKind": "Server",
            "ServiceName": f"svc-{n % 7}",
            "ResourceAttributes": {"service.name": f"svc-{n % 7}", "host.name": "bench"},
            "SpanAttributes": {"order.id": f"O-{n // 10}", "http.status_code": "200"},
            "StatusCode": "Unset",
        }
        for n in range(spans)
    ]
    return [orjson.dumps(rows[i : i + size]).decode() for i in range(0, spans, size)]


def measure(name: str, store: Store, settings: Settings, work: list[str], spans: int) -> None:
    """Insert every batch, then time lookups; print the figures."""
    apply_schema(store, settings)
    started = time.perf_counter()
    for data in work:
        store.insert("clew_ingest_spans", data)
    elapsed = time.perf_counter() - started
    lookups = []
    for trace in range(0, spans // 10, max(1, spans // 200)):
        begin = time.perf_counter()
        store.query(LOOKUP, {"trace_id": f"{trace:032x}"})
        lookups.append(time.perf_counter() - begin)
    stored = store.query("SELECT count() FROM otel_traces").rows[0][0]
    print(
        f"{name:9} {spans / elapsed:10.0f} spans/s insert ({stored} stored),"
        f" trace lookup p50 {statistics.median(lookups) * 1000:.1f} ms"
    )


def measure_native(store: ServerStore, work: list[str], spans: int) -> None:
    """The same rows as Native column blocks (insert_columns), for comparison."""
    blocks = []
    for data in work:
        rows = orjson.loads(data)
        names = list(rows[0])
        blocks.append((names, [[row[name] for row in rows] for name in names]))
    started = time.perf_counter()
    for names, columns in blocks:
        store.insert_columns("clew_ingest_spans", names, columns)
    elapsed = time.perf_counter() - started
    print(f"{'native':9} {spans / elapsed:10.0f} spans/s insert_columns (Native, LZ4)")


def main() -> None:
    """Run both backends on the same batches."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spans", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=5_000)
    args = parser.parse_args()
    work = batches(args.spans, args.batch)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        embedded = Settings(data_dir=root / "embedded")
        store = open_store(embedded)
        try:
            measure("embedded", store, embedded, work, args.spans)
        finally:
            store.close()
        server = FakeClickHouse(root / "server", root / "server.log")
        server.start()
        try:
            remote = Settings(data_dir=root / "unused", clickhouse_url=server.url)
            store = open_store(remote)
            try:
                measure("server", store, remote, work, args.spans)
                assert isinstance(store, ServerStore)
                measure_native(store, work, args.spans)
            finally:
                store.close()
        finally:
            server.stop()


if __name__ == "__main__":
    main()

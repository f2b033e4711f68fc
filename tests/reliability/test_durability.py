"""What clew acknowledged is stored: under load, through a 30 s store outage, through SIGKILL.

Each test compares the span ids the senders had acknowledged with the span ids stored, and
prints its figures (run with -s to see them; the assertion messages carry them too).
"""

from __future__ import annotations

import signal
import time
import urllib.parse
from collections.abc import Callable

import httpx

from tests.reliability.load import STORED_IDS, Load, compare, metric, peak_rss_mb
from tests.support.clew_server import ClewServer
from tests.support.clickhouse_http import FakeClickHouse

LOAD_SECONDS = 6.0
OVERLOAD_SECONDS = 8.0
# Peak RSS may grow this much above the idle collector's while the backlog grows on disk.
RSS_GROWTH_BOUND_MB = 256
OUTAGE_SECONDS = 30.0
DRAIN_TIMEOUT = 180.0


def metrics_text(server: ClewServer) -> str:
    return httpx.get(f"{server.http_url}/metrics", timeout=30).text


def wait_drained(server: ClewServer, timeout: float = DRAIN_TIMEOUT) -> str:
    """Wait until nothing accepted is waiting to be written; the metrics text then."""
    deadline = time.monotonic() + timeout
    while True:
        text = metrics_text(server)
        if metric(text, "clew_buffer_rows") == 0:
            return text
        if time.monotonic() > deadline:
            raise AssertionError(f"backlog not written in {timeout} s:\n{server.log()[-3000:]}")
        time.sleep(0.2)


def stored_embedded(server: ClewServer) -> dict[str, int]:
    return {row["SpanId"]: int(row["n"]) for row in server.query(STORED_IDS)}


def stored_on(clickhouse: FakeClickHouse, url: str) -> dict[str, int]:
    database = urllib.parse.urlsplit(url).path.strip("/")
    text = clickhouse.post(STORED_IDS + " FORMAT TSV", database=database).decode()
    return {span: int(n) for span, n in (line.split("\t") for line in text.splitlines())}


def test_load_held_nothing_lost_nothing_doubled(
    clew_server_factory: Callable[..., ClewServer],
) -> None:
    server = clew_server_factory()
    server.start()
    load = Load(lambda: server.http_port, senders=3, spans=200)
    load.start()
    time.sleep(LOAD_SECONDS)
    load.stop()
    text = wait_drained(server)
    assert server.stop() == 0
    figures = compare("load", load, stored_embedded(server))
    assert metric(text, "clew_spooled_total") == figures.acked, figures.line()
    assert metric(text, "clew_dropped_total", 'reason="store_failed",signal="spans"') == 0
    assert figures.acked > 0 and figures.lost == 0 and figures.duplicated == 0, figures.line()


def test_store_down_30_seconds_loses_nothing(
    clew_server_factory: Callable[..., ClewServer],
    clickhouse_http: FakeClickHouse,
    clickhouse_url: str,
) -> None:
    server = clew_server_factory({"CLEW_CLICKHOUSE_URL": clickhouse_url})
    server.start()
    load = Load(lambda: server.http_port, senders=2, spans=100, rate=2000)
    load.start()
    try:
        time.sleep(3)
        clickhouse_http.stop()
        time.sleep(OUTAGE_SECONDS)
        during = metrics_text(server)
    finally:
        clickhouse_http.start()  # the session's other tests need it back
    time.sleep(3)
    load.stop()
    text = wait_drained(server)
    assert server.stop() == 0
    log = server.log()
    backlog = metric(during, "clew_buffer_rows")
    figures = compare(
        "store down 30 s (server backend)",
        load,
        stored_on(clickhouse_http, clickhouse_url),
        backlog_at_end_of_outage=f"{backlog:.0f}",
        spool_bytes=f"{metric(during, 'clew_spool_bytes'):.0f}",
        retried=f"{metric(text, 'clew_retried_total'):.0f}",
    )
    assert backlog > 0, f"the outage was not felt: {figures.line()}"
    assert "event=store_down" in log and "event=store_back" in log, log[-3000:]
    assert "event=replay_done" in log, log[-3000:]
    assert metric(text, "clew_dropped_total", 'reason="store_rejected",signal="spans"') == 0
    assert figures.lost == 0 and figures.duplicated == 0, figures.line()


def test_sigkill_mid_batch_then_restart_loses_nothing(
    clew_server_factory: Callable[..., ClewServer],
) -> None:
    # Small batches: the writer is behind, so the kill finds a backlog and an insert under way.
    server = clew_server_factory({"CLEW_BATCH_MAX_ROWS": "500"})
    server.start()
    load = Load(lambda: server.http_port, senders=3, spans=200)
    load.start()
    time.sleep(3)
    before = metrics_text(server)
    server.stop(signal.SIGKILL)
    time.sleep(0.5)  # clients meanwhile get connection errors and retry
    server.start()
    time.sleep(1)
    load.stop()
    text = wait_drained(server)
    assert server.stop() == 0
    backlog = metric(before, "clew_buffer_rows")
    figures = compare(
        "SIGKILL mid-batch + restart (embedded)",
        load,
        stored_embedded(server),
        backlog_shortly_before_kill=f"{backlog:.0f}",
        replayed=f"{metric(text, 'clew_replayed_total'):.0f}",
    )
    assert figures.lost == 0, figures.line()
    # Requests in flight at the kill may have been spooled but not answered: their clients
    # send them again. At-least-once allows that many duplicates, no more.
    assert figures.duplicated <= 3 * 200, figures.line()
    assert "event=replay_done" in server.log(), server.log()[-3000:]


def test_peak_memory_bounded_at_twice_what_the_store_absorbs(
    clew_server_factory: Callable[..., ClewServer],
) -> None:
    # Tiny batches make the store slow: each insert has a fixed cost, so it absorbs far less
    # than the receivers take; the backlog must go to disk, not to memory.
    server = clew_server_factory({"CLEW_BATCH_MAX_ROWS": "50", "CLEW_BATCH_MAX_AGE": "0.05"})
    server.start()
    assert server.process is not None
    pid = server.process.pid
    baseline = peak_rss_mb(pid)
    load = Load(lambda: server.http_port, senders=4, spans=200)
    load.start()
    time.sleep(OVERLOAD_SECONDS)
    text = metrics_text(server)
    peak = peak_rss_mb(pid)
    load.stop()
    accepted, written = metric(text, "clew_accepted_total"), metric(text, "clew_written_total")
    # Then the backlog is written by a collector with normal batches: nothing was lost either.
    server.stop(signal.SIGKILL)
    server.env = {}
    server.start()
    wait_drained(server)
    assert server.stop() == 0
    figures = compare(
        "overload (store too slow)",
        load,
        stored_embedded(server),
        offered_over_absorbed=f"{accepted / max(written, 1):.1f}",
        backlog_rows=f"{metric(text, 'clew_buffer_rows'):.0f}",
        spool_mb=f"{metric(text, 'clew_spool_bytes') / 2**20:.1f}",
        peak_rss_mb=f"{peak:.0f}",
        rss_growth_mb=f"{peak - baseline:.0f}",
    )
    assert accepted >= 2 * written, figures.line()
    assert peak - baseline < RSS_GROWTH_BOUND_MB, figures.line()
    assert figures.lost == 0, figures.line()

"""The faults of tests/reliability and bench/soak.py, sized by the caller; each returns Figures.

`make` builds a `clew serve` (ClewServer) with extra environment; the scenario starts and
stops it. Nothing here asserts: the tests assert on the figures, the soak prints them.
"""

from __future__ import annotations

import signal
import time
from collections.abc import Callable, Mapping

from tests.reliability.load import (
    Figures,
    Load,
    compare,
    metric,
    metrics_text,
    peak_rss_mb,
    stored_embedded,
    stored_on,
    wait_drained,
)
from tests.support.clew_server import ClewServer
from tests.support.clickhouse_http import FakeClickHouse

Make = Callable[[Mapping[str, str]], ClewServer]
SPANS = 200  # spans per request


def load_held(make: Make, seconds: float, senders: int = 2) -> Figures:
    """HTTP senders and one gRPC sender as fast as answered for `seconds`, then every
    acknowledged span looked up."""
    server = make({})
    server.start()
    load = Load(server, senders, SPANS, grpc=1)
    load.start()
    time.sleep(seconds)
    load.stop()
    text = wait_drained(server)
    server.stop()
    return compare(
        "load",
        load,
        stored_embedded(server),
        spooled=metric(text, "clew_spooled_total"),
        dropped=_dropped(text),
    )


def store_down(
    make: Make, clickhouse: FakeClickHouse, url: str, outage: float, rate: float = 2000
) -> Figures:
    """The ClickHouse server stopped for `outage` seconds while senders offer `rate` spans/s."""
    server = make({"CLEW_CLICKHOUSE_URL": url})
    server.start()
    load = Load(server, 1, 100, rate, grpc=1)
    load.start()
    try:
        time.sleep(3)
        clickhouse.stop()
        time.sleep(outage)
        during = metrics_text(server)
    finally:
        clickhouse.start()
    time.sleep(3)
    load.stop()
    text = wait_drained(server)
    server.stop()
    figures = compare(
        f"store down {outage:.0f} s (server backend)",
        load,
        stored_on(clickhouse, url),
        outage_seconds=outage,
        backlog_at_end_of_outage=metric(during, "clew_buffer_rows"),
        spool_bytes=metric(during, "clew_spool_bytes"),
        retried=metric(text, "clew_retried_total"),
        dropped=_dropped(text),
    )
    figures.log = server.log()
    return figures


def sigkill(make: Make, kills: int = 1, between: float = 3.0) -> Figures:
    """SIGKILL the collector `kills` times under load (small batches: a backlog and an insert
    under way at each kill), restarting it each time."""
    server = make({"CLEW_BATCH_MAX_ROWS": "500"})
    server.start()
    load = Load(server, 2, SPANS, grpc=1)
    load.start()
    backlog = 0.0
    for _ in range(kills):
        time.sleep(between)
        backlog = max(backlog, metric(metrics_text(server), "clew_buffer_rows"))
        server.stop(signal.SIGKILL)
        time.sleep(0.5)  # clients meanwhile get connection errors and retry
        server.start()
    time.sleep(1)
    load.stop()
    text = wait_drained(server)
    server.stop()
    figures = compare(
        f"SIGKILL x{kills} mid-batch + restart (embedded)",
        load,
        stored_embedded(server),
        largest_backlog_before_a_kill=backlog,
        replayed_after_last_restart=metric(text, "clew_replayed_total"),
        in_flight_bound=3 * SPANS * kills,
    )
    figures.log = server.log()
    return figures


def overload(make: Make, seconds: float, spool_mb: int = 4) -> Figures:
    """Tiny batches make the store absorb a fraction of what is offered, and the spool is
    small: clients are refused (503 / UNAVAILABLE) and retry. Peak RSS (VmHWM) is read, then a
    collector with normal batches writes the backlog and every span is looked up."""
    slow = {"CLEW_BATCH_MAX_ROWS": "50", "CLEW_BATCH_MAX_AGE": "0.05"}
    server = make({**slow, "CLEW_SPOOL_MAX_BYTES": str(spool_mb * 2**20)})
    server.start()
    assert server.process is not None
    pid = server.process.pid
    baseline = peak_rss_mb(pid)
    load = Load(server, 3, SPANS, grpc=1)
    load.start()
    time.sleep(seconds)
    text = metrics_text(server)
    peak = peak_rss_mb(pid)
    load.stop()
    server.stop(signal.SIGKILL)  # the slow collector would take too long to catch up
    server.env = {}
    server.start()
    wait_drained(server)
    server.stop()
    written = metric(text, "clew_written_total")
    offered = metric(text, "clew_accepted_total") + metric(text, "clew_refused_total", _SPOOL_FULL)
    return compare(
        "overload (store absorbs a fraction, small spool)",
        load,
        stored_embedded(server),
        offered_over_absorbed=round(offered / max(written, 1), 1),
        refused_spool_full=metric(text, "clew_refused_total", _SPOOL_FULL),
        backlog_rows=metric(text, "clew_buffer_rows"),
        spool_mb=round(metric(text, "clew_spool_bytes") / 2**20, 1),
        peak_rss_mb=round(peak),
        rss_growth_mb=round(peak - baseline),
    )


_SPOOL_FULL = 'reason="spool_full",signal="spans"'


def _dropped(text: str) -> float:
    return sum(
        metric(text, "clew_dropped_total", f'reason="{reason}",signal="{signal}"')
        for reason in ("store_failed", "store_rejected")
        for signal in ("spans", "logs")
    )

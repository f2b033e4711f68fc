"""What clew acknowledged is stored: under load, through a 30 s store outage, through SIGKILL.

Each test compares the span ids the senders had acknowledged with the span ids stored, and
prints its figures (run with -s to see them; the assertion messages carry them too).
bench/soak.py runs the same scenarios (scenarios.py) with larger sizes.
"""

from __future__ import annotations

from collections.abc import Callable

from tests.reliability import scenarios
from tests.support.clew_server import ClewServer
from tests.support.clickhouse_http import FakeClickHouse

# Peak RSS may grow this much above the idle collector's while the backlog grows on disk.
RSS_GROWTH_BOUND_MB = 256


def test_load_held_nothing_lost_nothing_doubled(
    clew_server_factory: Callable[..., ClewServer],
) -> None:
    figures = scenarios.load_held(clew_server_factory, seconds=5)
    assert not figures.errors, figures.line()
    assert figures.extra["spooled"] == figures.acked, figures.line()
    assert figures.extra["dropped"] == 0, figures.line()
    assert figures.acked > 0 and figures.lost == 0 and figures.duplicated == 0, figures.line()


def test_store_down_30_seconds_loses_nothing(
    clew_server_factory: Callable[..., ClewServer],
    clickhouse_http: FakeClickHouse,
    clickhouse_url: str,
) -> None:
    figures = scenarios.store_down(clew_server_factory, clickhouse_http, clickhouse_url, 30)
    assert not figures.errors, figures.line()
    assert figures.extra["backlog_at_end_of_outage"] > 0, f"not felt: {figures.line()}"
    for event in ("event=store_down", "event=store_back", "event=replay_done"):
        assert event in figures.log, figures.log[-3000:]
    assert figures.extra["dropped"] == 0, figures.line()
    assert figures.lost == 0 and figures.duplicated == 0, figures.line()


def test_sigkill_mid_batch_then_restart_loses_nothing(
    clew_server_factory: Callable[..., ClewServer],
) -> None:
    figures = scenarios.sigkill(clew_server_factory)
    assert not figures.errors, figures.line()
    assert figures.extra["largest_backlog_before_a_kill"] > 0, figures.line()
    assert figures.lost == 0, figures.line()
    # Requests in flight at a kill may be spooled but unanswered: their clients send them
    # again. At-least-once allows that many duplicates, no more.
    assert figures.duplicated <= figures.extra["in_flight_bound"], figures.line()
    assert "event=replay_done" in figures.log, figures.log[-3000:]


def test_peak_memory_bounded_at_twice_what_the_store_absorbs(
    clew_server_factory: Callable[..., ClewServer],
) -> None:
    figures = scenarios.overload(clew_server_factory, seconds=6)
    assert not figures.errors, figures.line()
    assert figures.extra["offered_over_absorbed"] >= 2, figures.line()
    assert figures.refused > 0 and figures.extra["refused_spool_full"] > 0, figures.line()
    assert figures.extra["rss_growth_mb"] < RSS_GROWTH_BOUND_MB, figures.line()
    assert figures.lost == 0, figures.line()

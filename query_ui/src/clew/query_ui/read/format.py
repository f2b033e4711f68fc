"""How times and durations read, in JSON and on every page: defined once, here."""

from __future__ import annotations

from datetime import UTC, datetime

NS_PER_S = 1_000_000_000


def rfc3339(time_ns: int) -> str:
    """Unix nanoseconds as RFC 3339 in UTC with the precision clew stores (DateTime64(9)):
    2026-11-21T21:45:14.123456789Z. Always nine digits, so the strings sort as the times do."""
    seconds, nanos = divmod(int(time_ns), NS_PER_S)
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S") + f".{nanos:09d}Z"


def duration(ns: int) -> str:
    """A duration as a person writes it, three significant figures: 393 µs, 12.3 ms, 3.97 s."""
    ns = int(ns)
    if ns < 1_000:
        return f"{ns} ns"
    for unit, size in (("µs", 1_000), ("ms", 1_000_000)):
        # 999.6 µs would round to 1000 µs: it reads as 1.00 ms instead.
        if ns / size < 999.5:
            return f"{_sig3(ns / size)} {unit}"
    if ns < 59.95 * NS_PER_S:
        return f"{_sig3(ns / NS_PER_S)} s"
    minutes, seconds = divmod(round(ns / NS_PER_S), 60)
    if minutes < 60:
        return f"{minutes} min {seconds:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


def _sig3(value: float) -> str:
    """Three significant figures without exponent or trailing noise: 3.97, 12.3, 393."""
    if value >= 100:
        return f"{value:.0f}"
    if value >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"

"""How times and durations read (read/format.py): one format on every surface."""

from __future__ import annotations

import pytest

from clew.query_ui.read.format import duration, rfc3339

BASE = 1_700_000_000 * 10**9


@pytest.mark.parametrize(
    ("ns", "text"),
    [
        (BASE, "2023-11-14T22:13:20.000000000Z"),
        (BASE + 123_456_789, "2023-11-14T22:13:20.123456789Z"),
        (BASE + 1_000, "2023-11-14T22:13:20.000001000Z"),
    ],
)
def test_rfc3339_keeps_the_nanoseconds_clew_stores(ns: int, text: str) -> None:
    assert rfc3339(ns) == text


@pytest.mark.parametrize(
    ("ns", "text"),
    [
        (850, "850 ns"),
        (393_000, "393 µs"),
        (999_600, "1.00 ms"),
        (12_345_678, "12.3 ms"),
        (3_970_000_000, "3.97 s"),
        (59_990_000_000, "1 min 00 s"),
        (185 * 10**9, "3 min 05 s"),
        (4_000 * 10**9, "1 h 06 min"),
    ],
)
def test_durations_read_like_a_person_wrote_them(ns: int, text: str) -> None:
    assert duration(ns) == text

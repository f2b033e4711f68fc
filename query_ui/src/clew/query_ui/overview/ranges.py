"""The range an overview covers (lookback or start/end, 15 m ... 7 d) and its chart buckets."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, ClassVar

from clew.query_ui.errors import InvalidQueryError
from clew.query_ui.search import parse_duration, parse_time

S = 10**9
MIN_RANGE_S = 60
MAX_RANGE_S = 7 * 86400
POINTS = 60
"""Points of each small chart."""


class BadParameter(InvalidQueryError):
    """An overview parameter that cannot be understood: 422, naming the parameter."""

    status_code: ClassVar[int] = 422


@dataclass(frozen=True)
class Range:
    """Whole minutes from `start_s` to `end_s` (Unix seconds), cut into `step_s` buckets."""

    start_s: int
    end_s: int
    step_s: int

    @property
    def buckets(self) -> int:
        return max(1, -(-(self.end_s - self.start_s) // self.step_s))

    def parameters(self) -> dict[str, Any]:
        return {"start_s": self.start_s, "end_s": self.end_s, "step_s": self.step_s}

    def bucket_start(self, bucket: int) -> int:
        return self.start_s + bucket * self.step_s


def parse_range(lookback: str, start: str, end: str, now_ns: int | None = None) -> Range:
    """The range of the query string; bad or out-of-bounds values are a 422 naming them."""
    now = time.time_ns() if now_ns is None else now_ns
    end_ns = _checked(parse_time, end, "end") if end.strip() else now
    if start.strip():
        start_ns, name = _checked(parse_time, start, "start"), "start"
    else:
        span = _checked(_lookback, lookback or "1h", "lookback")
        start_ns, name = end_ns - span, "lookback"
    length = (end_ns - start_ns) // S
    if not MIN_RANGE_S <= length <= MAX_RANGE_S:
        raise BadParameter(f"{name}: the range must be between 1 minute and 7 days")
    start_s = start_ns // S // 60 * 60
    end_s = end_ns // S
    per_point = -(-(end_s - start_s) // POINTS)
    step = max(60, -(-per_point // 60) * 60)
    return Range(start_s, end_s, step)


def _lookback(text: str) -> int:
    return parse_duration(text, default_unit="h", what="lookback")


def _checked(parse: Any, text: str, name: str) -> int:
    if len(text) > 64:
        raise BadParameter(f"{name}: too long")
    try:
        return int(parse(text, name)) if parse is parse_time else int(parse(text))
    except InvalidQueryError as exc:
        raise BadParameter(f"{name}: {exc.message}") from None
    except (OverflowError, ValueError):
        raise BadParameter(f"{name}: out of range") from None

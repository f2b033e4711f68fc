"""What one OTLP request may hold: the receivers and decoders enforce these bounds.

docs/LIMITS.md says, for each limit, its setting, its default and what the client sees.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from clew.collector.settings import MIB, Settings

NS = 1_000_000_000
# What replaces a map or list nested deeper than max_value_depth (stored inside the parent's JSON).
TOO_DEEP = "…[nested too deep]"

# Reasons, the `reason` label of clew_rejected_total (items) and clew_adjusted_total (values).
INVALID_ID = "invalid_id"
TOO_MANY_ITEMS = "too_many_items"
TOO_OLD = "timestamp_too_old"
TOO_NEW = "timestamp_in_future"
ATTRIBUTES_DROPPED = "attributes_dropped"
VALUE_TRUNCATED = "value_truncated"
DEPTH_TRUNCATED = "depth_truncated"
INVALID_UTF8 = "invalid_utf8"


@dataclass(frozen=True)
class Limits:
    """Input limits, each from a `CLEW_*` setting (see Settings for the defaults).

    `max_past_seconds` None: no lower bound on timestamps (Settings always sets the retention).
    """

    max_body_bytes: int = 20 * MIB
    max_items: int = 20_000
    max_attributes: int = 128
    max_value_bytes: int = 64 * 1024
    max_value_depth: int = 16
    max_past_seconds: int | None = None
    max_future_seconds: int = 3600
    clock: Callable[[], int] = field(default=time.time_ns, compare=False, repr=False)

    @classmethod
    def from_settings(cls, settings: Settings) -> Limits:
        """The limits configured in `settings`; timestamps older than the retention are refused."""
        return cls(
            max_body_bytes=settings.max_body_bytes,
            # More items than the buffer holds could never be accepted (503 forever): past
            # the buffer's size they are rejected instead, which the client does not retry.
            max_items=min(settings.max_items_per_request, settings.buffer_max_rows),
            max_attributes=settings.max_attributes,
            max_value_bytes=settings.max_value_bytes,
            max_value_depth=settings.max_value_depth,
            max_past_seconds=settings.retention_days * 86_400,
            max_future_seconds=settings.max_future_seconds,
        )

    def window(self) -> tuple[int, int]:
        """The accepted range of start timestamps, in Unix nanoseconds, as of now."""
        now = self.clock()
        oldest = 0 if self.max_past_seconds is None else now - self.max_past_seconds * NS
        return oldest, now + self.max_future_seconds * NS

    def truncate(self, text: str) -> str | None:
        """`text` cut to max_value_bytes (UTF-8) with a marker of what went; None if it fits."""
        limit = self.max_value_bytes
        if len(text) <= limit // 4:  # 4 bytes per character at most: surely fits
            return None
        data = text.encode("utf-8", "surrogatepass")
        if len(data) <= limit:
            return None
        keep = max(limit - len(_marker(len(data)).encode()), 0)
        kept = data[:keep].decode("utf-8", "ignore")  # never half a character
        return kept + _marker(len(data) - len(kept.encode("utf-8", "surrogatepass")))


def _marker(dropped: int) -> str:
    return f"…[truncated {dropped} bytes]"


def timestamp_reason(timestamp: int, window: tuple[int, int]) -> str:
    """The rejection reason of a start timestamp outside `window`, or ''."""
    if timestamp < window[0]:
        return TOO_OLD
    if timestamp > window[1]:
        return TOO_NEW
    return ""


DEFAULT_LIMITS = Limits()
# For requests already checked against the configured limits (the writer's rows of a RawSpans).
UNBOUNDED = Limits(
    max_items=sys.maxsize,
    max_attributes=sys.maxsize,
    max_value_bytes=sys.maxsize,
    max_value_depth=sys.maxsize,
    max_future_seconds=sys.maxsize // NS,
)

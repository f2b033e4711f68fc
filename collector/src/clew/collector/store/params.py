"""Python values → the text form ClickHouse expects for typed query parameters."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any

_TOP_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r", "\0": "\\0"})
_QUOTED_ESCAPES = str.maketrans(
    {"\\": "\\\\", "'": "\\'", "\t": "\\t", "\n": "\\n", "\r": "\\r", "\0": "\\0"}
)


def encode(parameters: Mapping[str, Any] | None) -> dict[str, str]:
    """Every parameter as the escaped text the server parses into its declared type."""
    return {name: _top(value) for name, value in (parameters or {}).items()}


def _top(value: Any) -> str:
    if value is None:
        return "\\N"
    if isinstance(value, str):
        return value.translate(_TOP_ESCAPES)
    if isinstance(value, date):
        return _nested(value)[1:-1]  # top-level times are written bare
    return _nested(value)


def _nested(value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, datetime):
        return "'" + _datetime(value) + "'"
    if isinstance(value, date):
        return "'" + value.isoformat() + "'"
    if isinstance(value, list | tuple | set | frozenset):
        inner = ",".join(_nested(item) for item in value)
        return f"({inner})" if isinstance(value, tuple) else f"[{inner}]"
    if isinstance(value, Mapping):
        return "{" + ",".join(f"{_nested(k)}:{_nested(v)}" for k, v in value.items()) + "}"
    return "'" + str(value).translate(_QUOTED_ESCAPES) + "'"


def _datetime(value: datetime) -> str:
    # A whole second without a fraction, so `{x:DateTime}` parses it as well as DateTime64;
    # an aware time in UTC, the time zone the stores read and write.
    if value.tzinfo is not None:
        value = value.astimezone(UTC)
    text = value.strftime("%Y-%m-%d %H:%M:%S")
    return f"{text}.{value.microsecond:06d}" if value.microsecond else text

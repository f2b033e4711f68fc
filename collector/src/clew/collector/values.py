"""OTLP AnyValue → the string the OTel Collector ClickHouse exporter stores (pcommon AsString)."""

from __future__ import annotations

import base64
import json
import math
from collections import Counter
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue

from clew.collector.limits import (
    ATTRIBUTES_DROPPED,
    DEPTH_TRUNCATED,
    TOO_DEEP,
    UNBOUNDED,
    VALUE_TRUNCATED,
    Limits,
)

# Go's encoding/json escapes these even inside strings; the exporter's JSON carries them so.
_GO_JSON_ESCAPES = str.maketrans(
    {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"}
)


class _Unsupported(Exception):
    """Go's json.Marshal fails on NaN and ±Inf; the exporter then stores ''."""


class Fitter:
    """Flattens values within the limits, counting what it had to change by reason."""

    def __init__(self, limits: Limits = UNBOUNDED) -> None:
        self.limits = limits
        self.adjusted: Counter[str] = Counter()
        self._short = limits.max_value_bytes // 4  # at most 4 bytes a character: surely fits

    def attributes(self, pairs: Sequence[KeyValue]) -> dict[str, str]:
        """Key-value list → flat map of strings (later duplicates win, as in a Go map)."""
        if len(pairs) > self.limits.max_attributes:  # like the SDKs' limit: the first ones stay
            self.adjusted[ATTRIBUTES_DROPPED] += len(pairs) - self.limits.max_attributes
            pairs = pairs[: self.limits.max_attributes]
        out: dict[str, str] = {}
        for pair in pairs:
            value = pair.value
            if value.WhichOneof("value") == "string_value":  # the common case, kept cheap
                text = value.string_value
                out[pair.key] = text if len(text) <= self._short else self.fit(text)
            else:
                out[pair.key] = self.value(value)
        return out

    def value(self, value: AnyValue) -> str:
        """One value as its text, cut to the length limit."""
        return self.fit(as_string(value, self))

    def fit(self, text: str) -> str:
        """`text`, or its truncated form when longer than max_value_bytes."""
        cut = self.limits.truncate(text)
        if cut is None:
            return text
        self.adjusted[VALUE_TRUNCATED] += 1
        return cut

    def too_deep(self, depth: int) -> bool:
        """Whether a map or list at `depth` (1: a top-level one) goes; counted if so."""
        if depth <= self.limits.max_value_depth:
            return False
        self.adjusted[DEPTH_TRUNCATED] += 1
        return True


def as_string(value: AnyValue, fitter: Fitter | None = None) -> str:
    """One value as its text: strings as-is, scalars as Go prints them, arrays/maps as JSON."""
    kind = value.WhichOneof("value")
    if kind == "string_value":
        return value.string_value
    if kind == "int_value":
        return str(value.int_value)
    if kind == "bool_value":
        return "true" if value.bool_value else "false"
    if kind == "double_value":
        return float_string(value.double_value)
    if kind == "bytes_value":
        return base64.b64encode(value.bytes_value).decode("ascii")
    if kind is None:
        return ""
    try:
        return go_json(_raw(value, fitter or Fitter(), 1))
    except _Unsupported:
        return ""


def attributes(pairs: Sequence[KeyValue]) -> dict[str, str]:
    """Key-value list → flat map of strings, without limits."""
    return Fitter().attributes(pairs)


def float_string(number: float) -> str:
    """A double as Go's exporter prints it (ES6 number-to-string rules)."""
    if math.isnan(number):
        return "json: unsupported value: NaN"
    if math.isinf(number):
        return "json: unsupported value: " + ("+Inf" if number > 0 else "-Inf")
    return _es6(number)


def _es6(number: float) -> str:
    magnitude = abs(number)
    text = repr(number)
    if magnitude != 0 and (magnitude < 1e-6 or magnitude >= 1e21):
        mantissa, _, exponent = text.partition("e")
        sign = exponent[0] if exponent[:1] in "+-" else "+"
        return f"{mantissa.removesuffix('.0')}e{sign}{int(exponent.lstrip('+-'))}"
    if "e" in text:  # repr switched to exponent form; Go prints the same digits positionally
        text = format(Decimal(text), "f")
    return text.removesuffix(".0")


def _raw(value: AnyValue, fitter: Fitter, depth: int) -> Any:
    kind = value.WhichOneof("value")
    if kind in ("array_value", "kvlist_value") and fitter.too_deep(depth):
        return TOO_DEEP
    if kind == "array_value":
        return [_raw(item, fitter, depth + 1) for item in value.array_value.values]
    if kind == "kvlist_value":
        return {pair.key: _raw(pair.value, fitter, depth + 1) for pair in value.kvlist_value.values}
    if kind == "bytes_value":
        return base64.b64encode(value.bytes_value).decode("ascii")
    if kind == "double_value" and not math.isfinite(value.double_value):
        raise _Unsupported
    return None if kind is None else getattr(value, kind)


def go_json(raw: Any) -> str:
    """JSON as Go's json.Marshal writes it: sorted keys, no spaces, HTML-safe escapes."""
    return _encode(raw).translate(_GO_JSON_ESCAPES)


def _encode(raw: Any) -> str:
    if isinstance(raw, dict):
        items = sorted(raw.items())
        return "{" + ",".join(f"{_encode(key)}:{_encode(item)}" for key, item in items) + "}"
    if isinstance(raw, list):
        return "[" + ",".join(_encode(item) for item in raw) + "]"
    if isinstance(raw, bool):
        return "true" if raw else "false"
    if isinstance(raw, float):
        return _es6(raw)
    if raw is None:
        return "null"
    if isinstance(raw, int):
        return str(raw)
    return json.dumps(raw, ensure_ascii=False)

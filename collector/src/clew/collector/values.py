"""OTLP AnyValue → the string the OTel Collector ClickHouse exporter stores (pcommon AsString)."""

from __future__ import annotations

import base64
import json
import math
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue

# Go's encoding/json escapes these even inside strings; the exporter's JSON carries them so.
_GO_JSON_ESCAPES = str.maketrans(
    {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"}
)


class _Unsupported(Exception):
    """Go's json.Marshal fails on NaN and ±Inf; the exporter then stores ''."""


def as_string(value: AnyValue) -> str:
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
        return go_json(_raw(value))
    except _Unsupported:
        return ""


def attributes(pairs: Iterable[KeyValue]) -> dict[str, str]:
    """Key-value list → flat map of strings (later duplicates win, as in a Go map)."""
    out: dict[str, str] = {}
    for pair in pairs:
        value = pair.value
        if value.WhichOneof("value") == "string_value":  # the common case, kept cheap
            out[pair.key] = value.string_value
        else:
            out[pair.key] = as_string(value)
    return out


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


def _raw(value: AnyValue) -> Any:
    kind = value.WhichOneof("value")
    if kind == "array_value":
        return [_raw(item) for item in value.array_value.values]
    if kind == "kvlist_value":
        return {pair.key: _raw(pair.value) for pair in value.kvlist_value.values}
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

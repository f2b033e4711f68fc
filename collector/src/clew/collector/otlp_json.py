"""OTLP/JSON → protobuf messages: hex ids, lowerCamelCase fields, enums and int64 either way.

Lenient where OTLP/protobuf is too: invalid UTF-8 is replaced, maps/lists nested past the
limit are cut (as values.py cuts them), so one bad value does not cost the whole request.
"""

from __future__ import annotations

import binascii
import json
import re
from collections import Counter
from typing import Any

from google.protobuf import json_format
from google.protobuf.message import Message

from clew.collector.errors import DecodeError
from clew.collector.limits import DEPTH_TRUNCATED, INVALID_UTF8, TOO_DEEP

_ID_FIELDS = frozenset({"traceId", "spanId", "parentSpanId"})
# An id that is not hex decodes to this 1-byte value, so it fails the length check per item
# (a partial success) instead of failing the whole request.
_BAD_ID = "/w=="

# Keys that make a JSON object an AnyValue holding a list or map (camelCase and proto names).
_CONTAINERS = frozenset({"arrayValue", "kvlistValue", "array_value", "kvlist_value"})
# A \uD800-\uDFFF escape not part of a pair decodes to a lone surrogate, which is not UTF-8.
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")
_REPLACEMENT = "\ufffd"


def parse_json(body: bytes, message: Message, max_depth: int) -> Counter[str]:
    """Fill `message` from an OTLP/JSON body; the values repaired or cut, by reason.

    DecodeError when it is not such a document.
    """
    fixed: Counter[str] = Counter()
    text = _text(body, fixed)
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise DecodeError(f"body is not JSON: {exc}") from exc
    except RecursionError as exc:  # thousands of nested brackets: bad input, not a crash
        raise DecodeError("body is nested too deeply") from exc
    if not isinstance(document, dict):
        raise DecodeError("OTLP/JSON body must be a JSON object")
    prepare = _Preparer(max_depth, fixed, surrogates=bool(_SURROGATE_ESCAPE.search(body)))
    try:
        json_format.ParseDict(prepare(document, 0), message, ignore_unknown_fields=True)
    except (json_format.ParseError, ValueError, TypeError, ArithmeticError) as exc:
        # ArithmeticError: 1e400 parses to inf, which an enum field cannot hold (OverflowError)
        raise DecodeError(f"body is not OTLP/JSON: {exc}") from exc
    except RecursionError as exc:  # nesting in fields it does not know, past Python's stack
        raise DecodeError("body is nested too deeply") from exc
    return fixed


def _text(body: bytes, fixed: Counter[str]) -> str:
    """The body as text; invalid UTF-8 replaced by U+FFFD and counted."""
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        text = body.decode("utf-8", "replace")
        fixed[INVALID_UTF8] += text.count(_REPLACEMENT) - body.count(_REPLACEMENT.encode())
        return text


class _Preparer:
    """A JSON document made ready for ParseDict: hex ids, bounded nesting, no lone surrogates."""

    def __init__(self, max_depth: int, fixed: Counter[str], *, surrogates: bool) -> None:
        self.max_depth, self.fixed, self.surrogates = max_depth, fixed, surrogates

    def __call__(self, node: Any, depth: int) -> Any:
        """`node`, below `depth` AnyValue maps/lists, prepared."""
        if isinstance(node, dict):
            if not _CONTAINERS.isdisjoint(node):
                depth += 1
                if depth > self.max_depth:
                    self.fixed[DEPTH_TRUNCATED] += 1
                    return {"stringValue": TOO_DEEP}
            return {
                key: _hex_to_base64(value) if key in _ID_FIELDS else self(value, depth)
                for key, value in node.items()
            }
        if isinstance(node, list):
            return [self(item, depth) for item in node]
        if self.surrogates and isinstance(node, str) and _LONE_SURROGATE.search(node):
            self.fixed[INVALID_UTF8] += 1
            return _LONE_SURROGATE.sub(_REPLACEMENT, node)
        return node


def _hex_to_base64(value: Any) -> Any:
    if not isinstance(value, str):
        return value
    try:
        return binascii.b2a_base64(bytes.fromhex(value), newline=False).decode("ascii")
    except ValueError:
        return _BAD_ID

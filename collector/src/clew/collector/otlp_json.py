"""OTLP/JSON → protobuf messages: hex ids, lowerCamelCase fields, enums and int64 either way."""

from __future__ import annotations

import binascii
import json
from typing import Any, TypeVar

from google.protobuf import json_format
from google.protobuf.message import Message

from clew.collector.errors import DecodeError

_ID_FIELDS = frozenset({"traceId", "spanId", "parentSpanId"})
# An id that is not hex decodes to this 1-byte value, so it fails the length check per item
# (a partial success) instead of failing the whole request.
_BAD_ID = "/w=="

M = TypeVar("M", bound=Message)


def parse_json(body: bytes, message: M) -> M:
    """Fill `message` from an OTLP/JSON body; DecodeError when it is not such a document."""
    try:
        document = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DecodeError(f"body is not JSON: {exc}") from exc
    except RecursionError as exc:  # thousands of nested brackets: bad input, not a crash
        raise DecodeError("body is nested too deeply") from exc
    if not isinstance(document, dict):
        raise DecodeError("OTLP/JSON body must be a JSON object")
    try:
        json_format.ParseDict(_ids_to_base64(document), message, ignore_unknown_fields=True)
    except (json_format.ParseError, ValueError, TypeError) as exc:
        raise DecodeError(f"body is not OTLP/JSON: {exc}") from exc
    except RecursionError as exc:  # AnyValues nested past what the parser recurses into
        raise DecodeError("body is nested too deeply") from exc
    return message


def _ids_to_base64(node: Any) -> Any:
    # OTLP/JSON writes ids as hex where the protobuf JSON mapping expects base64.
    if isinstance(node, dict):
        return {
            key: _hex_to_base64(value) if key in _ID_FIELDS else _ids_to_base64(value)
            for key, value in node.items()
        }
    if isinstance(node, list):
        return [_ids_to_base64(item) for item in node]
    return node


def _hex_to_base64(value: Any) -> Any:
    if not isinstance(value, str):
        return value
    try:
        return binascii.b2a_base64(bytes.fromhex(value), newline=False).decode("ascii")
    except ValueError:
        return _BAD_ID

"""OTLP trace and log request bytes written directly, without building protobuf objects.

The SDK's encoder builds a protobuf object per span, attribute and value: about 100 µs per
span on the exporting thread, which holds the GIL while requests wait. This writes the same
message field by field (opentelemetry/proto/trace/v1/trace.proto) and caches what repeats:
the resource, the scope and each attribute key. tests/instrumentation/test_encode.py checks
that both encoders produce equal messages.
"""

from __future__ import annotations

import logging
import struct
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from opentelemetry.sdk._logs import ReadableLogRecord
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import Event, ReadableSpan
    from opentelemetry.sdk.util.instrumentation import InstrumentationScope
    from opentelemetry.trace import Link

_logger = logging.getLogger(__name__)
_HAS_IS_REMOTE = 0x100
_IS_REMOTE = 0x200
_MAX_CACHED_KEYS = 4096
_MAX_CACHED_PAIRS = 16384
_SCALARS = frozenset({str, bool, int, float})
_INT64 = range(-(2**63), 2**63)
_PAIRS: dict[tuple[int, str, Any, type], bytes] = {}
_KEYS: dict[str, bytes] = {}
_RESOURCES: dict[int, tuple[Resource, bytes]] = {}
_SCOPES: dict[int, tuple[InstrumentationScope | None, bytes]] = {}
_pack_fixed64 = struct.Struct("<Q").pack
_pack_fixed32 = struct.Struct("<I").pack
_pack_double = struct.Struct("<d").pack


def _varint(value: int) -> bytes:
    if value < 0x80:
        return bytes((value,))
    out = bytearray()
    while value >= 0x80:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def _field(number: int, payload: bytes) -> bytes:
    """A length-delimited field (wire type 2)."""
    return _varint(number << 3 | 2) + _varint(len(payload)) + payload


def _text(number: int, text: str | None) -> bytes:
    return _field(number, text.encode()) if text else b""


def _uint(number: int, value: int) -> bytes:
    return _varint(number << 3) + _varint(value) if value else b""


def _value(value: Any) -> bytes:
    """An AnyValue message, with the SDK encoder's type order (bool before int)."""
    if isinstance(value, bool):
        return b"\x10\x01" if value else b"\x10\x00"
    if isinstance(value, str):
        return _field(1, value.encode())
    if isinstance(value, int):
        if value not in _INT64:  # the SDK's protobuf int64 refuses it too
            raise ValueError(f"integer {value} is out of the int64 range of an AnyValue")
        return b"\x18" + _varint(value & 0xFFFFFFFFFFFFFFFF)
    if isinstance(value, float):
        return b"\x21" + _pack_double(value)
    if value is None:
        return b""
    if isinstance(value, bytes):
        return _field(7, value)
    if isinstance(value, Sequence):
        return _field(5, b"".join(_field(1, _value(item)) for item in value))
    if isinstance(value, Mapping):
        return _field(6, b"".join(_field(1, _key_value(str(k), v)) for k, v in value.items()))
    raise TypeError(f"cannot encode {type(value).__name__} value {value!r}")


def _key_value(key: str, value: Any) -> bytes:
    """A KeyValue message as a repeated field 1 of its parent (attributes are field 1..9)."""
    encoded_key = _KEYS.get(key)
    if encoded_key is None:
        encoded_key = _field(1, key.encode())
        if len(_KEYS) < _MAX_CACHED_KEYS:  # keys made from data must not grow it forever
            _KEYS[key] = encoded_key
    return encoded_key + _field(2, _value(value))


def _attributes(number: int, attributes: Mapping[str, Any] | None) -> bytes:
    if not attributes:
        return b""
    out = []
    # BoundedAttributes iterates through the Mapping protocol, one lookup per key; its plain
    # dict iterates at C speed (the values were cleaned when they were set).
    items = getattr(attributes, "_dict", attributes).items()
    for key, value in items:
        if type(value) not in _SCALARS:
            out.append(_attribute(number, key, value))
            continue
        # Most attributes repeat from span to span (method, route, status, peer): reuse them.
        pair = (number, key, value, type(value))  # the type tells True from 1
        encoded = _PAIRS.get(pair)
        if encoded is None:
            encoded = _attribute(number, key, value)
            if len(_PAIRS) >= _MAX_CACHED_PAIRS:
                _PAIRS.clear()
            _PAIRS[pair] = encoded
        out.append(encoded)
    return b"".join(out)


def _attribute(number: int, key: str, value: Any) -> bytes:
    """One attribute field; like the SDK encoder, one it cannot write is logged and left out."""
    try:
        return _field(number, _key_value(key, value))
    except (TypeError, ValueError) as error:
        _logger.exception("Failed to encode key %s: %s", key, error)
        return b""


def _resource(resource: Resource) -> bytes:
    cached = _RESOURCES.get(id(resource))
    if cached is None or cached[0] is not resource:
        cached = _RESOURCES[id(resource)] = (
            resource,
            _field(1, _attributes(1, resource.attributes)),
        )
    return cached[1]


def _scope(scope: InstrumentationScope | None) -> bytes:
    cached = _SCOPES.get(id(scope))
    if cached is None or cached[0] is not scope:
        body = b""
        if scope is not None:
            body = _text(1, scope.name) + _text(2, scope.version)
            body += _attributes(3, scope.attributes)
        cached = _SCOPES[id(scope)] = (scope, _field(1, body))
    return cached[1]


_FLAGS = {False: b"\x85\x01" + _pack_fixed32(_HAS_IS_REMOTE)}
_FLAGS[True] = b"\x85\x01" + _pack_fixed32(_HAS_IS_REMOTE | _IS_REMOTE)
# Fields 6 (kind) and 15 (status) by value: both take a few values, and are on every span.
_KINDS: dict[Any, bytes] = {}
_STATUSES: dict[tuple[str | None, Any], bytes] = {}


def _kind(kind: Any) -> bytes:
    encoded = _KINDS.get(kind)
    if encoded is None:
        encoded = _KINDS[kind] = _uint(6, kind.value + 1)  # proto counts from UNSPECIFIED = 0
    return encoded


def _status(description: str | None, code: Any) -> bytes:
    encoded = _STATUSES.get((description, code))
    if encoded is None:
        encoded = _field(15, _text(2, description) + _uint(3, code.value))
        if description is None:  # descriptions come from data: only cache the few others
            _STATUSES[(description, code)] = encoded
    return encoded


def _span(span: ReadableSpan) -> bytes:
    ctx = span.get_span_context()
    assert ctx is not None
    parent = span.parent
    # The SDK span's private lists and dicts: its properties copy them (events, links).
    events = getattr(span, "_events", None) or span.events
    links = getattr(span, "_links", None) or span.links
    status = span.status
    parts = [
        b"\x0a\x10" + ctx.trace_id.to_bytes(16, "big"),
        b"\x12\x08" + ctx.span_id.to_bytes(8, "big"),
        _text(3, ",".join(f"{k}={v}" for k, v in ctx.trace_state.items()))
        if ctx.trace_state
        else b"",
        b"\x22\x08" + parent.span_id.to_bytes(8, "big") if parent else b"",
        _text(5, span.name),
        _kind(span.kind),
        b"\x39" + _pack_fixed64(span.start_time or 0),
        b"\x41" + _pack_fixed64(span.end_time or 0),
        _attributes(9, getattr(span, "_attributes", None) or span.attributes),
        _uint(10, span.dropped_attributes),
        *(_field(11, _event(event)) for event in events),
        _uint(12, span.dropped_events),
        *(_field(13, _link(link)) for link in links),
        _uint(14, span.dropped_links),
        _status(status.description, status.status_code),
        _FLAGS[parent is not None and parent.is_remote],
    ]
    return b"".join(parts)


def _event(event: Event) -> bytes:
    return (
        b"\x09"
        + _pack_fixed64(event.timestamp)
        + _text(2, event.name)
        + _attributes(3, event.attributes)
        + _uint(4, event.dropped_attributes)
    )


def _link(link: Link) -> bytes:
    return (
        b"\x0a\x10"
        + link.context.trace_id.to_bytes(16, "big")
        + b"\x12\x08"
        + link.context.span_id.to_bytes(8, "big")
        + _attributes(4, link.attributes)
        + _uint(5, link.dropped_attributes)
        + b"\x35"
        + _FLAGS[link.context.is_remote][2:]  # the flags again, as field 6 of a Link
    )


def encode_spans(spans: Sequence[ReadableSpan]) -> bytes:
    """Serialized ExportTraceServiceRequest, spans grouped by resource then scope."""
    return _request(spans, _span)


def encode_logs(records: Sequence[ReadableLogRecord]) -> bytes:
    """Serialized ExportLogsServiceRequest, records grouped by resource then scope."""
    return _request(records, _log)


def _request(items: Sequence[Any], encode: Callable[[Any], bytes]) -> bytes:
    """Both requests share one shape: resource (1), scope (1), items (2), schema URLs (3)."""
    grouped: dict[int, tuple[Resource, dict[int, tuple[Any, list[bytes]]]]] = {}
    for item in items:
        resource, scope = item.resource, item.instrumentation_scope or None
        scopes = grouped.setdefault(id(resource), (resource, {}))[1]
        scopes.setdefault(id(scope), (scope, []))[1].append(_field(2, encode(item)))
    out = []
    for resource, scopes in grouped.values():
        body = [_resource(resource)]
        for scope, encoded in scopes.values():
            schema = _text(3, scope.schema_url) if scope is not None else b""
            body.append(_field(2, _scope(scope) + b"".join(encoded) + schema))
        body.append(_text(3, resource.schema_url))
        out.append(_field(1, b"".join(body)))
    return b"".join(out)


def _log(readable: ReadableLogRecord) -> bytes:
    """A LogRecord message (opentelemetry/proto/logs/v1/logs.proto)."""
    record = readable.log_record
    severity = getattr(record.severity_number, "value", 0)
    attributes = getattr(record, "_attributes", None) or record.attributes
    parts = [
        b"\x09" + _pack_fixed64(record.timestamp) if record.timestamp else b"",
        _uint(2, severity),
        _text(3, record.severity_text),
        _field(5, _value(record.body)),
        _attributes(6, attributes),
        _uint(7, readable.dropped_attributes),
        b"\x45" + _pack_fixed32(int(record.trace_flags)) if record.trace_flags else b"",
        b"\x4a\x10" + record.trace_id.to_bytes(16, "big") if record.trace_id else b"",
        b"\x52\x08" + record.span_id.to_bytes(8, "big") if record.span_id else b"",
        b"\x59" + _pack_fixed64(record.observed_timestamp) if record.observed_timestamp else b"",
        _text(12, record.event_name),
    ]
    return b"".join(parts)

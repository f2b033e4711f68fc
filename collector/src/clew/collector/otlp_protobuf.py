"""OTLP protobuf → messages, checking nesting depth and repairing invalid UTF-8 on the way.

upb, protobuf's parser, refuses a whole request for one string of bad UTF-8 and for messages
nested deeper than 100 levels. Two tricks keep that cheap and lenient:

- Depth: the body is parsed wrapped in K envelope messages, so upb's own depth bound fails it
  exactly when a map or list might sit deeper than max_value_depth (the check costs no Python
  loop). Only then is the body parsed again plainly and flattened, with the limit, in Python.
- UTF-8: a body upb refuses for bad UTF-8 is parsed with a mirror schema whose strings are bytes,
  each string is repaired (U+FFFD), and the result is parsed again.
"""

from __future__ import annotations

import contextlib
from collections import Counter
from collections.abc import Iterable, Iterator
from functools import cache
from typing import TypeVar

from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.internal.encoder import _VarintBytes
from google.protobuf.message import DecodeError as ProtobufDecodeError
from google.protobuf.message import Message
from opentelemetry.proto.collector.logs.v1 import logs_service_pb2
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2
from opentelemetry.proto.common.v1 import common_pb2
from opentelemetry.proto.logs.v1 import logs_pb2
from opentelemetry.proto.resource.v1 import resource_pb2
from opentelemetry.proto.trace.v1 import trace_pb2

from clew.collector.errors import DecodeError
from clew.collector.limits import INVALID_UTF8

M = TypeVar("M", bound=Message)

UPB_MAX_DEPTH = 100  # upb_DecodeOptions_MaxDepth's default: the request itself is level 1
# The shallowest map or list: ExportLogsServiceRequest > ResourceLogs > Resource (or LogRecord)
# > KeyValue (or the body) > AnyValue > ArrayValue, the first container, at level 6. Each
# further container adds at least two levels (AnyValue > ArrayValue).
_FIRST_CONTAINER_LEVEL = 6
_FILES = (common_pb2, resource_pb2, trace_pb2, logs_pb2, trace_service_pb2, logs_service_pb2)
_REPLACEMENT = "\ufffd".encode()


def parse(body: bytes, message_type: type[M], max_depth: int) -> tuple[M, Counter[str], bool]:
    """The message; the values repaired, by reason; whether no map/list exceeds `max_depth`."""
    wraps = UPB_MAX_DEPTH - (_FIRST_CONTAINER_LEVEL + 2 * max_depth) + 1
    if wraps > 0:
        try:
            return _unwrap(body, message_type, wraps), Counter(), True
        except ProtobufDecodeError:
            pass  # nested deeper than max_depth (or not valid at all): parse it plainly below
    message = message_type()
    try:
        message.ParseFromString(body)
    except (ProtobufDecodeError, RuntimeError, ValueError) as exc:
        if "UTF-8" not in str(exc):
            raise DecodeError(f"body is not an OTLP protobuf message: {exc}") from exc
        repaired, count = _repaired(body, message_type)
        return repaired, Counter({INVALID_UTF8: count}), False
    return message, Counter(), wraps <= 0  # else upb's own bound is below max_depth


def _unwrap(body: bytes, message_type: type[M], wraps: int) -> M:
    envelope = _envelope(message_type.DESCRIPTOR.full_name, wraps)()
    envelope.ParseFromString(_wrapped(body, wraps))
    inner: M = envelope
    for _ in range(wraps):
        inner = inner.inner
    return inner  # the envelope's generated field type is message_type's own class


def _wrapped(body: bytes, wraps: int) -> bytes:
    headers, size = [], len(body)
    for _ in range(wraps):
        header = b"\x0a" + _VarintBytes(size)  # field 1, length-delimited
        headers.append(header)
        size += len(header)
    return b"".join(reversed(headers)) + body


@cache
def _envelope(full_name: str, wraps: int) -> type[Message]:
    pool = descriptor_pool.Default()
    inner_file = pool.FindMessageTypeByName(full_name).file
    name = f"clew/envelope/{full_name}/{wraps}.proto"
    proto = descriptor_pb2.FileDescriptorProto(
        name=name, package="clew.envelope", syntax="proto3", dependency=[inner_file.name]
    )
    prefix = full_name.replace(".", "_")
    inner = "." + full_name
    for level in range(1, wraps + 1):
        envelope = proto.message_type.add(name=f"{prefix}_{wraps}_{level}")
        envelope.field.add(
            name="inner",
            number=1,
            type=FieldDescriptor.TYPE_MESSAGE,
            type_name=inner,
            label=FieldDescriptor.LABEL_OPTIONAL,
        )
        inner = f".clew.envelope.{envelope.name}"
    with contextlib.suppress(TypeError):  # already added: another thread got here first
        pool.Add(proto)
    envelope_type: type[Message] = message_factory.GetMessageClass(
        pool.FindMessageTypeByName(inner[1:])
    )
    return envelope_type


def _repaired(body: bytes, message_type: type[M]) -> tuple[M, int]:
    """The message of a body with invalid UTF-8 in strings, each bad sequence as U+FFFD."""
    lenient = _lenient(message_type.DESCRIPTOR.full_name)()
    try:
        lenient.ParseFromString(body)
    except (ProtobufDecodeError, RuntimeError, ValueError) as exc:
        raise DecodeError(f"body is not an OTLP protobuf message: {exc}") from exc
    count = _repair(lenient)
    message = message_type()
    message.ParseFromString(lenient.SerializeToString())
    return message, count


def _repair(message: Message) -> int:
    count = 0
    for field, value in message.ListFields():
        if field.type == FieldDescriptor.TYPE_MESSAGE:
            for item in value if field.is_repeated else (value,):
                count += _repair(item)
        elif field.type == FieldDescriptor.TYPE_BYTES and field.json_name.startswith("s:"):
            if field.is_repeated:
                continue  # OTLP has no repeated strings
            text = value.decode("utf-8", "replace")
            fixed = text.encode()
            if fixed != value:
                setattr(message, field.name, fixed)
                count += fixed.count(_REPLACEMENT) - value.count(_REPLACEMENT)
    return count


@cache
def _lenient(full_name: str) -> type[Message]:
    """The mirror of an OTLP message type whose string fields are bytes (no UTF-8 check)."""
    pool = descriptor_pool.DescriptorPool()
    for module in _FILES:
        proto = descriptor_pb2.FileDescriptorProto()
        module.DESCRIPTOR.CopyToProto(proto)
        for message in _all_messages(proto.message_type):
            for field in message.field:
                if field.type == FieldDescriptor.TYPE_STRING:
                    field.type = FieldDescriptor.TYPE_BYTES
                    field.json_name = "s:" + field.name  # marks it as a string to repair
        pool.Add(proto)
    lenient: type[Message] = message_factory.GetMessageClass(pool.FindMessageTypeByName(full_name))
    return lenient


def _all_messages(
    messages: Iterable[descriptor_pb2.DescriptorProto],
) -> Iterator[descriptor_pb2.DescriptorProto]:
    for message in messages:
        yield message
        yield from _all_messages(message.nested_type)


def large_parts(body: bytes, bound: int) -> Iterator[tuple[int, int, int]]:
    """Where a trace request body has a span or resource over `bound` bytes (read shallowly).

    Positions are (resource_spans, scope_spans, span) indexes; (resource_spans, -1, -1) for a
    resource.
    """
    request = _shallow()()
    request.ParseFromString(body)
    for r, resource_spans in enumerate(request.resource_spans):
        if len(resource_spans.resource) > bound:
            yield r, -1, -1
        for s, scope_spans in enumerate(resource_spans.scope_spans):
            if max(map(len, scope_spans.spans), default=0) > bound:  # rare: look span by span
                for n, size in enumerate(map(len, scope_spans.spans)):
                    if size > bound:
                        yield r, s, n


@cache
def _shallow() -> type[Message]:
    """ExportTraceServiceRequest with each resource and span as undecoded bytes."""
    proto = descriptor_pb2.FileDescriptorProto(
        name="clew/shallow_trace.proto", package="clew.shallow", syntax="proto3"
    )
    fields = {
        "ScopeSpans": [("spans", 2, FieldDescriptor.TYPE_BYTES, "")],
        "ResourceSpans": [
            ("resource", 1, FieldDescriptor.TYPE_BYTES, ""),
            ("scope_spans", 2, FieldDescriptor.TYPE_MESSAGE, ".clew.shallow.ScopeSpans"),
        ],
        "Request": [
            ("resource_spans", 1, FieldDescriptor.TYPE_MESSAGE, ".clew.shallow.ResourceSpans")
        ],
    }
    for name, members in fields.items():
        message = proto.message_type.add(name=name)
        for field_name, number, kind, type_name in members:
            repeated = field_name != "resource"
            label = FieldDescriptor.LABEL_REPEATED if repeated else FieldDescriptor.LABEL_OPTIONAL
            added = message.field.add(name=field_name, number=number, type=kind, label=label)
            if type_name:
                added.type_name = type_name
    pool = descriptor_pool.DescriptorPool()
    pool.Add(proto)
    shallow: type[Message] = message_factory.GetMessageClass(
        pool.FindMessageTypeByName("clew.shallow.Request")
    )
    return shallow

"""OTLP request bodies → rows for the ingest tables, following the ClickHouse exporter's mapping.

Pure: no I/O. Items that cannot be stored (ids of the wrong length) are counted as rejected,
for the OTLP partial-success response; the rest of the request is kept.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, TypeVar

from google.protobuf.message import DecodeError as ProtobufDecodeError
from google.protobuf.message import Message
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from clew.collector.errors import DecodeError, UnsupportedMediaType
from clew.collector.otlp_json import parse_json
from clew.collector.rows import log_rows, span_rows

PROTOBUF = "application/x-protobuf"
JSON = "application/json"
_PROTOBUF_TYPES = frozenset({PROTOBUF, "application/protobuf"})

M = TypeVar("M", bound=Message)


@dataclass
class Decoded:
    """The rows of one request, and how many items were rejected and why."""

    rows: list[dict[str, Any]] = field(default_factory=list)
    rejected: int = 0
    message: str = ""


def media_type(content_type: str | None) -> str:
    """The bare media type of a Content-Type header; UnsupportedMediaType if not OTLP's."""
    bare = (content_type or "").split(";", 1)[0].strip().lower()
    if bare in _PROTOBUF_TYPES:
        return PROTOBUF
    if bare == JSON:
        return JSON
    raise UnsupportedMediaType(f"unsupported content type {content_type!r}")


def parse(body: bytes, content_type: str, message: M) -> M:
    """Fill `message` from a body in the given encoding; DecodeError when it is not OTLP."""
    if media_type(content_type) == JSON:
        return parse_json(body, message)
    try:
        message.ParseFromString(body)
    except (ProtobufDecodeError, RuntimeError, ValueError) as exc:
        raise DecodeError(f"body is not an OTLP protobuf message: {exc}") from exc
    return message


def spans(body: bytes, content_type: str) -> Decoded:
    """An ExportTraceServiceRequest body → one row per span."""
    return trace_request(parse(body, content_type, ExportTraceServiceRequest()))


def logs(body: bytes, content_type: str) -> Decoded:
    """An ExportLogsServiceRequest body → one row per log record."""
    return logs_request(parse(body, content_type, ExportLogsServiceRequest()))


def trace_request(request: ExportTraceServiceRequest) -> Decoded:
    """A parsed trace request → rows (used directly by the gRPC receiver)."""
    rows, rejected, reason = span_rows(request)
    return Decoded(rows, rejected, f"{rejected} spans rejected: {reason}" if rejected else "")


def logs_request(request: ExportLogsServiceRequest) -> Decoded:
    """A parsed logs request → rows (used directly by the gRPC receiver)."""
    rows, rejected, reason = log_rows(request)
    return Decoded(rows, rejected, f"{rejected} log records rejected: {reason}" if rejected else "")

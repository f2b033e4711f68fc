"""OTLP request bodies → what the writer stores, following the ClickHouse exporter's mapping.

Pure: no I/O. A trace request whose spans are all valid stays whole (RawSpans): ClickHouse
reads its protobuf bytes itself, which is what makes the span path fast (docs/adr/0001).
Otherwise, and for logs, the request becomes rows here. Items that cannot be stored (ids of the
wrong length) are counted as rejected, for the OTLP partial-success response; the rest is kept.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, TypeVar

from google.protobuf.message import DecodeError as ProtobufDecodeError
from google.protobuf.message import Message
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from clew.collector.errors import DecodeError, UnsupportedMediaType
from clew.collector.limits import DEFAULT_LIMITS, Limits
from clew.collector.otlp_json import parse_json
from clew.collector.rows import count_spans, log_rows, span_rows

PROTOBUF = "application/x-protobuf"
JSON = "application/json"
_PROTOBUF_TYPES = frozenset({PROTOBUF, "application/protobuf"})

M = TypeVar("M", bound=Message)


@dataclass(frozen=True)
class RawSpans:
    """A whole, valid ExportTraceServiceRequest in protobuf bytes, holding `spans` spans."""

    body: bytes
    spans: int


@dataclass
class Decoded:
    """What to store from one request (rows, or one RawSpans), and what was rejected and why."""

    rows: list[Any] = field(default_factory=list)
    rejected: int = 0
    message: str = ""
    # Rejected items by reason (the metric's label); those not listed count as "invalid".
    reasons: dict[str, int] = field(default_factory=dict)
    accepted: int = -1  # items the rows stand for; -1: one per row

    def __post_init__(self) -> None:
        if self.accepted < 0:
            self.accepted = len(self.rows)


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


def spans(body: bytes, content_type: str, limits: Limits = DEFAULT_LIMITS) -> Decoded:
    """An ExportTraceServiceRequest body → the request kept whole, or one row per span."""
    request = parse(body, content_type, ExportTraceServiceRequest())
    count, valid = count_spans(request)
    if not valid:
        return trace_request(request)
    if not count:
        return Decoded()
    raw = body if content_type == PROTOBUF else request.SerializeToString()
    return Decoded([RawSpans(raw, count)], accepted=count)


def spans_as_rows(body: bytes) -> list[dict[str, Any]]:
    """Rows of a protobuf trace request that the ClickHouse fast path could not take."""
    return trace_request(parse(body, PROTOBUF, ExportTraceServiceRequest())).rows


def logs(body: bytes, content_type: str, limits: Limits = DEFAULT_LIMITS) -> Decoded:
    """An ExportLogsServiceRequest body → one row per log record."""
    return logs_request(parse(body, content_type, ExportLogsServiceRequest()))


def trace_request(request: ExportTraceServiceRequest) -> Decoded:
    """A parsed trace request → one row per valid span."""
    rows, rejected, reason = span_rows(request)
    return Decoded(rows, rejected, f"{rejected} spans rejected: {reason}" if rejected else "")


def logs_request(request: ExportLogsServiceRequest) -> Decoded:
    """A parsed logs request → one row per valid log record."""
    rows, rejected, reason = log_rows(request)
    return Decoded(rows, rejected, f"{rejected} log records rejected: {reason}" if rejected else "")

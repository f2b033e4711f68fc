"""OTLP request bodies → what the writer stores, following the ClickHouse exporter's mapping.

Pure: no I/O. A trace request that fits every limit (clew.collector.limits) as it came stays
whole (RawSpans): ClickHouse reads its protobuf bytes itself, which is what makes the span path
fast (docs/adr/0001). Otherwise, and for logs, the request becomes rows here: items that cannot
be stored (bad ids, timestamps out of range, past the per-request count) are rejected by reason,
for the OTLP partial-success response; values are fitted to the limits and the fixes counted.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from clew.collector import otlp_protobuf
from clew.collector.errors import UnsupportedMediaType
from clew.collector.limits import DEFAULT_LIMITS, UNBOUNDED, Limits
from clew.collector.otlp_json import parse_json
from clew.collector.rows import Outcome, fast_path_spans, log_rows, span_rows
from clew.collector.values import Fitter

PROTOBUF = "application/x-protobuf"
JSON = "application/json"
_PROTOBUF_TYPES = frozenset({PROTOBUF, "application/protobuf"})
# A map or list flattened to JSON takes at most 6 characters per protobuf byte ("<" → "\u003c").
_JSON_GROWTH = 6


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
    # Values changed to fit the limits, by reason (attributes dropped, values truncated, ...).
    adjusted: dict[str, int] = field(default_factory=dict)

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


def spans(body: bytes, content_type: str, limits: Limits = DEFAULT_LIMITS) -> Decoded:
    """An ExportTraceServiceRequest body → the request kept whole, or one row per span."""
    request, fixed, depth_ok = _parse(body, content_type, ExportTraceServiceRequest, limits)
    count = fast_path_spans(request, limits) if depth_ok else -1
    if count == 0:
        return _decoded(Outcome(adjusted=fixed), "spans")
    if count > 0:
        raw = body if content_type == PROTOBUF and not fixed else request.SerializeToString()
        if _values_fit(request, raw, limits):
            return _decoded(Outcome([RawSpans(raw, count)], adjusted=fixed), "spans", count)
    outcome = span_rows(request, limits)
    outcome.adjusted.update(fixed)
    return _decoded(outcome, "spans")


def spans_as_rows(body: bytes) -> list[dict[str, Any]]:
    """Rows of a RawSpans body (already within the limits) that the fast path could not take."""
    request, _, _ = _parse(body, PROTOBUF, ExportTraceServiceRequest, UNBOUNDED)
    return span_rows(request, UNBOUNDED).rows


def logs(body: bytes, content_type: str, limits: Limits = DEFAULT_LIMITS) -> Decoded:
    """An ExportLogsServiceRequest body → one row per log record."""
    request, fixed, _ = _parse(body, content_type, ExportLogsServiceRequest, limits)
    outcome = log_rows(request, limits)
    outcome.adjusted.update(fixed)
    return _decoded(outcome, "log records")


def _parse(
    body: bytes, content_type: str, message_type: type[Any], limits: Limits
) -> tuple[Any, Counter[str], bool]:
    """The message, the values already repaired, and whether its nesting is within the limit."""
    if media_type(content_type) == JSON:
        message = message_type()
        return message, parse_json(body, message, limits.max_value_depth), True
    return otlp_protobuf.parse(body, message_type, limits.max_value_depth)


def _values_fit(request: ExportTraceServiceRequest, raw: bytes, limits: Limits) -> bool:
    """Whether no value of the request is longer than max_value_bytes, stored as text.

    Only spans (or resources) too big to be surely within the limit are flattened to see.
    """
    bound = limits.max_value_bytes // _JSON_GROWTH
    if len(raw) <= bound:
        return True
    fitter = Fitter(limits)
    for r, s, n in otlp_protobuf.large_parts(raw, bound):
        resource_spans = request.resource_spans[r]
        if s < 0:
            fitter.attributes(resource_spans.resource.attributes)
        else:
            span = resource_spans.scope_spans[s].spans[n]
            for pairs in (
                span.attributes,
                *(item.attributes for item in (*span.events, *span.links)),
            ):
                fitter.attributes(pairs)
        if fitter.adjusted:
            return False
    return True


def _decoded(outcome: Outcome, items: str, accepted: int = -1) -> Decoded:
    rejected = sum(outcome.rejected.values())
    notes = []
    if rejected:
        why = "; ".join(
            f"{outcome.problems[reason]} ({count} {reason})"
            for reason, count in sorted(outcome.rejected.items())
        )
        notes.append(f"{rejected} {items} rejected: {why}")
    if outcome.adjusted:
        fitted = ", ".join(f"{n} {reason}" for reason, n in sorted(outcome.adjusted.items()))
        notes.append(f"values fitted to the limits: {fitted}")
    return Decoded(
        outcome.rows,
        rejected,
        "; ".join(notes),
        dict(outcome.rejected),
        accepted,
        dict(outcome.adjusted),
    )

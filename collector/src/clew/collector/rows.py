"""Protobuf spans and log records → ingest-table rows, field for field as the exporter maps them.

Items outside the limits (clew.collector.limits) are rejected by reason; values are fitted.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.logs.v1.logs_pb2 import LogRecord
from opentelemetry.proto.resource.v1.resource_pb2 import Resource
from opentelemetry.proto.trace.v1.trace_pb2 import Span

from clew.collector.limits import INVALID_ID, TOO_MANY_ITEMS, Limits, timestamp_reason
from clew.collector.values import Fitter

# The exporter's names (traceutil.SpanKindStr / StatusCodeStr); unknown numbers become "".
SPAN_KINDS = ("Unspecified", "Internal", "Server", "Client", "Producer", "Consumer")
STATUS_CODES = ("Unset", "Ok", "Error")


@dataclass
class Outcome:
    """The rows of one request, what was rejected (by reason, with the first message of each)."""

    rows: list[Any] = field(default_factory=list)  # dicts, or one RawSpans (decode.py)
    rejected: Counter[str] = field(default_factory=Counter)
    problems: dict[str, str] = field(default_factory=dict)
    adjusted: Counter[str] = field(default_factory=Counter)


class _Admission:
    """Decides per item: kept, or rejected with a reason (ids, time window, per-request room)."""

    def __init__(self, limits: Limits) -> None:
        self.window = limits.window()
        self.room = limits.max_items
        self.outcome = Outcome()

    def admit(self, id_problem: str, timestamp: int) -> bool:
        """Whether the item is kept; counted as rejected otherwise."""
        if id_problem:
            return self._reject(INVALID_ID, id_problem)
        reason = timestamp_reason(timestamp, self.window)
        if reason:
            return self._reject(reason, f"timestamp {timestamp} ns outside the accepted range")
        if self.room <= 0:
            return self._reject(TOO_MANY_ITEMS, "more items than a request may hold")
        self.room -= 1
        return True

    def _reject(self, reason: str, message: str) -> bool:
        self.outcome.rejected[reason] += 1
        self.outcome.problems.setdefault(reason, message)
        return False


def _name(names: tuple[str, ...], number: int) -> str:
    return names[number] if 0 <= number < len(names) else ""


def _resource(resource: Resource, fitter: Fitter) -> tuple[dict[str, str], str]:
    attrs = fitter.attributes(resource.attributes)
    return attrs, attrs.get("service.name", "")


def span_rows(request: ExportTraceServiceRequest, limits: Limits) -> Outcome:
    """Every span of the request within the limits as a row; the rest rejected by reason."""
    admission, fitter = _Admission(limits), Fitter(limits)
    rows = admission.outcome.rows
    for resource_spans in request.resource_spans:
        resource_attrs, service = _resource(resource_spans.resource, fitter)
        for scope_spans in resource_spans.scope_spans:
            scope = scope_spans.scope
            for span in scope_spans.spans:
                if not admission.admit(_span_problem(span), span.start_time_unix_nano):
                    continue
                row = _span_row(span, fitter)
                row["ServiceName"] = service
                row["ResourceAttributes"] = resource_attrs
                row["ScopeName"] = scope.name
                row["ScopeVersion"] = scope.version
                rows.append(row)
    admission.outcome.adjusted = fitter.adjusted
    return admission.outcome


def fast_path_spans(request: ExportTraceServiceRequest, limits: Limits) -> int:
    """How many spans the request holds if it can be stored as it came; -1 if it cannot.

    As it came: every span valid and in the time window, no attribute list over the limit, no
    more spans than allowed. Value lengths and nesting are checked on the bytes (decode.py).
    """
    count, (low, high), most = 0, limits.window(), limits.max_attributes
    for resource_spans in request.resource_spans:
        if len(resource_spans.resource.attributes) > most:
            return -1
        for scope_spans in resource_spans.scope_spans:
            spans = scope_spans.spans
            count += len(spans)
            for span in spans:
                if (
                    len(span.trace_id) != 16
                    or len(span.span_id) != 8
                    or len(span.parent_span_id) not in (0, 8)
                    or not low <= span.start_time_unix_nano <= high
                    or len(span.attributes) > most
                    or ((span.events or span.links) and _extras_problem(span, most))
                ):
                    return -1
    return count if count <= limits.max_items else -1


def _extras_problem(span: Span, most: int) -> bool:
    return bool(
        _links_problem(span)
        or any(len(event.attributes) > most for event in span.events)
        or any(len(link.attributes) > most for link in span.links)
    )


def _span_problem(span: Span) -> str:
    if len(span.trace_id) != 16:
        return f"trace_id must be 16 bytes, got {len(span.trace_id)}"
    if len(span.span_id) != 8:
        return f"span_id must be 8 bytes, got {len(span.span_id)}"
    if len(span.parent_span_id) not in (0, 8):
        return f"parent_span_id must be empty or 8 bytes, got {len(span.parent_span_id)}"
    return _links_problem(span)


def _links_problem(span: Span) -> str:
    for link in span.links:
        if len(link.trace_id) != 16 or len(link.span_id) != 8:
            return "a link's trace_id must be 16 bytes and its span_id 8 bytes"
    return ""


def _span_row(span: Span, fitter: Fitter) -> dict[str, Any]:
    status = span.status
    row: dict[str, Any] = {
        "TimestampNs": span.start_time_unix_nano,
        "EndNs": span.end_time_unix_nano,
        "TraceId": span.trace_id.hex(),
        "SpanId": span.span_id.hex(),
        "ParentSpanId": span.parent_span_id.hex(),
        "TraceState": span.trace_state,
        "SpanName": span.name,
        "SpanKind": _name(SPAN_KINDS, span.kind),
        "SpanAttributes": fitter.attributes(span.attributes),
        "StatusCode": _name(STATUS_CODES, status.code),
        "StatusMessage": status.message,
    }
    if span.events:
        events = span.events
        row["EventsTimestampNs"] = [event.time_unix_nano for event in events]
        row["EventsName"] = [event.name for event in events]
        row["EventsAttributes"] = [fitter.attributes(event.attributes) for event in events]
    if span.links:
        links = span.links
        row["LinksTraceId"] = [link.trace_id.hex() for link in links]
        row["LinksSpanId"] = [link.span_id.hex() for link in links]
        row["LinksTraceState"] = [link.trace_state for link in links]
        row["LinksAttributes"] = [fitter.attributes(link.attributes) for link in links]
    return row


def log_rows(request: ExportLogsServiceRequest, limits: Limits) -> Outcome:
    """Every log record of the request within the limits as a row; the rest rejected by reason."""
    admission, fitter = _Admission(limits), Fitter(limits)
    rows = admission.outcome.rows
    # A record with neither time nor observed time is stamped with its arrival, as the
    # logs data model asks of the first receiver: an SDK that leaves both 0 loses nothing.
    arrived = limits.clock()
    for resource_logs in request.resource_logs:
        resource_attrs, service = _resource(resource_logs.resource, fitter)
        for scope_logs in resource_logs.scope_logs:
            scope = scope_logs.scope
            shared = {
                "ServiceName": service,
                "ResourceSchemaUrl": resource_logs.schema_url,
                "ResourceAttributes": resource_attrs,
                "ScopeSchemaUrl": scope_logs.schema_url,
                "ScopeName": scope.name,
                "ScopeVersion": scope.version,
                "ScopeAttributes": fitter.attributes(scope.attributes),
            }
            for record in scope_logs.log_records:
                timestamp = record.time_unix_nano or record.observed_time_unix_nano or arrived
                if admission.admit(_log_problem(record), timestamp):
                    rows.append({**_log_row(record, fitter), "TimestampNs": timestamp, **shared})
    admission.outcome.adjusted = fitter.adjusted
    return admission.outcome


def _log_problem(record: LogRecord) -> str:
    if len(record.trace_id) not in (0, 16) or len(record.span_id) not in (0, 8):
        return "trace_id must be empty or 16 bytes, span_id empty or 8"
    return ""


def _log_row(record: LogRecord, fitter: Fitter) -> dict[str, Any]:
    return {
        "TraceId": record.trace_id.hex(),
        "SpanId": record.span_id.hex(),
        "TraceFlags": record.flags & 0xFF,
        "SeverityText": record.severity_text,
        "SeverityNumber": record.severity_number & 0xFF,
        "Body": fitter.value(record.body),
        "LogAttributes": fitter.attributes(record.attributes),
        "EventName": record.event_name,
    }

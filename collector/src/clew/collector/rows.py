"""Protobuf spans and log records → ingest-table rows, field for field as the exporter maps them."""

from __future__ import annotations

from typing import Any

from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.resource.v1.resource_pb2 import Resource
from opentelemetry.proto.trace.v1.trace_pb2 import Span

from clew.collector.values import as_string, attributes

# The exporter's names (traceutil.SpanKindStr / StatusCodeStr); unknown numbers become "".
SPAN_KINDS = ("Unspecified", "Internal", "Server", "Client", "Producer", "Consumer")
STATUS_CODES = ("Unset", "Ok", "Error")

Rows = tuple[list[dict[str, Any]], int, str]


def _name(names: tuple[str, ...], number: int) -> str:
    return names[number] if 0 <= number < len(names) else ""


def _resource(resource: Resource) -> tuple[dict[str, str], str]:
    attrs = attributes(resource.attributes)
    return attrs, attrs.get("service.name", "")


def span_rows(request: ExportTraceServiceRequest) -> Rows:
    """Every valid span of the request as a row; count and first reason of the rejected."""
    rows: list[dict[str, Any]] = []
    rejected, reason = 0, ""
    for resource_spans in request.resource_spans:
        resource_attrs, service = _resource(resource_spans.resource)
        for scope_spans in resource_spans.scope_spans:
            scope = scope_spans.scope
            for span in scope_spans.spans:
                problem = _span_problem(span)
                if problem:
                    rejected, reason = rejected + 1, reason or problem
                    continue
                row = _span_row(span)
                row["ServiceName"] = service
                row["ResourceAttributes"] = resource_attrs
                row["ScopeName"] = scope.name
                row["ScopeVersion"] = scope.version
                rows.append(row)
    return rows, rejected, reason


def count_spans(request: ExportTraceServiceRequest) -> tuple[int, bool]:
    """How many spans the request holds, and whether every one of them can be stored."""
    count, valid = 0, True
    for resource_spans in request.resource_spans:
        for scope_spans in resource_spans.scope_spans:
            for span in scope_spans.spans:
                count += 1
                if valid and _span_problem(span):
                    valid = False
    return count, valid


def _span_problem(span: Span) -> str:
    if len(span.trace_id) != 16:
        return f"trace_id must be 16 bytes, got {len(span.trace_id)}"
    if len(span.span_id) != 8:
        return f"span_id must be 8 bytes, got {len(span.span_id)}"
    if len(span.parent_span_id) not in (0, 8):
        return f"parent_span_id must be empty or 8 bytes, got {len(span.parent_span_id)}"
    for link in span.links:
        if len(link.trace_id) != 16 or len(link.span_id) != 8:
            return "a link's trace_id must be 16 bytes and its span_id 8 bytes"
    return ""


def _span_row(span: Span) -> dict[str, Any]:
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
        "SpanAttributes": attributes(span.attributes),
        "StatusCode": _name(STATUS_CODES, status.code),
        "StatusMessage": status.message,
    }
    if span.events:
        events = span.events
        row["EventsTimestampNs"] = [event.time_unix_nano for event in events]
        row["EventsName"] = [event.name for event in events]
        row["EventsAttributes"] = [attributes(event.attributes) for event in events]
    if span.links:
        links = span.links
        row["LinksTraceId"] = [link.trace_id.hex() for link in links]
        row["LinksSpanId"] = [link.span_id.hex() for link in links]
        row["LinksTraceState"] = [link.trace_state for link in links]
        row["LinksAttributes"] = [attributes(link.attributes) for link in links]
    return row


def log_rows(request: ExportLogsServiceRequest) -> Rows:
    """Every valid log record of the request as a row; count and first reason of the rejected."""
    rows: list[dict[str, Any]] = []
    rejected, reason = 0, ""
    for resource_logs in request.resource_logs:
        resource_attrs, service = _resource(resource_logs.resource)
        for scope_logs in resource_logs.scope_logs:
            scope = scope_logs.scope
            shared = {
                "ServiceName": service,
                "ResourceSchemaUrl": resource_logs.schema_url,
                "ResourceAttributes": resource_attrs,
                "ScopeSchemaUrl": scope_logs.schema_url,
                "ScopeName": scope.name,
                "ScopeVersion": scope.version,
                "ScopeAttributes": attributes(scope.attributes),
            }
            for record in scope_logs.log_records:
                if len(record.trace_id) not in (0, 16) or len(record.span_id) not in (0, 8):
                    rejected += 1
                    reason = reason or "trace_id must be empty or 16 bytes, span_id empty or 8"
                    continue
                rows.append(
                    {
                        "TimestampNs": record.time_unix_nano or record.observed_time_unix_nano,
                        "TraceId": record.trace_id.hex(),
                        "SpanId": record.span_id.hex(),
                        "TraceFlags": record.flags & 0xFF,
                        "SeverityText": record.severity_text,
                        "SeverityNumber": record.severity_number & 0xFF,
                        "Body": as_string(record.body),
                        "LogAttributes": attributes(record.attributes),
                        "EventName": record.event_name,
                        **shared,
                    }
                )
    return rows, rejected, reason

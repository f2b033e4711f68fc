"""Validated rows → the OTLP request holding exactly them, for the Kafka topic.

When a request was only partly accepted (or is a logs request, which the decoder always turns
into rows) the message is rebuilt from the rows the decoder kept: the rejected items are gone
and values carry their fitted form (truncated, repaired). Attribute values travel as strings,
the form clew stores them in; decoding the rebuilt request gives the same rows again.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, InstrumentationScope, KeyValue
from opentelemetry.proto.logs.v1.logs_pb2 import LogRecord
from opentelemetry.proto.trace.v1.trace_pb2 import Span, Status

from clew.collector.rows import SPAN_KINDS, STATUS_CODES

Row = dict[str, Any]


def _values(attributes: Mapping[str, str]) -> list[KeyValue]:
    return [KeyValue(key=k, value=AnyValue(string_value=v)) for k, v in attributes.items()]


def _number(names: tuple[str, ...], name: str) -> int:
    """The enum number of an exporter name; an unknown one maps back to '' (out of range)."""
    return names.index(name) if name in names else len(names)


def _groups(rows: Iterable[Row], scope_keys: tuple[str, ...]) -> Iterator[tuple[Row, list[Row]]]:
    """Rows grouped by resource and scope, in order; each group's first row and its rows."""
    groups: dict[tuple[Any, ...], tuple[Row, list[Row]]] = {}
    for row in rows:
        # Rows of one resource share its attribute dict (rows.py), so its id names the resource.
        key = (id(row["ResourceAttributes"]), *(_hashable(row.get(k)) for k in scope_keys))
        groups.setdefault(key, (row, []))[1].append(row)
    yield from groups.values()


def _hashable(value: Any) -> Any:
    return tuple(sorted(value.items())) if isinstance(value, dict) else value


def trace_request(rows: Iterable[Row]) -> ExportTraceServiceRequest:
    """The trace request whose decoding gives `rows` back."""
    request = ExportTraceServiceRequest()
    last_resource: Any = None
    for first, group in _groups(rows, ("ScopeName", "ScopeVersion")):
        if last_resource is not first["ResourceAttributes"]:
            resource_spans = request.resource_spans.add()
            resource_spans.resource.attributes.extend(_values(first["ResourceAttributes"]))
            last_resource = first["ResourceAttributes"]
        scope_spans = resource_spans.scope_spans.add()
        scope_spans.scope.CopyFrom(
            InstrumentationScope(name=first["ScopeName"], version=first["ScopeVersion"])
        )
        scope_spans.spans.extend(_span(row) for row in group)
    return request


def _span(row: Row) -> Span:
    span = Span(
        trace_id=bytes.fromhex(row["TraceId"]),
        span_id=bytes.fromhex(row["SpanId"]),
        parent_span_id=bytes.fromhex(row["ParentSpanId"]),
        trace_state=row["TraceState"],
        name=row["SpanName"],
        kind=_number(SPAN_KINDS, row["SpanKind"]),  # type: ignore[arg-type]
        start_time_unix_nano=row["TimestampNs"],
        end_time_unix_nano=row["EndNs"],
        attributes=_values(row["SpanAttributes"]),
        status=Status(
            code=_number(STATUS_CODES, row["StatusCode"]),  # type: ignore[arg-type]
            message=row["StatusMessage"],
        ),
    )
    for at, name, attrs in zip(
        row.get("EventsTimestampNs", ()),
        row.get("EventsName", ()),
        row.get("EventsAttributes", ()),
        strict=True,
    ):
        span.events.add(time_unix_nano=at, name=name, attributes=_values(attrs))
    for trace_id, span_id, state, attrs in zip(
        row.get("LinksTraceId", ()),
        row.get("LinksSpanId", ()),
        row.get("LinksTraceState", ()),
        row.get("LinksAttributes", ()),
        strict=True,
    ):
        span.links.add(
            trace_id=bytes.fromhex(trace_id),
            span_id=bytes.fromhex(span_id),
            trace_state=state,
            attributes=_values(attrs),
        )
    return span


_LOG_SCOPE = ("ResourceSchemaUrl", "ScopeSchemaUrl", "ScopeName", "ScopeVersion", "ScopeAttributes")


def logs_request(rows: Iterable[Row]) -> ExportLogsServiceRequest:
    """The logs request whose decoding gives `rows` back."""
    request = ExportLogsServiceRequest()
    last: tuple[Any, str] | None = None
    for first, group in _groups(rows, _LOG_SCOPE):
        resource_key = (first["ResourceAttributes"], first["ResourceSchemaUrl"])
        if last is None or last[0] is not resource_key[0] or last[1] != resource_key[1]:
            resource_logs = request.resource_logs.add(schema_url=first["ResourceSchemaUrl"])
            resource_logs.resource.attributes.extend(_values(first["ResourceAttributes"]))
            last = resource_key
        scope_logs = resource_logs.scope_logs.add(schema_url=first["ScopeSchemaUrl"])
        scope_logs.scope.CopyFrom(
            InstrumentationScope(
                name=first["ScopeName"],
                version=first["ScopeVersion"],
                attributes=_values(first["ScopeAttributes"]),
            )
        )
        scope_logs.log_records.extend(_record(row) for row in group)
    return request


def _record(row: Row) -> LogRecord:
    return LogRecord(
        time_unix_nano=row["TimestampNs"],
        trace_id=bytes.fromhex(row["TraceId"]),
        span_id=bytes.fromhex(row["SpanId"]),
        flags=row["TraceFlags"],
        severity_text=row["SeverityText"],
        severity_number=row["SeverityNumber"],
        body=AnyValue(string_value=row["Body"]),
        attributes=_values(row["LogAttributes"]),
        event_name=row["EventName"],
    )

"""Hand-built stories as the OTLP requests an SDK would send: one resource per service."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping

import httpx
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import (
    ExportLogsServiceRequest,
    ExportLogsServiceResponse,
)
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.logs.v1.logs_pb2 import LogRecord as OtlpLog
from opentelemetry.proto.trace.v1.trace_pb2 import Span as OtlpSpan
from opentelemetry.proto.trace.v1.trace_pb2 import Status

from clew.query_ui.read.model import LogRecord, Span

KINDS = {
    "Server": OtlpSpan.SPAN_KIND_SERVER,
    "Client": OtlpSpan.SPAN_KIND_CLIENT,
    "Producer": OtlpSpan.SPAN_KIND_PRODUCER,
    "Consumer": OtlpSpan.SPAN_KIND_CONSUMER,
    "Internal": OtlpSpan.SPAN_KIND_INTERNAL,
}
STATUSES = {"Unset": Status.STATUS_CODE_UNSET, "Ok": Status.STATUS_CODE_OK,
            "Error": Status.STATUS_CODE_ERROR}  # fmt: skip
PROTOBUF = {"Content-Type": "application/x-protobuf"}


def _attributes(values: Mapping[str, str]) -> list[KeyValue]:
    return [KeyValue(key=k, value=AnyValue(string_value=v)) for k, v in values.items()]


def _span(span: Span) -> OtlpSpan:
    return OtlpSpan(
        trace_id=bytes.fromhex(span.trace_id),
        span_id=bytes.fromhex(span.span_id),
        parent_span_id=bytes.fromhex(span.parent_span_id) if span.parent_span_id else b"",
        name=span.name,
        kind=KINDS[span.kind],
        start_time_unix_nano=span.start_ns,
        end_time_unix_nano=span.end_ns,
        attributes=_attributes(span.attributes),
        events=[
            OtlpSpan.Event(
                time_unix_nano=e.time_ns, name=e.name, attributes=_attributes(e.attributes)
            )
            for e in span.events
        ],
        links=[
            OtlpSpan.Link(
                trace_id=bytes.fromhex(link.trace_id),
                span_id=bytes.fromhex(link.span_id),
                attributes=_attributes(link.attributes),
            )
            for link in span.links
        ],
        status=Status(code=STATUSES[span.status], message=span.status_message),
    )


def traces_request(spans: Iterable[Span]) -> bytes:
    """One ExportTraceServiceRequest: a ResourceSpans per service, as each SDK would send."""
    by_service: dict[str, list[Span]] = defaultdict(list)
    for span in spans:
        by_service[span.service].append(span)
    request = ExportTraceServiceRequest()
    for service, own in by_service.items():
        resource_spans = request.resource_spans.add()
        resource_spans.resource.attributes.extend(_attributes({"service.name": service}))
        scope_spans = resource_spans.scope_spans.add()
        scope_spans.scope.name = own[0].scope or "tests.explain"
        scope_spans.spans.extend(_span(s) for s in own)
    body: bytes = request.SerializeToString()
    return body


def logs_request(records: Iterable[LogRecord]) -> bytes:
    """One ExportLogsServiceRequest: a ResourceLogs per service."""
    by_service: dict[str, list[LogRecord]] = defaultdict(list)
    for record in records:
        by_service[record.service].append(record)
    request = ExportLogsServiceRequest()
    for service, own in by_service.items():
        resource_logs = request.resource_logs.add()
        resource_logs.resource.attributes.extend(_attributes({"service.name": service}))
        scope_logs = resource_logs.scope_logs.add()
        scope_logs.scope.name = "tests.explain"
        for r in own:
            scope_logs.log_records.append(
                OtlpLog(
                    time_unix_nano=r.time_ns,
                    observed_time_unix_nano=r.time_ns,
                    severity_number=r.severity_number,  # type: ignore[arg-type]
                    severity_text=r.severity_text,
                    body=AnyValue(string_value=r.body),
                    attributes=_attributes(r.attributes),
                    trace_id=bytes.fromhex(r.trace_id) if r.trace_id else b"",
                    span_id=bytes.fromhex(r.span_id) if r.span_id else b"",
                )
            )
    body: bytes = request.SerializeToString()
    return body


def send(http_url: str, spans: Iterable[Span], logs: Iterable[LogRecord]) -> None:
    """POST the spans and logs to a collector's OTLP/HTTP receiver; fail on any refusal."""
    with httpx.Client(base_url=http_url, headers=PROTOBUF, timeout=30) as client:
        response = client.post("/v1/traces", content=traces_request(spans))
        assert response.status_code == 200, response.text
        answer = ExportTraceServiceResponse.FromString(response.content)
        assert answer.partial_success.rejected_spans == 0, answer
        response = client.post("/v1/logs", content=logs_request(logs))
        assert response.status_code == 200, response.text
        logs_answer = ExportLogsServiceResponse.FromString(response.content)
        assert logs_answer.partial_success.rejected_log_records == 0, logs_answer

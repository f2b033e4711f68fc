"""The OTLP receivers: HTTP (FastAPI) and gRPC, both feeding one Pipeline."""

from __future__ import annotations

from google.protobuf.message import Message
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceResponse
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceResponse

from clew.collector.decode import Decoded


def export_response(signal: str, decoded: Decoded) -> Message:
    """The Export*ServiceResponse, with partial_success when items were rejected."""
    if signal == "spans":
        spans = ExportTraceServiceResponse()
        if decoded.rejected:
            spans.partial_success.rejected_spans = decoded.rejected
            spans.partial_success.error_message = decoded.message
        return spans
    logs = ExportLogsServiceResponse()
    if decoded.rejected:
        logs.partial_success.rejected_log_records = decoded.rejected
        logs.partial_success.error_message = decoded.message
    return logs

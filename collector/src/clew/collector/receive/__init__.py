"""The OTLP receivers: HTTP (FastAPI) and gRPC, both feeding one Pipeline."""

from __future__ import annotations

from google.protobuf.message import Message
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceResponse
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceResponse

from clew.collector.decode import Decoded


def export_response(signal: str, decoded: Decoded) -> Message:
    """The Export*ServiceResponse, with partial_success when items were rejected or changed.

    OTLP lets a server fill error_message with rejected_* = 0 as a warning: clew does so when
    it had to fit values to the limits (attributes dropped, values truncated, UTF-8 replaced).
    """
    if signal == "spans":
        spans = ExportTraceServiceResponse()
        if decoded.rejected or decoded.message:
            spans.partial_success.rejected_spans = decoded.rejected
            spans.partial_success.error_message = decoded.message
        return spans
    logs = ExportLogsServiceResponse()
    if decoded.rejected or decoded.message:
        logs.partial_success.rejected_log_records = decoded.rejected
        logs.partial_success.error_message = decoded.message
    return logs

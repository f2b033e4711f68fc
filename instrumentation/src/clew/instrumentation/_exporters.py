"""The SDK's OTLP/HTTP span and log exporters (endpoint, headers, retries), clew's encoder."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any

from opentelemetry.exporter.otlp.proto.http._common import _is_request_too_large
from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk._logs import ReadableLogRecord
from opentelemetry.sdk._logs.export import LogRecordExportResult
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExportResult

from clew.instrumentation._encode import encode_logs, encode_spans

_log = logging.getLogger(__name__)


def _send(exporter: Any, data: Callable[[], bytes]) -> bool:
    """Encode and send with the SDK client: bounded retries, then a warning and the drop.

    Mirrors the SDK exporters' export(): a batch that cannot be encoded or is larger than
    max_request_size is dropped with a log line, never sent.
    """
    if exporter._shutdown:
        _log.warning("Exporter already shutdown, ignoring batch")
        return False
    try:
        payload = data()
    except Exception:  # a value the encoder cannot write must not kill the export thread
        _log.exception("Failed to encode the batch")
        return False
    if _is_request_too_large(payload, exporter._max_request_size):
        _log.warning(
            "Dropping batch: serialized size %d bytes exceeds max_request_size %d bytes.",
            len(payload),
            exporter._max_request_size,
        )
        return False
    return bool(exporter._client.export(payload).success)


class FastOTLPSpanExporter(OTLPSpanExporter):
    """OTLPSpanExporter whose batches are serialized by clew.instrumentation._encode."""

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        ok = _send(self, lambda: encode_spans(spans))
        return SpanExportResult.SUCCESS if ok else SpanExportResult.FAILURE


class FastOTLPLogExporter(OTLPLogExporter):
    """OTLPLogExporter whose batches are serialized by clew.instrumentation._encode."""

    def export(self, batch: Sequence[ReadableLogRecord]) -> LogRecordExportResult:
        ok = _send(self, lambda: encode_logs(batch))
        return LogRecordExportResult.SUCCESS if ok else LogRecordExportResult.FAILURE

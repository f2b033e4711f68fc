"""The SDK's OTLP/HTTP span exporter (endpoint, headers, retries) with clew's faster encoder."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExportResult

from clew.instrumentation._encode import encode_spans

_log = logging.getLogger(__name__)


class FastOTLPSpanExporter(OTLPSpanExporter):
    """OTLPSpanExporter whose batches are serialized by clew.instrumentation._encode."""

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        if self._shutdown:
            _log.warning("Exporter already shutdown, ignoring batch")
            return SpanExportResult.FAILURE
        try:
            data = encode_spans(spans)
        except Exception:  # a span the encoder cannot write must not kill the export thread
            _log.exception("Failed to encode span batch")
            return SpanExportResult.FAILURE
        # The SDK client: bounded retries within the timeout, then a warning and the drop.
        result = self._client.export(data)
        return SpanExportResult.SUCCESS if result.success else SpanExportResult.FAILURE

"""A service that configured OpenTelemetry itself before clew: its own providers and exporters.

The log processor exports synchronously, as an app may choose: clew's business-key processor
must still run before it.
"""

# ruff: noqa: I001, E402
from __future__ import annotations

import logging

from opentelemetry import _logs, trace
from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.instrumentation.logging.handler import LoggingHandler
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import SimpleLogRecordProcessor
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor

tracer_provider = TracerProvider()
tracer_provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
trace.set_tracer_provider(tracer_provider)
logger_provider = LoggerProvider()
logger_provider.add_log_record_processor(SimpleLogRecordProcessor(OTLPLogExporter()))
_logs.set_logger_provider(logger_provider)
logging.getLogger().addHandler(LoggingHandler(logger_provider=logger_provider))

import clew.instrumentation.auto  # noqa: F401

from fastapi import FastAPI

import clew.instrumentation as ci

log = logging.getLogger("preconfigured")
log.setLevel(logging.INFO)
app = FastAPI()


@app.get("/health")
def health() -> dict[str, bool]:
    return {"ok": True}


@app.get("/orders/{order_id}")
def order(order_id: str) -> dict[str, str]:
    ci.business_context(order_id=order_id)
    log.info("order %s", order_id)
    return {"order": order_id}

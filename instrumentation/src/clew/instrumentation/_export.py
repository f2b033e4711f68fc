"""OTLP exporters for spans and logs, chosen by OTEL_EXPORTER_OTLP_*PROTOCOL.

The exporters run on the batch processors' threads, so a down or slow collector never
blocks a request: the SDK retries a bounded number of times within
OTEL_EXPORTER_OTLP_TIMEOUT, logs a warning, and drops the batch.
"""

from __future__ import annotations

import importlib
import os
from typing import TYPE_CHECKING, Any

from clew.instrumentation import _settings
from clew.instrumentation.errors import ConfigurationError

if TYPE_CHECKING:
    from opentelemetry.sdk._logs.export import LogRecordExporter
    from opentelemetry.sdk.trace.export import SpanExporter

_SIGNAL_PATHS = {"TRACES": "v1/traces", "LOGS": "v1/logs"}


def span_exporter(endpoint: str | None) -> SpanExporter:
    """The OTLP span exporter for the configured protocol."""
    if _settings.protocol("TRACES") == "grpc":
        grpc: Any = _grpc_module("trace_exporter")
        return grpc.OTLPSpanExporter(endpoint=endpoint)  # type: ignore[no-any-return]
    from clew.instrumentation._exporters import FastOTLPSpanExporter

    return FastOTLPSpanExporter(**_http_arguments(endpoint, "TRACES"))


def log_exporter(endpoint: str | None) -> LogRecordExporter:
    """The OTLP log exporter for the configured protocol."""
    if _settings.protocol("LOGS") == "grpc":
        grpc: Any = _grpc_module("_log_exporter")
        return grpc.OTLPLogExporter(endpoint=endpoint)  # type: ignore[no-any-return]
    from clew.instrumentation._exporters import FastOTLPLogExporter

    return FastOTLPLogExporter(**_http_arguments(endpoint, "LOGS"))


def _grpc_module(name: str) -> Any:
    """The gRPC exporter module, or a ConfigurationError saying what to install."""
    try:
        return importlib.import_module(f"opentelemetry.exporter.otlp.proto.grpc.{name}")
    except ImportError as error:
        raise ConfigurationError(
            "OTEL_EXPORTER_OTLP_PROTOCOL=grpc needs the gRPC exporter: "
            "install clew-instrumentation[grpc]"
        ) from error


def _http_arguments(endpoint: str | None, signal: str) -> dict[str, Any]:
    """A fork-safe session, and the endpoint if given (else the exporter reads OTEL_*)."""
    arguments: dict[str, Any] = {"session": _fork_safe_session()}
    if endpoint is not None:
        arguments["endpoint"] = endpoint.rstrip("/") + "/" + _SIGNAL_PATHS[signal]
    return arguments


def _fork_safe_session() -> Any:
    """A requests session whose pooled connections a forked child drops instead of sharing."""
    import requests

    session = requests.Session()
    # A keep-alive socket inherited over fork() would be written by parent and child at once
    # (gunicorn --preload); the child closes its copies and opens its own connections.
    os.register_at_fork(after_in_child=session.close)
    return session

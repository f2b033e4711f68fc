"""One-call setup: providers, exporters, business-key processors and instrumentations."""

from __future__ import annotations

import logging
import os
import signal
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from opentelemetry import _logs, trace
from opentelemetry.processor.baggage import BaggageLogProcessor
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import BatchLogRecordProcessor
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor

from clew.instrumentation import _export, _libraries, _settings
from clew.instrumentation._business import OPEN_SPANS

if TYPE_CHECKING:
    from opentelemetry.sdk._logs.export import LogRecordExporter
    from opentelemetry.sdk.trace.export import SpanExporter

_log = logging.getLogger(__name__)
P = TypeVar("P", TracerProvider, LoggerProvider)


@dataclass
class _State:
    configured: bool = False
    tracer_provider: TracerProvider | None = None
    logger_provider: LoggerProvider | None = None
    owned: list[TracerProvider | LoggerProvider] = field(default_factory=list)


_STATE = _State()
_LOCK = threading.Lock()


def _is_business_key(key: str) -> bool:
    return key in _settings.KEYS


def setup(
    *,
    service_name: str | None = None,
    endpoint: str | None = None,
    business_keys: Iterable[str] | None = None,
    span_exporter: SpanExporter | None = None,
    log_exporter: LogRecordExporter | None = None,
) -> bool:
    """Configure OpenTelemetry and instrument the installed libraries; True if this call did it.

    Arguments override the OTEL_* variables: ``endpoint`` is the OTLP base URL
    (``http://host:4318``), ``business_keys`` replaces CLEW_BUSINESS_KEYS. The exporters are
    for tests and custom pipelines. A second call, OTEL_SDK_DISABLED=true, or a process
    already instrumented by ``opentelemetry-instrument`` change nothing twice.
    """
    with _LOCK:
        if _STATE.configured:
            return False
        if business_keys is not None:
            _settings.KEYS.set(business_keys)
        if _settings.sdk_disabled():
            _STATE.configured = True
            return False
        _STATE.tracer_provider = _tracer_provider(service_name, endpoint, span_exporter)
        _STATE.logger_provider = _logger_provider(service_name, endpoint, log_exporter)
        _libraries.instrument_installed()
        _flush_on_sigterm()
        _STATE.configured = True
        return True


def _flush_on_sigterm() -> None:
    """Export what is buffered when SIGTERM ends the process, then die of it as before.

    uvicorn handles SIGTERM, shuts down, restores the previous handler and re-raises the
    signal, so the process dies without running atexit, and the last spans with it (those of
    providers the app configured itself too). clew installs a handler only where none is
    (the default action, main thread).
    """
    if threading.current_thread() is not threading.main_thread():
        return
    if signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL:
        return

    def flush_then_die(signum: int, frame: object) -> None:
        _flush_app_providers()
        shutdown()
        signal.signal(signum, signal.SIG_DFL)
        os.kill(os.getpid(), signum)

    signal.signal(signal.SIGTERM, flush_then_die)


def _flush_app_providers(timeout_millis: int = 5000) -> None:
    """Flush the providers the app configured itself, which shutdown() leaves alone.

    clew's own are not flushed here: shutdown() does it, and aborts the exporters' retries
    to a collector that is down instead of waiting them out batch after batch.
    """
    for provider in (_STATE.tracer_provider, _STATE.logger_provider):
        if provider is not None and provider not in _STATE.owned:
            provider.force_flush(timeout_millis)


def _resource(service_name: str | None) -> Resource:
    """OTEL_RESOURCE_ATTRIBUTES and OTEL_SERVICE_NAME, then the explicit service name."""
    return Resource.create({SERVICE_NAME: service_name} if service_name else {})


def _reuse_or_make(
    existing: object,
    kind: type[P],
    make: Callable[[], P],
    clew: Callable[[P], None],
    export: Callable[[P], None],
) -> P:
    """An SDK provider the app configured keeps its exporters and gets clew's processors only;
    otherwise a new one gets clew's processors, then the exporter, and becomes global."""
    provider = existing if isinstance(existing, kind) else make()
    if not getattr(provider, "_clew_processors", False):
        clew(provider)  # before the exporting processor, which must see their attributes
        provider._clew_processors = True  # type: ignore[attr-defined]
    if provider is not existing:
        export(provider)
        _STATE.owned.append(provider)
    return provider


def _run_first(processors: Any, attribute: str, processor: object) -> None:
    """Move processor before those the app added to its provider already.

    The SDK runs processors in the order they were added; an app's exporting processor
    that runs first (SimpleLogRecordProcessor exports in on_emit) would send a record
    without the business keys clew's processor sets on it.
    """
    with processors._lock:
        others = tuple(p for p in getattr(processors, attribute) if p is not processor)
        setattr(processors, attribute, (processor, *others))


def _tracer_provider(
    service_name: str | None, endpoint: str | None, exporter: SpanExporter | None
) -> TracerProvider:
    def clew(provider: TracerProvider) -> None:
        provider.add_span_processor(OPEN_SPANS)
        _run_first(provider._active_span_processor, "_span_processors", OPEN_SPANS)

    def export(provider: TracerProvider) -> None:
        provider.add_span_processor(BatchSpanProcessor(exporter or _export.span_exporter(endpoint)))
        trace.set_tracer_provider(provider)

    return _reuse_or_make(
        trace.get_tracer_provider(),
        TracerProvider,
        lambda: TracerProvider(resource=_resource(service_name)),  # reads OTEL_TRACES_SAMPLER
        clew,
        export,
    )


def _logger_provider(
    service_name: str | None, endpoint: str | None, exporter: LogRecordExporter | None
) -> LoggerProvider:
    def clew(provider: LoggerProvider) -> None:
        keys = BaggageLogProcessor(_is_business_key)
        provider.add_log_record_processor(keys)
        _run_first(provider._multi_log_record_processor, "_log_record_processors", keys)

    def export(provider: LoggerProvider) -> None:
        batch = BatchLogRecordProcessor(exporter or _export.log_exporter(endpoint))
        provider.add_log_record_processor(batch)
        _logs.set_logger_provider(provider)

    return _reuse_or_make(
        _logs.get_logger_provider(),
        LoggerProvider,
        lambda: LoggerProvider(resource=_resource(service_name)),
        clew,
        export,
    )


def force_flush() -> None:
    """Export everything buffered so far (blocks up to the exporters' timeouts)."""
    for provider in (_STATE.tracer_provider, _STATE.logger_provider):
        if provider is not None:
            provider.force_flush()


def shutdown() -> None:
    """Flush and stop the exporters clew created; later telemetry is dropped."""
    with _LOCK:
        for provider in _STATE.owned:
            provider.shutdown()
        _STATE.owned.clear()

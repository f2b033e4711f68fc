"""Turn on the contrib instrumentations of the libraries that are installed, once."""

from __future__ import annotations

import importlib.util
import logging
from collections.abc import Callable
from functools import partial
from typing import Any

from clew.instrumentation._sqlite import instrument_sqlite3, uninstrument_sqlite3
from clew.instrumentation._structlog import (
    export_formatter_events,
    instrument_structlog,
    uninstrument_structlog,
)

# The ASGI receive/send spans double the per-request cost and say little (issue 3 bench).
FASTAPI_OPTIONS: dict[str, Any] = {"exclude_spans": ["receive", "send"]}


def _installed(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


def _instrument(instrumentor: Any, **options: Any) -> None:
    """instrument() unless something (opentelemetry-instrument, the app) already did."""
    if not instrumentor.is_instrumented_by_opentelemetry:
        instrumentor.instrument(**options)


def _servers() -> None:
    """FastAPI and Starlette apps: one server span a request, whichever is installed."""
    from clew.instrumentation import _speedups

    _speedups.install_asgi()
    if _installed("fastapi"):
        _fastapi()
    else:
        _starlette()


def _fastapi() -> None:
    """The contrib FastAPI instrumentor, plus every app its class swap misses.

    The instrumentor swaps ``fastapi.FastAPI`` for a subclass, which misses a
    ``from fastapi import FastAPI`` done before clew, and plain Starlette apps are not
    FastAPI's at all; clew hooks both classes' __init__ (the FastAPI instrumentation serves a
    Starlette app as well: same routes, same middleware).
    """
    import fastapi
    import fastapi.applications
    import starlette.applications
    from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

    _instrument(FastAPIInstrumentor(), **FASTAPI_OPTIONS)
    base = fastapi.applications.FastAPI
    instrument_app = partial(FastAPIInstrumentor.instrument_app, **FASTAPI_OPTIONS)
    # An app of the swapped-in subclass is instrumented by that subclass itself.
    _hook_init(
        base,
        lambda app: fastapi.FastAPI is not base and isinstance(app, fastapi.FastAPI),
        instrument_app,
    )
    _hook_init(
        starlette.applications.Starlette,
        lambda app: isinstance(app, base) or _contrib_starlette_class(app),
        instrument_app,
    )


def _starlette() -> None:
    """Starlette apps where FastAPI is not installed: the contrib Starlette instrumentation.

    clew hooks Starlette.__init__ rather than swapping the class as the contrib instrumentor
    does, so that an app whose class was imported before clew, or subclassed, is traced too.
    """
    import starlette.applications

    _hook_init(starlette.applications.Starlette, _contrib_starlette_class, _starlette_app)


def _contrib_starlette_class(app: Any) -> bool:
    """Whether app is of the class opentelemetry-instrument swapped in, which instruments it."""
    from opentelemetry.instrumentation.starlette import _InstrumentedStarlette

    return isinstance(app, _InstrumentedStarlette)


def _starlette_app(app: Any) -> None:
    from opentelemetry.instrumentation.asgi import OpenTelemetryMiddleware
    from opentelemetry.instrumentation.starlette import StarletteInstrumentor

    StarletteInstrumentor.instrument_app(app)
    # The contrib Starlette instrumentor has no exclude_spans option: its middleware gets the
    # one FastAPI's is given (the middleware stack is built at the first request, not yet).
    for middleware in app.user_middleware:
        if middleware.cls is OpenTelemetryMiddleware:
            middleware.kwargs.update(FASTAPI_OPTIONS)


def _hook_init(
    cls: type, skip: Callable[[Any], bool], instrument_app: Callable[[Any], Any]
) -> None:
    """Instrument each app that cls.__init__ builds, unless skip(app) or already instrumented."""
    import wrapt

    if isinstance(cls.__dict__["__init__"], wrapt.FunctionWrapper):
        return

    def init(wrapped: Callable[..., None], app: Any, args: Any, kwargs: Any) -> None:
        wrapped(*args, **kwargs)
        if not skip(app) and not getattr(app, "_is_instrumented_by_opentelemetry", False):
            instrument_app(app)

    wrapt.wrap_function_wrapper(cls, "__init__", init)


def _unhook_init(cls: type) -> None:
    import wrapt

    init = cls.__dict__["__init__"]
    if isinstance(init, wrapt.FunctionWrapper):
        cls.__init__ = init.__wrapped__  # type: ignore[misc]


def _httpx() -> None:
    from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor

    _instrument(HTTPXClientInstrumentor())


def _requests() -> None:
    from opentelemetry.instrumentation.requests import RequestsInstrumentor

    _instrument(RequestsInstrumentor())


def _aiokafka() -> None:
    from clew.instrumentation.kafka import AIOKafkaInstrumentor

    _instrument(AIOKafkaInstrumentor())


def _logging() -> None:
    from opentelemetry.instrumentation.logging import LoggingInstrumentor

    instrumentor = LoggingInstrumentor()
    # An app that put its own OTel handler on the root logger keeps it alone: two would
    # export each record twice.
    _instrument(instrumentor, enable_log_auto_instrumentation=not _has_otel_handler())
    if not _has_otel_handler():
        # OTEL_PYTHON_LOGGING_AUTO_INSTRUMENTATION_ENABLED=true makes the instrumentor leave
        # the handler to the SDK's configurator, which only a distro runs: without one, no
        # line would be exported.
        from opentelemetry._logs import get_logger_provider
        from opentelemetry.instrumentation.logging.handler import _setup_logging_handler

        added = _setup_logging_handler(logger_provider=get_logger_provider())
        LoggingInstrumentor._logging_handler = added  # type: ignore[assignment]
    handler: logging.Handler | None = LoggingInstrumentor._logging_handler
    if handler is not None and _skip_sdk_records not in handler.filters:
        handler.addFilter(_skip_sdk_records)
        export_formatter_events(handler)
    _show_sdk_warnings(handler)


def _has_otel_handler() -> bool:
    """Whether the root logger already has an OpenTelemetry logging handler."""
    return any(
        type(handler).__name__ == "LoggingHandler"
        and type(handler).__module__.startswith("opentelemetry.")
        for handler in logging.getLogger().handlers
    )


def _show_sdk_warnings(otel_handler: logging.Handler | None) -> None:
    """Keep the exporters' warnings (collector down, batch dropped) visible on stderr.

    Without clew's handler on the root logger, Python's last-resort handler would print them;
    with it, and no other handler, they would vanish.
    """
    root_handlers = [h for h in logging.getLogger().handlers if h is not otel_handler]
    sdk_logger = logging.getLogger("opentelemetry")
    if not root_handlers and not sdk_logger.handlers:
        stderr = logging.StreamHandler()
        stderr.setLevel(logging.WARNING)
        stderr.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
        sdk_logger.addHandler(stderr)


def _skip_sdk_records(record: logging.LogRecord) -> bool:
    """The exporters' own warnings stay local: exporting them would feed back into themselves."""
    return not record.name.startswith("opentelemetry")


# (module that must be installed, instrument, uninstrument)
_LIBRARIES: tuple[tuple[str, Callable[[], None], Callable[[], None]], ...] = (
    ("logging", _logging, lambda: _uninstrument("logging", "LoggingInstrumentor")),
    ("structlog", instrument_structlog, uninstrument_structlog),
    ("starlette", _servers, lambda: _uninstrument_servers()),
    ("httpx", _httpx, lambda: _uninstrument("httpx", "HTTPXClientInstrumentor")),
    ("requests", _requests, lambda: _uninstrument("requests", "RequestsInstrumentor")),
    ("sqlite3", instrument_sqlite3, uninstrument_sqlite3),
    ("aiokafka", _aiokafka, lambda: _uninstrument_kafka()),
)


def instrument_installed() -> None:
    """Instrument every supported library that is installed."""
    for module, instrument, _ in _LIBRARIES:
        if _installed(module):
            instrument()


def uninstrument_installed() -> None:
    """Undo instrument_installed() (used by tests and shutdown(uninstrument=True))."""
    for module, _, uninstrument in _LIBRARIES:
        if _installed(module):
            uninstrument()


def _uninstrument(module: str, name: str) -> None:
    package = importlib.import_module(f"opentelemetry.instrumentation.{module}")
    instrumentor = getattr(package, name)()
    if instrumentor.is_instrumented_by_opentelemetry:
        instrumentor.uninstrument()


def _uninstrument_servers() -> None:
    import starlette.applications

    from clew.instrumentation import _speedups

    _speedups.restore()
    if _installed("fastapi"):
        import fastapi.applications

        _uninstrument("fastapi", "FastAPIInstrumentor")
        _unhook_init(fastapi.applications.FastAPI)
    _unhook_init(starlette.applications.Starlette)


def _uninstrument_kafka() -> None:
    from clew.instrumentation.kafka import AIOKafkaInstrumentor

    instrumentor = AIOKafkaInstrumentor()
    if instrumentor.is_instrumented_by_opentelemetry:
        instrumentor.uninstrument()

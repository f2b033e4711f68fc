"""structlog correlation: trace ids and business keys on each event, OTLP export of each line."""

from __future__ import annotations

import copy
import logging
import sys
from collections.abc import Callable, MutableMapping
from typing import Any

from opentelemetry import trace
from opentelemetry._logs import SeverityNumber, get_logger
from opentelemetry.instrumentation.log_utils import std_to_otel

from clew.instrumentation._business import business_keys_in_context

EventDict = MutableMapping[str, Any]
_NOT_ATTRIBUTES = frozenset({"event", "trace_id", "span_id", "timestamp", "level", "exc_info"})
_LEVELS = {"critical": 50, "exception": 40, "error": 40, "warn": 30, "warning": 30, "info": 20}
_LEVELS |= {"debug": 10, "notset": 0, "msg": 20, "log": 20}


def structlog_processor(logger: Any, method_name: str, event_dict: EventDict) -> EventDict:
    """Add ``trace_id``, ``span_id`` (hex) and the business keys; export the event as OTLP.

    Place it before the renderer. When structlog renders through stdlib logging the event is
    left to the stdlib handler, so each line is exported once.
    """
    span_context = trace.get_current_span().get_span_context()
    if span_context.is_valid:
        event_dict.setdefault("trace_id", format(span_context.trace_id, "032x"))
        event_dict.setdefault("span_id", format(span_context.span_id, "016x"))
    for key, value in business_keys_in_context().items():
        event_dict.setdefault(key, value)
    if not isinstance(logger, logging.Logger):
        _export(method_name, event_dict)
    return event_dict


def _export(method_name: str, event_dict: EventDict) -> None:
    """Emit one OTLP log record in the current context (which carries the trace and span ids)."""
    level_name = str(event_dict.get("level", method_name)).lower()
    severity = std_to_otel(_LEVELS.get(level_name, logging.INFO))
    attributes = {k: _value(v) for k, v in event_dict.items() if k not in _NOT_ATTRIBUTES}
    get_logger("structlog").emit(
        severity_number=severity,
        severity_text=_severity_text(severity),
        body=str(event_dict.get("event", "")),
        attributes=attributes,
        exception=_exception(event_dict.get("exc_info")),
    )


def _exception(exc_info: object) -> BaseException | None:
    """The exception an event's exc_info names (True: the one being handled)."""
    if isinstance(exc_info, BaseException):
        return exc_info
    if isinstance(exc_info, tuple) and len(exc_info) == 3:
        return exc_info[1]  # type: ignore[no-any-return]
    return sys.exc_info()[1] if exc_info is True else None


def _severity_text(severity: SeverityNumber) -> str:
    return severity.name.rstrip("0123456789") if severity.name != "UNSPECIFIED" else ""


def _value(value: Any) -> Any:
    """Keep OTLP scalar values; render anything else as text."""
    if isinstance(value, str | bool | int | float):
        return value
    return repr(value)


def export_formatter_events(handler: logging.Handler) -> None:
    """Let handler export structlog events wrapped for ProcessorFormatter like any other line.

    ``wrap_for_formatter`` leaves the event dict as the record's message for the formatter
    to render; the OTel handler would send it as one text body. The handler gets a copy
    with the event as body and the fields as attributes; other handlers keep the original.
    """
    emit = handler.emit

    def emit_event(record: logging.LogRecord) -> None:
        event_dict = record.msg
        if isinstance(event_dict, dict) and "_logger" in record.__dict__:
            record = copy.copy(record)
            record.msg, record.args = str(event_dict.get("event", "")), ()
            for name in ("_logger", "_name", "_from_structlog"):
                record.__dict__.pop(name, None)
            for key, value in event_dict.items():
                if key not in _NOT_ATTRIBUTES and key not in record.__dict__:
                    record.__dict__[key] = _value(value)
        emit(record)

    handler.emit = emit_event  # type: ignore[method-assign]


def instrument_structlog() -> None:
    """Put the processor into the current structlog configuration and every later one."""
    import structlog
    import wrapt

    if not isinstance(structlog.configure, wrapt.FunctionWrapper):
        wrapt.wrap_function_wrapper(structlog, "configure", _configure_wrapper)
    processors = list(structlog.get_config()["processors"])
    if structlog_processor not in processors:
        structlog.configure(processors=processors)


def uninstrument_structlog() -> None:
    """Undo instrument_structlog()."""
    import structlog
    import wrapt

    if isinstance(structlog.configure, wrapt.FunctionWrapper):
        structlog.configure = structlog.configure.__wrapped__
    processors = [p for p in structlog.get_config()["processors"] if p is not structlog_processor]
    structlog.configure(processors=processors)


def _configure_wrapper(
    wrapped: Callable[..., None], instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> None:
    if args:
        kwargs["processors"], args = args[0], args[1:]
    processors = kwargs.get("processors")
    if processors is not None and structlog_processor not in processors:
        processors = list(processors)
        # Before the last processor, which renders the event (or hands it to stdlib logging).
        processors.insert(max(len(processors) - 1, 0), structlog_processor)
        kwargs["processors"] = processors
    wrapped(*args, **kwargs)

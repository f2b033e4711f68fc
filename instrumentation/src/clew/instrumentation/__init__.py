"""clew instrumentation: one import traces a service across HTTP, Kafka and logs.

Put ``import clew.instrumentation.auto`` first in a service's entry module (or call
``setup()``): FastAPI/Starlette servers, httpx and requests clients, aiokafka producers and
consumers, sqlite3, stdlib logging and structlog are traced where installed, and spans and
logs go over OTLP as the standard variables say (``OTEL_SERVICE_NAME``,
``OTEL_EXPORTER_OTLP_ENDPOINT``, ``OTEL_EXPORTER_OTLP_PROTOCOL``, ``OTEL_TRACES_SAMPLER``,
``OTEL_PROPAGATORS``, ``OTEL_SDK_DISABLED``, ...).

``business_context(order_id="o-42")`` tags the work with business keys (``CLEW_BUSINESS_KEYS``,
default ``order.id``), which then reach every span and log record, here and downstream.

A Kafka handler runs inside its consumer span with ``async for`` and ``getone()`` as they
are (an exception escaping the loop is recorded when ``consumer.stop()`` runs in its
``finally``); ``with message_context(record):`` records a handler's exception where it is
caught, ends the span with the block, and is the way into one record of a ``getmany()``.
"""

from __future__ import annotations

from clew.instrumentation._business import BusinessContext, business_context
from clew.instrumentation._consumer import message_context
from clew.instrumentation._settings import BUSINESS_KEYS_ENV
from clew.instrumentation._setup import force_flush, setup, shutdown
from clew.instrumentation._structlog import structlog_processor
from clew.instrumentation.errors import ClewInstrumentationError, ConfigurationError

__all__ = [
    "BUSINESS_KEYS_ENV",
    "BusinessContext",
    "ClewInstrumentationError",
    "ConfigurationError",
    "business_context",
    "force_flush",
    "message_context",
    "setup",
    "shutdown",
    "structlog_processor",
]

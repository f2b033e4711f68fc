"""clew instrumentation: one import traces a service across HTTP, Kafka and logs.

``import clew.instrumentation.auto`` as the first line of a service, or call ``setup()``.
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

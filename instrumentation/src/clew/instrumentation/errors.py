"""Errors raised by clew.instrumentation.

ClewInstrumentationError
└── ConfigurationError   (also a ValueError): a bad argument or OTEL_*/CLEW_* value
"""

from __future__ import annotations

from typing import ClassVar


class ClewInstrumentationError(Exception):
    """Root of every error clew.instrumentation raises."""

    retriable: ClassVar[bool] = False


class ConfigurationError(ClewInstrumentationError, ValueError):
    """A setting (argument or environment variable) clew cannot use."""

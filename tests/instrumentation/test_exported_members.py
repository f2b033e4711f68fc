"""The public API of clew.instrumentation is exactly these names."""

from __future__ import annotations

import clew.instrumentation as ci


def test_exported_members() -> None:
    assert ci.__all__ == [
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
    assert ci.__all__ == sorted(ci.__all__)
    for name in ci.__all__:
        module = getattr(getattr(ci, name), "__module__", "clew.instrumentation")
        assert module.startswith("clew.instrumentation")

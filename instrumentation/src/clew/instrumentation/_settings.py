"""Settings read from the standard OTEL_* variables and clew's own CLEW_* ones."""

from __future__ import annotations

import os
from collections.abc import Iterable

from clew.instrumentation.errors import ConfigurationError

BUSINESS_KEYS_ENV = "CLEW_BUSINESS_KEYS"
"""Comma separated business keys stamped on spans and logs (default ``order.id``)."""

DEFAULT_BUSINESS_KEYS = ("order.id",)
DEFAULT_PROTOCOL = "http/protobuf"
SUPPORTED_PROTOCOLS = ("http/protobuf", "grpc")


class BusinessKeys:
    """The configured business keys and the keyword spelling of each (order_id → order.id)."""

    def __init__(self, keys: Iterable[str]) -> None:
        self.set(keys)

    def set(self, keys: Iterable[str]) -> None:
        """Replace the configured keys."""
        cleaned = tuple(dict.fromkeys(k.strip() for k in keys if k.strip()))
        if not cleaned:
            raise ConfigurationError("at least one business key is needed, e.g. order.id")
        self.keys = cleaned
        self.names = frozenset(cleaned)
        self._by_argument = {k.replace(".", "_"): k for k in cleaned} | {k: k for k in cleaned}

    def resolve(self, argument: str) -> str:
        """The business key that a keyword argument names; ConfigurationError if none."""
        try:
            return self._by_argument[argument]
        except KeyError:
            known = ", ".join(sorted(self._by_argument))
            raise ConfigurationError(
                f"{argument!r} is not a configured business key (known: {known}); "
                f"configure keys with {BUSINESS_KEYS_ENV} or setup(business_keys=...)"
            ) from None

    def __contains__(self, key: object) -> bool:
        return key in self.names


def business_keys_from_env() -> tuple[str, ...]:
    """CLEW_BUSINESS_KEYS as a tuple, or the default."""
    raw = os.environ.get(BUSINESS_KEYS_ENV, "")
    keys = tuple(k.strip() for k in raw.split(",") if k.strip())
    return keys or DEFAULT_BUSINESS_KEYS


KEYS = BusinessKeys(business_keys_from_env())
"""The process-wide business keys, read by the span/log processors at call time."""


def sdk_disabled() -> bool:
    """OTEL_SDK_DISABLED=true switches clew off entirely."""
    return os.environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true"


def protocol(signal: str) -> str:
    """OTLP protocol for one signal ("TRACES", "LOGS"), per-signal variable first."""
    value = (
        os.environ.get(f"OTEL_EXPORTER_OTLP_{signal}_PROTOCOL")
        or os.environ.get("OTEL_EXPORTER_OTLP_PROTOCOL")
        or DEFAULT_PROTOCOL
    ).strip()
    if value not in SUPPORTED_PROTOCOLS:
        raise ConfigurationError(
            f"OTLP protocol {value!r} is not supported; use one of {', '.join(SUPPORTED_PROTOCOLS)}"
        )
    return value

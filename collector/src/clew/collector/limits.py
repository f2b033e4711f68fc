"""What one OTLP request may hold: the receivers and decoders enforce these bounds."""

from __future__ import annotations

from dataclasses import dataclass

from clew.collector.settings import MIB, Settings


@dataclass(frozen=True)
class Limits:
    """Input limits, each from a `CLEW_*` setting (see Settings for the defaults)."""

    max_body_bytes: int = 20 * MIB

    @classmethod
    def from_settings(cls, settings: Settings) -> Limits:
        """The limits configured in `settings`."""
        return cls(max_body_bytes=settings.max_body_bytes)


DEFAULT_LIMITS = Limits()

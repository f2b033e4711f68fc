"""The aiokafka versions clew's Kafka instrumentation supports."""

from __future__ import annotations

_instruments = ("aiokafka >= 0.8, < 1.0",)

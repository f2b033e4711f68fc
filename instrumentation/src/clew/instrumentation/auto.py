"""``import clew.instrumentation.auto``: configure from OTEL_* / CLEW_* and instrument, once."""

from __future__ import annotations

from clew.instrumentation import setup

setup()

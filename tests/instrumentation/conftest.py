"""In-process telemetry for the instrumentation unit tests: setup() with in-memory exporters.

OpenTelemetry's global providers can be set once per process; the fixture resets them and
uninstruments every library afterwards so that no other test of the suite is traced.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from opentelemetry import _logs, trace
from opentelemetry.sdk._logs import ReadableLogRecord
from opentelemetry.sdk._logs.export import InMemoryLogRecordExporter
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.util._once import Once

import clew.instrumentation as ci
from clew.instrumentation import _libraries, _settings, _setup


@dataclass
class Telemetry:
    """What the instrumented code exported so far."""

    span_exporter: InMemorySpanExporter
    log_exporter: InMemoryLogRecordExporter

    def spans(self) -> list[ReadableSpan]:
        ci.force_flush()
        return list(self.span_exporter.get_finished_spans())

    def logs(self) -> list[ReadableLogRecord]:
        ci.force_flush()
        return list(self.log_exporter.get_finished_logs())

    def span(self, name: str) -> ReadableSpan:
        matches = [s for s in self.spans() if s.name == name]
        assert len(matches) == 1, (name, [s.name for s in self.spans()])
        return matches[0]

    def clear(self) -> None:
        ci.force_flush()
        self.span_exporter.clear()
        self.log_exporter.clear()


def reset_globals() -> None:
    """Back to a process where nothing is configured or instrumented."""
    _libraries.uninstrument_installed()
    ci.shutdown()
    _setup._STATE.__init__()  # type: ignore[misc]
    _settings.KEYS.set(_settings.business_keys_from_env())
    trace._TRACER_PROVIDER_SET_ONCE = Once()
    trace._TRACER_PROVIDER = None
    _logs._internal._LOGGER_PROVIDER_SET_ONCE = Once()
    _logs._internal._LOGGER_PROVIDER = None


@pytest.fixture(scope="module")
def module_telemetry() -> Iterator[Telemetry]:
    telemetry = Telemetry(InMemorySpanExporter(), InMemoryLogRecordExporter())  # type: ignore[no-untyped-call]
    assert ci.setup(
        service_name="unit",
        span_exporter=telemetry.span_exporter,
        log_exporter=telemetry.log_exporter,
    )
    yield telemetry
    reset_globals()


@pytest.fixture
def telemetry(module_telemetry: Telemetry) -> Iterator[Telemetry]:
    module_telemetry.clear()
    yield module_telemetry

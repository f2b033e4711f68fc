"""clew's OTLP/HTTP exporters against a real loopback receiver: delivery, bounded retries, drops."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any

import pytest
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExportResult
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from clew.instrumentation._exporters import FastOTLPLogExporter, FastOTLPSpanExporter
from tests.instrumentation.otlp_sink import otlp_sink
from tests.instrumentation.test_encode import emitted

MAX_RETRIES = 6  # the SDK client's bound on attempts per batch


def log_batch() -> Sequence[Any]:
    return emitted(body="collector test", attributes={"order.id": "o-1"})


def span_batch() -> Sequence[Any]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider(resource=Resource.create({"service.name": "exp"}))
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    provider.get_tracer("t").start_span("exported span").end()
    return exporter.get_finished_spans()


Case = tuple[str, Callable[..., Any], Callable[[], Sequence[Any]]]
EXPORTERS: list[Case] = [
    ("logs", FastOTLPLogExporter, log_batch),
    ("spans", FastOTLPSpanExporter, span_batch),
]
SIGNAL_PATH = {"logs": "/v1/logs", "spans": "/v1/traces"}


@pytest.fixture(autouse=True)
def fresh_duplicate_filters() -> None:
    """The SDK logs one of equal export errors per 20 s; each test wants its own to be seen."""
    for name in ("_log_exporter", "trace_exporter"):
        logger = logging.getLogger(f"opentelemetry.exporter.otlp.proto.http.{name}")
        for log_filter in logger.filters:
            log_filter.__dict__.pop("last_log", None)


each_exporter = pytest.mark.parametrize("case", EXPORTERS, ids=[e[0] for e in EXPORTERS])


def export_once(case: Case, mode: str = "ok", *, shut: bool = False, **options: Any) -> Any:
    """One batch through a fresh exporter to a sink in mode; (succeeded, sink)."""
    kind, make, batch = case
    with otlp_sink(mode) as sink:
        exporter = make(endpoint=sink.url + SIGNAL_PATH[kind], **options)
        if shut:
            exporter.shutdown()
        result = exporter.export(batch())
        exporter.shutdown()
    return result.name == SpanExportResult.SUCCESS.name, sink


@each_exporter
def test_delivered_to_the_collector(case: Case) -> None:
    ok, sink = export_once(case, timeout=10)
    assert ok
    if case[0] == "logs":
        [record] = sink.logs
        assert (record["body"], record["attributes"]) == ("collector test", {"order.id": "o-1"})
    else:
        assert [s["name"] for s in sink.spans] == ["exported span"]


@each_exporter
def test_refusing_collector_bounded_retries_then_drop_with_warning(
    case: Case, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    ok, sink = export_once(case, "503", timeout=4)
    assert not ok
    assert 2 <= sink.attempts <= MAX_RETRIES  # retried, a bounded number of times
    assert "Transient error Service Unavailable" in caplog.text
    assert f"Failed to export {case[0]} batch" in caplog.text  # then dropped, with a warning


@each_exporter
def test_hanging_collector_gives_up_at_the_timeout(
    case: Case, caplog: pytest.LogCaptureFixture
) -> None:
    ok, sink = export_once(case, "hang", timeout=1)
    assert not ok
    assert 1 <= sink.attempts <= MAX_RETRIES
    assert f"Failed to export {case[0]} batch" in caplog.text


@each_exporter
def test_oversized_batch_is_dropped_unsent(case: Case, caplog: pytest.LogCaptureFixture) -> None:
    ok, sink = export_once(case, max_request_size=10)
    assert (ok, sink.attempts) == (False, 0)
    assert "exceeds max_request_size 10 bytes" in caplog.text


@each_exporter
def test_after_shutdown_nothing_is_sent(case: Case, caplog: pytest.LogCaptureFixture) -> None:
    ok, sink = export_once(case, shut=True)
    assert (ok, sink.attempts) == (False, 0)
    assert "Exporter already shutdown" in caplog.text


def test_unencodable_batch_is_dropped_and_logged(caplog: pytest.LogCaptureFixture) -> None:
    unencodable = ("logs", FastOTLPLogExporter, lambda: emitted(body=2**64))
    ok, sink = export_once(unencodable)
    assert (ok, sink.attempts) == (False, 0)
    assert "Failed to encode the batch" in caplog.text

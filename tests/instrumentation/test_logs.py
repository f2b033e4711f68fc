"""Log correlation and export: structlog (direct or via stdlib) and stdlib logging, once each."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from typing import Any

import pytest
import structlog
from opentelemetry import trace
from opentelemetry._logs import SeverityNumber
from structlog.testing import capture_logs

import clew.instrumentation as ci
from clew.instrumentation._structlog import instrument_structlog
from tests.instrumentation.conftest import Telemetry

tracer = trace.get_tracer(__name__)


@pytest.fixture(autouse=True)
def fresh_structlog(module_telemetry: Telemetry) -> Iterator[None]:
    structlog.reset_defaults()
    instrument_structlog()
    yield
    structlog.reset_defaults()
    instrument_structlog()


def hex_ids(span: trace.Span) -> tuple[str, str]:
    ctx = span.get_span_context()
    return format(ctx.trace_id, "032x"), format(ctx.span_id, "016x")


def exported(telemetry: Telemetry, body: str) -> list[Any]:
    return [r.log_record for r in telemetry.logs() if r.log_record.body == body]


def test_processor_adds_ids_and_business_keys() -> None:
    with (
        capture_logs(processors=[ci.structlog_processor]) as captured,
        tracer.start_as_current_span("s") as span,
        ci.business_context(order_id="o-5"),
    ):
        structlog.get_logger().info("paid", amount=3)
    trace_id, span_id = hex_ids(span)
    assert captured == [
        {
            "event": "paid",
            "amount": 3,
            "log_level": "info",
            "trace_id": trace_id,
            "span_id": span_id,
            "order.id": "o-5",
        }
    ]


def test_structlog_line_exported_once_with_ids(
    telemetry: Telemetry, capsys: pytest.CaptureFixture[str]
) -> None:
    with tracer.start_as_current_span("s") as span, ci.business_context(order_id="o-6"):
        structlog.get_logger().warning("stock low", sku="A1", items=[1, 2])
    [record] = exported(telemetry, "stock low")
    assert (format(record.trace_id, "032x"), format(record.span_id, "016x")) == hex_ids(span)
    assert record.severity_number == SeverityNumber.WARN
    assert record.severity_text == "WARN"
    assert dict(record.attributes) == {"sku": "A1", "items": "[1, 2]", "order.id": "o-6"}
    assert f"trace_id={hex_ids(span)[0]}" in capsys.readouterr().out  # the rendered line has it too


def test_structlog_configured_later_keeps_the_processor(telemetry: Telemetry) -> None:
    structlog.configure(
        processors=[structlog.processors.add_log_level, structlog.processors.JSONRenderer()]
    )
    assert ci.structlog_processor in structlog.get_config()["processors"]
    structlog.get_logger().error("json line")
    [record] = exported(telemetry, "json line")
    assert record.severity_number == SeverityNumber.ERROR


def test_structlog_through_stdlib_exported_once(telemetry: Telemetry) -> None:
    structlog.configure(
        processors=[structlog.stdlib.add_log_level, structlog.stdlib.render_to_log_kwargs],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
    )
    with tracer.start_as_current_span("s") as span, ci.business_context(order_id="o-7"):
        structlog.get_logger("shop").warning("via stdlib", sku="B2")
    [record] = exported(telemetry, "via stdlib")
    assert (format(record.trace_id, "032x"), format(record.span_id, "016x")) == hex_ids(span)
    assert record.attributes["sku"] == "B2"
    assert record.attributes["order.id"] == "o-7"


def test_stdlib_record_exported_once(telemetry: Telemetry) -> None:
    with tracer.start_as_current_span("s") as span, ci.business_context(order_id="o-8"):
        logging.getLogger("shop").error("disk %s", "full")
    [record] = exported(telemetry, "disk full")
    assert (format(record.trace_id, "032x"), format(record.span_id, "016x")) == hex_ids(span)
    assert record.severity_number == SeverityNumber.ERROR
    assert record.attributes["order.id"] == "o-8"


def test_structlog_exception_is_exported(telemetry: Telemetry) -> None:
    try:
        raise KeyError("sku")
    except KeyError:
        structlog.get_logger().exception("lookup failed")
    [record] = exported(telemetry, "lookup failed")
    assert record.attributes["exception.type"] == "KeyError"
    assert "raise KeyError" in record.attributes["exception.stacktrace"]


def test_exporter_warnings_are_not_exported(telemetry: Telemetry) -> None:
    logging.getLogger("opentelemetry.exporter.otlp.common.http").warning("collector down")
    assert exported(telemetry, "collector down") == []


def test_structlog_through_processor_formatter_exported_once_as_fields(
    telemetry: Telemetry, capsys: pytest.CaptureFixture[str]
) -> None:
    """structlog's recommended stdlib setup: the event dict reaches the handlers unrendered."""
    structlog.configure(
        processors=[
            structlog.stdlib.add_log_level,
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
    )
    console = logging.StreamHandler(sys.stdout)
    console.setFormatter(
        structlog.stdlib.ProcessorFormatter(processor=structlog.processors.JSONRenderer())
    )
    logging.getLogger("formatted").addHandler(console)
    try:
        with tracer.start_as_current_span("s") as span, ci.business_context(order_id="o-9"):
            structlog.get_logger("formatted").warning("via formatter", sku="C3")
    finally:
        logging.getLogger("formatted").removeHandler(console)
    [record] = exported(telemetry, "via formatter")
    assert (format(record.trace_id, "032x"), format(record.span_id, "016x")) == hex_ids(span)
    assert record.severity_number == SeverityNumber.WARN
    attributes = dict(record.attributes or {})
    assert (attributes["sku"], attributes["order.id"]) == ("C3", "o-9")
    assert not {"_logger", "_name", "event", "trace_id"} & set(attributes)
    assert '"sku": "C3"' in capsys.readouterr().out  # the console handler still rendered it

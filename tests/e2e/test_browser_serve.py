"""The whole path: an OTel SDK sends spans and logs to a real `clew serve`, which stores them in
its embedded ClickHouse and serves the UI; Chromium, the API and `clew why` read them back."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk._logs import LoggerProvider, LoggingHandler
from opentelemetry.sdk._logs.export import SimpleLogRecordProcessor
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.trace import SpanKind, Status, StatusCode
from playwright.sync_api import expect

from tests.support.browser import chromium, screenshot
from tests.support.clew_server import ClewServer

pytestmark = pytest.mark.browser
ORDER = "ord-e2e-77"


def send_failed_order(server: ClewServer) -> str:
    """checkout → payments, where payments raises; an ERROR log inside; returns the trace id."""
    resource = Resource.create({"service.name": "checkout"})
    tracer_provider = TracerProvider(resource=resource)
    tracer_provider.add_span_processor(
        SimpleSpanProcessor(OTLPSpanExporter(f"{server.http_url}/v1/traces"))
    )
    logger_provider = LoggerProvider(resource=resource)
    logger_provider.add_log_record_processor(
        SimpleLogRecordProcessor(OTLPLogExporter(f"{server.http_url}/v1/logs"))
    )
    logger = logging.getLogger("e2e.checkout")
    handler = LoggingHandler(logger_provider=logger_provider)
    logger.addHandler(handler)
    tracer = tracer_provider.get_tracer("e2e")
    try:
        with tracer.start_as_current_span("POST /orders", kind=SpanKind.SERVER) as root:
            root.set_attribute("order.id", ORDER)
            root.set_status(Status(StatusCode.ERROR))
            with tracer.start_as_current_span("charge card", kind=SpanKind.CLIENT) as call:
                call.set_attribute("order.id", ORDER)
                call.record_exception(TimeoutError("payments did not answer in 2s"))
                call.set_status(Status(StatusCode.ERROR, "timeout"))
                logger.error("charging the card failed", extra={"order.id": ORDER})
        return format(root.get_span_context().trace_id, "032x")
    finally:
        logger.removeHandler(handler)
        tracer_provider.shutdown()
        logger_provider.shutdown()


def wait_for_trace(ui_url: str, trace_id: str) -> dict[str, object]:
    """Poll the API until the collector's batch has been written."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        response = httpx.get(f"{ui_url}/api/traces/{trace_id}/logs", timeout=10)
        if response.status_code == 200 and response.json()["logs"]:
            body: dict[str, object] = response.json()
            return body
        time.sleep(0.2)
    raise AssertionError(f"trace {trace_id} with its logs never showed up")


@pytest.fixture
def served_order(clew_server: ClewServer) -> Iterator[tuple[ClewServer, str]]:
    trace_id = send_failed_order(clew_server)
    wait_for_trace(clew_server.ui_url, trace_id)
    yield clew_server, trace_id


def test_sdk_to_clew_serve_to_browser_and_cli(served_order: tuple[ClewServer, str]) -> None:
    server, trace_id = served_order
    found = httpx.get(
        f"{server.ui_url}/api/traces", params={"service": "checkout", "status": "error"}
    )
    assert [t["trace_id"] for t in found.json()["traces"]] == [trace_id]
    with chromium() as browser:
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        page.goto(f"{server.ui_url}/search?service=checkout&status=error")
        page.locator("a.trace-link").first.click()
        page.locator(".row", has_text="charge card").click()
        detail = page.locator(".span-detail:visible")
        expect(detail.locator(".exc-type")).to_have_text("TimeoutError")
        expect(detail.locator(".logs.own")).to_contain_text("charging the card failed")
        screenshot(page, "serve-trace")
        page.goto(f"{server.ui_url}/orders/{ORDER}")
        expect(page.locator("#diagnosis .badge")).to_have_text("failed")
        expect(page.locator("#diagnosis .root-cause").first).to_contain_text("TimeoutError")
        screenshot(page, "serve-order")
    clew = Path(sys.executable).with_name("clew")
    why = subprocess.run([str(clew), "why", ORDER, "--url", server.ui_url, "--json"],
                         capture_output=True, text=True, timeout=60)  # fmt: skip
    assert why.returncode == 0, why.stderr
    diagnosis = json.loads(why.stdout)
    assert diagnosis["status"] == "failed" and diagnosis["traces"] == [trace_id]

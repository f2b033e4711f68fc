"""business_context(): baggage, the open spans around it, later spans, downstream calls, logs."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest
import requests
from fastapi import FastAPI
from fastapi.testclient import TestClient
from opentelemetry import baggage, trace

import clew.instrumentation as ci
from clew.instrumentation import _settings
from tests.instrumentation.conftest import Telemetry

tracer = trace.get_tracer(__name__)


@pytest.fixture
def downstream() -> Iterator[tuple[str, list[Message]]]:
    """A real HTTP server on a loopback port that records the headers it receives."""
    seen: list[Message] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            seen.append(self.headers)
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", seen
    server.shutdown()
    server.server_close()


def build_app(url: str) -> FastAPI:
    app = FastAPI()

    @app.get("/orders/{order_id}")
    def order(order_id: str) -> dict[str, str]:
        with tracer.start_as_current_span("work"):
            ci.business_context(order_id=order_id)  # inside a child: stamps it and the server span
            with tracer.start_as_current_span("after"):
                logging.getLogger("shop").warning("order seen")
                httpx.get(f"{url}/pay")
        return {"order": order_id}

    return app


def test_keys_reach_open_spans_later_spans_logs_and_downstream(
    telemetry: Telemetry, downstream: tuple[str, list[Message]]
) -> None:
    url, seen = downstream
    assert TestClient(build_app(url)).get("/orders/o-42").status_code == 200
    for name in ("GET /orders/{order_id}", "work", "after", "GET"):
        assert telemetry.span(name).attributes["order.id"] == "o-42", name  # type: ignore[index]
    [log] = [r.log_record for r in telemetry.logs() if r.log_record.body == "order seen"]
    assert log.attributes["order.id"] == "o-42"  # type: ignore[index]
    assert "order.id=o-42" in seen[0]["baggage"]
    assert seen[0]["traceparent"].split("-")[1] == format(log.trace_id, "032x")


def test_incoming_baggage_stamps_server_span(
    telemetry: Telemetry, downstream: tuple[str, list[Message]]
) -> None:
    url, _ = downstream
    response = TestClient(build_app(url)).get("/orders/x", headers={"baggage": "order.id=o-9"})
    assert response.status_code == 200
    spans = [s for s in telemetry.spans() if s.kind == trace.SpanKind.SERVER]
    # Baggage set by the handler wins over the incoming one for later spans; the server span
    # got the incoming value at start and the handler's value on stamping.
    assert spans[0].attributes["order.id"] == "x"  # type: ignore[index]


def test_context_manager_ends_the_keys(telemetry: Telemetry) -> None:
    with tracer.start_as_current_span("outer"):
        with ci.business_context(order_id="o-1") as business:
            assert baggage.get_baggage("order.id") == "o-1"
            assert business.values == {"order.id": "o-1"}
        assert baggage.get_baggage("order.id") is None
        with tracer.start_as_current_span("later"):
            pass
    assert "order.id" not in telemetry.span("later").attributes  # type: ignore[operator]
    assert telemetry.span("outer").attributes["order.id"] == "o-1"  # type: ignore[index]


def test_dotted_and_configured_keys(telemetry: Telemetry, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_settings, "KEYS", _settings.BusinessKeys(["order.id", "customer.id"]))
    with tracer.start_as_current_span("s"):
        ci.business_context(**{"customer.id": "c-1"}, order_id=3)
    expected = {"customer.id": "c-1", "order.id": "3"}
    assert dict(telemetry.span("s").attributes or {}) == expected


def test_unknown_key_is_a_clear_error() -> None:
    with pytest.raises(ci.ConfigurationError, match="'basket_id' is not a configured business key"):
        ci.business_context(basket_id="b-1")
    with pytest.raises(ci.ConfigurationError, match="at least one key"):
        ci.business_context()


def test_keys_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ci.BUSINESS_KEYS_ENV, "tenant.id, order.id,")
    assert _settings.business_keys_from_env() == ("tenant.id", "order.id")
    monkeypatch.setenv(ci.BUSINESS_KEYS_ENV, "")
    assert _settings.business_keys_from_env() == ("order.id",)


def test_requests_client_carries_keys_and_trace(
    telemetry: Telemetry, downstream: tuple[str, list[Message]]
) -> None:
    url, seen = downstream
    with tracer.start_as_current_span("caller"), ci.business_context(order_id="o-r"):
        assert requests.get(f"{url}/stock", timeout=10).status_code == 204
    [client] = [s for s in telemetry.spans() if s.kind == trace.SpanKind.CLIENT]
    assert client.attributes["order.id"] == "o-r"  # type: ignore[index]
    caller = telemetry.span("caller")
    assert client.parent is not None and client.parent.span_id == caller.context.span_id
    assert "order.id=o-r" in seen[0]["baggage"]
    trace_id, span_id = seen[0]["traceparent"].split("-")[1:3]
    assert (trace_id, span_id) == (
        format(client.context.trace_id, "032x"),
        format(client.context.span_id, "016x"),
    )

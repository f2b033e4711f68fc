"""Unhandled exceptions and 5xx answers make server spans errors."""

from __future__ import annotations

from fastapi import FastAPI, HTTPException
from fastapi.testclient import TestClient
from opentelemetry.trace import SpanKind, StatusCode

from tests.instrumentation.conftest import Telemetry


def build_app() -> FastAPI:
    app = FastAPI()

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("stock service exploded")

    @app.get("/unavailable")
    def unavailable() -> None:
        raise HTTPException(status_code=503)

    @app.get("/missing")
    def missing() -> None:
        raise HTTPException(status_code=404)

    return app


def server_span(telemetry: Telemetry, path: str):  # type: ignore[no-untyped-def]
    [span] = [s for s in telemetry.spans() if s.kind == SpanKind.SERVER and s.name.endswith(path)]
    return span


def test_exception_is_error_with_stack_trace(telemetry: Telemetry) -> None:
    client = TestClient(build_app(), raise_server_exceptions=False)
    assert client.get("/boom").status_code == 500
    span = server_span(telemetry, "/boom")
    assert span.status.status_code == StatusCode.ERROR
    [event] = [e for e in span.events if e.name == "exception"]
    assert event.attributes["exception.type"] == "RuntimeError"
    assert event.attributes["exception.message"] == "stock service exploded"
    stack = str(event.attributes["exception.stacktrace"])
    assert 'raise RuntimeError("stock service exploded")' in stack


def test_5xx_is_error_4xx_is_not(telemetry: Telemetry) -> None:
    client = TestClient(build_app())
    assert client.get("/unavailable").status_code == 503
    assert client.get("/missing").status_code == 404
    assert server_span(telemetry, "/unavailable").status.status_code == StatusCode.ERROR
    assert server_span(telemetry, "/missing").status.status_code == StatusCode.UNSET

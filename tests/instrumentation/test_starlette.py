"""A plain Starlette app (no FastAPI) is traced like a FastAPI one: one server span a request."""

from __future__ import annotations

from fastapi.testclient import TestClient
from opentelemetry.trace import SpanKind, StatusCode
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

import clew.instrumentation as ci
from tests.instrumentation.conftest import Telemetry


async def item(request: Request) -> JSONResponse:
    ci.business_context(order_id=request.path_params["order_id"])
    if request.path_params["order_id"] == "boom":
        raise RuntimeError("starlette handler failed")
    return JSONResponse({})


def test_starlette_app_gets_one_server_span_per_request(telemetry: Telemetry) -> None:
    app = Starlette(routes=[Route("/orders/{order_id}", item)])
    client = TestClient(app, raise_server_exceptions=False)
    assert client.get("/orders/o-s").status_code == 200
    assert client.get("/orders/boom").status_code == 500
    ok, failed = [s for s in telemetry.spans() if s.kind == SpanKind.SERVER]
    assert (ok.name, failed.name) == ("GET /orders/{order_id}", "GET /orders/{order_id}")
    assert (ok.attributes or {})["order.id"] == "o-s"
    assert ok.status.status_code == StatusCode.UNSET
    assert failed.status.status_code == StatusCode.ERROR
    [event] = [e for e in failed.events if e.name == "exception"]
    assert (event.attributes or {})["exception.message"] == "starlette handler failed"
    assert len(telemetry.spans()) == 2  # no receive/send spans, no second middleware

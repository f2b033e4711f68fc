"""A plain Starlette app (no FastAPI) is traced like a FastAPI one: one server span a request."""

from __future__ import annotations

import os
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from opentelemetry.trace import SpanKind, StatusCode
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

import clew.instrumentation as ci
from tests.instrumentation.conftest import Telemetry
from tests.instrumentation.helpers import run_python
from tests.instrumentation.otlp_sink import otlp_sink
from tests.instrumentation.processes import BIN, serve, service_env, uvicorn


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


NO_FASTAPI = Path(__file__).parent / "apps" / "no_fastapi"
SERVER, ERROR = 2, 2  # OTLP SpanKind.SERVER and Status.STATUS_CODE_ERROR


def test_starlette_without_fastapi_under_uvicorn() -> None:
    """FastAPI unimportable: the contrib Starlette instrumentation, one server span a request."""
    with otlp_sink() as sink:
        env = service_env(sink.url, "starlette-only")
        env["PYTHONPATH"] = f"{NO_FASTAPI}{os.pathsep}{env['PYTHONPATH']}"
        with serve(uvicorn("tests.instrumentation.apps.starlette_only:app"), env) as service:
            assert httpx.get(f"{service.url}/health").json() == {"fastapi": False}
            assert httpx.get(f"{service.url}/orders/o-9").status_code == 200
            assert httpx.get(f"{service.url}/orders/boom").status_code == 500
    orders = [s for s in sink.spans if s["name"] == "GET /orders/{order_id}"]
    assert [s["attributes"]["order.id"] for s in orders] == ["o-9", "boom"]
    assert {(s["kind"], s["scope"]) for s in sink.spans} == {
        (SERVER, "opentelemetry.instrumentation.starlette")  # no receive/send spans, no other
    }
    assert orders[1]["status"] == ERROR
    [event] = [e for e in orders[1]["events"] if e["name"] == "exception"]
    assert event["exception.message"] == "starlette handler failed"
    assert "Traceback" in event["exception.stacktrace"]
    logged = {log["body"]: (log["trace_id"], log["span_id"]) for log in sink.logs}
    for span in orders:
        assert logged[f"order {span['attributes']['order.id']}"] == (
            span["trace_id"],
            span["span_id"],
        )


STARLETTE_PING = """
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.testclient import TestClient

async def ping(request):
    return JSONResponse({})

client = TestClient(Starlette(routes=[Route("/ping", ping)]))
assert client.get("/ping").status_code == 200
report(cls=type(client.app).__name__)
"""
CLEW_SETUP = "import clew.instrumentation as ci\nci.setup(span_exporter=SPANS, log_exporter=LOGS)\n"
CONTRIB_AFTER = (
    "from opentelemetry.instrumentation.starlette import StarletteInstrumentor\n"
    "StarletteInstrumentor().instrument()\n"
)


@pytest.mark.parametrize(
    ("code", "wrapper"),
    [(CLEW_SETUP, ["opentelemetry-instrument"]), (CLEW_SETUP + CONTRIB_AFTER, [])],
    ids=["under-opentelemetry-instrument", "contrib-instrumentor-after-clew"],
)
def test_contrib_starlette_class_gets_one_server_span(code: str, wrapper: list[str]) -> None:
    """The contrib Starlette class instruments its apps itself; clew adds no second middleware."""
    result = run_python(
        code + STARLETTE_PING,
        env={f"OTEL_{signal}_EXPORTER": "none" for signal in ("TRACES", "LOGS", "METRICS")},
        argv0=[str(BIN / name) for name in wrapper],
    )
    assert result["cls"] == "_InstrumentedStarlette"
    # A second middleware would add a second "GET /ping" span (INTERNAL, inside the first).
    assert [s["kind"] for s in result["spans"] if s["name"] == "GET /ping"] == ["SERVER"]


def test_starlette_imported_before_clew_without_fastapi() -> None:
    """Starlette's class bound before clew, FastAPI missing: still one server span a request."""
    result = run_python(
        "import sys\n"
        "sys.modules['fastapi'] = None  # what the import system sees for a missing package\n"
        "from starlette.applications import Starlette\n"
        + CLEW_SETUP
        + STARLETTE_PING.replace("from starlette.applications import Starlette\n", ""),
    )
    assert result["cls"] == "Starlette"
    assert [(s["name"], s["kind"]) for s in result["spans"]] == [("GET /ping", "SERVER")]
